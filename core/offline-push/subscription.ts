/**
 * Checking what a device registers as its token, per provider, before anything is stored,
 * without the providers' clients (the registration routes bundle this module alone; the Web
 * Push client checks each subscription again before sending, with the same function). A token
 * is also the partition key of the Devices table's byToken index, so each is brought to one
 * canonical spelling (lowercase hex for APNs, compact JSON for Web Push): the same device
 * registered twice, by anyone, is found as the same key.
 */
import type { WebPushSubscription } from './types';

/** DynamoDB's limit on a global secondary index's partition key value, in bytes (UTF-8). */
export const MAX_TOKEN_BYTES = 2048;

/** The push services browsers use (Chrome, Firefox, Safari, Edge); `*.` allows every subdomain. */
export const DEFAULT_WEBPUSH_HOSTS = ['fcm.googleapis.com', 'updates.push.services.mozilla.com', '*.push.apple.com', '*.notify.windows.com'] as const;
/** The longest subscription endpoint accepted. */
export const MAX_WEBPUSH_ENDPOINT_CHARS = 2048;

export interface WebPushHostPolicy {
  /** Default: env `WEBPUSH_ALLOWED_HOSTS` (comma-separated) or DEFAULT_WEBPUSH_HOSTS. */
  allowedHosts?: readonly string[];
  /** Endpoints on 127.0.0.1, ::1 or localhost over http or https (default: env `WEBPUSH_ALLOW_LOCALHOST` = `true`, set by the local runtime only). */
  allowLocalhost?: boolean;
}

function policy(options: WebPushHostPolicy = {}): Required<WebPushHostPolicy> {
  const fromEnv = process.env.WEBPUSH_ALLOWED_HOSTS?.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
  return {
    allowedHosts: options.allowedHosts ?? (fromEnv && fromEnv.length > 0 ? fromEnv : DEFAULT_WEBPUSH_HOSTS),
    allowLocalhost: options.allowLocalhost ?? process.env.WEBPUSH_ALLOW_LOCALHOST === 'true',
  };
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

function hostAllowed(host: string, allowed: readonly string[]): boolean {
  return allowed.some((pattern) => {
    const p = pattern.toLowerCase();
    return p.startsWith('*.') ? host.endsWith(p.slice(1)) && host.length > p.length - 1 : host === p;
  });
}

function base64urlBytes(value: unknown): Buffer | undefined {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]+={0,2}$/.test(value)) return undefined;
  return Buffer.from(value, 'base64url');
}

/**
 * Checks a browser's push subscription (a JSON string or its parsed value) before it is kept:
 * an https endpoint on an allowed push service host (no credentials, no other port), a
 * P-256 public key (65 bytes) and a 16-byte auth secret. Returns the subscription (only its
 * endpoint and keys), or a plain sentence saying what is wrong.
 */
export function validateWebPushSubscription(json: unknown, options?: WebPushHostPolicy): WebPushSubscription | string {
  const checked = checkSubscription(json, options);
  return 'subscription' in checked ? checked.subscription : checked.error;
}

/** The subscription, or what is wrong with it and whether only the host policy refuses it (a deployment setting, not the device's fault). */
export function checkSubscription(json: unknown, options?: WebPushHostPolicy): { subscription: WebPushSubscription } | { error: string; hostRefused: boolean } {
  const bad = (error: string) => ({ error, hostRefused: false });
  const refused = (error: string) => ({ error, hostRefused: true });
  let value = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch {
      return bad('The push subscription is not valid JSON.');
    }
  }
  if (typeof value !== 'object' || value === null) return bad('The push subscription must be an object with an endpoint and keys.');
  const { endpoint, keys } = value as { endpoint?: unknown; keys?: { p256dh?: unknown; auth?: unknown } };
  if (typeof endpoint !== 'string' || endpoint.length === 0) return bad('The push subscription has no endpoint.');
  if (endpoint.length > MAX_WEBPUSH_ENDPOINT_CHARS) return bad(`The push subscription's endpoint is longer than ${MAX_WEBPUSH_ENDPOINT_CHARS} characters.`);
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return bad("The push subscription's endpoint is not a URL.");
  }
  if (url.username || url.password) return bad("The push subscription's endpoint must not contain credentials.");
  const { allowedHosts, allowLocalhost } = policy(options);
  const host = url.hostname.toLowerCase();
  const local = allowLocalhost && LOCAL_HOSTS.has(host) && (url.protocol === 'http:' || url.protocol === 'https:');
  if (!local) {
    if (url.protocol !== 'https:') return refused("The push subscription's endpoint must be an https URL.");
    if (url.port !== '' && url.port !== '443') return refused("The push subscription's endpoint must use the standard https port.");
    if (!hostAllowed(host, allowedHosts)) return refused(`The push subscription's endpoint is on ${host}, which is not an allowed push service (${allowedHosts.join(', ')}).`);
  }
  const p256dh = base64urlBytes(keys?.p256dh);
  if (!p256dh || p256dh.length !== 65 || p256dh[0] !== 4) return bad("The push subscription's keys.p256dh must be an uncompressed P-256 public key (65 bytes, base64url).");
  const auth = base64urlBytes(keys?.auth);
  if (!auth || auth.length !== 16) return bad("The push subscription's keys.auth must be a 16-byte secret (base64url).");
  return { subscription: { endpoint: url.href, keys: { p256dh: keys!.p256dh as string, auth: keys!.auth as string } } };
}

/** base64url without padding, whatever padding it came with. */
const unpadded = (value: string) => Buffer.from(value, 'base64url').toString('base64url');

/** A Web Push subscription as the Devices table keeps it (its `token`): compact JSON in a fixed key order, keys without padding. */
export const webPushToken = (s: WebPushSubscription): string => JSON.stringify({ endpoint: s.endpoint, keys: { p256dh: unpadded(s.keys.p256dh), auth: unpadded(s.keys.auth) } });

/** APNs device tokens: hex, 64 characters today (32 bytes); Apple says they may grow, so up to 200. */
export const APNS_TOKEN = /^[0-9a-fA-F]{64,200}$/;

/**
 * FCM registration tokens: letters, digits, `-`, `_` and `:` (about 150–170 characters
 * today); 32 to 1,024 accepted.
 */
export const FCM_TOKEN = /^[A-Za-z0-9_:-]{32,1024}$/;
