/**
 * The admin console (`/admin/`) in a real browser: Chromium (driven by playwright-core) against a
 * local Cirrus serving a fresh build of `web/`, with the demo site's Content-Security-Policy added
 * to the console's responses. Data is made through the admin HTTP API first; the console must show
 * the API's numbers, and its actions must have their real effects (a banned user's live WebSocket
 * is kicked, their tokens refused). Chromium is required, as for chat.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromiumPath, launchChromium } from '../support/browser';
import { buildWeb } from '../../web/build';
import { DEMO_CONTENT_SECURITY_POLICY } from '../../lib/demo-site';
import { serveStatic } from '../../local/web';
import { Admin, Device, eventually, startCirrus } from '../support/cirrus';
import type { LocalCirrus } from '../../local/runtime';
import { createProviders } from '../../core/offline-push/providers';

const here = dirname(fileURLToPath(import.meta.url));
const shots = join(here, 'screenshots');

let cirrus: LocalCirrus;
let browser: Browser;
let outDir: string;
let admin: Admin;
let context: BrowserContext;
let page: Page;
/** The build on an origin of its own with a config.json, as the deployed demo site serves it. */
let site: Server;
let siteUrl: string;
/** Page errors and CSP violations seen in the console's tab: there must be none. */
const problems: string[] = [];
const today = new Date().toISOString().slice(0, 10);

const kicksOf = (d: Device) => d.frames.filter((f) => (f as { push?: string }).push === 'kicked') as { data: { reason: string } }[];

async function send(body: Record<string, unknown>): Promise<{ seq: number; conversationId: string }> {
  const res = await admin.call('POST', '/messages', { contentType: 101, ...body });
  if (res.status !== 200) throw new Error(`send: ${JSON.stringify(res.body)}`);
  return res.body;
}

beforeAll(async () => {
  chromiumPath();
  outDir = mkdtempSync(join(tmpdir(), 'cirrus-admin-'));
  await buildWeb({ outDir, logLevel: 'silent' });
  [cirrus, browser] = await Promise.all([startCirrus({ webDist: outDir }), launchChromium()]);
  admin = new Admin(cirrus.apiUrl, cirrus.adminSecret);

  // Users, a group and messages, through the admin API: 3 one-to-one and 2 group messages today
  // (and the group's groupCreated notification).
  const registered = await admin.call('POST', '/users/register', {
    users: [{ userId: 'alice', nickname: 'Alice Liddell' }, { userId: 'bob' }, { userId: 'mallory', nickname: 'Mallory the spammer' }, { userId: 'malcolm' }],
  });
  expect(registered.status).toBe(200);
  await admin.createGroup('lunch', 'alice', ['bob']);
  await send({ sendId: 'alice', recvId: 'bob', content: { text: 'Lunch at noon?' } });
  await send({ sendId: 'bob', recvId: 'alice', content: { text: 'Sure' } });
  await send({ sendId: 'mallory', recvId: 'bob', content: { text: 'Cheap watches, click here' } });
  await send({ sendId: 'alice', groupId: 'lunch', content: { text: 'Welcome to the lunch club' } });
  await send({ sendId: 'bob', groupId: 'lunch', content: { text: 'Thanks!' } });

  context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  // As the deployed site sends it (lib/demo-site.ts).
  await context.route(`${cirrus.url}/admin/**`, async (route) => {
    const response = await route.fetch();
    await route.fulfill({ response, headers: { ...response.headers(), 'content-security-policy': DEMO_CONTENT_SECURITY_POLICY } });
  });
  page = await context.newPage();
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (/Content Security Policy/i.test(msg.text())) problems.push(`CSP: ${msg.text()}`);
  });
  mkdirSync(shots, { recursive: true });

  // The deployed CSP, its https:/wss: read as the local runtime's http:/ws: (as demo-site.test.ts does).
  const csp = DEMO_CONTENT_SECURITY_POLICY.replaceAll('https:', 'http:').replaceAll('wss:', 'ws:');
  site = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    res.setHeader('content-security-policy', csp);
    if (url.pathname === '/config.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ wsUrl: cirrus.wsUrl, apiUrl: cirrus.apiUrl, tokenUrl: 'http://localhost:1/token' }));
    }
    if (serveStatic(outDir, req, res, url.pathname)) return;
    res.writeHead(404);
    res.end();
  });
  siteUrl = await new Promise<string>((resolve) => site.listen(0, '127.0.0.1', () => resolve(`http://localhost:${(site.address() as AddressInfo).port}`)));
});

