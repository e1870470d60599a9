/**
 * Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payload encryption (RFC 8291),
 * both by the `web-push` library; the request itself goes out with fetch, without following
 * redirects, and only to a push service on the allowed hosts (a subscription's endpoint is
 * a URL a browser gave: Cirrus must not be made to post to anything else).
 */
import webpush from 'web-push';
import type { Device, Notification, ProviderClient, PushCredentials, SendOutcome } from './types';
import { digest, fitText, PROVIDER_TIMEOUT_MS, retryAfterMs } from './payload';
import { checkSubscription, type WebPushHostPolicy } from './subscription';

/**
 * The largest plaintext sent: the push service takes a 4096-byte encrypted body, of which the
 * aes128gcm header (86 bytes), the padding delimiter and the tag (17) leave 3993; kept lower.
 */
export const WEBPUSH_MAX_PLAINTEXT_BYTES = 3800;
/** The Topic header: at most 32 base64url characters. */
export const WEBPUSH_TOPIC_CHARS = 32;
export { DEFAULT_WEBPUSH_HOSTS, MAX_WEBPUSH_ENDPOINT_CHARS, validateWebPushSubscription, type WebPushHostPolicy } from './subscription';

export type WebPushCredentials = NonNullable<PushCredentials['webpush']>;

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
    const checked = checkSubscription(device.token, this.options);
    if (!('subscription' in checked)) {
      // Kept when only the host policy refuses it (a configuration matter); otherwise it is unusable.
      return checked.hostRefused ? { kind: 'failed', reason: checked.error } : { kind: 'invalid', reason: checked.error, status: 400 };
    }
    const { subscription } = checked;
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
