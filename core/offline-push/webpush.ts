/**
 * Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payload encryption (RFC 8291),
 * both by the `web-push` library; the request itself goes out with fetch, without following
 * redirects, and only to a push service on the allowed hosts (a subscription's endpoint is
 * a URL a browser gave: Cirrus must not be made to post to anything else).
 */
import webpush from 'web-push';
import type { Device, Notification, ProviderClient, PushCredentials, SendOutcome, WebPushSubscription } from './types';
import { digest, fitText, PROVIDER_TIMEOUT_MS, retryAfterMs } from './payload';

/**
 * The largest plaintext sent: the push service takes a 4096-byte encrypted body, of which the
 * aes128gcm header (86 bytes), the padding delimiter and the tag (17) leave 3993; kept lower.
 */
export const WEBPUSH_MAX_PLAINTEXT_BYTES = 3800;
/** The Topic header: at most 32 base64url characters. */
export const WEBPUSH_TOPIC_CHARS = 32;
/** The push services browsers use (Chrome, Firefox, Safari, Edge); `*.` allows every subdomain. */
export const DEFAULT_WEBPUSH_HOSTS = ['fcm.googleapis.com', 'updates.push.services.mozilla.com', '*.push.apple.com', '*.notify.windows.com'] as const;
/** The longest subscription endpoint accepted. */
export const MAX_WEBPUSH_ENDPOINT_CHARS = 2048;

export type WebPushCredentials = NonNullable<PushCredentials['webpush']>;

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
  let value = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch {
      return 'The push subscription is not valid JSON.';
    }
  }
  if (typeof value !== 'object' || value === null) return 'The push subscription must be an object with an endpoint and keys.';
  const { endpoint, keys } = value as { endpoint?: unknown; keys?: { p256dh?: unknown; auth?: unknown } };
  if (typeof endpoint !== 'string' || endpoint.length === 0) return 'The push subscription has no endpoint.';
  if (endpoint.length > MAX_WEBPUSH_ENDPOINT_CHARS) return `The push subscription's endpoint is longer than ${MAX_WEBPUSH_ENDPOINT_CHARS} characters.`;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return "The push subscription's endpoint is not a URL.";
  }
  if (url.username || url.password) return "The push subscription's endpoint must not contain credentials.";
  const { allowedHosts, allowLocalhost } = policy(options);
  const host = url.hostname.toLowerCase();
  const local = allowLocalhost && LOCAL_HOSTS.has(host) && (url.protocol === 'http:' || url.protocol === 'https:');
  if (!local) {
    if (url.protocol !== 'https:') return "The push subscription's endpoint must be an https URL.";
    if (url.port !== '' && url.port !== '443') return "The push subscription's endpoint must use the standard https port.";
    if (!hostAllowed(host, allowedHosts)) return `The push subscription's endpoint is on ${host}, which is not an allowed push service (${allowedHosts.join(', ')}).`;
  }
  const p256dh = base64urlBytes(keys?.p256dh);
  if (!p256dh || p256dh.length !== 65 || p256dh[0] !== 4) return "The push subscription's keys.p256dh must be an uncompressed P-256 public key (65 bytes, base64url).";
  const auth = base64urlBytes(keys?.auth);
  if (!auth || auth.length !== 16) return "The push subscription's keys.auth must be a 16-byte secret (base64url).";
  return { endpoint: url.href, keys: { p256dh: keys!.p256dh as string, auth: keys!.auth as string } };
}

/** The Topic header for a collapse id: its digest, 32 base64url characters. */
export const webPushTopic = (collapseId: string) => digest(collapseId, WEBPUSH_TOPIC_CHARS);

/** What the service worker receives (JSON), at most 3800 bytes: the body, then the title, shortened to fit. */
export function webPushPayload(notification: Notification): string | undefined {
  const n = notification;
  const build = (title: string | undefined, body: string | undefined) =>
    JSON.stringify({
      ...(title !== undefined ? { title } : {}),
      ...(body !== undefined ? { body } : {}),
      tag: n.threadId,
      ...(n.badge !== undefined ? { badge: n.badge } : {}),
      ...(n.sound ? { sound: n.sound } : {}),
      silent: n.silent,
      ...(n.titleLocKey ? { titleLocKey: n.titleLocKey } : {}),
      ...(n.titleLocArgs ? { titleLocArgs: n.titleLocArgs } : {}),
      ...(n.bodyLocKey ? { bodyLocKey: n.bodyLocKey } : {}),
      ...(n.bodyLocArgs ? { bodyLocArgs: n.bodyLocArgs } : {}),
      data: n.data,
    });
  return fitText(n.silent ? undefined : n.title, n.silent ? undefined : n.body, build, WEBPUSH_MAX_PLAINTEXT_BYTES);
}

export interface WebPushClientOptions extends WebPushHostPolicy {
  timeoutMs?: number;
}

export class WebPushClient implements ProviderClient {
  constructor(
    private readonly credentials: WebPushCredentials,
    private readonly options: WebPushClientOptions = {},
  ) {}

  async send(device: Device, notification: Notification): Promise<SendOutcome> {
    const subscription = validateWebPushSubscription(device.token, this.options);
    if (typeof subscription === 'string') {
      // Kept when only the host policy refuses it (a configuration matter); otherwise it is unusable.
      return /allowed push service|https/.test(subscription) ? { kind: 'failed', reason: subscription } : { kind: 'invalid', reason: subscription, status: 400 };
    }
    const payload = webPushPayload(notification);
    if (payload === undefined) return { kind: 'failed', reason: `Payload Too Large: the notification's data alone is over ${WEBPUSH_MAX_PLAINTEXT_BYTES} bytes` };
    let details: webpush.RequestDetails;
    try {
      details = webpush.generateRequestDetails(subscription, payload, {
        vapidDetails: { subject: this.credentials.subject, publicKey: this.credentials.publicKey, privateKey: this.credentials.privateKey },
        TTL: Math.max(0, Math.floor(notification.ttlSeconds)),
        urgency: notification.silent ? 'low' : notification.priority === 'high' ? 'high' : 'normal',
        topic: webPushTopic(notification.collapseId),
        contentEncoding: 'aes128gcm',
      });
    } catch (err) {
      return { kind: 'failed', reason: `Web Push request not built: ${(err as Error).message}` };
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(details.headers)) if (name.toLowerCase() !== 'content-length') headers[name] = String(value);
    let res: Response;
    try {
      res = await fetch(details.endpoint, {
        method: details.method,
        headers,
        body: details.body ? new Uint8Array(details.body) : undefined,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.timeoutMs ?? PROVIDER_TIMEOUT_MS),
      });
    } catch (err) {
      return { kind: 'retry', reason: `Web Push service unreachable: ${(err as Error).message}` };
    }
    const text = (await res.text()).slice(0, 300);
    const status = res.status;
    const reason = `HTTP ${status}${text ? `: ${text}` : ''}`;
    if (status >= 200 && status < 300) return { kind: 'sent', ...(res.headers.get('location') ? { id: res.headers.get('location')! } : {}) };
    if (status === 404 || status === 410) return { kind: 'invalid', reason, status };
    if (status === 429 || status >= 500) {
      const after = retryAfterMs(res.headers.get('retry-after'));
      return { kind: 'retry', reason, status, ...(after !== undefined ? { retryAfterMs: after } : {}) };
    }
    return { kind: 'failed', reason, status };
  }
}
