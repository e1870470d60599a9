/** Sessions table: one item per issued user token, so a token can be revoked early. */
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ddb } from '../aws/dynamodb';
import { config } from '../config';
import { isConditionFailure, nowSeconds } from './dynamo';

export interface SessionItem {
  userId: string;
  sessionId: string;
  platformId: number;
  createdAt: number;
  /** Epoch seconds; also the TTL attribute. */
  expiresAt: number;
  revokedAt?: number;
}

export const sessions = {
  async put(item: SessionItem): Promise<void> {
    await ddb().send(new PutCommand({ TableName: config.tableName('sessions'), Item: item }));
  },

  /** The session if it exists, is not revoked and has not expired (TTL deletes lazily). */
  async getActive(userId: string, sessionId: string): Promise<SessionItem | undefined> {
    const res = await ddb().send(new GetCommand({ TableName: config.tableName('sessions'), Key: { userId, sessionId } }));
    const item = res.Item as SessionItem | undefined;
    if (!item || item.revokedAt || item.expiresAt <= nowSeconds()) return undefined;
    return item;
  },

  /** Revokes one session (a kicked connection's); false when it was revoked already or does not exist. */
  async revokeOne(userId: string, sessionId: string): Promise<boolean> {
    try {
      await ddb().send(
        new UpdateCommand({
          TableName: config.tableName('sessions'),
          Key: { userId, sessionId },
          UpdateExpression: 'SET revokedAt = :now',
          ConditionExpression: 'attribute_exists(sessionId) AND attribute_not_exists(revokedAt)',
          ExpressionAttributeValues: { ':now': nowSeconds() },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  },

  /** The ids of the user's sessions that are live now (not revoked, not expired). */
  async liveIds(userId: string): Promise<Set<string>> {
    const live = new Set<string>();
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await ddb().send(
        new QueryCommand({ TableName: config.tableName('sessions'), KeyConditionExpression: 'userId = :u', ExpressionAttributeValues: { ':u': userId }, ProjectionExpression: 'sessionId, revokedAt, expiresAt', ExclusiveStartKey: startKey }),
      );
      const now = nowSeconds();
      for (const item of (page.Items ?? []) as SessionItem[]) if (!item.revokedAt && item.expiresAt > now) live.add(item.sessionId);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return live;
  },

  /** Revokes the user's live sessions (on one platform, or all); returns how many. */
  async revoke(userId: string, platformId?: number): Promise<number> {
    return (await this.revokeSessions(userId, platformId)).length;
  },

  /** Revokes the user's live sessions (on one platform, or all); returns their ids. */
  async revokeSessions(userId: string, platformId?: number): Promise<string[]> {
    const table = config.tableName('sessions');
    const revoked: string[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await ddb().send(new QueryCommand({ TableName: table, KeyConditionExpression: 'userId = :u', ExpressionAttributeValues: { ':u': userId }, ExclusiveStartKey: startKey }));
      for (const item of (page.Items ?? []) as SessionItem[]) {
        if (item.revokedAt || (platformId !== undefined && item.platformId !== platformId)) continue;
        try {
          await ddb().send(new UpdateCommand({ TableName: table, Key: { userId, sessionId: item.sessionId }, UpdateExpression: 'SET revokedAt = :now', ConditionExpression: 'attribute_not_exists(revokedAt)', ExpressionAttributeValues: { ':now': nowSeconds() } }));
          revoked.push(item.sessionId);
        } catch (err) {
          if (!isConditionFailure(err)) throw err;
        }
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return revoked;
  },
};
