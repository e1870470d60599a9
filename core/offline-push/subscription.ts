/**
 * Checking what a device registers as its token, per provider, before anything is stored.
 * A token is also the partition key of the Devices table's byToken index, so each is
 * brought to one canonical spelling (lowercase hex for APNs, compact JSON for Web Push):
 * the same device registered twice, by anyone, is found as the same key.
 */
import type { WebPushSubscription } from './types';

/** DynamoDB's limit on a global secondary index's partition key value, in bytes (UTF-8). */
export const MAX_TOKEN_BYTES = 2048;

/** A base64url string (RFC 4648 §5; padding tolerated, as some browsers' toJSON() emit none and some libraries add it). */
const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;

function base64urlBytes(value: string): Buffer | undefined {
  if (!BASE64URL.test(value)) return undefined;
  return Buffer.from(value.replace(/=+$/, ''), 'base64url');
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * The push service URL a Web Push subscription names, checked: an absolute https URL
 * without credentials, at most 1,024 characters. Cirrus POSTs to it from Lambda, so it
 * may not be plain http (nor a file:, data: or other scheme); only when the deployment sets
 * `WEBPUSH_ALLOW_HTTP_LOOPBACK=true` (the local runtime's stand-in push service) is http
 * accepted, and then for localhost only.
 */
function checkEndpoint(endpoint: unknown): string | undefined {
  if (typeof endpoint !== 'string' || endpoint.length === 0) return 'endpoint must be a URL';
  if (endpoint.length > 1024) return 'endpoint must be at most 1024 characters';
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return 'endpoint must be an absolute URL';
  }
  if (url.username || url.password) return 'endpoint must not carry credentials';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && process.env.WEBPUSH_ALLOW_HTTP_LOOPBACK === 'true' && LOOPBACK.has(url.hostname)) return undefined;
  return 'endpoint must be an https URL';
}

/**
 * Checks a browser's push subscription (`PushSubscription.toJSON()`, with or without
 * `expirationTime`): an https endpoint, `keys.p256dh` the base64url of an uncompressed P-256
 * point (65 bytes, starting 0x04) and `keys.auth` the base64url of a 16-byte secret (RFC
 * 8291). Returns the subscription as stored, or the problem.
 */
export function checkWebPushSubscription(value: unknown): { ok: true; subscription: WebPushSubscription } | { ok: false; problem: string } {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { ok: false, problem: 'a Web Push token must be a subscription object {endpoint, keys: {p256dh, auth}}' };
  const { endpoint, keys, expirationTime, ...rest } = value as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length > 0) return { ok: false, problem: `unexpected field ${extra[0]} in the subscription` };
  if (expirationTime !== undefined && expirationTime !== null && typeof expirationTime !== 'number') return { ok: false, problem: 'expirationTime must be a number or null' };
  const endpointProblem = checkEndpoint(endpoint);
  if (endpointProblem) return { ok: false, problem: endpointProblem };
  if (!keys || typeof keys !== 'object' || Array.isArray(keys)) return { ok: false, problem: 'keys must be an object {p256dh, auth}' };
  const { p256dh, auth, ...otherKeys } = keys as Record<string, unknown>;
  if (Object.keys(otherKeys).length > 0) return { ok: false, problem: `unexpected field keys.${Object.keys(otherKeys)[0]} in the subscription` };
  const point = typeof p256dh === 'string' ? base64urlBytes(p256dh) : undefined;
  if (!point || point.length !== 65 || point[0] !== 0x04) return { ok: false, problem: 'keys.p256dh must be the base64url of an uncompressed P-256 public key (65 bytes)' };
  const secret = typeof auth === 'string' ? base64urlBytes(auth) : undefined;
  if (!secret || secret.length !== 16) return { ok: false, problem: 'keys.auth must be the base64url of a 16-byte secret' };
  // Canonical: unpadded base64url, fixed key order.
  return { ok: true, subscription: { endpoint: endpoint as string, keys: { p256dh: point.toString('base64url'), auth: secret.toString('base64url') } } };
}

/** A Web Push subscription as the Devices table keeps it (its `token`): compact JSON in a fixed key order. */
export const webPushToken = (s: WebPushSubscription): string => JSON.stringify({ endpoint: s.endpoint, keys: { p256dh: s.keys.p256dh, auth: s.keys.auth } });

/** APNs device tokens: hex, 64 characters today (32 bytes); Apple says they may grow, so up to 200. */
export const APNS_TOKEN = /^[0-9a-fA-F]{64,200}$/;

/**
 * FCM registration tokens: letters, digits, `-`, `_` and `:` (about 150–170 characters
 * today); 32 to 1,024 accepted.
 */
export const FCM_TOKEN = /^[A-Za-z0-9_:-]{32,1024}$/;
