/**
 * Web Push in the web chat demo, in Chromium against a local Cirrus serving a fresh build of
 * `web/`: the service worker (`web/public/sw.js`) shows a push of the shape Cirrus sends as a
 * notification (title, body, tag = the conversation, badge and tap data), a newer one of the
 * same conversation replaces it, and a tap opens the conversation in the demo.
 *
 * Headless Chromium reaches no push service, so pushes are delivered into the service worker
 * with the DevTools protocol (`ServiceWorker.deliverPushMessage`, a real `push` event), and no
 * system notification can be clicked: the tap is a `notificationclick` event dispatched in the
 * worker with the notification `getNotifications()` returned. A window may only be opened by a
 * real click, so with the tab closed the test records the URL the worker opens and loads it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, CDPSession, Page, Worker } from 'playwright-core';
import { chromiumPath, launchChromium } from '../support/browser';
import { buildWeb } from '../../web/build';
import { Admin, Device, startCirrus } from '../support/cirrus';
import type { LocalCirrus } from '../../local/runtime';

let cirrus: LocalCirrus;
let admin: Admin;
let browser: Browser;
let outDir: string;
const closing: { close(): Promise<unknown> }[] = [];

beforeAll(async () => {
  chromiumPath();
  outDir = mkdtempSync(join(tmpdir(), 'cirrus-web-push-'));
  await buildWeb({ outDir, logLevel: 'silent' });
  [cirrus, browser] = await Promise.all([startCirrus({ webDist: outDir }), launchChromium()]);
  admin = new Admin(cirrus.apiUrl, cirrus.adminSecret);
});

afterAll(async () => {
  for (const c of closing.reverse()) await c.close().catch(() => undefined);
  await browser?.close();
  await cirrus?.stop();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

/** A browser profile with notifications allowed for the demo, signed in as `userId`. */
async function signedIn(userId: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  closing.push(context);
  await context.grantPermissions(['notifications'], { origin: cirrus.url });
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error(`[${userId}] page error: ${err.message}`));
  await page.goto(cirrus.url + '/');
  await page.getByLabel('User id').fill(userId);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('.state[data-state="connected"]').waitFor({ timeout: 15_000 });
  return { context, page };
}

/** Registers the demo's service worker and returns it with a DevTools session able to push into it. */
async function serviceWorker(context: BrowserContext, page: Page): Promise<{ worker: Worker; push(payload: unknown): Promise<void>; cdp: CDPSession }> {
  const cdp = await context.newCDPSession(page);
  const registrations: { registrationId: string; scopeURL: string; isDeleted: boolean }[] = [];
  cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => registrations.push(...(e.registrations as typeof registrations)));
  await cdp.send('ServiceWorker.enable');
  const workerReady = context.serviceWorkers()[0] ? Promise.resolve(context.serviceWorkers()[0]) : context.waitForEvent('serviceworker');
  const scope = await page.evaluate(async () => {
    await navigator.serviceWorker.register('/sw.js');
    return (await navigator.serviceWorker.ready).scope;
  });
  const worker = await workerReady;
  await expect.poll(() => registrations.some((r) => r.scopeURL === scope && !r.isDeleted)).toBe(true);
  const { registrationId } = registrations.find((r) => r.scopeURL === scope && !r.isDeleted)!;
  return {
    worker,
    cdp,
    push: async (payload) => {
      await cdp.send('ServiceWorker.deliverPushMessage', { origin: cirrus.url, registrationId, data: JSON.stringify(payload) });
    },
  };
}

/** The parts of a service worker's global scope the test uses (the test's types have no DOM). */
interface WorkerScope {
  registration: { getNotifications(filter?: { tag: string }): Promise<{ title: string; body: string; tag: string; silent: boolean | null; data: Record<string, unknown> }[]> };
  clients: object;
  NotificationEvent: new (type: string, init: { notification: unknown }) => unknown;
  dispatchEvent(event: unknown): boolean;
  opened?: string[];
}

interface Shown {
  title: string;
  body: string;
  tag: string;
  silent: boolean | null;
  data: Record<string, unknown>;
}

/** The notifications the service worker's registration shows. */
function shown(worker: Worker): Promise<Shown[]> {
  return worker.evaluate(async () => {
    const sw = self as unknown as WorkerScope;
    return (await sw.registration.getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag, silent: n.silent, data: n.data }));
  });
}

/** Taps the shown notification of a conversation (a notificationclick event in the worker). */
function tap(worker: Worker, tag: string): Promise<void> {
  return worker.evaluate(async (tag) => {
    const sw = self as unknown as WorkerScope;
    const [notification] = await sw.registration.getNotifications({ tag });
    if (!notification) throw new Error(`no notification tagged ${tag}`);
    sw.dispatchEvent(new sw.NotificationEvent('notificationclick', { notification }));
  }, tag);
}

/** A notification of a text message as Cirrus's Web Push client sends it (core/offline-push/webpush.ts). */
const cirrusPush = (text: string, seq: number, badge: number) => ({
  title: 'wp-alice',
  body: text,
  tag: 'si_wp-alice_wp-bob',
  badge,
  sound: 'default',
  silent: false,
  data: { conversationId: 'si_wp-alice_wp-bob', seq: String(seq), serverMsgId: `m-${seq}`, senderId: 'wp-alice' },
});

