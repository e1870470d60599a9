/** Delivery ids of webhook callbacks, apart from the client so that code making jobs does not bundle the signing (and its secret reads). */
import { createHash } from 'node:crypto';
import type { WebhookCallback } from './settings';

/**
 * A delivery id derived from what the callback is about, so that every retry (and every
 * redelivery of the job behind it) carries the same id and the backend can deduplicate.
 */
export function deliveryId(callback: WebhookCallback, ...parts: readonly (string | number)[]): string {
  const digest = createHash('sha256').update(`${callback}\n${parts.join('\n')}`).digest('hex');
  return `${callback}-${digest.slice(0, 32)}`;
}
