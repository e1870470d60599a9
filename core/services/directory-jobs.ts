/**
 * Directory jobs: users and groups just written to DynamoDB, written to the Outbox table,
 * whose stream the archive function copies into the history's directory mirrors
 * (statistics, admin user search). Kept apart from the history code so the functions
 * that only write them do not bundle the Data API client.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { ddb } from '../aws/dynamodb';
import { config } from '../config';
import { log } from '../log';
import type { DirectoryGroup, DirectoryJob, DirectoryUser } from '../protocol/jobs';
import { batchWrite, chunk, nowSeconds } from '../store/dynamo';

/** Outbox items outlive the stream's 24-hour retention a little, then expire (the REMOVE is filtered out). */
export const OUTBOX_TTL_SECONDS = 2 * 86_400;

/**
 * The Outbox item of a directory job. Its id names the row and its version, so writing the
 * same version again changes nothing (and DynamoDB then writes no stream record).
 */
export function outboxItemOf(job: DirectoryJob, now = nowSeconds()): Record<string, unknown> {
  const expiresAt = now + OUTBOX_TTL_SECONDS;
  return job.kind === 'user'
    ? { id: `user#${job.user.userId}#${job.user.updatedAt}`, kind: 'user', user: job.user, expiresAt }
    : { id: `group#${job.group.groupId}#${job.group.updatedAt}`, kind: 'group', group: job.group, expiresAt };
}

/**
 * Users per Outbox item when several are written at once (a registration of many): one
 * item of up to ~64 KB instead of one item each. DynamoDB bills a write by the KB, so the
 * units are about the same, but it is one stream record and one request instead of hundreds,
 * and the item stays far below DynamoDB's 400 KB and a stream batch's 6 MB.
 */
export const OUTBOX_USERS_PER_ITEM = 250;

/** The Outbox item of several users (ids from the first and last user and their versions). */
export function outboxUsersItemOf(users: readonly DirectoryUser[], now = nowSeconds()): Record<string, unknown> {
  const first = users[0];
  const last = users[users.length - 1];
  return { id: `users#${first.userId}#${first.updatedAt}#${last.userId}#${last.updatedAt}#${users.length}`, kind: 'users', users, expiresAt: now + OUTBOX_TTL_SECONDS };
}

/** A Users item as the mirror keeps it. */
export function directoryUserOf(item: { userId: string; nickname?: string; createdAt: number; updatedAt?: number }): DirectoryUser {
  return { userId: item.userId, ...(item.nickname !== undefined ? { nickname: item.nickname } : {}), createdAt: item.createdAt, updatedAt: item.updatedAt ?? item.createdAt };
}

/** A Groups item as the mirror keeps it; a dismissed group's last change was its dismissal. */
export function directoryGroupOf(item: { groupId: string; name: string; ownerUserId: string; createdAt: number; updatedAt?: number; status?: string }): DirectoryGroup {
  const updatedAt = item.updatedAt ?? item.createdAt;
  return {
    groupId: item.groupId,
    name: item.name,
    ownerUserId: item.ownerUserId,
    createdAt: item.createdAt,
    ...(item.status === 'dismissed' ? { dismissedAt: updatedAt } : {}),
    updatedAt,
  };
}

/**
 * Writes users and groups that were just written to DynamoDB to the Outbox (one PutItem,
 * or BatchWriteItem for several). The DynamoDB write of the row is what counts: an outbox
 * item that cannot be written is logged and the call still succeeds; the directory
 * backfill of the migrate function (docs/operations.md) puts such a row right.
 */
export async function enqueueDirectory(jobs: readonly DirectoryJob[]): Promise<void> {
  if (jobs.length === 0) return;
  const table = config.tableName('outbox');
  const users = jobs.flatMap((job) => (job.kind === 'user' ? [job.user] : []));
  const items =
    users.length > 1
      ? [
          ...chunk(users, OUTBOX_USERS_PER_ITEM).map((part) => (part.length === 1 ? outboxItemOf({ kind: 'user', user: part[0] }) : outboxUsersItemOf(part))),
          ...jobs.filter((job) => job.kind !== 'user').map((job) => outboxItemOf(job)),
        ]
      : jobs.map((job) => outboxItemOf(job));
  try {
    if (items.length === 1) await ddb().send(new PutCommand({ TableName: table, Item: items[0] }));
    else await batchWrite(table, items.map((Item) => ({ PutRequest: { Item } })));
  } catch (err) {
    const lost = jobs.map((job) => (job.kind === 'user' ? job.user.userId : job.group.groupId));
    log.error('directory rows could not be written to the outbox; run the directory backfill', { count: jobs.length, rows: lost.slice(0, 20), err });
  }
}
