/**
 * Local stand-ins for the push services Cirrus calls: Apple Push Notification service (HTTP/2
 * cleartext, h2c), Firebase Cloud Messaging (Google's OAuth token endpoint and the HTTP v1
 * send) and a Web Push service (RFC 8030). Each checks what the real service checks (the
 * provider token or access token and its signature, the topic or project, the payload size,
 * the token's validity) and answers with the real service's status and error body. They mint
 * test tokens and subscriptions (a Web Push subscription as a browser makes one, so the
 * stand-in can decrypt what it receives) and keep the notifications they accepted.
 *
 * FCM, Web Push and the development endpoints are HTTP/1 routes under `/local/push/` (mounted
 * on the local runtime's port, so subscription endpoints stay valid across restarts); APNs
 * listens on a port of its own because it speaks HTTP/2 only.
 *
 * Not emulated: APNs' TooManyProviderTokenUpdates (APNs tolerates a token per container in
 * practice), its sandbox/production split (one server takes both), FCM topics and conditions,
 * Web Push's aesgcm (pre-RFC) encoding.
 */
import { createECDH, createPublicKey, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { compactVerify, decodeJwt, decodeProtectedHeader, importJWK, importSPKI, jwtVerify } from 'jose';
import ece from 'http_ece';
import webpush from 'web-push';
import type { PushCredentials, PushProvider, PushSettings, WebPushSubscription } from '../../core/offline-push/types';
import type { StandIn, StandInRequest, StandInResponse } from '../aws/types';

/** The payload limit of all three services. */
export const STANDIN_MAX_PAYLOAD_BYTES = 4096;
/** How many received notifications are kept (newest first). */
export const MAX_KEPT_NOTIFICATIONS = 200;
export const LOCAL_PUSH_PREFIX = '/local/push';
/** The SecureString parameters the local runtime keeps the push secrets in. */
export const LOCAL_PUSH_PARAMETERS = {
  apnsKey: '/cirrus/local/push/apns-key',
  fcmServiceAccount: '/cirrus/local/push/fcm-service-account',
  vapidPrivateKey: '/cirrus/local/push/vapid-private-key',
} as const;
const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
const APNS_TOKEN_MAX_AGE_SECONDS = 3600;
const VAPID_MAX_EXPIRY_SECONDS = 24 * 3600;

/** The keys the stand-ins were set up with: the private halves are what Cirrus is configured with. */
export interface PushStandInKeys {
  apns: { teamId: string; keyId: string; bundleIds: string[]; privateKey: string; publicKey: string };
  fcm: { projectId: string; clientEmail: string; privateKey: string; publicKey: string };
  webpush: { publicKey: string; privateKey: string; subject: string };
}

export interface ReceivedNotification {
  id: string;
  provider: PushProvider;
  /** The APNs device token, FCM registration token or Web Push subscription endpoint. */
  token: string;
  /** When the stand-in accepted it (ISO 8601). */
  receivedAt: string;
  title?: string;
  body?: string;
  badge?: number;
  threadId?: string;
  /** The delivery headers that matter (apns-topic, apns-push-type, apns-priority, apns-collapse-id, apns-expiration; TTL, Urgency, Topic). */
  headers: Record<string, string>;
  /** What the app receives: the APNs payload, the FCM message (without its token), the decrypted Web Push payload (parsed when JSON). */
  payload: unknown;
}

export interface InjectedFailure {
  provider: PushProvider;
  /** The device token, registration token or subscription endpoint; absent: any. */
  token?: string;
  status: number;
  /** APNs `reason` / FCM errorCode (defaults by status). */
  reason?: string;
  /** How many requests get this answer (default 1). */
  count?: number;
  retryAfterSeconds?: number;
}

interface ApnsDevice {
  bundleId: string;
  sandbox: boolean;
  uninstalledAt?: number;
}
interface FcmDevice {
  projectId: string;
  uninstalledAt?: number;
}
interface WebPushDevice {
  applicationServerKey: string;
  /** The subscription's own key pair (base64url) and auth secret, as a browser keeps them. */
  p256dh: string;
  privateKey: string;
  auth: string;
  unsubscribedAt?: number;
}

interface State {
  keys: PushStandInKeys;
  apns: Record<string, ApnsDevice>;
  fcm: Record<string, FcmDevice>;
  webpush: Record<string, WebPushDevice>;
  notifications: ReceivedNotification[];
}

export interface PushStandInOptions {
  /** Where keys, tokens, subscriptions and recent notifications are kept across restarts (none: memory only). */
  file?: string;
  /** Default `['com.example.cirrus']`. */
  bundleIds?: string[];
  /** Default `cirrus-local`. */
  projectId?: string;
  /** The VAPID subject Cirrus is configured with. Default `mailto:push@example.com`. */
  subject?: string;
}

const alnum = (n: number) => Array.from(randomBytes(n), (b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'[b % 36]).join('');

export function generatePushKeys(options: PushStandInOptions = {}): PushStandInKeys {
  const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const vapid = webpush.generateVAPIDKeys();
  const projectId = options.projectId ?? 'cirrus-local';
  return {
    apns: { teamId: alnum(10), keyId: alnum(10), bundleIds: options.bundleIds ?? ['com.example.cirrus'], privateKey: ec.privateKey, publicKey: ec.publicKey },
    fcm: { projectId, clientEmail: `cirrus-push@${projectId}.iam.gserviceaccount.com`, privateKey: rsa.privateKey, publicKey: rsa.publicKey },
    webpush: { publicKey: vapid.publicKey, privateKey: vapid.privateKey, subject: options.subject ?? 'mailto:push@example.com' },
  };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): StandInResponse => ({
  status,
  headers: { 'content-type': 'application/json; charset=UTF-8', ...headers },
  body: JSON.stringify(body),
});
const empty = (status: number, headers: Record<string, string> = {}): StandInResponse => ({ status, headers, body: '' });
const devError = (message: string, status = 400) => json(status, { message });

/** Google's error body: `{error: {code, message, status, details: [FcmError]}}`. */
function googleError(code: number, status: string, message: string, errorCode?: string, headers: Record<string, string> = {}): StandInResponse {
  return json(code, { error: { code, message, status, ...(errorCode ? { details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }] } : {}) } }, headers);
}

const GOOGLE_STATUS: Record<number, string> = { 400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 429: 'RESOURCE_EXHAUSTED', 500: 'INTERNAL', 503: 'UNAVAILABLE' };
const FCM_ERROR_CODE: Record<number, string> = { 400: 'INVALID_ARGUMENT', 401: 'THIRD_PARTY_AUTH_ERROR', 403: 'SENDER_ID_MISMATCH', 404: 'UNREGISTERED', 429: 'QUOTA_EXCEEDED', 500: 'INTERNAL', 503: 'UNAVAILABLE' };
const APNS_REASON: Record<number, string> = { 400: 'BadDeviceToken', 403: 'ExpiredProviderToken', 404: 'BadPath', 410: 'Unregistered', 413: 'PayloadTooLarge', 429: 'TooManyRequests', 500: 'InternalServerError', 503: 'ServiceUnavailable' };

/** The last 12 characters of a token, for lists. */
export const shortToken = (token: string) => (token.length > 16 ? `…${token.slice(-12)}` : token);

export class PushStandIns implements StandIn {
  private state: State;
  private failures: (InjectedFailure & { remaining: number })[] = [];
  /** Access tokens issued by the FCM token endpoint: token → expiry (ms) and project. */
  private readonly accessTokens = new Map<string, { expiresAt: number; projectId: string }>();
  /** The origin the HTTP/1 routes are reached at (the runtime's base URL): Web Push endpoints and the token endpoint's `aud` use it. */
  baseUrl = 'http://127.0.0.1';
  /** The APNs (h2c) origin, once its server listens. */
  apnsEndpoint = '';

  constructor(private readonly options: PushStandInOptions = {}) {
    if (options.file && existsSync(options.file)) {
      this.state = JSON.parse(readFileSync(options.file, 'utf8')) as State;
    } else {
      this.state = { keys: generatePushKeys(options), apns: {}, fcm: {}, webpush: {}, notifications: [] };
      this.save();
    }
  }

  get keys(): PushStandInKeys {
    return this.state.keys;
  }

  get fcmEndpoint() {
    return `${this.baseUrl}${LOCAL_PUSH_PREFIX}/fcm`;
  }

  get fcmTokenEndpoint() {
    return `${this.baseUrl}${LOCAL_PUSH_PREFIX}/fcm/token`;
  }

  /** PUSH_SETTINGS for these stand-ins, the secrets named by the given parameters. */
  settings(parameters: { apnsKey: string; fcmServiceAccount: string; vapidPrivateKey: string } = LOCAL_PUSH_PARAMETERS): PushSettings {
    const { apns, fcm, webpush: vapid } = this.state.keys;
    return {
      apns: { keyId: apns.keyId, teamId: apns.teamId, bundleIds: apns.bundleIds, keyParameter: parameters.apnsKey },
      fcm: { projectId: fcm.projectId, serviceAccountParameter: parameters.fcmServiceAccount },
      webpush: { publicKey: vapid.publicKey, subject: vapid.subject, privateKeyParameter: parameters.vapidPrivateKey },
    };
  }

  /** The secrets' values as an operator would put them into the parameters. */
  secretValues(): { apnsKey: string; fcmServiceAccount: string; vapidPrivateKey: string } {
    const { apns, fcm, webpush: vapid } = this.state.keys;
    return {
      apnsKey: apns.privateKey,
      fcmServiceAccount: JSON.stringify({ type: 'service_account', project_id: fcm.projectId, client_email: fcm.clientEmail, private_key: fcm.privateKey, token_uri: this.fcmTokenEndpoint }),
      vapidPrivateKey: vapid.privateKey,
    };
  }

  /** The credentials the notify function ends up with (settings plus secrets), for tests. */
  credentials(): PushCredentials {
    const settings = this.settings(LOCAL_PUSH_PARAMETERS);
    const { apns, fcm, webpush: vapid } = this.state.keys;
    return {
      apns: { ...settings.apns!, privateKey: apns.privateKey },
      fcm: { ...settings.fcm!, clientEmail: fcm.clientEmail, privateKey: fcm.privateKey },
      webpush: { ...settings.webpush!, privateKey: vapid.privateKey },
    };
  }

  private save() {
    if (!this.options.file) return;
    mkdirSync(dirname(this.options.file), { recursive: true });
    const tmp = `${this.options.file}.tmp`;
    // Private keys: readable by the owner only, as ssm.json.
    writeFileSync(tmp, JSON.stringify(this.state), { mode: 0o600 });
    renameSync(tmp, this.options.file);
  }

  // ---- Test hooks -------------------------------------------------------------------------

  /** A device token for the bundle id (default: the first configured), as an iPhone would get one. */
  mintApnsToken(options: { bundleId?: string; sandbox?: boolean } = {}): string {
    const token = randomBytes(32).toString('hex');
    this.state.apns[token] = { bundleId: options.bundleId ?? this.state.keys.apns.bundleIds[0], sandbox: options.sandbox ?? false };
    this.save();
    return token;
  }

  /** An FCM registration token for the project (default: the configured one). */
  mintFcmToken(options: { projectId?: string } = {}): string {
    const token = `${randomBytes(16).toString('base64url')}:APA91b${randomBytes(100).toString('base64url')}`;
    this.state.fcm[token] = { projectId: options.projectId ?? this.state.keys.fcm.projectId };
    this.save();
    return token;
  }

  /** A push subscription for the applicationServerKey (default: the configured VAPID public key), made as a browser makes one. */
  createWebPushSubscription(options: { applicationServerKey?: string } = {}): WebPushSubscription {
    const applicationServerKey = options.applicationServerKey ?? this.state.keys.webpush.publicKey;
    const key = Buffer.from(applicationServerKey, 'base64url');
    if (key.length !== 65 || key[0] !== 4) throw new Error('The applicationServerKey must be an uncompressed P-256 public key (65 bytes, base64url).');
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const id = randomBytes(24).toString('base64url');
    const device: WebPushDevice = { applicationServerKey, p256dh: ecdh.getPublicKey().toString('base64url'), privateKey: ecdh.getPrivateKey().toString('base64url'), auth: randomBytes(16).toString('base64url') };
    this.state.webpush[id] = device;
    this.save();
    return { endpoint: `${this.baseUrl}${LOCAL_PUSH_PREFIX}/webpush/send/${id}`, keys: { p256dh: device.p256dh, auth: device.auth } };
  }

  private webPushId(token: string): string | undefined {
    let endpoint = token;
    try {
      const parsed = JSON.parse(token) as { endpoint?: string };
      if (parsed && typeof parsed.endpoint === 'string') endpoint = parsed.endpoint;
    } catch {
      // An endpoint itself.
    }
    const match = /\/webpush\/send\/([A-Za-z0-9_-]+)$/.exec(endpoint);
    return match?.[1];
  }

  /** The app is uninstalled (APNs 410, FCM UNREGISTERED) or the subscription dropped (Web Push 410). False when the token is unknown. */
  uninstall(provider: PushProvider, token: string): boolean {
    const now = Date.now();
    const device = provider === 'apns' ? this.state.apns[token] : provider === 'fcm' ? this.state.fcm[token] : this.state.webpush[this.webPushId(token) ?? ''];
    if (!device) return false;
    if (provider === 'webpush') (device as WebPushDevice).unsubscribedAt = now;
    else (device as ApnsDevice | FcmDevice).uninstalledAt = now;
    this.save();
    return true;
  }

  /** The next `count` requests for the token (or any) answer `status` (with Retry-After when given) instead of being delivered. */
  injectFailure(failure: InjectedFailure): void {
    const token = failure.provider === 'webpush' && failure.token ? (this.webPushId(failure.token) ?? failure.token) : failure.token;
    this.failures.push({ ...failure, token, remaining: failure.count ?? 1 });
  }

  private takeFailure(provider: PushProvider, token: string): (InjectedFailure & { remaining: number }) | undefined {
    const found = this.failures.find((f) => f.provider === provider && (f.token === undefined || f.token === token));
    if (!found) return undefined;
    if (--found.remaining <= 0) this.failures.splice(this.failures.indexOf(found), 1);
    return found;
  }

  /** The notifications received, newest first. */
  notifications(filter: { provider?: PushProvider; token?: string; limit?: number } = {}): ReceivedNotification[] {
    const token = filter.provider === 'webpush' && filter.token ? this.webPushEndpointOf(filter.token) : filter.token;
    return this.state.notifications.filter((n) => (!filter.provider || n.provider === filter.provider) && (!token || n.token === token)).slice(0, filter.limit ?? MAX_KEPT_NOTIFICATIONS);
  }

  private webPushEndpointOf(token: string): string {
    const id = this.webPushId(token);
    return id ? `${this.baseUrl}${LOCAL_PUSH_PREFIX}/webpush/send/${id}` : token;
  }

  clearNotifications(): void {
    this.state.notifications = [];
    this.failures = [];
    this.save();
  }

  private record(n: Omit<ReceivedNotification, 'id' | 'receivedAt'>): string {
    const id = randomUUID();
    this.state.notifications.unshift({ id, receivedAt: new Date().toISOString(), ...n });
    this.state.notifications.length = Math.min(this.state.notifications.length, MAX_KEPT_NOTIFICATIONS);
    this.save();
    return id;
  }

  // ---- APNs ---------------------------------------------------------------------------------

  /** One APNs request (the h2c server's handler): `POST /3/device/<token>`. */
  async apns(method: string, path: string, headers: Record<string, string | undefined>, body: Buffer): Promise<StandInResponse> {
    const apnsId = headers['apns-id'] ?? randomUUID();
    const fail = (status: number, reason: string, extra: Record<string, unknown> = {}, more: Record<string, string> = {}) =>
      json(status, { reason, ...extra }, { 'apns-id': apnsId, ...more });
    if (method !== 'POST') return fail(405, 'MethodNotAllowed');
    const match = /^\/3\/device\/([^/?]+)$/.exec(path);
    if (!match) return fail(404, 'BadPath');
    const token = match[1];
    if (headers['apns-id'] !== undefined && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(headers['apns-id'])) return fail(400, 'BadMessageId');
    // The provider token: ES256 JWT, kid = the key id, iss = its team, iat within the hour.
    const auth = headers.authorization;
    if (!auth) return fail(403, 'MissingProviderToken');
    const jwt = /^bearer (.+)$/i.exec(auth)?.[1];
    if (!jwt) return fail(403, 'InvalidProviderToken');
    const team = this.state.keys.apns;
    let iat: number | undefined;
    try {
      const header = decodeProtectedHeader(jwt);
      const claims = decodeJwt(jwt);
      if (header.alg !== 'ES256' || header.kid !== team.keyId || claims.iss !== team.teamId) return fail(403, 'InvalidProviderToken');
      await compactVerify(jwt, await importSPKI(team.publicKey, 'ES256'));
      iat = claims.iat;
    } catch {
      return fail(403, 'InvalidProviderToken');
    }
    const now = Math.floor(Date.now() / 1000);
    if (typeof iat !== 'number' || iat > now + 60) return fail(403, 'InvalidProviderToken');
    if (now - iat > APNS_TOKEN_MAX_AGE_SECONDS) return fail(403, 'ExpiredProviderToken');
    const topic = headers['apns-topic'];
    if (!topic) return fail(400, 'MissingTopic');
    if (!team.bundleIds.includes(topic)) return fail(400, 'TopicDisallowed');
    const pushType = headers['apns-push-type'] ?? 'alert';
    if (!['alert', 'background', 'location', 'voip', 'complication', 'fileprovider', 'mdm', 'liveactivity', 'pushtotalk'].includes(pushType)) return fail(400, 'InvalidPushType');
    const priority = headers['apns-priority'] ?? '10';
    if (!['1', '5', '10'].includes(priority) || (pushType === 'background' && priority === '10')) return fail(400, 'BadPriority');
    if (headers['apns-expiration'] !== undefined && !/^\d+$/.test(headers['apns-expiration'])) return fail(400, 'BadExpirationDate');
    if (headers['apns-collapse-id'] !== undefined && Buffer.byteLength(headers['apns-collapse-id']) > 64) return fail(400, 'BadCollapseId');
    if (body.length === 0) return fail(400, 'PayloadEmpty');
    if (body.length > STANDIN_MAX_PAYLOAD_BYTES) return fail(413, 'PayloadTooLarge');
    const injected = this.takeFailure('apns', token);
    if (injected) {
      const retry = injected.retryAfterSeconds !== undefined ? { 'retry-after': String(injected.retryAfterSeconds) } : undefined;
      return fail(injected.status, injected.reason ?? APNS_REASON[injected.status] ?? 'InternalServerError', injected.status === 410 ? { timestamp: Date.now() } : {}, retry);
    }
    const device = this.state.apns[token];
    if (!device) return fail(400, 'BadDeviceToken');
    if (device.bundleId !== topic) return fail(400, 'DeviceTokenNotForTopic');
    if (device.uninstalledAt !== undefined) return fail(410, 'Unregistered', { timestamp: device.uninstalledAt });
    let payload: unknown = body.toString('utf8');
    try {
      payload = JSON.parse(payload as string);
    } catch {
      // Kept as text.
    }
    const aps = (payload as { aps?: { alert?: string | { title?: string; body?: string }; badge?: number; 'thread-id'?: string } })?.aps ?? {};
    const alert = typeof aps.alert === 'string' ? { body: aps.alert } : (aps.alert ?? {});
    const kept: Record<string, string> = {};
    for (const name of ['apns-topic', 'apns-push-type', 'apns-priority', 'apns-collapse-id', 'apns-expiration']) if (headers[name] !== undefined) kept[name] = headers[name]!;
    this.record({ provider: 'apns', token, title: alert.title, body: alert.body, badge: aps.badge, threadId: aps['thread-id'], headers: kept, payload });
    return empty(200, { 'apns-id': apnsId });
  }

  // ---- HTTP/1 routes: FCM, Web Push and the development endpoints ------------------------

  async handle(req: StandInRequest): Promise<StandInResponse | undefined> {
    if (!req.path.startsWith(`${LOCAL_PUSH_PREFIX}/`)) return undefined;
    const path = req.path.slice(LOCAL_PUSH_PREFIX.length);
    const body = req.bytes ?? Buffer.from(req.body);
    if (req.method === 'POST' && path === '/fcm/token') return this.fcmToken(req.body);
    const send = /^\/fcm\/v1\/projects\/([^/]+)\/messages:send$/.exec(path);
    if (send) {
      if (req.method !== 'POST') return googleError(405, 'INVALID_ARGUMENT', 'Method not allowed.');
      let project: string;
      try {
        project = decodeURIComponent(send[1]);
      } catch {
        return googleError(404, 'NOT_FOUND', 'Requested entity was not found.');
      }
      return this.fcmSend(project, req.headers, req.body);
    }
    const push = /^\/webpush\/send\/([A-Za-z0-9_-]+)$/.exec(path);
    if (push) return req.method === 'POST' ? this.webPush(push[1], req.headers, body) : empty(405);
    const input = (): Record<string, unknown> => {
      try {
        const parsed = req.body ? JSON.parse(req.body) : {};
        return typeof parsed === 'object' && parsed !== null ? parsed : {};
      } catch {
        return {};
      }
    };
    const query = new URLSearchParams((req.target ?? '').split('?')[1] ?? '');
    switch (`${req.method} ${path}`) {
      case 'GET /config':
        return json(200, { apnsEndpoint: this.apnsEndpoint, fcmEndpoint: this.fcmEndpoint, fcmTokenEndpoint: this.fcmTokenEndpoint, bundleIds: this.state.keys.apns.bundleIds, projectId: this.state.keys.fcm.projectId, vapidPublicKey: this.state.keys.webpush.publicKey });
      case 'POST /apns/tokens': {
        const { bundleId, sandbox } = input();
        if (bundleId !== undefined && typeof bundleId !== 'string') return devError('bundleId must be a string.');
        const token = this.mintApnsToken({ bundleId: bundleId as string | undefined, sandbox: sandbox === true });
        return json(201, { token, bundleId: this.state.apns[token].bundleId, sandbox: sandbox === true });
      }
      case 'POST /fcm/tokens': {
        const { projectId } = input();
        if (projectId !== undefined && typeof projectId !== 'string') return devError('projectId must be a string.');
        const token = this.mintFcmToken({ projectId: projectId as string | undefined });
        return json(201, { token, projectId: this.state.fcm[token].projectId });
      }
      case 'POST /webpush/subscriptions': {
        const { applicationServerKey } = input();
        if (applicationServerKey !== undefined && typeof applicationServerKey !== 'string') return devError('applicationServerKey must be a string.');
        try {
          return json(201, this.createWebPushSubscription({ applicationServerKey: applicationServerKey as string | undefined }));
        } catch (err) {
          return devError((err as Error).message);
        }
      }
      case 'POST /uninstall': {
        const { provider, token } = input();
        if (provider !== 'apns' && provider !== 'fcm' && provider !== 'webpush') return devError('provider must be apns, fcm or webpush.');
        if (typeof token !== 'string') return devError('token must be a string (a Web Push subscription as JSON or its endpoint).');
        return this.uninstall(provider, token) ? empty(204) : devError('No such token.', 404);
      }
      case 'POST /failures': {
        const { provider, token, status, reason, count, retryAfterSeconds } = input();
        if (provider !== 'apns' && provider !== 'fcm' && provider !== 'webpush') return devError('provider must be apns, fcm or webpush.');
        if (token !== undefined && typeof token !== 'string') return devError('token must be a string.');
        if (!Number.isInteger(status) || (status as number) < 400 || (status as number) > 599) return devError('status must be an HTTP error status (400-599).');
        if (reason !== undefined && typeof reason !== 'string') return devError('reason must be a string.');
        if (count !== undefined && (!Number.isInteger(count) || (count as number) < 1)) return devError('count must be a positive integer.');
        if (retryAfterSeconds !== undefined && (!Number.isInteger(retryAfterSeconds) || (retryAfterSeconds as number) < 0)) return devError('retryAfterSeconds must be a non-negative integer.');
        this.injectFailure({ provider, token: token as string | undefined, status: status as number, reason: reason as string | undefined, count: count as number | undefined, retryAfterSeconds: retryAfterSeconds as number | undefined });
        return empty(204);
      }
      case 'GET /notifications': {
        const provider = query.get('provider') ?? undefined;
        if (provider !== undefined && provider !== 'apns' && provider !== 'fcm' && provider !== 'webpush') return devError('provider must be apns, fcm or webpush.');
        const limit = query.has('limit') ? Number(query.get('limit')) : undefined;
        if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) return devError('limit must be a positive integer.');
        return json(200, { notifications: this.notifications({ provider, token: query.get('token') ?? undefined, limit }) });
      }
      case 'DELETE /notifications':
        this.clearNotifications();
        return empty(204);
    }
    return devError(`Nothing at ${req.method} ${req.path}`, 404);
  }

  // ---- FCM ----------------------------------------------------------------------------------

  /** Google's token endpoint, JWT-bearer grant only: the assertion verified with the service account's public key. */
  private async fcmToken(text: string): Promise<StandInResponse> {
    const form = new URLSearchParams(text);
    const grant = form.get('grant_type');
    if (grant !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return json(400, { error: 'unsupported_grant_type', error_description: `Invalid grant_type: ${grant ?? ''}` });
    const assertion = form.get('assertion');
    if (!assertion) return json(400, { error: 'invalid_request', error_description: 'Missing required parameter: assertion' });
    const account = this.state.keys.fcm;
    let claims: Record<string, unknown>;
    try {
      claims = decodeJwt(assertion);
    } catch {
      return json(400, { error: 'invalid_grant', error_description: 'Invalid JWT: Malformed.' });
    }
    if (claims.iss !== account.clientEmail) return json(400, { error: 'invalid_grant', error_description: 'Invalid grant: account not found' });
    try {
      await compactVerify(assertion, createPublicKey(account.publicKey), { algorithms: ['RS256'] });
    } catch {
      return json(400, { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' });
    }
    const now = Math.floor(Date.now() / 1000);
    const { iat, exp, aud, scope } = claims as { iat?: number; exp?: number; aud?: string; scope?: string };
    if (typeof iat !== 'number' || typeof exp !== 'number' || exp - iat > 3600 || exp <= now || iat > now + 60) {
      return json(400, { error: 'invalid_grant', error_description: 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.' });
    }
    if (aud !== this.fcmTokenEndpoint) return json(400, { error: 'invalid_grant', error_description: 'Invalid JWT: Failed audience check.' });
    if (typeof scope !== 'string' || !scope.split(' ').includes(FCM_SCOPE)) return json(400, { error: 'invalid_scope', error_description: 'Invalid OAuth scope or ID token audience provided.' });
    const accessToken = `ya29.local-${randomBytes(32).toString('base64url')}`;
    const expiresIn = Math.min(3599, exp - now);
    this.accessTokens.set(accessToken, { expiresAt: Date.now() + expiresIn * 1000, projectId: account.projectId });
    return json(200, { access_token: accessToken, expires_in: expiresIn, token_type: 'Bearer' });
  }

  /** `POST /v1/projects/<project>/messages:send`. */
  private fcmSend(project: string, headers: Readonly<Record<string, string | undefined>>, text: string): StandInResponse {
    const bearer = /^Bearer (.+)$/.exec(headers.authorization ?? '')?.[1];
    const access = bearer ? this.accessTokens.get(bearer) : undefined;
    if (!access || access.expiresAt <= Date.now()) {
      return googleError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.');
    }
    if (access.projectId !== project) {
      return googleError(403, 'PERMISSION_DENIED', `Permission 'cloudmessaging.messages.create' denied on resource '//cloudresourcemanager.googleapis.com/projects/${project}' (or it may not exist).`);
    }
    let request: { message?: Record<string, unknown>; validate_only?: boolean };
    try {
      request = JSON.parse(text);
    } catch {
      return googleError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
    }
    const invalid = (message: string) => googleError(400, 'INVALID_ARGUMENT', message, 'INVALID_ARGUMENT');
    const message = request?.message;
    if (typeof message !== 'object' || message === null) return invalid('Request contains an invalid argument.');
    for (const key of Object.keys(message)) {
      if (!['name', 'data', 'notification', 'android', 'webpush', 'apns', 'fcm_options', 'token', 'topic', 'condition'].includes(key)) return invalid(`Invalid JSON payload received. Unknown name "${key}" at 'message': Cannot find field.`);
    }
    const targets = ['token', 'topic', 'condition'].filter((k) => message[k] !== undefined);
    if (targets.length !== 1) return invalid('Exactly one of token, topic or condition must be set.');
    if (message.data !== undefined) {
      if (typeof message.data !== 'object' || message.data === null) return invalid("Invalid value at 'message.data'.");
      let i = 0;
      for (const [key, value] of Object.entries(message.data)) {
        if (typeof value !== 'string') return invalid(`Invalid value at 'message.data[${i}].value' (TYPE_STRING), ${JSON.stringify(value)}`);
        if (['from', 'notification', 'message_type'].includes(key) || key.startsWith('google.') || key.startsWith('gcm.')) return invalid(`Invalid data payload key: ${key}`);
        i++;
      }
    }
    const android = message.android as Record<string, unknown> | undefined;
    if (android !== undefined) {
      if (android.priority !== undefined && !['NORMAL', 'HIGH'].includes(android.priority as string)) return invalid(`Invalid value at 'message.android.priority' (type.googleapis.com/google.firebase.fcm.v1.AndroidMessagePriority), ${JSON.stringify(android.priority)}`);
      if (android.ttl !== undefined && !(typeof android.ttl === 'string' && /^\d+(\.\d{1,9})?s$/.test(android.ttl))) return invalid(`Invalid value at 'message.android.ttl' (type.googleapis.com/google.protobuf.Duration), ${JSON.stringify(android.ttl)}`);
      if (typeof android.ttl === 'string' && parseFloat(android.ttl) > 28 * 86400) return invalid('TTL must not exceed 4 weeks.');
    }
    if (message.token === undefined || typeof message.token !== 'string') return invalid('Only token targets are supported locally.');
    const token = message.token;
    const { token: _t, ...withoutToken } = message;
    if (Buffer.byteLength(JSON.stringify(withoutToken)) > STANDIN_MAX_PAYLOAD_BYTES) return invalid('Android message is too big');
    const injected = this.takeFailure('fcm', token);
    if (injected) {
      const retry = injected.retryAfterSeconds !== undefined ? { 'retry-after': String(injected.retryAfterSeconds) } : undefined;
      return googleError(injected.status, GOOGLE_STATUS[injected.status] ?? 'UNKNOWN', `Injected failure (${injected.status}).`, injected.reason ?? FCM_ERROR_CODE[injected.status], retry);
    }
    const device = this.state.fcm[token];
    if (!device) return invalid('The registration token is not a valid FCM registration token');
    if (device.projectId !== project) return googleError(403, 'PERMISSION_DENIED', 'SenderId mismatch', 'SENDER_ID_MISMATCH');
    if (device.uninstalledAt !== undefined) return googleError(404, 'NOT_FOUND', 'Requested entity was not found.', 'UNREGISTERED');
    if (request.validate_only === true) return json(200, { name: `projects/${project}/messages/fake_message_id` });
    const notification = (message.notification ?? {}) as { title?: string; body?: string };
    const androidNotification = (android?.notification ?? {}) as { tag?: string; notification_count?: number };
    const data = (message.data ?? {}) as Record<string, string>;
    const badge = androidNotification.notification_count ?? (data.badge !== undefined ? Number(data.badge) : undefined);
    const kept: Record<string, string> = {};
    if (android?.priority) kept.priority = String(android.priority);
    if (android?.ttl) kept.ttl = String(android.ttl);
    if (android?.collapse_key) kept.collapse_key = String(android.collapse_key);
    const id = this.record({ provider: 'fcm', token, title: notification.title, body: notification.body, badge, threadId: androidNotification.tag, headers: kept, payload: withoutToken });
    return json(200, { name: `projects/${project}/messages/0:${Date.now()}%${id.replace(/-/g, '').slice(0, 16)}` });
  }

  // ---- Web Push -----------------------------------------------------------------------------

  /** A push message to a subscription: VAPID verified, aes128gcm decrypted with the subscription's private key. */
  private async webPush(id: string, headers: Readonly<Record<string, string | undefined>>, body: Buffer): Promise<StandInResponse> {
    const text = (status: number, message: string, extra: Record<string, string> = {}) => ({ status, headers: { 'content-type': 'text/plain; charset=utf-8', ...extra }, body: message });
    const device = this.state.webpush[id];
    if (!device) return text(404, 'Subscription not found');
    if (device.unsubscribedAt !== undefined) return text(410, 'push subscription has unsubscribed or expired.');
    // VAPID (RFC 8292): Authorization: vapid t=<JWT>, k=<public key>.
    const auth = /^vapid\s+t=([^,\s]+)\s*,\s*k=([A-Za-z0-9_-]+)\s*$/i.exec(headers.authorization ?? '');
    if (!auth) return text(401, 'Missing or malformed VAPID authorization (expected "vapid t=<JWT>, k=<public key>").');
    const [, jwt, k] = auth;
    const key = Buffer.from(k, 'base64url');
    if (key.length !== 65 || key[0] !== 4) return text(401, 'The VAPID public key (k) is not an uncompressed P-256 point.');
    const origin = new URL(this.baseUrl).origin;
    let claims: { aud?: unknown; exp?: number; sub?: unknown };
    try {
      const publicKey = await importJWK({ kty: 'EC', crv: 'P-256', x: key.subarray(1, 33).toString('base64url'), y: key.subarray(33).toString('base64url') }, 'ES256');
      claims = (await jwtVerify(jwt, publicKey, { algorithms: ['ES256'] })).payload as typeof claims;
    } catch (err) {
      return text(401, `The VAPID JWT does not verify: ${(err as Error).message}`);
    }
    if (claims.aud !== origin) return text(401, `The VAPID JWT's aud must be the push service's origin (${origin}).`);
    if (typeof claims.exp !== 'number' || claims.exp > Math.floor(Date.now() / 1000) + VAPID_MAX_EXPIRY_SECONDS) return text(401, "The VAPID JWT's exp must be at most 24 hours ahead.");
    if (typeof claims.sub !== 'string' || !/^(mailto:|https:)/.test(claims.sub)) return text(401, "The VAPID JWT's sub must be a mailto: or https: URL.");
    if (k !== device.applicationServerKey.replace(/=+$/, '')) return text(403, "The VAPID public key does not match the subscription's applicationServerKey.");
    const ttl = headers.ttl;
    if (ttl === undefined || !/^\d+$/.test(ttl)) return text(400, 'The TTL header is required (seconds).');
    const urgency = headers.urgency ?? 'normal';
    if (!['very-low', 'low', 'normal', 'high'].includes(urgency)) return text(400, 'Urgency must be very-low, low, normal or high.');
    const topic = headers.topic;
    if (topic !== undefined && !/^[A-Za-z0-9_-]{1,32}$/.test(topic)) return text(400, 'The Topic header must be at most 32 base64url characters.');
    if (body.length > STANDIN_MAX_PAYLOAD_BYTES) return text(413, 'Payload Too Large');
    if (body.length > 0 && headers['content-encoding'] !== 'aes128gcm') return text(415, 'Content-Encoding must be aes128gcm.');
    const injected = this.takeFailure('webpush', id);
    if (injected) return text(injected.status, injected.reason ?? `Injected failure (${injected.status}).`, injected.retryAfterSeconds !== undefined ? { 'retry-after': String(injected.retryAfterSeconds) } : {});
    let payload: unknown = null;
    if (body.length > 0) {
      try {
        const ecdh = createECDH('prime256v1');
        ecdh.setPrivateKey(Buffer.from(device.privateKey, 'base64url'));
        const plain = ece.decrypt(body, { version: 'aes128gcm', privateKey: ecdh, authSecret: device.auth }).toString('utf8');
        try {
          payload = JSON.parse(plain);
        } catch {
          payload = plain;
        }
      } catch (err) {
        return text(400, `The payload does not decrypt: ${(err as Error).message}`);
      }
    }
    const p = (typeof payload === 'object' && payload !== null ? payload : {}) as { title?: string; body?: string; badge?: number; tag?: string };
    const kept: Record<string, string> = { ttl, urgency };
    if (topic) kept.topic = topic;
    const endpoint = `${this.baseUrl}${LOCAL_PUSH_PREFIX}/webpush/send/${id}`;
    const received = this.record({ provider: 'webpush', token: endpoint, title: p.title, body: p.body, badge: p.badge, threadId: p.tag, headers: kept, payload });
    return empty(201, { location: `${this.baseUrl}${LOCAL_PUSH_PREFIX}/webpush/messages/${received}` });
  }

  async close(): Promise<void> {
    this.save();
  }
}
