/**
 * One slice of a large fan-out, invoked asynchronously by the function that accepted the
 * message. A slice with connections that could not be reached for a reason other than
 * gone (410) or too large (413) fails, so Lambda retries it (duplicates are harmless:
 * clients deduplicate by seq).
 */
import { asyncHandler } from '../core/runtime/async';
import { pushToUsers, type PushJob } from '../core/services/push';
import { faultPoint } from '../core/faults';
import { log } from '../core/log';
import { invokeNotify } from '../core/offline-push/targets';

/**
 * Only Cirrus's own sending functions may invoke push (IAM), so the event's shape is checked
 * rather than its content parsed again: the push bundle carries no schema library (zod), which
 * would double its size and its initialisation. A malformed event fails, and after Lambda's two
 * retries lands in the shared dead-letter queue.
 */
function pushJob(event: unknown): PushJob {
  const job = event as Partial<PushJob> | null;
  const message = job?.message as Partial<PushJob['message']> | undefined;
  const ok =
    Array.isArray(job?.userIds) &&
    job.userIds.every((u) => typeof u === 'string') &&
    (job.known === undefined || (Array.isArray(job.known) && job.known.every((k) => Array.isArray(k) && k.length === 6 && typeof k[0] === 'string' && typeof k[1] === 'string'))) &&
    (job.excludeConnectionId === undefined || typeof job.excludeConnectionId === 'string') &&
    typeof message?.conversationId === 'string' &&
    Number.isSafeInteger(message.seq) &&
    typeof message.senderId === 'string';
  if (!ok) throw new Error('The event is not a push job');
  return job as PushJob;
}

export const handler = asyncHandler('push', pushJob, async (job) => {
  const outcome = await pushToUsers(job);
  // The slice's away recipients (read with their connections): one notify invocation, made only by the attempt
  // that succeeds (a slice that fails is retried by Lambda, and that attempt reads and notifies them).
  if (outcome.failed === 0 && outcome.targets?.length) await invokeNotify({ message: job.message, targets: outcome.targets, correlationId: job.correlationId });
  log.debug('message pushed', { conversationId: job.message.conversationId, seq: job.message.seq, delivered: outcome.delivered, gone: outcome.gone, notify: outcome.targets?.length ?? 0 });
  faultPoint('push.afterPost', { recipients: job.userIds.length });
  if (outcome.failed > 0) throw new Error(`${outcome.failed} connection(s) could not be reached`);
});
