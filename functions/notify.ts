/**
 * Offline push, invoked asynchronously by the functions that send messages (and by itself
 * for a large group's roster): see core/offline-push/notify.ts. Only Cirrus's own functions
 * may invoke it (IAM), so the event's shape is checked, not parsed with a schema.
 */
import { asyncHandler } from '../core/runtime/async';
import { log } from '../core/log';
import { count } from '../core/metrics';
import { loadPushCredentials, pushSettings } from '../core/offline-push/credentials';
import { runNotify, ruleSettings } from '../core/offline-push/notify';
import { providerClient } from '../core/offline-push/providers';
import { configuredProviders } from '../core/offline-push/settings';
import type { ProviderClient, PushProvider } from '../core/offline-push/types';
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

/** The provider clients, one per provider's credentials object (cached by the loader): their HTTP/2 session and tokens live with the container. */
const clients = new WeakMap<object, ProviderClient>();

/**
 * The client of each configured provider. One provider's credentials that cannot be read do not stop
 * the others: its sends fail with the loader's reason (plain, naming the parameter), and go to DeadLetters.
 */
async function providerClients(): Promise<(provider: PushProvider) => ProviderClient | undefined> {
  const settings = pushSettings();
  if (!settings) return () => undefined;
  const out = new Map<PushProvider, ProviderClient>();
  await Promise.all(
    configuredProviders(settings).map(async (provider) => {
      try {
        const credentials = await loadPushCredentials([provider]);
        const own = credentials[provider]!;
        let client = clients.get(own);
        if (!client) clients.set(own, (client = providerClient(provider, credentials)));
        out.set(provider, client);
      } catch (err) {
        log.error('offline push credentials unusable', { provider, err });
        const reason = (err as Error).message;
        out.set(provider, { send: async () => ({ kind: 'failed', reason }) });
      }
    }),
  );
  return (provider) => out.get(provider);
}

export const handler = asyncHandler('notify', notifyJob, async (job, context) => {
  const outcome = await runNotify(job, {
    client: await providerClients(),
    settings: ruleSettings(),
    badge: (userId, globalRecvOpt) => totalUnread(userId, globalRecvOpt),
    remainingMs: () => context.getRemainingTimeInMillis(),
  });
  // Per message: at debug (failures and pruned tokens are logged where they happen).
  log.debug('offline push', { conversationId: job.message.conversationId, seq: job.message.seq, ...outcome });
  count('NotificationsSent', outcome.sent);
  count('NotificationsFailed', outcome.failed);
  count('NotificationsPruned', outcome.pruned);
  count('NotificationsRetried', outcome.retried);
});
