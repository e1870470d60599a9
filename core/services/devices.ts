/**
 * Offline push devices and preferences: registering and unregistering a device (over HTTP
 * and WebSocket, with the same checks), listing them with their tokens masked, the user's
 * push preferences (quiet hours, hidden previews) and the deployment's push configuration.
 * Removing the devices of a session that ends is in ./device-removal.ts.
 */
import { config } from '../config';
import { CirrusError } from '../errors';
import { log } from '../log';
import { pushSettings } from '../offline-push/credentials';
import { configuredProviders } from '../offline-push/settings';
import { APNS_TOKEN, FCM_TOKEN, MAX_TOKEN_BYTES, validateWebPushSubscription, webPushToken } from '../offline-push/subscription';
import type { Device, PushProvider } from '../offline-push/types';
import { devices } from '../store/devices';
import { users, type PushPrefs, type QuietHours } from '../store/users';

/** What a registration names (HTTP body or WebSocket frame, already shaped by the schema). */
export interface DeviceRegistration {
  deviceId: string;
  provider: PushProvider;
  /** APNs and FCM: the token string; Web Push: the subscription object (or its JSON text). */
  token: unknown;
  platformId: number;
  appId: string;
  locale?: string;
  sandbox?: boolean;
}

/** A device as listed: never its full token. */
export interface DeviceView {
  deviceId: string;
  provider: PushProvider;
  platformId: number;
  appId: string;
  locale?: string;
  sandbox?: boolean;
  tokenHint: string;
  /** Registered with a user token of this session (absent: with an admin token). */
  sessionId?: string;
  createdAt: number;
  updatedAt: number;
}

/**
 * The token shortened so that a listing never hands out a usable one (to anyone, admins
 * included): the first and last 6 characters of an APNs or FCM token, the origin of a Web
 * Push subscription's endpoint. Enough to tell devices apart and to compare with what an
 * app has; the app already holds its own token, and only the provider calls need the rest.
 */
export function tokenHint(provider: PushProvider, token: string): string {
  if (provider === 'webpush') {
    try {
      return `${new URL((JSON.parse(token) as { endpoint: string }).endpoint).origin}/…`;
    } catch {
      return '…';
    }
  }
  return token.length <= 16 ? '…' : `${token.slice(0, 6)}…${token.slice(-6)}`;
}

export const deviceView = (d: Device): DeviceView => ({
  deviceId: d.deviceId,
  provider: d.provider,
  platformId: d.platformId,
  appId: d.appId,
  ...(d.locale !== undefined ? { locale: d.locale } : {}),
  ...(d.sandbox !== undefined ? { sandbox: d.sandbox } : {}),
  tokenHint: tokenHint(d.provider, d.token),
  ...(d.sessionId ? { sessionId: d.sessionId } : {}),
  createdAt: d.createdAt,
  updatedAt: d.updatedAt,
});

const invalid = (message: string) => new CirrusError('INVALID_ARGUMENT', message);

/** Checks a registration against the deployment's providers; returns the token as stored. */
export function checkRegistration(reg: DeviceRegistration): string {
  const settings = pushSettings() ?? {};
  if (!settings[reg.provider]) {
    const on = configuredProviders(settings);
    throw new CirrusError('PUSH_PROVIDER_DISABLED', `Offline push through ${reg.provider} is not enabled in this deployment (enabled: ${on.length ? on.join(', ') : 'none'})`);
  }
  if (reg.sandbox !== undefined && reg.provider !== 'apns') throw invalid('sandbox: only APNs devices have a sandbox environment');
  let token: string;
  switch (reg.provider) {
    case 'apns': {
      if (typeof reg.token !== 'string' || !APNS_TOKEN.test(reg.token)) throw invalid('token: an APNs device token is 64 to 200 hexadecimal characters');
      const bundleIds = settings.apns!.bundleIds ?? [];
      if (!bundleIds.includes(reg.appId)) throw invalid(`appId: ${reg.appId} is not a bundle id this deployment sends to (${bundleIds.join(', ') || 'none'})`);
      token = reg.token.toLowerCase();
      break;
    }
    case 'fcm':
      if (typeof reg.token !== 'string' || !FCM_TOKEN.test(reg.token)) throw invalid('token: an FCM registration token is 32 to 1024 letters, digits, "-", "_" or ":"');
      token = reg.token;
      break;
    case 'webpush': {
      // The subscription (PushSubscription.toJSON()), as an object or its JSON text; the sender checks it again with the same function.
      const checked = validateWebPushSubscription(reg.token);
      if (typeof checked === 'string') throw invalid(`token: ${checked}`);
      token = webPushToken(checked);
      break;
    }
  }
  if (Buffer.byteLength(token) > MAX_TOKEN_BYTES) throw invalid(`token: at most ${MAX_TOKEN_BYTES} bytes`);
  return token;
}

