/**
 * Signing of webhook callbacks, and the helper an app backend (in Node) verifies them
 * with. The signature covers the timestamp as well as the body, so a captured request
 * cannot be replayed later than the receiver's tolerance.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-cirrus-signature';
export const TIMESTAMP_HEADER = 'x-cirrus-timestamp';
export const CALLBACK_HEADER = 'x-cirrus-callback';
export const DELIVERY_ID_HEADER = 'x-cirrus-delivery-id';

/** The only signature scheme so far; the prefix lets a later one coexist during a rotation. */
const SCHEME = 'v1';

/** Hex HMAC-SHA256 of `<timestamp>.<body>` under the secret. */
export function signatureOf(body: string, timestamp: number | string, secret: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** The `x-cirrus-signature` value for a body sent at `timestamp` (epoch seconds). */
export function signatureHeader(body: string, timestamp: number, secret: string): string {
  return `${SCHEME}=${signatureOf(body, timestamp, secret)}`;
}

/** Header values as Node's `IncomingMessage.headers` or a plain record hold them. */
export type WebhookHeaders = Record<string, string | string[] | undefined> | Headers;

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  const value = record[name] ?? Object.entries(record).find(([k]) => k.toLowerCase() === name)?.[1];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * True when `body` (the raw request body, exactly as received) carries a valid signature
 * of `secret` and its timestamp is within `toleranceSeconds` of now. Compares in constant
 * time. Any `v1=` entry of a comma-separated signature header may match.
 */
export function verifyWebhook(body: string, headers: WebhookHeaders, secret: string, toleranceSeconds = 300, nowSeconds = Math.floor(Date.now() / 1000)): boolean {
  const timestamp = header(headers, TIMESTAMP_HEADER);
  const signature = header(headers, SIGNATURE_HEADER);
  if (!timestamp || !signature || !/^\d{1,12}$/.test(timestamp)) return false;
  if (Math.abs(nowSeconds - Number(timestamp)) > toleranceSeconds) return false;
  const expected = Buffer.from(signatureOf(body, timestamp, secret), 'hex');
  return signature
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.startsWith(`${SCHEME}=`))
    .some((part) => {
      const given = Buffer.from(part.slice(SCHEME.length + 1), 'hex');
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
}
