/**
 * Web Push (RFC 8030) with VAPID (RFC 8292: an ES256 JWT signed with jose, as the APNs and FCM
 * tokens are) and aes128gcm payload encryption (RFC 8291 over RFC 8188, with node:crypto); the
 * request itself goes out with fetch, without following redirects, and only to a push service
 * on the allowed hosts (a subscription's endpoint is a URL a browser gave: Cirrus must not be
 * made to post to anything else).
 */
import { createCipheriv, createECDH, createPrivateKey, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
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

/** How long a VAPID token is valid (RFC 8292 allows at most 24 hours). */
const VAPID_TOKEN_SECONDS = 12 * 3600;
/** The record size declared in the aes128gcm header: the whole payload fits one record. */
const RECORD_SIZE = 4096;

/** The VAPID signing key from its 32-byte private scalar (base64url): the public point is derived from it. */
export function vapidSigningKey(privateKey: string): KeyObject {
  const d = Buffer.from(privateKey, 'base64url');
  if (d.length !== 32) throw new Error('The VAPID private key must be 32 bytes, base64url');
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(d);
  const point = ecdh.getPublicKey();
  return createPrivateKey({ key: { kty: 'EC', crv: 'P-256', d: d.toString('base64url'), x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') }, format: 'jwk' });
}

/** The VAPID token for a push service (`aud`: the endpoint's origin). */
export function vapidToken(key: KeyObject, endpoint: string, subject: string, now = Date.now()): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ typ: 'JWT', alg: 'ES256' })
    .setAudience(new URL(endpoint).origin)
    .setExpirationTime(Math.floor(now / 1000) + VAPID_TOKEN_SECONDS)
    .setSubject(subject)
    .sign(key);
}

/**
 * The payload encrypted for the browser (RFC 8291): an ephemeral P-256 key agreed with the
 * subscription's `p256dh`, mixed with its `auth` secret, one aes128gcm record (RFC 8188) behind
 * the header (salt, record size, the ephemeral public key).
 */
export function encryptWebPush(payload: string, p256dh: string, auth: string): Buffer {
  const uaPublic = Buffer.from(p256dh, 'base64url');
  const authSecret = Buffer.from(auth, 'base64url');
  const local = createECDH('prime256v1');
  const asPublic = local.generateKeys();
  const ecdhSecret = local.computeSecret(uaPublic);
  const ikm = Buffer.from(hkdfSync('sha256', ecdhSecret, authSecret, Buffer.concat([Buffer.from('WebPush: info\0'), uaPublic, asPublic]), 32));
  const salt = randomBytes(16);
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const cipher = createCipheriv('aes-128-gcm', cek, nonce);
  // The padding delimiter 0x02 marks the last (and only) record.
  const sealed = Buffer.concat([cipher.update(Buffer.concat([Buffer.from(payload, 'utf8'), Buffer.from([2])])), cipher.final(), cipher.getAuthTag()]);
  const header = Buffer.alloc(16 + 4 + 1);
  salt.copy(header, 0);
  header.writeUInt32BE(RECORD_SIZE, 16);
  header.writeUInt8(asPublic.length, 20);
  return Buffer.concat([header, asPublic, sealed]);
}

export interface WebPushClientOptions extends WebPushHostPolicy {
  timeoutMs?: number;
}

export class WebPushClient implements ProviderClient {
  private key?: KeyObject;

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
    let headers: Record<string, string>;
    let body: Buffer;
    try {
      this.key ??= vapidSigningKey(this.credentials.privateKey);
      body = encryptWebPush(payload, subscription.keys.p256dh, subscription.keys.auth);
      headers = {
        TTL: String(Math.max(0, Math.floor(notification.ttlSeconds))),
        'Content-Type': 'application/octet-stream',
        'Content-Encoding': 'aes128gcm',
        Urgency: notification.silent ? 'low' : notification.priority === 'high' ? 'high' : 'normal',
        Topic: webPushTopic(notification.collapseId),
        Authorization: `vapid t=${await vapidToken(this.key, subscription.endpoint, this.credentials.subject)}, k=${this.credentials.publicKey}`,
      };
    } catch (err) {
      return { kind: 'failed', reason: `Web Push request not built: ${(err as Error).message}` };
    }
    let res: Response;
    try {
      res = await fetch(subscription.endpoint, {
        method: 'POST',
        headers,
        body: new Uint8Array(body),
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
