/**
 * Firebase Cloud Messaging, HTTP v1 API, with the service account's OAuth access token.
 *
 * The access token comes from Google's token endpoint by the JWT-bearer grant: an RS256 JWT
 * (iss = the service account's email, scope firebase.messaging, aud = the token endpoint,
 * at most one hour) signed with the account's private key. It is kept until five minutes
 * before it expires; a send answered 401 renews it once and is sent again at once.
 */
import { importPKCS8, SignJWT } from 'jose';
import type { Device, Notification, ProviderClient, PushCredentials, SendOutcome } from './types';
import { byteLength, fitText, MAX_PAYLOAD_BYTES, PROVIDER_TIMEOUT_MS, retryAfterMs } from './payload';

export const FCM_ENDPOINT = 'https://fcm.googleapis.com';
export const FCM_TOKEN_ENDPOINT = 'https://oauth2.googleapis.com/token';
export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
/** An access token is renewed this long before it expires. */
export const FCM_TOKEN_MARGIN_MS = 5 * 60_000;

export type FcmCredentials = NonNullable<PushCredentials['fcm']>;

export interface FcmClientOptions {
  /** Default: env `FCM_ENDPOINT`, else https://fcm.googleapis.com. */
  endpoint?: string;
  /** Default: env `FCM_TOKEN_ENDPOINT`, else https://oauth2.googleapis.com/token. */
  tokenEndpoint?: string;
  now?: () => number;
  timeoutMs?: number;
}

/** The `message` of a v1 send, without its `token` (what FCM's 4096-byte limit counts). */
export type FcmMessage = Record<string, unknown>;

/** The message FCM delivers; the body, then the title, shortened so it is at most 4096 bytes. Undefined when the data alone is too large. */
export function fcmMessage(notification: Notification): FcmMessage | undefined {
  const n = notification;
  const data = { ...n.data };
  // A data-only message carries the badge itself (the app sets it).
  if (n.silent && n.badge !== undefined) data.badge = String(n.badge);
  const build = (title: string | undefined, body: string | undefined): FcmMessage => {
    const android: Record<string, unknown> = {
      priority: n.priority === 'high' ? 'HIGH' : 'NORMAL',
      ttl: `${Math.max(0, Math.floor(n.ttlSeconds))}s`,
      collapse_key: n.collapseId,
    };
    const message: FcmMessage = { data };
    if (!n.silent) {
      const notification: Record<string, unknown> = { tag: n.threadId };
      if (n.sound) notification.sound = n.sound;
      if (n.titleLocKey) notification.title_loc_key = n.titleLocKey;
      if (n.titleLocArgs) notification.title_loc_args = n.titleLocArgs;
      if (n.bodyLocKey) notification.body_loc_key = n.bodyLocKey;
      if (n.bodyLocArgs) notification.body_loc_args = n.bodyLocArgs;
      if (n.badge !== undefined) notification.notification_count = n.badge;
      android.notification = notification;
      if (title !== undefined || body !== undefined) message.notification = { ...(title !== undefined ? { title } : {}), ...(body !== undefined ? { body } : {}) };
    }
    message.android = android;
    return message;
  };
  const json = fitText(n.silent ? undefined : n.title, n.silent ? undefined : n.body, (t, b) => JSON.stringify(build(t, b)), MAX_PAYLOAD_BYTES);
  return json === undefined ? undefined : (JSON.parse(json) as FcmMessage);
}

interface GoogleError {
  error?: { code?: number; message?: string; status?: string; details?: { '@type'?: string; errorCode?: string }[] };
}

export class FcmClient implements ProviderClient {
  private token?: { value: string; expiresAt: number };
  private pending?: Promise<string | SendOutcome>;
  private key?: Promise<CryptoKey>;
  private readonly now: () => number;

