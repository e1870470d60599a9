/**
 * The admin console's compliance actions in a real browser (Chromium, as for chat.test.ts): a
 * user's data export from their profile (the console follows it until the archive is ready and
 * offers its download), and their erasure, confirmed by typing the id, which the console calls
 * again while it answers `done: false` (here every call stops after one message).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import { chromiumPath, launchChromium } from '../support/browser';
import { buildWeb } from '../../web/build';
import { Admin, eventually, startCirrus } from '../support/cirrus';
import type { LocalCirrus } from '../../local/runtime';
import { eraseBudget } from '../../core/services/erasure';

const here = dirname(fileURLToPath(import.meta.url));
const shots = join(here, 'screenshots');

let cirrus: LocalCirrus;
let browser: Browser;
let outDir: string;
let admin: Admin;
let page: Page;
const problems: string[] = [];

beforeAll(async () => {
  chromiumPath();
  outDir = mkdtempSync(join(tmpdir(), 'cirrus-admin-compliance-'));
  await buildWeb({ outDir, logLevel: 'silent' });
  [cirrus, browser] = await Promise.all([startCirrus({ webDist: outDir }), launchChromium()]);
  admin = new Admin(cirrus.apiUrl, cirrus.adminSecret);
  expect((await admin.call('POST', '/users/register', { users: [{ userId: 'cx-x', nickname: 'Xavier Compliance' }, { userId: 'cx-a' }] })).status).toBe(200);
  for (const text of ['first words', 'second words', 'third words']) {
    expect((await admin.call('POST', '/messages', { sendId: 'cx-x', recvId: 'cx-a', contentType: 101, content: { text } })).status).toBe(200);
  }
  await eventually(async () => (await cirrus.dataApi.query(`SELECT seq FROM messages WHERE sender_id = 'cx-x'`, [])).length === 3, 30_000);
  page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  mkdirSync(shots, { recursive: true });
  await page.goto(`${cirrus.url}/admin/#/users/cx-x`);
  await page.getByLabel('Admin secret').fill(cirrus.adminSecret);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('h2[data-user-id="cx-x"]').waitFor({ timeout: 10_000 });
}, 180_000);

afterAll(async () => {
  eraseBudget.ms = 9_000;
  await browser?.close();
  await cirrus?.stop();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

describe('admin console compliance', () => {
  it("exports a user's data and offers the archive", async () => {
    await page.getByRole('button', { name: 'Export data' }).click();
    const link = page.locator('.export-result a.download');
    await link.waitFor({ timeout: 30_000 });
    expect(await page.locator('.detail .notice').textContent()).toMatch(/^Export ready \(\d[\d,]* bytes\): 3 message\(s\), 0 friend\(s\), 0 group\(s\), 0 media object\(s\)\.$/);
    // The link is the presigned archive: what it serves is the user's export.
    const res = await fetch((await link.getAttribute('href'))!);
    expect(res.status).toBe(200);
    const lines = gunzipSync(Buffer.from(await res.arrayBuffer())).toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.find((l) => l.type === 'profile')).toMatchObject({ userId: 'cx-x', nickname: 'Xavier Compliance' });
    expect(lines.filter((l) => l.type === 'message').map((l) => l.content.text)).toEqual(['first words', 'second words', 'third words']);
    await page.screenshot({ path: join(shots, 'admin-export.png') });
  });

  it('erases a user only with the id typed again, calling again until done', async () => {
    // A wrong id: nothing is called.
    await page.getByLabel('Type the user id to confirm').fill('cx-a');
    await page.getByRole('button', { name: 'Erase', exact: true }).click();
    expect(await page.locator('.detail .notice').textContent()).toBe('Type cx-x to confirm the erasure.');
    expect((await admin.call('GET', '/users/cx-x')).body.user.erased).toBeUndefined();

    // Every call erases one message and answers done: false until the last.
    eraseBudget.ms = 0;
    await page.getByLabel('Type the user id to confirm').fill('cx-x');
    await page.getByRole('button', { name: 'Erase', exact: true }).click();
    await page.locator('dialog.confirm').getByRole('button', { name: 'Erase' }).click();
    const erased = page.locator('.detail .notice');
    await expect.poll(() => erased.textContent(), { timeout: 30_000 }).toMatch(/^cx-x is erased:/);
    expect(await erased.textContent()).toMatch(/^cx-x is erased: 3 message\(s\) deleted in [3-9] call\(s\), 0 session\(s\) revoked/);
    expect(await page.locator('.ban-state').getAttribute('data-erased')).toBe('true');
    const calls = await eventually(async () => {
      const res = await admin.call('GET', `/admin/audit?action=eraseUser&target=${encodeURIComponent('user:cx-x')}`);
      return res.body.entries?.length >= 3 && res.body.entries;
    }, 30_000);
    expect(calls.every((e: { outcome: string }) => e.outcome === 'ok')).toBe(true);
    const left = await cirrus.dataApi.query<{ content: string }>(`SELECT content::text AS content FROM messages WHERE sender_id = 'cx-x'`, []);
    await eventually(async () => (await cirrus.dataApi.query<{ content: string }>(`SELECT content::text AS content FROM messages WHERE sender_id = 'cx-x'`, [])).every((r) => r.content === 'null'), 30_000);
    expect(left.length).toBe(3);
    await page.screenshot({ path: join(shots, 'admin-erased.png') });
    expect(problems).toEqual([]);
  });
});