describe('Web Push in the web demo', () => {
  it('shows a push as a notification per conversation, replaces it with the next, and a tap opens the conversation in the open tab', async () => {
    await admin.register('wp-alice', 'wp-bob');
    const alice = await Device.connect(cirrus.wsUrl, await admin.userToken('wp-alice'));
    closing.push(alice);
    await alice.ok('sendMsg', { recvId: 'wp-bob', clientMsgId: 'wp-1', contentType: 101, content: { text: 'Are you coming tonight?' } });
    const { context, page } = await signedIn('wp-bob');
    const sw = await serviceWorker(context, page);

    await sw.push(cirrusPush('Are you coming?', 1, 1));
    await expect.poll(() => shown(sw.worker)).toHaveLength(1);
    await sw.push(cirrusPush('Are you coming tonight?', 1, 2));
    await expect.poll(async () => (await shown(sw.worker)).map((n) => n.body)).toEqual(['Are you coming tonight?']);
    await sw.push({ title: 'wp-carol', body: 'hello', tag: 'si_wp-bob_wp-carol', badge: 3, silent: true, data: { conversationId: 'si_wp-bob_wp-carol', seq: '4' } });
    await expect.poll(async () => (await shown(sw.worker)).map((n) => n.tag).sort()).toEqual(['si_wp-alice_wp-bob', 'si_wp-bob_wp-carol']);

    const [fromAlice, fromCarol] = (await shown(sw.worker)).sort((a, b) => a.tag.localeCompare(b.tag));
    expect(fromAlice).toMatchObject({ title: 'wp-alice', body: 'Are you coming tonight?', tag: 'si_wp-alice_wp-bob', silent: false, data: { conversationId: 'si_wp-alice_wp-bob', seq: '1', badge: 2 } });
    expect(fromCarol).toMatchObject({ title: 'wp-carol', tag: 'si_wp-bob_wp-carol', silent: true, data: { badge: 3 } });

    await tap(sw.worker, 'si_wp-alice_wp-bob');

    await expect.poll(() => page.locator('.chat-header .peer').textContent(), { timeout: 10_000 }).toBe('wp-alice');
    await page.locator('.message.theirs', { hasText: 'Are you coming tonight?' }).waitFor({ timeout: 10_000 });
    expect((await shown(sw.worker)).map((n) => n.tag)).toEqual(['si_wp-bob_wp-carol']);
  });

  it('with the tab closed, a tap opens the demo at the conversation', async () => {
    await admin.register('wp-dan', 'wp-erin');
    const dan = await Device.connect(cirrus.wsUrl, await admin.userToken('wp-dan'));
    closing.push(dan);
    await dan.ok('sendMsg', { recvId: 'wp-erin', clientMsgId: 'wp-2', contentType: 101, content: { text: 'Ping from dan' } });
    const { context, page } = await signedIn('wp-erin');
    const sw = await serviceWorker(context, page);
    await sw.push({ title: 'wp-dan', body: 'Ping from dan', tag: 'si_wp-dan_wp-erin', badge: 1, silent: false, data: { conversationId: 'si_wp-dan_wp-erin', seq: '1' } });
    await expect.poll(() => shown(sw.worker)).toHaveLength(1);
    // The worker outlives the tab; only a real click may open a window, so the URL it opens is recorded.
    const keepAlive = await context.newPage();
    await page.close();
    await sw.worker.evaluate(() => {
      const sw = self as unknown as WorkerScope;
      sw.opened = [];
      Object.defineProperty(sw.clients, 'openWindow', { value: async (url: string) => (sw.opened!.push(url), null) });
    });

    await tap(sw.worker, 'si_wp-dan_wp-erin');
    const opened = await expect
      .poll(() => sw.worker.evaluate(() => (self as unknown as { opened: string[] }).opened))
      .toHaveLength(1)
      .then(() => sw.worker.evaluate(() => (self as unknown as { opened: string[] }).opened[0]));

    expect(opened).toBe(`${cirrus.url}/?conversation=si_wp-dan_wp-erin&seq=1`);
    await keepAlive.goto(opened);
    await expect.poll(() => keepAlive.locator('.chat-header .peer').textContent(), { timeout: 15_000 }).toBe('wp-dan');
    await keepAlive.locator('.message.theirs', { hasText: 'Ping from dan' }).waitFor({ timeout: 15_000 });
    expect(new URL(keepAlive.url()).search).toBe('');
  });

  it('"Notify me when this tab is closed" registers the tab as a webpush device, through the local stand-in when no push service answers', async () => {
    await admin.register('wp-fay');
    const { page } = await signedIn('wp-fay');
    const fayToken = await admin.userToken('wp-fay');

    await page.getByRole('button', { name: 'Notify me when this tab is closed' }).click();


    const status = page.getByRole('status').filter({ hasText: /^Notifications on/ });
    await status.waitFor({ timeout: 15_000 });
    // Headless Chromium reaches no push service: the subscription is the stand-in's.
    expect(await status.getAttribute('data-via')).toBe('stand-in');
    expect(await page.getByRole('button', { name: 'Notify me when this tab is closed' }).isHidden()).toBe(true);
    const { body } = await admin.call('GET', '/users/wp-fay/devices', undefined, fayToken);
    expect(body.devices).toEqual([expect.objectContaining({ provider: 'webpush', platformId: 5, appId: cirrus.url, tokenHint: `${new URL(cirrus.url).origin}/…` })]);
    const deviceId = await page.evaluate(() => localStorage.getItem('cirrus-demo.pushDeviceId'));
    expect(body.devices[0].deviceId).toBe(deviceId);

    // A reload shows notifications as on; signing out removes the device.
    await page.reload();
    await page.getByRole('status').filter({ hasText: /^Notifications on/ }).waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect((await admin.call('GET', '/users/wp-fay/devices', undefined, fayToken)).body.devices).toEqual([]);
  });
});
