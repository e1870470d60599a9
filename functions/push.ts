/**
 * One slice of a large fan-out, invoked asynchronously by the function that accepted the
 * message. A slice with connections that could not be reached for a reason other than
 * gone (410) or too large (413) fails, so Lambda retries it (duplicates are harmless:
 * clients deduplicate by seq).
 */
import { asyncHandler } from '../core/runtime/async';
import { pushToUsers } from '../core/services/push';
import { PushJobSchema } from '../core/protocol/jobs';
import { faultPoint } from '../core/faults';
import { log } from '../core/log';

export const handler = asyncHandler('push', (event) => PushJobSchema.parse(event), async (job) => {
  const outcome = await pushToUsers(job);
  log.debug('message pushed', { conversationId: job.message.conversationId, seq: job.message.seq, ...outcome });
  faultPoint('push.afterPost', { recipients: job.userIds.length });
  if (outcome.failed > 0) throw new Error(`${outcome.failed} connection(s) could not be reached`);
});