  constructor(
    private readonly credentials: FcmCredentials,
    private readonly options: FcmClientOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  private get tokenEndpoint() {
    return this.options.tokenEndpoint ?? (process.env.FCM_TOKEN_ENDPOINT || FCM_TOKEN_ENDPOINT);
  }

  private get endpoint() {
    return (this.options.endpoint ?? (process.env.FCM_ENDPOINT || FCM_ENDPOINT)).replace(/\/+$/, '');
  }

  /** The access token: the cached one, or a new one by the JWT-bearer grant (an outcome when Google refuses); concurrent sends share one request. */
  private accessToken(renew: boolean): Promise<string | SendOutcome> {
    if (!renew && this.token && this.now() < this.token.expiresAt - FCM_TOKEN_MARGIN_MS) return Promise.resolve(this.token.value);
    if (renew && this.pending === undefined) this.token = undefined;
    this.pending ??= this.fetchAccessToken().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async fetchAccessToken(): Promise<string | SendOutcome> {
    const now = this.now();
    this.key ??= importPKCS8(this.credentials.privateKey, 'RS256');
    const iat = Math.floor(now / 1000);
    const assertion = await new SignJWT({ scope: FCM_SCOPE })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
      .setIssuer(this.credentials.clientEmail)
      .setAudience(this.tokenEndpoint)
      .setIssuedAt(iat)
      .setExpirationTime(iat + 3600)
      .sign(await this.key);
    let res: Response;
    try {
      res = await fetch(this.tokenEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }).toString(),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? PROVIDER_TIMEOUT_MS),
        redirect: 'error',
      });
    } catch (err) {
      return { kind: 'retry', reason: `Google's token endpoint unreachable: ${(err as Error).message}` };
    }
    const text = await res.text();
    let body: { access_token?: string; expires_in?: number; error?: string; error_description?: string } = {};
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: the status says it.
    }
    if (res.status === 429 || res.status >= 500) {
      const after = retryAfterMs(res.headers.get('retry-after'));
      return { kind: 'retry', reason: `Google's token endpoint answered ${res.status}`, status: res.status, ...(after !== undefined ? { retryAfterMs: after } : {}) };
    }
    if (!res.ok || !body.access_token) {
      return { kind: 'failed', reason: `The service account's access token was refused: ${body.error ?? `HTTP ${res.status}`}${body.error_description ? ` (${body.error_description})` : ''}`, status: res.status };
    }
    this.token = { value: body.access_token, expiresAt: now + (body.expires_in ?? 3600) * 1000 };
    return body.access_token;
  }

  async send(device: Device, notification: Notification): Promise<SendOutcome> {
    const message = fcmMessage(notification);
    if (!message) return { kind: 'failed', reason: `Message is too big: the notification's data alone is over ${MAX_PAYLOAD_BYTES} bytes` };
    if (byteLength(device.token) === 0) return { kind: 'invalid', reason: 'INVALID_ARGUMENT: empty registration token', status: 400 };
    const url = `${this.endpoint}/v1/projects/${encodeURIComponent(this.credentials.projectId)}/messages:send`;
    const body = JSON.stringify({ message: { token: device.token, ...message } });
    let renewed = false;
    for (;;) {
      const token = await this.accessToken(renewed);
      if (typeof token !== 'string') return token;
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json; charset=utf-8' },
          body,
          signal: AbortSignal.timeout(this.options.timeoutMs ?? PROVIDER_TIMEOUT_MS),
          redirect: 'error',
        });
      } catch (err) {
        return { kind: 'retry', reason: `FCM unreachable: ${(err as Error).message}` };
      }
      const text = await res.text();
      if (res.ok) {
        let name: string | undefined;
        try {
          name = (JSON.parse(text) as { name?: string }).name;
        } catch {
          // Accepted all the same.
        }
        return { kind: 'sent', ...(name ? { id: name } : {}) };
      }
      let parsed: GoogleError = {};
      try {
        parsed = JSON.parse(text);
      } catch {
        // Not JSON: the status says it.
      }
      const status = res.status;
      const errorCode = parsed.error?.details?.find((d) => d.errorCode)?.errorCode ?? parsed.error?.status ?? `HTTP ${status}`;
      const reason = parsed.error?.message ? `${errorCode}: ${parsed.error.message}` : errorCode;
      if (status === 401 && !renewed) {
        renewed = true;
        continue;
      }
      if (errorCode === 'UNREGISTERED' || status === 404) return { kind: 'invalid', reason, status };
      // INVALID_ARGUMENT about the token itself (FCM: "The registration token is not a valid FCM registration token").
      if (errorCode === 'INVALID_ARGUMENT' && /registration token/i.test(parsed.error?.message ?? '')) return { kind: 'invalid', reason, status };
      if (status === 429 || status === 500 || status === 503 || errorCode === 'QUOTA_EXCEEDED' || errorCode === 'UNAVAILABLE' || errorCode === 'INTERNAL') {
        const after = retryAfterMs(res.headers.get('retry-after'));
        return { kind: 'retry', reason, status, ...(after !== undefined ? { retryAfterMs: after } : {}) };
      }
      return { kind: 'failed', reason, status };
    }
  }
}
