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

/** Where a directory backfill stands: the table it is copying and the Scan position in it. */
export interface BackfillCursor {
  readonly phase: 'users' | 'groups';
  /** The Scan's LastEvaluatedKey; absent: from the start of the phase's table. */
  readonly startKey?: Record<string, unknown>;
  /** Rows copied so far. */
  readonly users: number;
  readonly groups: number;
}

const FRESH: BackfillCursor = { phase: 'users', users: 0, groups: 0 };

/**
 * Items per Scan page: a page is read, upserted (one BatchExecuteStatement per 500 rows) and
 * its position saved before the next, so an interrupted backfill repeats at most one page.
 */
export const BACKFILL_PAGE_ITEMS = 1000;

const PHASES = {
  users: {
    table: () => config.tableName('users'),
    projection: 'userId, nickname, createdAt, updatedAt',
    names: {} as Record<string, string>,
    copy: (items: Record<string, unknown>[]) => directory.upsertUsers(items.map((i) => directoryUserOf(i as unknown as Parameters<typeof directoryUserOf>[0]))),
  },
  groups: {
    table: () => config.tableName('groups'),
    projection: 'groupId, #name, ownerUserId, createdAt, updatedAt, #status',
    names: { '#name': 'name', '#status': 'status' } as Record<string, string>,
    copy: (items: Record<string, unknown>[]) => directory.upsertGroups(items.map((i) => directoryGroupOf(i as unknown as Parameters<typeof directoryGroupOf>[0]))),
  },
} as const;

interface PageResult {
  /** The position after the page; null when both tables are done. */
  readonly next: BackfillCursor | null;
  /** Rows copied, this page included. */
  readonly users: number;
  readonly groups: number;
}

/** Copies one Scan page from `cursor` into the mirrors. */
async function copyPage(cursor: BackfillCursor, pageItems: number): Promise<PageResult> {
  const phase = PHASES[cursor.phase];
  const page = await ddb().send(
    new ScanCommand({
      TableName: phase.table(),
      ProjectionExpression: phase.projection,
      ...(Object.keys(phase.names).length ? { ExpressionAttributeNames: phase.names } : {}),
      ExclusiveStartKey: cursor.startKey,
      Limit: pageItems,
    }),
  );
  const items = (page.Items ?? []) as Record<string, unknown>[];
  await phase.copy(items);
  const users = cursor.users + (cursor.phase === 'users' ? items.length : 0);
  const groups = cursor.groups + (cursor.phase === 'groups' ? items.length : 0);
  if (page.LastEvaluatedKey) return { next: { phase: cursor.phase, startKey: page.LastEvaluatedKey, users, groups }, users, groups };
  return { next: cursor.phase === 'users' ? { phase: 'groups', users, groups } : null, users, groups };
}

/**
 * Copies every user and group from DynamoDB into the mirrors, in one go (a Scan of each
 * table). Idempotent and safe next to live directory jobs: the `updated_at` guard keeps
 * whichever version is newer. The migrate function runs it in resumable slices instead
 * ({@link directoryBackfill}).
 */
export async function backfillDirectory(): Promise<{ users: number; groups: number }> {
  let cursor: BackfillCursor | null = FRESH;
  let counts = { users: 0, groups: 0 };
  while (cursor) {
    const page: PageResult = await copyPage(cursor, BACKFILL_PAGE_ITEMS);
    counts = { users: page.users, groups: page.groups };
    cursor = page.next;
  }
  return counts;
}

/** The `backfill_progress` row of the directory backfill (migration 0008_backfill_progress). */
const PROGRESS_ID = 'directory';
/** The `schema_migrations` id recording a completed directory backfill. */
export const BACKFILL_DONE = 'directory_backfill';

/** What a slice of the directory backfill leaves. */
export interface BackfillSlice {
  /** Both tables are copied (and the completion recorded). */
  readonly done: boolean;
  /** Pages copied by this slice. */
  readonly pages: number;
  readonly users: number;
  readonly groups: number;
}

/**
 * The directory backfill of the migrate function, in slices that each fit in one invocation:
 * its position is kept in the history (`backfill_progress`) after every page, so the next
 * slice (the next poll of the deploy, a retry, the next deploy) continues where the last one
 * stopped, whatever stopped it, and repeats at most the page it was copying.
 */
export const directoryBackfill = {
  /** Whether a completed backfill is recorded. */
  async done(): Promise<boolean> {
    return (await execute(`SELECT 1 FROM schema_migrations WHERE id = :id`, [str('id', BACKFILL_DONE)])).length > 0;
  },

  /** Forgets any completion and position: the next slice starts over from the first user. */
  async restart(): Promise<void> {
    await execute(`DELETE FROM schema_migrations WHERE id = :id`, [str('id', BACKFILL_DONE)]);
    await execute(`DELETE FROM backfill_progress WHERE id = :id`, [str('id', PROGRESS_ID)]);
  },

  /**
   * Copies pages from the saved position until both tables are done or `deadline` (epoch ms)
   * has passed; at least one page, so every slice makes progress.
   */
  async slice(options: { deadline: number; pageItems?: number }): Promise<BackfillSlice> {
    if (await this.done()) return { done: true, pages: 0, users: 0, groups: 0 };
    const rows = await execute(`SELECT phase, scan_key, users_copied, groups_copied FROM backfill_progress WHERE id = :id`, [str('id', PROGRESS_ID)]);
    let cursor: BackfillCursor | null = rows.length
      ? {
          phase: rows[0].phase === 'groups' ? 'groups' : 'users',
          ...(rows[0].scan_key ? { startKey: JSON.parse(String(rows[0].scan_key)) as Record<string, unknown> } : {}),
          users: Number(rows[0].users_copied),
          groups: Number(rows[0].groups_copied),
        }
      : FRESH;
    let pages = 0;
    let counts = { users: cursor.users, groups: cursor.groups };
    do {
      const page: PageResult = await copyPage(cursor, options.pageItems ?? BACKFILL_PAGE_ITEMS);
      pages++;
      counts = { users: page.users, groups: page.groups };
      cursor = page.next;
      if (cursor) {
        await execute(
          `INSERT INTO backfill_progress (id, phase, scan_key, users_copied, groups_copied, updated_at) VALUES (:id, :phase, :scanKey, :users, :groups, now())
             ON CONFLICT (id) DO UPDATE SET phase = EXCLUDED.phase, scan_key = EXCLUDED.scan_key, users_copied = EXCLUDED.users_copied,
               groups_copied = EXCLUDED.groups_copied, updated_at = now()`,
          [str('id', PROGRESS_ID), str('phase', cursor.phase), str('scanKey', cursor.startKey ? JSON.stringify(cursor.startKey) : undefined), long('users', cursor.users), long('groups', cursor.groups)],
        );
      }
    } while (cursor && Date.now() < options.deadline);
    if (cursor) return { done: false, pages, ...counts };
    await execute(`INSERT INTO schema_migrations (id) VALUES (:id) ON CONFLICT (id) DO NOTHING`, [str('id', BACKFILL_DONE)]);
    await execute(`DELETE FROM backfill_progress WHERE id = :id`, [str('id', PROGRESS_ID)]);
    return { done: true, pages, ...counts };
  },
};