/**
 * Registers (or refreshes) a device of `userId`. The token leaves whoever held it before
 * (another user, or another device id of the same user); beyond the deployment's cap
 * (`pushMaxDevices`) the user's least recently updated devices are removed. `sessionId`: the
 * caller's session, whose end removes the device (absent for admin tokens).
 */
export async function registerDevice(userId: string, reg: DeviceRegistration, sessionId?: string): Promise<{ device: DeviceView; evicted: string[] }> {
  const token = checkRegistration(reg);
  const result = await devices.put(
    {
      userId,
      deviceId: reg.deviceId,
      provider: reg.provider,
      token,
      platformId: reg.platformId,
      appId: reg.appId,
      ...(reg.locale !== undefined ? { locale: reg.locale } : {}),
      ...(reg.sandbox !== undefined ? { sandbox: reg.sandbox } : {}),
      ...(sessionId ? { sessionId } : {}),
    },
    config.pushMaxDevices(),
  );
  if (!result) throw new CirrusError('USER_NOT_FOUND', `User ${userId} is not registered`);
  if (result.moved.length > 0 || result.evicted.length > 0) {
    log.info('device registered', { userId, deviceId: reg.deviceId, provider: reg.provider, moved: result.moved.length, evicted: result.evicted.map((d) => d.deviceId) });
  }
  return { device: deviceView(result.device), evicted: result.evicted.map((d) => d.deviceId) };
}

export async function unregisterDevice(userId: string, deviceId: string): Promise<{ removed: boolean }> {
  const removed = await devices.remove(userId, [deviceId]);
  return { removed: removed.length > 0 };
}

export async function listDevices(userId: string): Promise<{ devices: DeviceView[]; maxDevices: number }> {
  const list = await devices.ofUser(userId);
  return { devices: list.sort((a, b) => a.createdAt - b.createdAt || a.deviceId.localeCompare(b.deviceId)).map(deviceView), maxDevices: config.pushMaxDevices() };
}

/** A user's push settings as the API shows them. */
export interface PushSettingsView {
  quietHours: QuietHours | null;
  hidePreview: boolean;
}

/** The settings from a user item's `pushPrefs` (for the notify function, which reads the user item anyway). */
export const pushSettingsOf = (prefs: PushPrefs | undefined): PushSettingsView => ({ quietHours: prefs?.quietHours ?? null, hidePreview: prefs?.hidePreview === true });

export async function getPushSettings(userId: string): Promise<PushSettingsView> {
  const prefs = await users.getPushPrefs(userId);
  if (!prefs) throw new CirrusError('USER_NOT_FOUND', `User ${userId} is not registered`);
  return pushSettingsOf(prefs);
}

/** Changes what is given: `quietHours: null` turns quiet hours off, an absent field stays as it was. */
export async function setPushSettings(userId: string, changes: { quietHours?: QuietHours | null; hidePreview?: boolean }): Promise<PushSettingsView> {
  const current = await users.getPushPrefs(userId);
  if (!current) throw new CirrusError('USER_NOT_FOUND', `User ${userId} is not registered`);
  const quietHours = changes.quietHours === undefined ? current.quietHours : (changes.quietHours ?? undefined);
  const hidePreview = changes.hidePreview ?? current.hidePreview ?? false;
  const next: PushPrefs = { ...(quietHours ? { quietHours: { start: quietHours.start, end: quietHours.end, timeZone: quietHours.timeZone } } : {}), ...(hidePreview ? { hidePreview: true } : {}) };
  const saved = await users.setPushPrefs(userId, next);
  if (!saved) throw new CirrusError('USER_NOT_FOUND', `User ${userId} is not registered`);
  return pushSettingsOf(saved);
}

/** What clients need to register: the providers that are on, the VAPID key, the APNs bundle ids. */
export function pushConfig(): {
  providers: PushProvider[];
  apns?: { bundleIds: string[] };
  fcm?: { projectId: string };
  webpush?: { publicKey: string };
  maxDevices: number;
} {
  const s = pushSettings() ?? {};
  return {
    providers: configuredProviders(s),
    ...(s.apns ? { apns: { bundleIds: [...(s.apns.bundleIds ?? [])] } } : {}),
    ...(s.fcm ? { fcm: { projectId: s.fcm.projectId } } : {}),
    ...(s.webpush ? { webpush: { publicKey: s.webpush.publicKey } } : {}),
    maxDevices: config.pushMaxDevices(),
  };
}
