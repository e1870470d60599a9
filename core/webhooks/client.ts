/**
 * Sending one signed callback to the app backend. The request is bounded by the
 * configured timeout, which covers reading the answer too, so a slow backend cannot hold
 * a send (or a consumer batch) longer than that.
 */
import { secretValue } from '../auth/secrets';
import { config } from '../config';
import type { WebhookCallback } from './settings';
import { CALLBACK_HEADER, DELIVERY_ID_HEADER, SIGNATURE_HEADER, signatureHeader, TIMESTAMP_HEADER } from './signature';

/** The body of every callback. */
export interface CallbackEnvelope<T = unknown> {
  schemaVersion: 1;
  callback: WebhookCallback;
  /** The delivery id, also in `x-cirrus-delivery-id`: the same on every retry of one callback. */
  id: string;
  /** Epoch seconds of this attempt, also in `x-cirrus-timestamp` and under the signature. */
  timestamp: number;
  data: T;
}

export { deliveryId } from './delivery-id';

export interface CallbackAnswer {
  status: number;
  body: string;
}

/**
 * POSTs a callback signed with the webhook secret. Resolves with any HTTP answer (the
 * caller judges the status); rejects on timeout or network error.
 */
export async function postCallback<T>(callback: WebhookCallback, id: string, data: T, target: { url: string; timeoutMs: number }): Promise<CallbackAnswer> {
  const secret = await secretValue(config.webhookSecretId());
  const timestamp = Math.floor(Date.now() / 1000);
  const envelope: CallbackEnvelope<T> = { schemaVersion: 1, callback, id, timestamp, data };
  const body = JSON.stringify(envelope);
  const res = await fetch(target.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      [SIGNATURE_HEADER]: signatureHeader(body, timestamp, secret),
      [TIMESTAMP_HEADER]: String(timestamp),
      [CALLBACK_HEADER]: callback,
      [DELIVERY_ID_HEADER]: id,
    },
    body,
    redirect: 'error',
    signal: AbortSignal.timeout(target.timeoutMs),
  });
  return { status: res.status, body: await res.text() };
}

