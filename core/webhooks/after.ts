/**
 * Making and queueing after-callbacks. A job is made only when its callback is enabled
 * and its filters match: with the callback off nothing is queued, so the action costs no
 * extra request. The delivery id is fixed when the job is made, from what the event is
 * about, so every retry and redelivery carries the same one.
 */
import { config } from '../config';
import { parseConversationId } from '../domain/ids';
import { correlationId, log } from '../log';
import type { AfterData, WebhookJob } from '../protocol/jobs';
import type { Message } from '../protocol/schema';
import { sendBatch } from '../services/queues';
import { deliveryId } from './delivery-id';
import { passesFilters, type AfterCallback, type Involved } from './settings';

/** The job for an after-callback, or undefined when the callback is off or filtered out. */
export function afterJob<N extends AfterCallback>(name: N, idParts: readonly (string | number)[], data: AfterData<N>, involved: Involved): WebhookJob | undefined {
  const callback = config.webhookCallback(name);
  if (!callback || !passesFilters(callback, involved)) return undefined;
  const correlation = correlationId();
  return { callback: name, id: deliveryId(name, ...idParts), data, ...(correlation ? { correlationId: correlation } : {}) } as WebhookJob;
}

/**
 * Queues the jobs made (undefined ones are skipped; none made, no request), ten to a
 * SendMessageBatch. The event has happened already: a job that cannot be queued is
 * logged as an error rather than failing the action.
 */
export async function queueAfter(...jobs: readonly (WebhookJob | undefined)[]): Promise<void> {
  const made = jobs.filter((job): job is WebhookJob => job !== undefined);
  if (made.length === 0) return;
  const failed = await sendBatch('webhook', made.map((job) => ({ owner: job.id, body: job })));
  if (failed.size > 0) log.error('after-callbacks could not be queued', { deliveryIds: [...failed] });
}

/**
 * The afterSendMessage job for a stored message, or undefined when the callback is off,
 * skips the message's content type or watches neither its sender, its recipient nor its
 * group. The delivery id is derived from (conversationId, seq): a message read again from
 * the stream makes the same id again.
 */
export function afterSendMessageJob(message: Message, correlationId?: string): WebhookJob | undefined {
  const job = afterJob('afterSendMessage', [message.conversationId, message.seq], message, {
    userIds: [message.senderId, message.recvId],
    groupId: message.groupId,
    contentType: message.contentType,
  });
  return job && correlationId ? { ...job, correlationId } : job;
}

/** Makes and queues one after-callback (see {@link afterJob}). */
export function notifyAfter<N extends AfterCallback>(name: N, idParts: readonly (string | number)[], data: AfterData<N>, involved: Involved): Promise<void> {
  return queueAfter(afterJob(name, idParts, data, involved));
}

/** The group a conversation belongs to, as `{ groupId }` (empty for a 1:1 or notification conversation). */
export function groupOf(conversationId: string): { groupId?: string } {
  const parsed = parseConversationId(conversationId);
  return parsed && 'groupId' in parsed ? { groupId: parsed.groupId } : {};
}
