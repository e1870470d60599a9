/** Groups and GroupMembers tables. Members are paged by group id: no Scan at any size. */
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ddb } from '../aws/dynamodb';
import { config } from '../config';
import { CirrusError } from '../errors';
import { batchWrite, isConditionFailure } from './dynamo';

export interface GroupItem {
  groupId: string;
  name: string;
  ownerUserId: string;
  faceUrl?: string;
  introduction?: string;
  ex?: string;
  memberCount: number;
  createdAt: number;
}

export type GroupRole = 'owner' | 'admin' | 'member';

export interface MemberItem {
  groupId: string;
  userId: string;
  role: GroupRole;
  joinedAt: number;
}

export const groups = {
  async create(item: GroupItem): Promise<void> {
    try {
      await ddb().send(new PutCommand({ TableName: config.tableName('groups'), Item: item, ConditionExpression: 'attribute_not_exists(groupId)' }));
    } catch (err) {
      if (isConditionFailure(err)) throw new CirrusError('ALREADY_EXISTS', `Group ${item.groupId} exists already`);
      throw err;
    }
  },

  async get(groupId: string): Promise<GroupItem | undefined> {
    const res = await ddb().send(new GetCommand({ TableName: config.tableName('groups'), Key: { groupId } }));
    return res.Item as GroupItem | undefined;
  },

  async adjustMemberCount(groupId: string, delta: number): Promise<number> {
    const res = await ddb().send(
      new UpdateCommand({
        TableName: config.tableName('groups'),
        Key: { groupId },
        UpdateExpression: 'ADD memberCount :d',
        ConditionExpression: 'attribute_exists(groupId)',
        ExpressionAttributeValues: { ':d': delta },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return (res.Attributes?.memberCount as number) ?? 0;
  },

  async putMembers(members: readonly MemberItem[]): Promise<void> {
    await batchWrite(config.tableName('groupMembers'), members.map((Item) => ({ PutRequest: { Item } })));
  },

  async deleteMembers(groupId: string, userIds: readonly string[]): Promise<void> {
    await batchWrite(config.tableName('groupMembers'), userIds.map((userId) => ({ DeleteRequest: { Key: { groupId, userId } } })));
  },

  /** Every member's user id, page by page (1 MB per Query page). */
  async memberIds(groupId: string): Promise<string[]> {
    const out: string[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await ddb().send(
        new QueryCommand({
          TableName: config.tableName('groupMembers'),
          KeyConditionExpression: 'groupId = :g',
          ExpressionAttributeValues: { ':g': groupId },
          ProjectionExpression: 'userId',
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) out.push(item.userId as string);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return out;
  },
};
