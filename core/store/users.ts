/** Users table: one item per registered user. */
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { ddb } from '../aws/clients';
import { config } from '../config';
import { batchGet, chunk } from './dynamo';

export interface UserItem {
  userId: string;
  nickname?: string;
  faceUrl?: string;
  ex?: string;
  createdAt: number;
}

export const users = {
  /** The subset of `userIds` that is registered. */
  async existing(userIds: readonly string[]): Promise<Set<string>> {
    const table = config.tableName('users');
    const found = new Set<string>();
    for (const part of chunk([...new Set(userIds)], 100)) {
      const res = await batchGet({ [table]: { Keys: part.map((userId) => ({ userId })), ProjectionExpression: 'userId' } });
      for (const item of res[table] ?? []) found.add(item.userId as string);
    }
    return found;
  },

  /** Writes new users (25 per request), retrying unprocessed items. */
  async putMany(items: readonly UserItem[]): Promise<void> {
    const table = config.tableName('users');
    for (const part of chunk(items, 25)) {
      let requests = part.map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; requests.length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** attempt) * Math.random()));
        const res = await ddb().send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
        requests = (res.UnprocessedItems?.[table] ?? []) as typeof requests;
        if (attempt > 8 && requests.length > 0) throw new Error('BatchWriteItem left items unprocessed after retries');
      }
    }
  },
};
