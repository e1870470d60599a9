/**
 * "Notify me when this tab is closed": Web Push for the demo. Asks for permission, registers
 * the service worker (`/sw.js`), reads the deployment's VAPID public key (`GET /push/config`),
 * subscribes with the browser's push service and registers the subscription as a `webpush`
 * device of the user. Against the local runtime a browser often cannot reach a push service
 * (offline, or headless): the subscription is then made by the local Web Push stand-in
 * (`POST /local/push/webpush/subscriptions`), whose received notifications are listed at
 * `/local/push/notifications`.
 */
import type { UserApi } from '@cirrus-im/sdk';

export interface WebPushSetup {
  /** The signed-in user's HTTP API (`client.api`). */
  api: UserApi;
  userId: string;
  /** The local runtime (no deployed site config): the stand-in may stand in for the push service. */
  local: boolean;
}

export interface WebPushEnabled {
  deviceId: string;
  /** `browser`: the browser's own push service; `stand-in`: the local runtime's Web Push stand-in. */
  via: 'browser' | 'stand-in';
  endpoint: string;
}

const DEVICE_KEY = 'cirrus-demo.pushDeviceId';
/** The user this browser is registered for, and how (`browser` or `stand-in`). */
const REGISTERED_KEY = 'cirrus-demo.pushRegistered';

/** How this browser gets the user's notifications, if it was registered for them. */
export function webPushState(userId: string): WebPushEnabled['via'] | undefined {
  try {
    const saved = JSON.parse(localStorage.getItem(REGISTERED_KEY) ?? 'null') as { userId?: string; via?: WebPushEnabled['via'] } | null;
    return saved?.userId === userId ? saved.via : undefined;
  } catch {
    return undefined;
  }
}

/** This browser's device id: random, kept in localStorage. */
function deviceId(): string {
  let id = localStorage.getItem(DEVICE_KEY);
  if (!id) localStorage.setItem(DEVICE_KEY, (id = `web-${crypto.randomUUID()}`));
  return id;
}

/** base64url → the bytes PushManager.subscribe wants as applicationServerKey. */
function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const base64 = base64url.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (base64url.length % 4)) % 4);
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

function sameKey(subscription: PushSubscription, publicKey: string): boolean {
  const key = subscription.options.applicationServerKey;
  if (!key) return false;
  const bytes = new Uint8Array(key);
  const wanted = keyBytes(publicKey);
  return bytes.length === wanted.length && bytes.every((b, i) => b === wanted[i]);
}

/** Turns on notifications for a closed tab; rejects with a sentence the page shows. */
export async function enableWebPush(setup: WebPushSetup): Promise<WebPushEnabled> {
  if (!('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window)) throw new Error('This browser cannot show notifications for a closed tab (no Web Push).');
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') throw new Error('Notifications are blocked for this site: allow them in the browser\'s site settings.');
  await navigator.serviceWorker.register('/sw.js');
  const registration = await navigator.serviceWorker.ready;
  const config = await setup.api.getPushConfig();
  if (!config.webpush) throw new Error('Web Push is off in this deployment (it has no VAPID key).');
  const publicKey = config.webpush.publicKey;

  let subscription: { endpoint: string; keys: { p256dh: string; auth: string } };
  let via: WebPushEnabled['via'] = 'browser';
  try {
    let current = await registration.pushManager.getSubscription();
    if (current && !sameKey(current, publicKey)) {
      await current.unsubscribe();
      current = null;
    }
    current ??= await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(publicKey) });
    const json = current.toJSON();
    subscription = { endpoint: json.endpoint!, keys: { p256dh: json.keys!.p256dh!, auth: json.keys!.auth! } };
  } catch (err) {
    if (!setup.local) throw new Error(`The browser's push service refused the subscription: ${(err as Error).message}`);
    const res = await fetch('/local/push/webpush/subscriptions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ applicationServerKey: publicKey }) });
    if (!res.ok) throw new Error(`The browser cannot reach a push service and the local Web Push stand-in answered ${res.status}.`);
    subscription = (await res.json()) as typeof subscription;
    via = 'stand-in';
  }

  const id = deviceId();
  await setup.api.registerPushDevice({
    params: { deviceId: id },
    body: { provider: 'webpush', token: subscription, platformId: 5, appId: location.origin, locale: navigator.language },
  });
  localStorage.setItem(REGISTERED_KEY, JSON.stringify({ userId: setup.userId, via }));
  return { deviceId: id, via, endpoint: subscription.endpoint };
}

/** On sign-out: this browser stops getting the user's notifications (best effort; the server also drops devices on logout). */
export async function disableWebPush(setup: Omit<WebPushSetup, 'local'>): Promise<void> {
  if (!webPushState(setup.userId)) return;
  localStorage.removeItem(REGISTERED_KEY);
  const id = localStorage.getItem(DEVICE_KEY);
  if (id) await setup.api.unregisterPushDevice({ params: { deviceId: id } }).catch(() => undefined);
}
