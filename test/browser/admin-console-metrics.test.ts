/**
 * The admin console's Metrics view in a real browser (Chromium, as for chat.test.ts) against a
 * local Cirrus: the figures the CloudWatch dashboard shows, as the runtime counted them (GET
 * /local/metrics), after real traffic: HTTP requests and a WebSocket message, a function error,
 * DynamoDB requests, the archive's stream batches, dead letters, and custom metrics a function
 * printed in the embedded metric format.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { chromiumPath, launchChromium } from '../support/browser';
import { buildWeb } from '../../web/build';
import { Admin, Device, eventually, startCirrus } from '../support/cirrus';
import type { LocalCirrus } from '../../local/runtime';
import { invoke, runAsFunction } from '../../local/lambda';

const here = dirname(fileURLToPath(import.meta.url));
const shots = join(here, 'screenshots');

let cirrus: LocalCirrus;
let browser: Browser;
let outDir: string;

beforeAll(async () => {
  chromiumPath();
  outDir = mkdtempSync(join(tmpdir(), 'cirrus-admin-metrics-'));
  await buildWeb({ outDir, logLevel: 'silent' });
  // Functions write their metrics unless logging is silent (core/metrics.ts): errors only.
  [cirrus, browser] = await Promise.all([startCirrus({ webDist: outDir, settings: { logLevel: 'error' } }), launchChromium()]);
  mkdirSync(shots, { recursive: true });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await cirrus?.stop();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

const figures = async () => (await (await fetch(`${cirrus.url}/local/metrics`)).json()) as any;

describe('admin console metrics', () => {
  it('shows the figures the dashboard would, from the local runtime', async () => {
    const admin = new Admin(cirrus.apiUrl, cirrus.adminSecret);
    await admin.register('mt-a', 'mt-b');
    const b = await Device.connect(cirrus.wsUrl, await admin.userToken('mt-b', 5));
    await b.ok('sendMsg', { recvId: 'mt-a', contentType: 101, content: { text: 'hi' }, clientMsgId: 'mt-1' });
    expect((await admin.call('GET', '/users/nobody-here')).status).toBe(404);
    // A refused message: Cirrus's own MessagesRefused metric, printed by the function in EMF (core/metrics.ts).
    const refused = await b.request('sendMsg', { recvId: 'nobody-here', contentType: 101, content: { text: 'hi' }, clientMsgId: 'mt-2' });
    expect(refused.error?.reason).toBe('USER_NOT_FOUND');
    // A function error (an event without Records makes the webhook consumer throw: Lambda counts it) and custom metrics printed in EMF.
    await expect(invoke('webhook', {})).rejects.toThrow();
    const emf = (value: number) =>
      JSON.stringify({ _aws: { Timestamp: Date.now(), CloudWatchMetrics: [{ Namespace: 'Cirrus', Dimensions: [['service']], Metrics: [{ Name: 'MessagesAccepted', Unit: 'Count' }] }] }, service: 'wsMessage', MessagesAccepted: value });
    runAsFunction('wsMessage', () => {
      console.log(emf(1));
      process.stdout.write(`${emf(2)}\n`);
    });
    // Printed outside any function: not a function's metric.
    console.log(emf(100));
    // The archive consumed the message's stream record.
    const f = await eventually(async () => {
      const now = await figures();
      return now.streams.messageArchive?.batches > 0 && now;
    }, 30_000);

    expect(f.functions.webhook).toMatchObject({ invocations: 1, errors: 1, throttles: 0 });
    expect(f.functions.wsMessage.invocations).toBeGreaterThanOrEqual(1);
    expect(f.functions.wsMessage.errors).toBe(0);
    expect(f.webSocket.connects).toBe(1);
    // The frame in, its route response out.
    expect(f.webSocket.messages).toBeGreaterThanOrEqual(2);
    expect(f.http.status4xx).toBeGreaterThanOrEqual(1);
    expect(f.tables.Messages.writes).toBeGreaterThanOrEqual(1);
    expect(f.deadLetters.map((q: { name: string }) => q.name)).toContain('DeadLetters');
    expect(f.custom).toContainEqual(expect.objectContaining({ namespace: 'Cirrus', name: 'MessagesAccepted', unit: 'Count', dimensions: { service: 'wsMessage' }, function: 'wsMessage', count: 2, sum: 3, min: 1, max: 2 }));
    // The line printed outside any function is nobody's.
    expect(f.custom.filter((c: { name: string }) => c.name === 'MessagesAccepted')).toHaveLength(1);
    expect(f.custom).toContainEqual(expect.objectContaining({ namespace: 'Cirrus', name: 'MessagesRefused', function: 'wsMessage', dimensions: expect.objectContaining({ reason: 'USER_NOT_FOUND' }), sum: 1 }));

    const page = await browser.newPage({ viewport: { width: 1200, height: 1100 } });
    try {
      await page.goto(`${cirrus.url}/admin/#/metrics`);
      await page.getByLabel('Admin secret').fill(cirrus.adminSecret);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.locator('.metrics[data-state="local"]').waitFor({ timeout: 10_000 });
      const cells = async (block: string, row: string) => page.locator(`[data-block="${block}"] tr[data-row="${row}"] > *`).allTextContents();
      // The console shows the runtime's figures (read again: the page's own calls add to them).
      const shown = await figures();
      expect((await cells('functions', 'webhook')).slice(0, 4)).toEqual(['webhook', '1', '1', '0']);
      expect(await cells('custom', 'MessagesAccepted')).toEqual(['MessagesAccepted', 'Cirrus', 'service=wsMessage', 'wsMessage', 'Count', '2', '3', '1', '2']);
      expect((await cells('api', 'WebSocket'))[2]).toBe(String(shown.webSocket.connects));
      expect((await cells('tables', 'Messages'))[2]).toBe(String(shown.tables.Messages.writes));
      expect(await cells('queues', 'DeadLetters')).toHaveLength(5);
      expect(Number((await cells('streams', 'messageArchive'))[1])).toBeGreaterThanOrEqual(1);
      await page.screenshot({ path: join(shots, 'admin-metrics.png'), fullPage: true });
    } finally {
      await page.close();
      b.socket.close();
    }
  });
});
