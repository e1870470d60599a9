/** Connections table: live WebSocket connections, keyed by user so push never scans. */
import { DeleteCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ddb } from '../aws/dynamodb';
import { config } from '../config';
import { nowSeconds } from './dynamo';

export interface ConnectionItem {
  userId: string;
  connectionId: string;
  platformId: number;
  sessionId: string;
  /** Epoch seconds. */
  connectedAt: number;
  /** Epoch ms the connection opened (API Gateway's connectedAt); orders racing connects for the multi-login policy. */
  connectedAtMs?: number;
  expiresAt: number;
}

export const connections = {
  async put(item: ConnectionItem): Promise<void> {
    await ddb().send(new PutCommand({ TableName: config.tableName('connections'), Item: item }));
  },

  async delete(userId: string, connectionId: string): Promise<void> {
    await ddb().send(new DeleteCommand({ TableName: config.tableName('connections'), Key: { userId, connectionId } }));
  },

  /** The user's connections that have not outlived API Gateway's connection cap. */
  async ofUser(userId: string): Promise<ConnectionItem[]> {
    const out: ConnectionItem[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await ddb().send(
        new QueryCommand({
          TableName: config.tableName('connections'),
          KeyConditionExpression: 'userId = :u',
          ExpressionAttributeValues: { ':u': userId },
          ExclusiveStartKey: startKey,
        }),
      );
      const now = nowSeconds();
      for (const item of (page.Items ?? []) as ConnectionItem[]) if (item.expiresAt > now) out.push(item);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return out;
  },
};
