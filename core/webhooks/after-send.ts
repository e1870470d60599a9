/**
 * After-callbacks: queued by the functions that observe an event, POSTed by the webhook
 * function, retried by SQS until the app backend answers 2xx (then dead-lettered).
 */
import { config } from '../config';
import { faultPoint } from '../faults';
import { log, withLogContext } from '../log';
import type { Message } from '../protocol/schema';
import type { WebhookJob } from '../protocol/jobs';
import { postCallback } from './client';

export { afterSendMessageJob } from './after';

/** POSTs a batch of queued callbacks in parallel; returns the ids of the items to retry. */
export async function sendCallbacks(items: readonly { id: string; job: WebhookJob }[]): Promise<Set<string>> {
  const failed = new Set<string>();
  const settings = config.webhooks();
  if (!settings) {
    // Webhooks were turned off with jobs still queued: nothing to send them to.
    log.warn('webhook jobs dropped: webhooks are not configured', { count: items.length });
    return failed;
  }
  await Promise.all(
    items.map(({ id, job }) =>
      withLogContext({ correlationId: job.correlationId }, async () => {
        try {
          const answer = await postCallback(job.callback, job.id, job.data, settings);
          if (answer.status < 200 || answer.status >= 300) {
            log.warn('webhook callback refused', { callback: job.callback, deliveryId: job.id, status: answer.status });
            failed.add(id);
          }
        } catch (err) {
          log.warn('webhook callback failed', { callback: job.callback, deliveryId: job.id, err });
          failed.add(id);
        }
      }),
    ),
  );
  faultPoint('webhook.afterPost', { callbacks: items.map(({ job }) => job.callback) });
  return failed;
}
