/** Users table: one item per registered user. */
import { config } from '../config';
import { batchGet, batchWrite, chunk } from './dynamo';

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

  /** Writes new users, 25 per request. */
  async putMany(items: readonly UserItem[]): Promise<void> {
    await batchWrite(config.tableName('users'), items.map((Item) => ({ PutRequest: { Item } })));
  },
};
