/**
 * The built SDK (`npm run sdk:build`'s bundle) as a React Native app runs it: in a `node:vm`
 * context holding only what React Native (Hermes) gives every app, with an AsyncStorage, against
 * the local runtime. Metro turns the ESM bundle into a CommonJS module; so does this test.
 *
 * React Native's globals: `WebSocket`, `fetch`, `Headers`, `Request`, `Response`, `FormData`,
 * `Blob`, `XMLHttpRequest` (not needed here), `setTimeout`/`setInterval`/`setImmediate` and
 * their `clear*`, `queueMicrotask`, `requestAnimationFrame`, `console`, `URL`/`URLSearchParams`
 * (a partial implementation: most getters throw), `AbortController`/`AbortSignal`,
 * `TextEncoder` (Hermes, React Native 0.74+), `performance.now`, `navigator.product`,
 * `global`; plus the language's own (Promise, JSON, Map, Intl, …), which every vm context has.
 * Left out: `TextDecoder` (Hermes has none), `atob`/`btoa` (only React Native 0.74+), `crypto`
 * (only with the `react-native-get-random-values` polyfill), `structuredClone`, and the browser's
 * `window`, `document`, `indexedDB`, `localStorage`, `self`; and Node's `process`, `Buffer`, `require`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import vm from 'node:vm';
import { transform } from 'esbuild';
import { buildSdk } from '../../sdk/build';
import type * as Sdk from '../../sdk/src/index';
import { admin, cirrus, device, text, useCirrus } from '../support/harness';
import { eventually } from '../support/cirrus';
import { FakeAsyncStorage } from './support/async-storage';

useCirrus();

let source: string;
const dir = mkdtempSync(join(tmpdir(), 'cirrus-sdk-rn-'));
beforeAll(async () => {
  await buildSdk({ outDir: dir, declarations: false, log: () => {} });
  // What Metro does to an ES module: CommonJS, run by its module system.
  source = (await transform(readFileSync(join(dir, 'index.js'), 'utf8'), { format: 'cjs', target: 'es2022' })).code;
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface ReactNative {
  sdk: typeof Sdk;
  context: vm.Context;
  /** Every action the app's sockets sent, in order. */
  sent: { action: string; data: any }[];
}

/** A fresh JS runtime with React Native's globals and the SDK bundle loaded as its module. */
function reactNative(): ReactNative {
  const sent: ReactNative['sent'] = [];
  /** React Native's WebSocket (the same constructor and events as the browser's), recording what the app sends. */
  class RNWebSocket extends WebSocket {
    override send(data: string): void {
      const frame = JSON.parse(data) as { action: string; data: unknown };
      sent.push({ action: frame.action, data: frame.data });
      super.send(data);
    }
  }
  const globals: Record<string, unknown> = {
    WebSocket: RNWebSocket,
    fetch,
    Headers,
    Request,
    Response,
    FormData,
    Blob,
    setTimeout,
    clearTimeout,
    setInterval,
    clearInterval,
    setImmediate,
    clearImmediate,
    queueMicrotask,
    requestAnimationFrame: (fn: (t: number) => void) => setTimeout(() => fn(performance.now()), 16),
    console,
    URL,
    URLSearchParams,
    AbortController,
    AbortSignal,
    TextEncoder,
    performance: { now: () => performance.now() },
    navigator: { product: 'ReactNative' },
  };
  const context = vm.createContext(globals);
  vm.runInContext('global = globalThis;', context);
  const module = { exports: {} as Record<string, unknown> };
  const load = vm.runInContext(`(function (module, exports) {\n${source}\n})`, context, { filename: 'cirrus-sdk.rn.js' }) as (m: unknown, e: unknown) => void;
  load(module, module.exports);
  return { sdk: module.exports as unknown as typeof Sdk, context, sent };
}

const pulls = (rn: ReactNative) => rn.sent.filter((f) => f.action === 'pullMsgs').map((f) => f.data as { conversationId: string; fromSeq: number; toSeq: number });
const texts = (messages: readonly { content: unknown }[]) => messages.map((m) => (m.content as { text?: string } | null)?.text);

