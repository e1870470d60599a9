/**
 * The admin console's webhook dead letters on a deployment whose app backend fails its
 * after-callbacks (admin-console.test.ts covers a deployment without webhooks): the dead letter
 * is listed with its callback and delivery id, and a redrive from the console delivers it once
 * the backend answers again. Chromium is required, as for chat.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { chromiumPath, launchChromium } from '../support/browser';
import { buildWeb } from '../../web/build';
import { Admin, eventually, startCirrus } from '../support/cirrus';
import type { LocalCirrus } from '../../local/runtime';

const here = dirname(fileURLToPath(import.meta.url));
const shots = join(here, 'screenshots');

let cirrus: LocalCirrus;
let browser: Browser;
let outDir: string;
let hooks: Server;
/** The app backend fails every callback until this turns false. */
let failing = true;
/** Delivery ids of the callbacks it accepted. */
const delivered: string[] = [];

beforeAll(async () => {
  chromiumPath();
  hooks = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (!failing) delivered.push(String(req.headers['x-cirrus-delivery-id']));
      res.writeHead(failing ? 500 : 204);
      res.end();
    });
  });
  const hooksUrl = await new Promise<string>((resolve) => hooks.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hooks`)));
  outDir = mkdtempSync(join(tmpdir(), 'cirrus-admin-hooks-'));
  await buildWeb({ outDir, logLevel: 'silent' });
  [cirrus, browser] = await Promise.all([
    startCirrus({
      webDist: outDir,
      settings: { webhooks: { url: hooksUrl, signingSecret: 'console-test-secret', timeoutMs: 300, callbacks: { afterSendMessage: { enabled: true } } } },
      // Failed callbacks come back after a second and are dead-lettered after two tries.
      queueOverrides: { webhook: { visibilityTimeoutSeconds: 1, maxReceiveCount: 2 } },
    }),
    launchChromium(),
  ]);
  mkdirSync(shots, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await cirrus?.stop();
  await new Promise((resolve) => (hooks ? hooks.close(resolve) : resolve(undefined)));
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

describe('admin console with webhooks', () => {
  it("lists a failing app backend's dead letters and redrives them", async () => {
    const admin = new Admin(cirrus.apiUrl, cirrus.adminSecret);
    await admin.register('ann', 'ben');
    const sent = await admin.call('POST', '/messages', { sendId: 'ann', recvId: 'ben', contentType: 101, content: { text: 'hello' } });
    expect(sent.status).toBe(200);
    const dead = await eventually(async () => {
      const res = await admin.call('GET', '/admin/webhooks/dead-letters');
      return res.body.messages?.length === 1 && res.body.messages[0];
    }, 30_000);
    expect(dead).toMatchObject({ callback: 'afterSendMessage' });

    const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
    try {
      await page.goto(`${cirrus.url}/admin/#/webhooks`);
      await page.getByLabel('Admin secret').fill(cirrus.adminSecret);
      await page.getByRole('button', { name: 'Sign in' }).click();
      const row = page.locator(`.dead-letters tr[data-delivery-id="${dead.deliveryId}"]`);
      await row.waitFor({ timeout: 10_000 });
      expect(await row.locator('th').textContent()).toBe('afterSendMessage');
      expect(await page.locator('.dead-letters .count').textContent()).toMatch(/^About 1 dead letter\(s\)\./);
      expect(await page.locator('.dead-letters .pending').textContent()).toBe('Webhook queue: about 0 callback(s) waiting, 0 being sent or waiting for a retry.');
      await page.screenshot({ path: join(shots, 'admin-dead-letters.png') });

      // The app backend is fixed: redrive, and the callback arrives with its delivery id.
      failing = false;
      await page.getByRole('button', { name: 'Redrive all' }).click();
      await expect.poll(() => page.locator('.view-webhooks .notice').textContent(), { timeout: 10_000 }).toBe('1 dead letter(s) moved back to the webhook queue for another try.');
      await expect.poll(() => delivered, { timeout: 15_000 }).toContain(dead.deliveryId);
      await eventually(async () => (await admin.call('GET', '/admin/webhooks/dead-letters')).body.approximateCount === 0);
      await page.getByRole('button', { name: 'Refresh' }).click();
      await expect.poll(() => page.locator('.dead-letters').textContent(), { timeout: 10_000 }).toContain('No dead letters.');
    } finally {
      await page.close();
    }
  });
});
