/**
 * Directory jobs: users and groups just written to DynamoDB, handed to the archive queue
 * for the history's directory mirrors (statistics, admin user search). Kept apart from
 * the history code so the functions that only enqueue do not bundle the Data API client.
 */
import { log } from '../log';
import type { DirectoryGroup, DirectoryJob, DirectoryUser } from '../protocol/jobs';
import { sendBatch } from './queues';

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
 * Hands users and groups that were just written to DynamoDB to the archive queue for the
 * history's directory (10 per SendMessageBatch). The DynamoDB write is what counts: a job
 * that cannot be sent is logged and the call still succeeds; the directory backfill of
 * the migrate function (docs/operations.md) puts such a row right.
 */
export async function enqueueDirectory(jobs: readonly DirectoryJob[]): Promise<void> {
  if (jobs.length === 0) return;
  const failed = await sendBatch('archive', jobs.map((body, i) => ({ owner: String(i), body })));
  if (failed.size > 0) {
    const lost = [...failed].map((i) => {
      const job = jobs[Number(i)];
      return job.kind === 'user' ? job.user.userId : job.group.groupId;
    });
    log.error('directory jobs could not be queued; run the directory backfill', { count: failed.size, rows: lost.slice(0, 20) });
  }
}
