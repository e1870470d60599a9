/**
 * The history's directory: mirrors of the Users and Groups tables (migration
 * 0005_directory) that statistics count and the admin user search matches. Rows come
 * from directory jobs on the archive queue and from the backfill; every upsert is
 * guarded by `updated_at`, so a redelivered or late (older) job never rolls a row back.
 */
import { BatchExecuteStatementCommand, type SqlParameter } from '@aws-sdk/client-rds-data';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { ddb } from '../aws/dynamodb';
import { rdsData } from '../aws/rds-data';
import { config } from '../config';
import type { DirectoryGroup, DirectoryUser } from '../protocol/jobs';
import { directoryGroupOf, directoryUserOf } from '../services/directory-jobs';
import { chunk } from '../store/dynamo';
import { execute } from './history';
import { long, str, timestamp } from './params';

const UPSERT_USER = `INSERT INTO users (user_id, nickname, created_at, updated_at)
  VALUES (:userId, :nickname, :createdAt, :updatedAt)
  ON CONFLICT (user_id) DO UPDATE SET nickname = EXCLUDED.nickname, updated_at = EXCLUDED.updated_at
  WHERE users.updated_at < EXCLUDED.updated_at`;

// A dismissal is final: a row keeps its dismissed_at whatever comes after it.
const UPSERT_GROUP = `INSERT INTO groups (group_id, name, owner_user_id, created_at, dismissed_at, updated_at)
  VALUES (:groupId, :name, :ownerUserId, :createdAt, :dismissedAt, :updatedAt)
  ON CONFLICT (group_id) DO UPDATE SET name = EXCLUDED.name, owner_user_id = EXCLUDED.owner_user_id,
    dismissed_at = coalesce(groups.dismissed_at, EXCLUDED.dismissed_at), updated_at = EXCLUDED.updated_at
  WHERE groups.updated_at < EXCLUDED.updated_at`;

const optionalTimestamp = (name: string, ms: number | undefined): SqlParameter => (ms === undefined ? { name, value: { isNull: true } } : timestamp(name, ms));

/**
 * PostgreSQL text cannot hold NUL. The API refuses it in every string
 * (core/protocol/strings.ts), but names stored before it did may hold one: the mirror (for
 * counting and searching) keeps them without it, or the row could never be written.
 */
const withoutNul = (text: string | undefined): string | undefined => text?.replaceAll('\u0000', '');

const userParameters = (u: DirectoryUser): SqlParameter[] => [
  str('userId', u.userId),
  str('nickname', withoutNul(u.nickname)),
  timestamp('createdAt', u.createdAt),
  timestamp('updatedAt', u.updatedAt),
];

const groupParameters = (g: DirectoryGroup): SqlParameter[] => [
  str('groupId', g.groupId),
  str('name', withoutNul(g.name)),
  str('ownerUserId', g.ownerUserId),
  timestamp('createdAt', g.createdAt),
  optionalTimestamp('dismissedAt', g.dismissedAt),
  timestamp('updatedAt', g.updatedAt),
];

/** Rows per BatchExecuteStatement (well inside the Data API's request size). */
const BATCH_ROWS = 500;

async function batch(sql: string, parameterSets: SqlParameter[][]): Promise<void> {
  for (const part of chunk(parameterSets, BATCH_ROWS)) {
    await rdsData().send(new BatchExecuteStatementCommand({ ...config.db(), sql, parameterSets: part }));
  }
}

export const directory = {
  /** Upserts users; a row at the same or a newer `updatedAt` is left alone. */
  async upsertUsers(list: readonly DirectoryUser[]): Promise<void> {
    if (list.length > 0) await batch(UPSERT_USER, list.map(userParameters));
  },

  /** Upserts groups; a row at the same or a newer `updatedAt` is left alone. */
  async upsertGroups(list: readonly DirectoryGroup[]): Promise<void> {
    if (list.length > 0) await batch(UPSERT_GROUP, list.map(groupParameters));
  },

  /**
   * User ids whose id starts with `q` or whose nickname contains it, case-insensitively,
   * in user id order after `afterUserId`; one more than `limit` tells there is a next page.
   */
  async searchUsers(q: string, limit: number, afterUserId?: string): Promise<{ userIds: string[]; more: boolean }> {
    const escaped = q.replace(/[\\%_]/g, (c) => `\\${c}`);
    const rows = await execute(
      `SELECT user_id FROM users
        WHERE (lower(user_id) LIKE lower(:prefix) ESCAPE '\\' OR lower(nickname) LIKE lower(:substring) ESCAPE '\\')
          AND user_id > :after
        ORDER BY user_id
        LIMIT :limit`,
      [str('prefix', `${escaped}%`), str('substring', `%${escaped}%`), str('after', afterUserId ?? ''), long('limit', limit + 1)],
    );
    const userIds = rows.map((r) => String(r.user_id));
    return { userIds: userIds.slice(0, limit), more: userIds.length > limit };
  },
};

async function* scan(table: string, projection: string, names: Record<string, string>): AsyncGenerator<Record<string, unknown>[]> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await ddb().send(
      new ScanCommand({ TableName: table, ProjectionExpression: projection, ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}), ExclusiveStartKey: startKey }),
    );
    yield (page.Items ?? []) as Record<string, unknown>[];
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}

/**
 * Copies every user and group from DynamoDB into the mirrors (a Scan of each table, one
 * BatchExecuteStatement per 500 rows). Idempotent and safe next to live directory jobs:
 * the `updated_at` guard keeps whichever version is newer.
 */
export async function backfillDirectory(): Promise<{ users: number; groups: number }> {
  let userCount = 0;
  for await (const items of scan(config.tableName('users'), 'userId, nickname, createdAt, updatedAt', {})) {
    await directory.upsertUsers(items.map((i) => directoryUserOf(i as unknown as Parameters<typeof directoryUserOf>[0])));
    userCount += items.length;
  }
  let groupCount = 0;
  for await (const items of scan(config.tableName('groups'), 'groupId, #name, ownerUserId, createdAt, updatedAt, #status', { '#name': 'name', '#status': 'status' })) {
    await directory.upsertGroups(items.map((i) => directoryGroupOf(i as unknown as Parameters<typeof directoryGroupOf>[0])));
    groupCount += items.length;
  }
  return { users: userCount, groups: groupCount };
}
