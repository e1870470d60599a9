/**
 * Offline push, invoked asynchronously by the functions that send messages (and by itself
 * for a large group's roster): see core/offline-push/notify.ts. Only Cirrus's own functions
 * may invoke it (IAM), so the event's shape is checked, not parsed with a schema.
 */
import { asyncHandler } from '../core/runtime/async';
import { log } from '../core/log';
import { loadPushCredentials } from '../core/offline-push/credentials';
import { runNotify, ruleSettings } from '../core/offline-push/notify';
import { createProviders } from '../core/offline-push/providers';
import type { NotifyJob } from '../core/offline-push/targets';
import { totalUnread } from '../core/services/conversations';

function notifyJob(event: unknown): NotifyJob {
  const job = event as Partial<NotifyJob> | null;
  const m = job?.message;
  const users = (list: unknown) => list === undefined || (Array.isArray(list) && list.every((t) => t && typeof t.userId === 'string' && (t.recvOpt === 0 || t.recvOpt === 2)));
  const ok =
    job?.kind === 'notify' &&
    typeof m?.conversationId === 'string' &&
    Number.isSafeInteger(m.seq) &&
    typeof m.serverMsgId === 'string' &&
    typeof m.senderId === 'string' &&
    users(job.targets) &&
    users(job.candidates) &&
    (job.roster === undefined || (typeof job.roster.groupId === 'string' && Number.isSafeInteger(job.roster.shards)));
  if (!ok) throw new Error('The event is not a notify job');
  return job as NotifyJob;
}

export const handler = asyncHandler('notify', notifyJob, async (job, context) => {
  // The providers' clients (and their connections and access tokens) live as long as the container's credentials.
  const credentials = await loadPushCredentials();
  const providers = createProviders(credentials);
  const outcome = await runNotify(job, {
    client: (provider) => (credentials[provider] ? providers.client(provider) : undefined),
    settings: ruleSettings(),
    badge: (userId) => totalUnread(userId),
    remainingMs: () => context.getRemainingTimeInMillis(),
  });
  log.info('offline push', { conversationId: job.message.conversationId, seq: job.message.seq, ...outcome });
});