describe('the SDK in React Native', () => {
  it('has none of the browser, Node or optional globals in its runtime', () => {
    const { context } = reactNative();
    const absent = ['window', 'document', 'self', 'indexedDB', 'localStorage', 'crypto', 'structuredClone', 'TextDecoder', 'atob', 'btoa', 'process', 'Buffer', 'require'];

    const types = vm.runInContext(`(${JSON.stringify(absent)}).map((name) => typeof globalThis[name])`, context) as string[];

    expect(types).toEqual(absent.map(() => 'undefined'));
    expect(vm.runInContext('typeof WebSocket + typeof fetch + typeof global', context)).toBe('functionfunctionobject');
  });

  it('signs in, sends and receives, and after a restart shows history from AsyncStorage and pulls only what is new', async () => {
    await admin.register('rn-ann', 'rn-ben');
    const annToken = await admin.userToken('rn-ann', 1);
    const ben = await device('rn-ben');
    const storage = new FakeAsyncStorage();
    const conversationId = 'si_rn-ann_rn-ben';

    // First run of the app.
    const first = reactNative();
    const store = await first.sdk.createKeyValueStore(storage, { prefix: 'cirrus:rn-ann:' });
    const ann = await first.sdk.CirrusClient.create({ wsUrl: cirrus.wsUrl, apiUrl: cirrus.apiUrl, token: annToken, store, backoff: { minDelayMs: 50, maxDelayMs: 200 } });
    const got: Sdk.Message[] = [];
    ann.on('recvNewMessage', ({ message }) => got.push(message));
    await ann.connect();

    expect(ann.userId).toBe('rn-ann');
    const sent = await ann.sendText({ recvId: 'rn-ben' }, 'hello from the phone');
    await ben.ok('sendMsg', { recvId: 'rn-ann', clientMsgId: 'ben-1', ...text('hi phone') });
    await ben.ok('sendMsg', { recvId: 'rn-ann', clientMsgId: 'ben-2', ...text('are you there?') });
    await eventually(async () => got.length >= 2);

    expect(sent).toMatchObject({ conversationId, seq: 1 });
    // No crypto: a v7 UUID from the clock and Math.random.
    expect(sent.clientMsgId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(await eventually(async () => ben.pushes.find((m) => m.clientMsgId === sent.clientMsgId))).toMatchObject({ content: { text: 'hello from the phone' } });
    expect(texts(got)).toEqual(['hi phone', 'are you there?']);
    await eventually(async () => (await ann.getConversation(conversationId))?.syncedSeq === 3);
    await ann.close();

    // While the app is closed.
    await ben.ok('sendMsg', { recvId: 'rn-ann', clientMsgId: 'ben-3', ...text('while you were away') });

    // The app starts again: a new JS runtime, the same AsyncStorage.
    const second = reactNative();
    const again = await second.sdk.CirrusClient.create({
      wsUrl: cirrus.wsUrl,
      apiUrl: cirrus.apiUrl,
      token: annToken,
      store: await second.sdk.createKeyValueStore(storage, { prefix: 'cirrus:rn-ann:' }),
    });
    const offline = await again.getMessages(conversationId);
    expect(texts(offline)).toEqual(['hello from the phone', 'hi phone', 'are you there?']);
    expect(again.getTotalUnread()).toBe(2);

    const synced = new Promise((resolve) => again.once('syncServerFinish', resolve));
    const gotAgain: Sdk.Message[] = [];
    again.on('recvNewMessage', ({ message, source }) => gotAgain.push({ ...message, source } as Sdk.Message));
    await again.connect();
    await synced;

    expect(texts(gotAgain)).toEqual(['while you were away']);
    expect(pulls(second)).toEqual([expect.objectContaining({ conversationId, fromSeq: 4, toSeq: 4 })]);
    expect(texts(await again.getMessages(conversationId))).toEqual(['hello from the phone', 'hi phone', 'are you there?', 'while you were away']);
    await again.markRead(conversationId);
    expect(again.getTotalUnread()).toBe(0);
    await again.close();
  });

  it("keeps messages in memory when given no store (no IndexedDB), and reads the token's claims without atob", async () => {
    await admin.register('rn-cat');
    const rn = reactNative();
    const cat = await rn.sdk.CirrusClient.create({ wsUrl: cirrus.wsUrl, token: await admin.userToken('rn-cat', 2) });

    await cat.connect();
    const own = await cat.sendText({ recvId: 'rn-cat' }, 'note to self ✓');

    expect(cat.platformId).toBe(2);
    expect(rn.sdk.readToken(cat.token)).toMatchObject({ userId: 'rn-cat', platformId: 2 });
    expect(texts(await cat.getMessages(own.conversationId))).toEqual(['note to self ✓']);
    await cat.close();
  });

  it('registers the phone for push and tells the server when the app goes to the background and comes back', async () => {
    await admin.register('rn-gus');
    const rn = reactNative();
    const gus = await rn.sdk.CirrusClient.create({ wsUrl: cirrus.wsUrl, apiUrl: cirrus.apiUrl, token: await admin.userToken('rn-gus', 2), store: await rn.sdk.createKeyValueStore(new FakeAsyncStorage(), { prefix: 'cirrus:rn-gus:' }) });
    await gus.connect();
    // What @react-native-firebase/messaging's getToken() gives, minted by the local FCM stand-in.
    const fcmToken = cirrus.push.standIns.mintFcmToken();

    const { device } = await gus.registerPushDevice({ deviceId: 'install-1', provider: 'fcm', token: fcmToken, appId: 'com.example.cirrus', platformId: 2, locale: 'de-DE' });
    await gus.setAppState('background');
    await gus.setAppState('active');

    expect(device).toMatchObject({ deviceId: 'install-1', provider: 'fcm', platformId: 2, locale: 'de-DE' });
    expect((await gus.api.listPushDevices()).devices.map((d) => d.deviceId)).toEqual(['install-1']);
    expect(rn.sent.filter((f) => f.action === 'setAppBackground').map((f) => f.data)).toEqual([{ background: true }, { background: false }]);
    await gus.logout();
    expect((await admin.call('GET', '/users/rn-gus/devices')).body.devices).toEqual([]);
  });

  it('in the background gets an FCM notification for a message, and the tap that relaunches the app opens it from storage after a sync', async () => {
    await admin.register('rn-ida', 'rn-jon');
    const idaToken = await admin.userToken('rn-ida', 2);
    const storage = new FakeAsyncStorage();
    const fcmToken = cirrus.push.standIns.mintFcmToken();
    const first = reactNative();
    const ida = await first.sdk.CirrusClient.create({ wsUrl: cirrus.wsUrl, apiUrl: cirrus.apiUrl, token: idaToken, store: await first.sdk.createKeyValueStore(storage, { prefix: 'cirrus:rn-ida:' }) });
    await ida.connect();
    await ida.registerPushDevice({ deviceId: 'install-ida', provider: 'fcm', token: fcmToken, appId: 'com.example.cirrus', platformId: 2 });
    const jon = await device('rn-jon');
    await jon.ok('sendMsg', { recvId: 'rn-ida', clientMsgId: 'jon-1', ...text('seen at once') });
    await eventually(async () => (await ida.getConversation('si_rn-ida_rn-jon'))?.maxSeq === 1);

    // The user leaves the app; then the system kills it.
    await ida.setAppState('background');
    await jon.ok('sendMsg', { recvId: 'rn-ida', clientMsgId: 'jon-2', ...text('dinner at eight?') });
    await eventually(async () => (await ida.getConversation('si_rn-ida_rn-jon'))?.maxSeq === 2);
    await ida.close();
    await jon.ok('sendMsg', { recvId: 'rn-ida', clientMsgId: 'jon-3', ...text('or at nine') });
    await cirrus.lambda.idle();
    const got = cirrus.push.standIns.notifications({ provider: 'fcm', token: fcmToken });

    // One per message sent while the app was in the background or gone (in whichever order the sends finished), none for the first.
    expect(got.map((n) => n.body).sort()).toEqual(['dinner at eight?', 'or at nine']);
    const tapped = got.find((n) => n.body === 'or at nine')!;
    expect(tapped).toMatchObject({ title: 'rn-jon', threadId: 'si_rn-ida_rn-jon' });
    const data = (tapped.payload as { data: Record<string, string> }).data;
    expect(data).toMatchObject({ conversationId: 'si_rn-ida_rn-jon', seq: '3' });

    // The tap relaunches the app with the notification's data: open that conversation and sync.
    const second = reactNative();
    const again = await second.sdk.CirrusClient.create({ wsUrl: cirrus.wsUrl, apiUrl: cirrus.apiUrl, token: idaToken, store: await second.sdk.createKeyValueStore(storage, { prefix: 'cirrus:rn-ida:' }) });
    await again.connect();
    await again.sync();
    const page = await again.getMessages(data.conversationId);

    expect(page.find((m) => 'seq' in m && m.seq === Number(data.seq))).toMatchObject({ content: { text: 'or at nine' } });
    expect(texts(page)).toEqual(['seen at once', 'dinner at eight?', 'or at nine']);
    // Only what the app did not have: from seq 3.
    expect(pulls(second)).toEqual([expect.objectContaining({ conversationId: 'si_rn-ida_rn-jon', fromSeq: 3 })]);
    await again.close();
  });
});
