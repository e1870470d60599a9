/**
 * Apple Push Notification service over HTTP/2 with token-based (.p8) authentication.
 *
 * One HTTP/2 session per origin per container, reused by every send and dropped (the next
 * send reconnects) when APNs sends GOAWAY, closes it or it fails. The provider token is an
 * ES256 JWT (header `kid` = key id, claims `iss` = team id and `iat`) signed with the .p8 key,
 * kept and reused for 50 minutes: APNs refuses a token older than an hour
 * (ExpiredProviderToken) and one renewed more often than every 20 minutes
 * (TooManyProviderTokenUpdates). A send answered ExpiredProviderToken renews it once and is
 * sent again at once.
 */
import { connect, constants, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { importPKCS8, SignJWT } from 'jose';
import type { Device, Notification, ProviderClient, PushCredentials, SendOutcome } from './types';
import { byteLength, digest, fitText, MAX_PAYLOAD_BYTES, PROVIDER_TIMEOUT_MS, retryAfterMs } from './payload';

export const APNS_PRODUCTION = 'https://api.push.apple.com';
export const APNS_SANDBOX = 'https://api.sandbox.push.apple.com';
/** A provider token is reused this long (APNs: at most 1 hour old, renewed at most every 20 minutes). */
export const APNS_TOKEN_REFRESH_MS = 50 * 60_000;
/** apns-collapse-id's limit; a longer collapse id is sent as its digest. */
export const APNS_MAX_COLLAPSE_ID_BYTES = 64;

export type ApnsCredentials = NonNullable<PushCredentials['apns']>;

export interface ApnsClientOptions {
  /** The APNs origin for every device (default: env `APNS_ENDPOINT`, else production or sandbox per device). */
  endpoint?: string;
  /** The clock (ms), for the provider token's `iat`. */
  now?: () => number;
  timeoutMs?: number;
}

interface ApnsResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** The open HTTP/2 sessions, one per origin, shared by every client in this container. */
const sessions = new Map<string, ClientHttp2Session>();

function session(origin: string): ClientHttp2Session {
  const open = sessions.get(origin);
  if (open && !open.closed && !open.destroyed) return open;
  const created = connect(origin);
  const drop = () => {
    if (sessions.get(origin) === created) sessions.delete(origin);
  };
  created.on('goaway', drop);
  created.on('close', drop);
  created.on('error', drop);
  // An idle session does not keep the process alive; a request in flight holds its own timer.
  created.unref();
  sessions.set(origin, created);
  return created;
}

/** Closes every open APNs session (tests; a Lambda container just ends). */
export async function closeApnsSessions(): Promise<void> {
  const open = [...sessions.values()];
  sessions.clear();
  await Promise.all(open.map((s) => new Promise<void>((resolve) => (s.closed ? resolve() : s.close(() => resolve())))));
}

function request(origin: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<ApnsResponse> {
  return new Promise((resolve, reject) => {
    let stream;
    try {
      stream = session(origin).request({ [constants.HTTP2_HEADER_METHOD]: 'POST', ...headers });
    } catch (err) {
      return reject(err);
    }
    const timer = setTimeout(() => stream.close(constants.NGHTTP2_CANCEL), timeoutMs);
    let status = 0;
    let responseHeaders: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on('response', (h) => {
      responseHeaders = h;
      status = Number(h[constants.HTTP2_HEADER_STATUS]);
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      clearTimeout(timer);
      if (status === 0) reject(new Error('APNs closed the stream without an answer'));
      else resolve({ status, headers: responseHeaders, body: Buffer.concat(chunks).toString('utf8') });
    });
    stream.on('close', () => {
      clearTimeout(timer);
      if (status === 0) reject(new Error(stream.rstCode === constants.NGHTTP2_CANCEL ? `APNs did not answer within ${timeoutMs} ms` : 'APNs closed the stream without an answer'));
    });
    stream.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    stream.end(body);
  });
}

/** The JSON payload APNs delivers, at most 4096 bytes (the body, then the title, shortened to fit); undefined when the data alone is too large. */
export function apnsPayload(notification: Notification): string | undefined {
  const build = (title: string | undefined, body: string | undefined) => {
    const aps: Record<string, unknown> = {};
    if (!notification.silent) {
      const alert: Record<string, unknown> = {};
      if (title !== undefined) alert.title = title;
      if (body !== undefined) alert.body = body;
      if (notification.titleLocKey) alert['title-loc-key'] = notification.titleLocKey;
      if (notification.titleLocArgs) alert['title-loc-args'] = notification.titleLocArgs;
      if (notification.bodyLocKey) alert['loc-key'] = notification.bodyLocKey;
      if (notification.bodyLocArgs) alert['loc-args'] = notification.bodyLocArgs;
      if (Object.keys(alert).length > 0) aps.alert = alert;
      if (notification.sound) aps.sound = notification.sound;
    } else {
      aps['content-available'] = 1;
    }
    if (notification.badge !== undefined) aps.badge = notification.badge;
    aps['thread-id'] = notification.threadId;
    // The app's data beside `aps` (an `aps` key in it cannot replace Apple's).
    return JSON.stringify({ ...notification.data, aps });
  };
  return fitText(notification.silent ? undefined : notification.title, notification.silent ? undefined : notification.body, build, MAX_PAYLOAD_BYTES);
}

/**
 * How the notification is sent: an alert (priority 10 when high, 5 otherwise); a silent one
 * with a badge as an alert without alert or sound (priority 5), which updates the badge; a
 * silent one without a badge as a background push (content-available, always priority 5).
 */
export function apnsPushType(notification: Notification): { type: 'alert' | 'background'; priority: '10' | '5' } {
  if (notification.silent) return { type: notification.badge === undefined ? 'background' : 'alert', priority: '5' };
  return { type: 'alert', priority: notification.priority === 'high' ? '10' : '5' };
}

export class ApnsClient implements ProviderClient {
  private token?: { jwt: string; issuedAt: number };
  private key?: Promise<CryptoKey>;
  private readonly now: () => number;

  constructor(
    private readonly credentials: ApnsCredentials,
    private readonly options: ApnsClientOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  /** The provider token, minted anew when older than 50 minutes or when `renew`. */
  private async providerToken(renew = false): Promise<string> {
    const now = this.now();
    if (!renew && this.token && now - this.token.issuedAt < APNS_TOKEN_REFRESH_MS) return this.token.jwt;
    this.key ??= importPKCS8(this.credentials.privateKey, 'ES256');
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: this.credentials.keyId })
      .setIssuer(this.credentials.teamId)
      .setIssuedAt(Math.floor(now / 1000))
      .sign(await this.key);
    this.token = { jwt, issuedAt: now };
    return jwt;
  }

  private origin(device: Device): string {
    const configured = this.options.endpoint ?? process.env.APNS_ENDPOINT;
    if (configured) return configured.replace(/\/+$/, '');
    return device.sandbox ? APNS_SANDBOX : APNS_PRODUCTION;
  }

  async send(device: Device, notification: Notification): Promise<SendOutcome> {
    if (!/^[0-9a-fA-F]{16,200}$/.test(device.token) || device.token.length % 2 !== 0) {
      return { kind: 'invalid', reason: 'BadDeviceToken: an APNs device token is an even number of hexadecimal digits', status: 400 };
    }
    if (!this.credentials.bundleIds.includes(device.appId)) {
      return { kind: 'failed', reason: `TopicDisallowed: ${device.appId} is not one of the bundle ids APNs is configured for` };
    }
    const payload = apnsPayload(notification);
    if (payload === undefined) return { kind: 'failed', reason: `PayloadTooLarge: the notification's data alone is over ${MAX_PAYLOAD_BYTES} bytes` };
    const { type, priority } = apnsPushType(notification);
    const collapseId = byteLength(notification.collapseId) > APNS_MAX_COLLAPSE_ID_BYTES ? digest(notification.collapseId, 43) : notification.collapseId;
    const headers: Record<string, string> = {
      [constants.HTTP2_HEADER_PATH]: `/3/device/${device.token.toLowerCase()}`,
      'content-type': 'application/json',
      'apns-topic': device.appId,
      'apns-push-type': type,
      'apns-priority': priority,
      'apns-expiration': String(notification.ttlSeconds > 0 ? Math.floor(this.now() / 1000) + notification.ttlSeconds : 0),
      'apns-collapse-id': collapseId,
    };
    const origin = this.origin(device);
    let renewed = false;
    for (;;) {
      let response: ApnsResponse;
      try {
        headers.authorization = `bearer ${await this.providerToken(renewed)}`;
        response = await request(origin, headers, payload, this.options.timeoutMs ?? PROVIDER_TIMEOUT_MS);
      } catch (err) {
        return { kind: 'retry', reason: `APNs unreachable: ${(err as Error).message}` };
      }
      const { status } = response;
      if (status === 200) return { kind: 'sent', id: String(response.headers['apns-id'] ?? '') || undefined };
      let reason = `HTTP ${status}`;
      try {
        reason = (JSON.parse(response.body) as { reason?: string }).reason ?? reason;
      } catch {
        // Not JSON: keep the status.
      }
      if (status === 403 && reason === 'ExpiredProviderToken' && !renewed) {
        renewed = true;
        continue;
      }
      if (status === 410) return { kind: 'invalid', reason, status };
      if (status === 400 && (reason === 'BadDeviceToken' || reason === 'DeviceTokenNotForTopic')) return { kind: 'invalid', reason, status };
      if (status === 429 || status === 500 || status === 503) {
        const after = retryAfterMs(response.headers['retry-after'] as string | undefined);
        return { kind: 'retry', reason, status, ...(after !== undefined ? { retryAfterMs: after } : {}) };
      }
      return { kind: 'failed', reason, status };
    }
  }
}
