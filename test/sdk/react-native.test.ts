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
});