afterAll(async () => {
  await context?.close().catch(() => undefined);
  await browser?.close();
  await new Promise((resolve) => (site ? site.close(resolve) : resolve(undefined)));
  await cirrus?.stop();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

describe('admin console', () => {
  it('is served at /admin/ by the local runtime, /admin redirects there', async () => {
    const res = await fetch(`${cirrus.url}/admin/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    const html = await res.text();
    expect(html).toContain('<title>Cirrus admin console</title>');
    const script = /src="(\/assets\/admin-[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeTruthy();
    expect((await fetch(cirrus.url + script)).status).toBe(200);
    const redirect = await fetch(`${cirrus.url}/admin`, { redirect: 'manual' });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toBe('/admin/');
    // The chat demo is still at /.
    expect(await (await fetch(`${cirrus.url}/`)).text()).toContain('<title>Cirrus chat</title>');
  });

  it('refuses a wrong secret with the API error, signs in with the right one', async () => {
    await page.goto(`${cirrus.url}/admin/`);
    const secret = page.getByLabel('Admin secret');
    await secret.fill('not-the-secret');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert');
    await expect.poll(() => alert.textContent()).toBe('ADMIN_SECRET_INVALID (1107): The admin secret is wrong.');
    await page.screenshot({ path: join(shots, 'admin-sign-in.png') });

    await secret.fill(cirrus.adminSecret);
    await page.getByLabel('Your name').fill('ops@example.com');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Console sections' }).waitFor();
    await expect.poll(() => page.getByRole('link', { name: 'Dashboard' }).getAttribute('aria-current')).toBe('page');
    const stored = await page.evaluate(() => sessionStorage.getItem('cirrus-admin.session'));
    expect(JSON.parse(stored!)).toMatchObject({ apiUrl: cirrus.apiUrl, token: expect.stringMatching(/\./) });
  });

  it("shows the statistics API's numbers: cards, the stacked messages chart and its table", async () => {
    // Messages reach the history behind the archive queue: wait until the API counts all six
    // (the five sent and the group's groupCreated notification).
    const stats = await eventually(async () => {
      const res = await admin.call('GET', `/admin/statistics?from=${today}&to=${today}`);
      return res.status === 200 && res.body.totals.messages === 6 && res.body;
    });
    const day = stats.days.at(-1);
    expect(day).toMatchObject({ date: today, messages: { total: 6, single: 3, group: 3 }, messagesByContentType: { '101': 5 } });

    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.getByRole('button', { name: 'Show' }).click();
    const chart = page.locator('figure[data-chart="messages"]');
    // The default range: the last 14 days, today last.
    await expect.poll(() => chart.locator('svg g[data-date]').count(), { timeout: 10_000 }).toBe(14);
    const bar = chart.locator(`svg g[data-date="${today}"]`);
    await expect.poll(() => bar.getAttribute('data-total')).toBe(String(day.messages.total));
    expect(await bar.locator('rect[data-series="One-to-one"]').getAttribute('data-value')).toBe(String(day.messages.single));
    expect(await bar.locator('rect[data-series="Group"]').getAttribute('data-value')).toBe(String(day.messages.group));
    // The group bar sits on the one-to-one bar, in proportion.
    const [single, group] = await Promise.all(
      ['One-to-one', 'Group'].map((s) => bar.locator(`rect[data-series="${s}"]`).evaluate((r) => ({ y: Number(r.getAttribute('y')), height: Number(r.getAttribute('height')) }))),
    );
    expect(group!.y + group!.height).toBeCloseTo(single!.y, 1);
    expect(single!.height / group!.height).toBeCloseTo(day.messages.single / day.messages.group, 1);
    // Axis labels: dates and round counts.
    expect(await chart.locator('.axis.x text').first().textContent()).toMatch(/^\d{2}-\d{2}$/);
    expect(await chart.locator('.axis.y text').allTextContents()).toContain('0');

    // The table fallback holds the same numbers.
    await chart.getByText('Table', { exact: true }).click();
    const row = chart.locator(`tr[data-date="${today}"]`);
    expect(await row.locator('td[data-series="One-to-one"]').textContent()).toBe(String(day.messages.single));
    expect(await row.locator('td[data-series="Group"]').textContent()).toBe(String(day.messages.group));
    expect(await row.locator('td[data-series="Notification"]').textContent()).toBe('0');
    expect(await row.locator('td[data-series="Total"]').textContent()).toBe(String(day.messages.total));

    // Totals over the range equal the API's for the same range (14 days, all of today's data).
    await expect.poll(() => page.locator('[data-total="messages"] .value').textContent()).toBe(String(stats.totals.messages));
    expect(await page.locator('[data-total="newUsers"] .value').textContent()).toBe(String(stats.totals.newUsers));
    expect(await page.locator('[data-total="activeUsers"] .value').textContent()).toBe(String(stats.totals.activeUsers));
    expect(await page.locator('[data-total="groupsCreated"] .value').textContent()).toBe('1');
    expect(await page.locator('figure[data-chart="activeUsers"] svg g[data-date="' + today + '"]').getAttribute('data-total')).toBe(String(day.activeUsers));
    expect(await page.locator('tr[data-content-type="101"] td').textContent()).toBe('5');
    expect(await page.locator('[data-total="online"] .value').textContent()).toBe(String(stats.online.users));
    await page.screenshot({ path: join(shots, 'admin-dashboard.png'), fullPage: true });

    // A range the API refuses shows its error with the code.
    await page.getByLabel('From (UTC)').fill('2020-01-01');
    await page.getByRole('button', { name: 'Show' }).click();
    await expect.poll(() => page.locator('.view-dashboard .notice.error').textContent()).toMatch(/^INVALID_ARGUMENT \(1003\): /);
  });

  it('searches a user and bans them: their live device is kicked, their tokens refused; then unbans', async () => {
    const token = await admin.userToken('mallory', 5);
    const phone = await Device.connect(cirrus.wsUrl, token);

    await page.getByRole('link', { name: 'Users' }).click();
    // Without a query: every user.
    await page.locator('.users-list li[data-user-id="alice"]').waitFor();
    await page.getByLabel('Search users').fill('mal');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => page.locator('.users-list li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-user-id')))).toEqual(['malcolm', 'mallory']);
    // By nickname too.
    await page.getByLabel('Search users').fill('SPAMMER');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => page.locator('.users-list li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-user-id')))).toEqual(['mallory']);
    await page.locator('.users-list li[data-user-id="mallory"] a').click();
    await expect.poll(() => page.locator('.online-status').textContent(), { timeout: 10_000 }).toBe('Online: Web (1)');
    expect(await page.locator('.ban-state').textContent()).toBe('Active');

    await page.getByLabel('Reason').fill('spam');
    await page.getByLabel('Duration').selectOption({ label: '7 days' });
    await page.getByRole('button', { name: 'Ban', exact: true }).click();
    await expect.poll(() => page.locator('.ban-state').getAttribute('data-banned'), { timeout: 10_000 }).toBe('true');
    expect(await page.locator('.ban-state').textContent()).toMatch(/^Banned since .* UTC, until .* UTC — “spam”$/);
    expect(await page.locator('.users-list li[data-user-id="mallory"] .tag').textContent()).toBe('banned');
    expect(await page.locator('.detail .notice').textContent()).toMatch(/^mallory is banned: \d+ session\(s\) revoked, 1 connection\(s\) closed\.$/);

    // The device was kicked (reason banned) and closed; its token and new tokens are refused.
    await phone.until(() => phone.closed, 10_000, 'close');
    expect(kicksOf(phone).map((k) => k.data.reason)).toEqual(['banned']);
    await expect(Device.connect(cirrus.wsUrl, token)).rejects.toMatchObject({ statusCode: 401 });
    const refused = await admin.call('POST', '/auth/user-token', { userId: 'mallory', platformId: 5 });
    expect(refused.status).toBe(403);
    expect(refused.body.error.reason).toBe('USER_BANNED');
    const profile = await admin.call('GET', '/users/mallory');
    expect(profile.body.user.banned).toMatchObject({ reason: 'spam' });
    expect(profile.body.user.banned.until - profile.body.user.banned.at).toBe(7 * 86_400_000);
    await page.screenshot({ path: join(shots, 'admin-users.png'), fullPage: true });

    // Unban: tokens are issued again.
    await page.getByRole('button', { name: 'Unban' }).click();
    await expect.poll(() => page.locator('.ban-state').getAttribute('data-banned'), { timeout: 10_000 }).toBe('false');
    expect(await page.locator('.users-list li[data-user-id="mallory"] .tag').count()).toBe(0);
    const back = await Device.connect(cirrus.wsUrl, await admin.userToken('mallory', 5));
    expect((await back.request('heartbeat')).data).toBeDefined();

    // Force logout: the new session is revoked.
    const fresh = await admin.userToken('mallory', 1);
    await page.getByRole('button', { name: 'Force logout (all platforms)' }).click();
    await expect.poll(() => page.locator('.detail .notice').textContent(), { timeout: 10_000 }).toMatch(/^\d+ session\(s\) of mallory revoked\.$/);
    expect((await admin.call('GET', '/users/mallory', undefined, fresh)).body.error.reason).toBe('TOKEN_REVOKED');
    await back.close();
  });

  it('looks up a group: its info and members', async () => {
    await page.getByRole('link', { name: 'Groups' }).click();
    await page.getByLabel('Group id').fill('nope');
    await page.getByRole('button', { name: 'Look up' }).click();
    await expect.poll(() => page.locator('.view-groups .notice').textContent()).toMatch(/^GROUP_NOT_FOUND \(1202\): /);
    await page.getByLabel('Group id').fill('lunch');
    await page.getByRole('button', { name: 'Look up' }).click();
    await page.locator('table.members tr[data-user-id="bob"]').waitFor({ timeout: 10_000 });
    expect(await page.locator('table.members tr[data-user-id="alice"] td').first().textContent()).toBe('owner');
    expect(await page.locator('table.members tbody tr').count()).toBe(2);
    expect(await page.locator('.group-detail h2').textContent()).toBe('lunch lunch');

    // Its history retention: none in this deployment, then the group's own, then none again.
    const retention = page.locator('.group-detail .retention + .notice');
    await expect.poll(() => retention.textContent()).toBe('The history keeps its messages for good.');
    await page.getByLabel('Retention in days').fill('7');
    await page.getByRole('button', { name: 'Set retention' }).click();
    await expect.poll(() => retention.textContent()).toBe('The history keeps its messages 7 days.');
    expect((await admin.call('GET', '/admin/groups/lunch/retention')).body).toEqual({ groupId: 'lunch', days: 7, effectiveDays: 7 });
    await page.getByLabel('Retention in days').fill('');
    await page.getByRole('button', { name: 'Set retention' }).click();
    await expect.poll(() => retention.textContent()).toBe('The history keeps its messages for good.');
    expect((await admin.call('GET', '/admin/groups/lunch/retention')).body.days).toBeNull();
  });

  it('moderation: finds a message, revokes it and sees it revoked; purges another after a confirmation', async () => {
    await page.getByRole('link', { name: 'Moderation' }).click();
    await page.getByLabel('Text', { exact: true }).fill('watches');
    await page.getByRole('button', { name: 'Search messages' }).click();
    const found = page.locator('.search-results li.msg');
    await expect.poll(() => found.count(), { timeout: 10_000 }).toBe(1);
    expect(await found.getAttribute('data-conversation-id')).toBe('si_bob_mallory');
    expect(await found.locator('.msg-text').textContent()).toBe('Cheap watches, click here');

    await found.getByRole('button', { name: /^Revoke message/ }).click();
    await expect.poll(() => found.getAttribute('data-state'), { timeout: 10_000 }).toBe('revoked');
    expect(await found.locator('.msg-text').textContent()).toBe('Revoked');
    // The history (Aurora) has the change once the archive queue brought it there.
    const seq = Number(await found.getAttribute('data-seq'));
    const revoked = await eventually(async () => {
      const history = await admin.call('GET', '/conversations/si_bob_mallory/messages');
      const message = history.body.messages.find((m: { seq: number }) => m.seq === seq);
      return message?.revoked && message;
    });
    expect(revoked).toMatchObject({ content: null, revoked: expect.anything() });

    // Its conversation's history, read with the admin token, shows it revoked too.
    await found.getByRole('button', { name: 'Read conversation si_bob_mallory' }).click();
    const inHistory = page.locator(`.history li.msg[data-seq="${seq}"]`);
    await inHistory.waitFor({ timeout: 10_000 });
    expect(await inHistory.getAttribute('data-state')).toBe('revoked');
    expect(await inHistory.locator('.msg-text').textContent()).toBe('Revoked');

    // Purge asks first: Cancel keeps the message, Purge deletes it from the history.
    await page.getByLabel('Conversation to read').fill('sg_lunch');
    await page.getByRole('button', { name: 'Open' }).click();
    const thanks = page.locator('.history li.msg', { hasText: 'Thanks!' });
    await thanks.waitFor({ timeout: 10_000 });
    await thanks.getByRole('button', { name: /^Purge message/ }).click();
    const dialog = page.getByRole('dialog', { name: 'Purge this message?' });
    await dialog.waitFor();
    await page.screenshot({ path: join(shots, 'admin-purge-confirm.png') });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => dialog.count()).toBe(0);
    expect(await thanks.count()).toBe(1);
    await thanks.getByRole('button', { name: /^Purge message/ }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Purge' }).click();
    await expect.poll(() => thanks.count(), { timeout: 10_000 }).toBe(0);
    await expect.poll(() => page.locator('.view-moderation section:last-child .notice').textContent()).toBe('1 message(s) purged from sg_lunch.');
    const group = await admin.call('GET', '/conversations/sg_lunch/messages');
    expect(group.body.messages.map((m: { content: { text?: string } | null }) => m.content?.text)).not.toContain('Thanks!');
    await page.screenshot({ path: join(shots, 'admin-moderation.png'), fullPage: true });
  });

  it('webhook dead letters: not configured in this deployment', async () => {
    await page.getByRole('link', { name: 'Webhooks' }).click();
    const panel = page.locator('.dead-letters');
    await expect.poll(() => panel.getAttribute('data-state'), { timeout: 10_000 }).toBe('not-configured');
    expect(await panel.textContent()).toContain('Webhooks are not configured');
    await page.screenshot({ path: join(shots, 'admin-webhooks.png') });
  });

  it('push: lists what the local push stand-ins received', async () => {
    const providers = createProviders(cirrus.push.credentials);
    const token = cirrus.push.standIns.mintFcmToken();
    const sent = await providers.send(
      { userId: 'bob', deviceId: 'phone', provider: 'fcm', token, platformId: 2, appId: 'com.example.cirrus', createdAt: 0, updatedAt: 0 },
      { title: 'Alice Liddell', body: 'Lunch at noon?', silent: false, badge: 4, threadId: 'si_alice_bob', collapseId: 'si_alice_bob', data: { conversationId: 'si_alice_bob', seq: '1' }, ttlSeconds: 60, priority: 'high' },
    );
    expect(sent.kind).toBe('sent');
    await page.getByRole('link', { name: 'Push' }).click();
    const panel = page.locator('.push-notifications');
    await expect.poll(() => panel.getAttribute('data-state'), { timeout: 10_000 }).toBe('local');
    const row = panel.locator('tbody tr').first();
    expect(await row.locator('th').textContent()).toBe('fcm');
    expect(await row.locator('td').allTextContents()).toEqual([`…${token.slice(-12)}`, 'Alice Liddell', 'Lunch at noon?', '4', expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/)]);
  });

  it('batch send: one message to several users, with its progress', async () => {
    await page.getByRole('link', { name: 'Batch send' }).click();
    await page.getByLabel('Send as the system').check();
    expect(await page.getByLabel('Sender user id').isDisabled()).toBe(true);
    await page.getByLabel('Recipients').fill('alice, bob\nalice');
    await page.getByLabel('Text', { exact: true }).fill('Maintenance tonight at 22:00 UTC');
    await page.getByRole('button', { name: 'Send to all' }).click();
    const status = page.locator('.view-batch .notice');
    await expect.poll(() => status.textContent(), { timeout: 20_000 }).toMatch(/^Batch \S+: done, 2 sent, 0 failed of 2 \(1\/1 pages\)\.$/);
    const batchId = /^Batch (\S+):/.exec((await status.textContent())!)![1];
    expect((await admin.call('GET', `/messages/batch/${batchId}`)).body).toMatchObject({ status: 'done', recipients: 2, sent: 2 });
    // bob's notification conversation has it (in the history once archived).
    const notice = await eventually(async () => (await admin.call('GET', '/conversations/n_bob/messages')).body.messages?.[0]);
    expect(notice).toMatchObject({ senderId: 'system', content: { text: 'Maintenance tonight at 22:00 UTC' } });

    // A refused request shows the API's error.
    await page.getByLabel('Recipients').fill('nobody-here');
    await page.getByRole('button', { name: 'Send to all' }).click();
    await expect.poll(() => status.textContent()).toMatch(/^USER_NOT_FOUND \(1201\): /);
  });

  it("audit log: the console's own actions under the name it signed in with, filtered and refused ones marked", async () => {
    // The http function's entries reach the log through the Outbox within seconds.
    const listed = await eventually(async () => {
      const entries = (await admin.call('GET', '/admin/audit', undefined)).body.entries as { action: string; actor: string; outcome: string }[];
      return entries[0]?.action === 'batchSendMessages' && entries[0].outcome === 'USER_NOT_FOUND' && entries;
    });
    await page.getByRole('link', { name: 'Audit log' }).click();
    const rows = page.locator('.audit-log tbody tr');
    await expect.poll(() => rows.count()).toBeGreaterThan(0);
    // The newest row is the API's newest entry (the refused batch send).
    expect(await rows.first().locator('th').textContent()).toBe(listed[0]!.action);
    expect(listed[0]).toMatchObject({ action: 'batchSendMessages', actor: 'ops@example.com', outcome: 'USER_NOT_FOUND' });
    expect(await rows.first().getAttribute('class')).toBe('refused');

    await page.getByLabel('Action').fill('banUser');
    await page.getByLabel('Actor').fill('ops@example.com');
    await page.getByRole('button', { name: 'Show' }).click();
    await expect.poll(() => page.locator('.view-audit .notice').textContent()).toBe('1 entry.');
    expect(await rows.first().locator('td').nth(2).textContent()).toBe('user:mallory');
    expect(await rows.first().locator('td').nth(3).textContent()).toBe('ok');
    await page.screenshot({ path: join(shots, 'admin-audit.png') });

    await page.getByLabel('Target').fill('nobody');
    await page.getByRole('button', { name: 'Show' }).click();
    await expect.poll(() => page.locator('.view-audit .notice').textContent()).toMatch(/^INVALID_ARGUMENT \(\d+\): /);
  });

  it("limits: those in force and the users throttled now; a group's slow mode set from its page", async () => {
    const saved = process.env.LIMITS;
    // The functions read LIMITS on use: a window small enough for a few messages to go over.
    process.env.LIMITS = JSON.stringify({ window: { messages: 2, seconds: 60, throttleSeconds: 600 } });
    try {
      const malcolm = await Device.connect(cirrus.wsUrl, await admin.userToken('malcolm'));
      try {
        for (let i = 0; i < 3; i += 1) {
          const reply = await malcolm.request('sendMsg', { clientMsgId: `lim-${i}`, recvId: 'bob', contentType: 101, content: { text: `buy ${i}` } });
          expect(reply.error).toBeUndefined();
        }
      } finally {
        await malcolm.close();
      }
      await eventually(async () => ((await admin.call('GET', '/admin/limits')).body.throttled as { userId: string }[]).some((t) => t.userId === 'malcolm'));
      await page.getByRole('link', { name: 'Limits' }).click();
      const row = page.locator('table.throttled tr[data-user-id="malcolm"]');
      await row.waitFor({ timeout: 10_000 });
      expect(await row.locator('td').nth(2).textContent()).toBe('3 in 60 s');
      expect(await page.locator('.view-limits .notice').textContent()).toBe('1 user throttled now.');
      expect(await page.locator('.view-limits dl.facts').textContent()).toContain('over 2 messages in 60 s: throttled 600 s');
      await page.screenshot({ path: join(shots, 'admin-limits.png') });

      await page.getByRole('link', { name: 'Groups' }).click();
      await page.getByLabel('Group id').fill('lunch');
      await page.getByRole('button', { name: 'Look up' }).click();
      const slow = page.locator('.group-detail .slow-mode + .notice');
      await expect.poll(() => slow.textContent()).toBe('Off.');
      await page.getByLabel('Slow mode in seconds').fill('30');
      await page.getByRole('button', { name: 'Set slow mode' }).click();
      await expect.poll(() => slow.textContent()).toBe('Members other than the owner and admins may send one message every 30 s.');
      expect((await admin.call('GET', '/groups/lunch')).body.group.slowModeSeconds).toBe(30);
      await page.getByLabel('Slow mode in seconds').fill('0');
      await page.getByRole('button', { name: 'Set slow mode' }).click();
      await expect.poll(() => slow.textContent()).toBe('Off.');
    } finally {
      if (saved === undefined) delete process.env.LIMITS;
      else process.env.LIMITS = saved;
    }
  });

  it('fits a phone screen: the navigation wraps, the dashboard charts stack', async () => {
    await page.setViewportSize({ width: 390, height: 800 });
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.locator('figure[data-chart="messages"] svg').waitFor();
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(shots, 'admin-dashboard-phone.png'), fullPage: true });
    await page.setViewportSize({ width: 1200, height: 900 });
  });

  it('works from a deployed site: the API URL from config.json, another origin, within the CSP', async () => {
    const other = await browser.newContext({ viewport: { width: 1000, height: 800 } });
    try {
      const sitePage = await other.newPage();
      const seen: string[] = [];
      sitePage.on('pageerror', (err) => seen.push(`page error: ${err.message}`));
      sitePage.on('console', (msg) => {
        if (/Content Security Policy/i.test(msg.text())) seen.push(msg.text());
      });
      await sitePage.goto(`${siteUrl}/admin`);
      expect(sitePage.url()).toBe(`${siteUrl}/admin/`);
      await sitePage.getByText(`API: ${cirrus.apiUrl}`).waitFor();
      await sitePage.getByLabel('Admin secret').fill(cirrus.adminSecret);
      await sitePage.getByRole('button', { name: 'Sign in' }).click();
      await expect.poll(() => sitePage.locator('[data-total="newUsers"] .value').textContent(), { timeout: 10_000 }).toBe('4');
      await sitePage.locator(`figure[data-chart="messages"] svg g[data-date="${today}"] rect`).first().waitFor();
      expect(seen).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it('ends the session: sign out; a token the API refuses or an expired one goes back to sign-in with a message', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toBe('Signed out.');
    expect(await page.evaluate(() => sessionStorage.getItem('cirrus-admin.session'))).toBeNull();

    // A token the API does not accept (as after a secret rotation): the first call ends the session.
    await page.evaluate((apiUrl) => sessionStorage.setItem('cirrus-admin.session', JSON.stringify({ token: 'forged.token', expiresAt: Math.floor(Date.now() / 1000) + 3600, apiUrl })), cirrus.apiUrl);
    await page.reload();
    await expect.poll(() => page.getByRole('alert').textContent(), { timeout: 10_000 }).toMatch(/^Your admin session ended \(TOKEN_INVALID \(1102\): .*\)\. Sign in again\.$/);

    // A token past its expiry.
    await page.evaluate((apiUrl) => sessionStorage.setItem('cirrus-admin.session', JSON.stringify({ token: 'old.token', expiresAt: Math.floor(Date.now() / 1000) - 1, apiUrl })), cirrus.apiUrl);
    await page.reload();
    await expect.poll(() => page.getByRole('alert').textContent()).toBe('Your admin session expired. Sign in again.');
    expect(problems).toEqual([]);
  });
});
