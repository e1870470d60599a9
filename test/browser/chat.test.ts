/**
 * The web chat demo in a real browser: Chromium (Debian's, driven by playwright-core) against
 * a local Cirrus serving a fresh build of `web/`. Two users sign in through the development
 * sign-in, one writes, the other sees the message with an unread badge, reads it and replies;
 * then typing, a reaction, a picture and a file, and a pin. Then editing and revoking a message,
 * a friend request accepted, and a group created, messaged in, and its members managed.
 * Chromium is required: CI installs it (`.ci/run`); without it this file fails.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromiumPath, launchChromium } from '../support/browser';
import { Resvg } from '@resvg/resvg-js';
import { buildWeb } from '../../web/build';
import { startCirrus } from '../support/cirrus';
import type { LocalCirrus } from '../../local/runtime';

const here = dirname(fileURLToPath(import.meta.url));

let cirrus: LocalCirrus;
let browser: Browser;
let outDir: string;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  chromiumPath();
  outDir = mkdtempSync(join(tmpdir(), 'cirrus-web-'));
  await buildWeb({ outDir, logLevel: 'silent' });
  [cirrus, browser] = await Promise.all([startCirrus({ webDist: outDir }), launchChromium()]);
});

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await cirrus?.stop();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

async function signedIn(userId: string, viewport: { width: number; height: number }): Promise<Page> {
  const context = await browser.newContext({ viewport });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error(`[${userId}] page error: ${err.message}`));
  await page.goto(cirrus.url + '/');
  await page.getByLabel('User id').fill(userId);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('.state[data-state="connected"]').waitFor({ timeout: 15_000 });
  return page;
}

describe('web chat demo', () => {
  it('serves the demo at / with content types, and the dev sign-in mints tokens', async () => {
    const index = await fetch(cirrus.url + '/');
    expect(index.headers.get('content-type')).toContain('text/html');
    const html = await index.text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeTruthy();
    const js = await fetch(cirrus.url + script);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toContain('text/javascript');
    expect((await fetch(cirrus.url + '/assets/../../package.json')).status).toBe(404);

    const res = await fetch(cirrus.url + '/dev/sign-in', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: 'carol' }) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { token: string; wsUrl: string; apiUrl: string };
    expect(body).toMatchObject({ wsUrl: cirrus.wsUrl, apiUrl: cirrus.apiUrl });
    expect(body.token).toMatch(/\./);
    // A second sign-in of a registered user works too; a bad id is refused.
    expect((await fetch(cirrus.url + '/dev/sign-in', { method: 'POST', body: JSON.stringify({ userId: 'carol' }) })).status).toBe(200);
    expect((await fetch(cirrus.url + '/dev/sign-in', { method: 'POST', body: JSON.stringify({ userId: '_bad id' }) })).status).toBe(400);
  });

  it('two users chat: send, receive with an unread badge, read receipt, reply, typing, react, picture and file, pin', async () => {
    const [alice, bob] = await Promise.all([signedIn('alice', { width: 1000, height: 700 }), signedIn('bob', { width: 390, height: 760 })]);

    // alice starts a chat with bob and writes.
    await alice.getByLabel('User id to chat with').fill('bob');
    await alice.getByRole('button', { name: 'Start' }).click();
    await alice.getByLabel('Message', { exact: true }).fill('Hi Bob, lunch at noon?');
    await alice.getByRole('button', { name: 'Send' }).click();
    const sent = alice.locator('.message.mine', { hasText: 'Hi Bob, lunch at noon?' });
    await expect.poll(() => sent.getAttribute('data-status'), { timeout: 15_000 }).toMatch(/^(sent|read)$/);

    // bob (phone-sized) sees the conversation with one unread, opens it, reads it.
    const bobRow = bob.locator('li[data-conversation-id="si_alice_bob"]');
    await bobRow.locator('.badge', { hasText: '1' }).waitFor({ timeout: 15_000 });
    await expect.poll(() => bobRow.locator('.preview').textContent()).toBe('Hi Bob, lunch at noon?');
    await bobRow.getByRole('button').click();
    await bob.locator('.message.theirs', { hasText: 'Hi Bob, lunch at noon?' }).waitFor();
    await bob.locator('.back').click();
    await expect.poll(() => bobRow.locator('.badge').count(), { timeout: 10_000 }).toBe(0);
    await bobRow.getByRole('button').click();

    // alice's message turns read.
    await expect.poll(() => sent.getAttribute('data-status'), { timeout: 15_000 }).toBe('read');

    // bob types: alice sees the indicator; then bob replies.
    await bob.getByLabel('Message', { exact: true }).pressSequentially('Sure', { delay: 20 });
    await expect.poll(() => alice.locator('.typing').textContent(), { timeout: 10_000 }).toBe('typing…');
    await bob.getByLabel('Message', { exact: true }).fill('Sure, see you there!');
    await bob.getByRole('button', { name: 'Send' }).click();
    await alice.locator('.message.theirs', { hasText: 'Sure, see you there!' }).waitFor({ timeout: 15_000 });
    await expect.poll(() => bob.locator('.message.mine', { hasText: 'Sure, see you there!' }).getAttribute('data-status'), { timeout: 15_000 }).toMatch(/^(sent|read)$/);

    // alice reacts to the reply; bob sees the reaction.
    const reply = alice.locator('.message.theirs', { hasText: 'Sure, see you there!' });
    await reply.hover();
    await reply.getByRole('button', { name: 'React with 👍' }).click();
    await bob.locator('.message.mine', { hasText: 'Sure, see you there!' }).locator('.chip', { hasText: '👍 1' }).waitFor({ timeout: 15_000 });

    // alice sends a picture and a file (uploaded through presigned POSTs); bob sees both.
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="240" height="120"><defs><linearGradient id="g"><stop offset="0" stop-color="#2563eb"/><stop offset="1" stop-color="#16a34a"/></linearGradient></defs><rect width="240" height="120" rx="16" fill="url(#g)"/><circle cx="60" cy="60" r="30" fill="#fff"/></svg>`;
    const png = Buffer.from(new Resvg(svg).render().asPng());
    await alice.getByLabel('Attach a picture or file').setInputFiles({ name: 'lunch.png', mimeType: 'image/png', buffer: png });
    await alice.locator('.message.mine img.picture').waitFor({ timeout: 15_000 });
    await alice.getByLabel('Attach a picture or file').setInputFiles({ name: 'menu.txt', mimeType: 'text/plain', buffer: Buffer.from('Soup of the day: tomato\n') });
    const picture = bob.locator('.message.theirs img.picture');
    await picture.waitFor({ timeout: 15_000 });
    await expect.poll(() => picture.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), { timeout: 15_000 }).toBe(240);
    const file = bob.locator('.message.theirs a.file', { hasText: 'menu.txt' });
    await file.waitFor({ timeout: 15_000 });
    // The link gets its presigned URL asynchronously, and again whenever the message is re-rendered: keep the one seen.
    let href: string | null = null;
    await expect.poll(async () => (href = await file.getAttribute('href')), { timeout: 10_000 }).toMatch(/^http/);
    const download = await fetch(href!);
    expect(await download.text()).toBe('Soup of the day: tomato\n');
    await expect.poll(() => alice.locator('.message.mine img.picture').evaluate((img: HTMLImageElement) => img.naturalWidth), { timeout: 15_000 }).toBe(240);

    // alice pins the conversation (client.api in the browser); the list shows the pin.
    await alice.getByRole('button', { name: 'Pin' }).click();
    await alice.locator('li[data-conversation-id="si_alice_bob"] .pinned').waitFor({ timeout: 10_000 });
    await expect.poll(() => alice.locator('.pin').textContent()).toBe('Unpin');

    // Both list the conversation, with the newest message as its preview.
    await expect.poll(() => alice.locator('li[data-conversation-id="si_alice_bob"] .preview').textContent(), { timeout: 10_000 }).toBe('You: 📎 menu.txt');
    await bob.locator('.back').click();
    await expect.poll(() => bobRow.locator('.preview').textContent(), { timeout: 10_000 }).toBe('📎 menu.txt');

    mkdirSync(join(here, 'screenshots'), { recursive: true });
    await alice.screenshot({ path: join(here, 'screenshots', 'chat.png') });
    await bobRow.getByRole('button').click();
    await bob.locator('.message.theirs img.picture').waitFor();
    await bob.screenshot({ path: join(here, 'screenshots', 'chat-phone.png') });
    expect(existsSync(join(here, 'screenshots', 'chat.png'))).toBe(true);
  });

  it('edits and revokes a message: the other user sees the edit and the revoked marker', async () => {
    const [dave, erin] = await Promise.all([signedIn('dave', { width: 1000, height: 700 }), signedIn('erin', { width: 390, height: 760 })]);
    await dave.getByLabel('User id to chat with').fill('erin');
    await dave.getByRole('button', { name: 'Start' }).click();
    const composer = dave.getByLabel('Message', { exact: true });
    for (const text of ['Meet at 5?', 'Wrong chat, sorry']) {
      await composer.fill(text);
      await dave.getByRole('button', { name: 'Send' }).click();
      await expect.poll(() => dave.locator('.message.mine', { hasText: text }).getAttribute('data-status'), { timeout: 15_000 }).toMatch(/^(sent|read)$/);
    }

    await erin.locator('li[data-conversation-id="si_dave_erin"]').getByRole('button').click();
    await erin.locator('.message.theirs', { hasText: 'Wrong chat, sorry' }).waitFor({ timeout: 15_000 });

    // dave edits the first message in the composer.
    const first = dave.locator('.message.mine', { hasText: 'Meet at 5?' });
    await first.hover();
    await first.getByRole('button', { name: 'Edit message' }).click();
    await expect.poll(() => composer.inputValue()).toBe('Meet at 5?');
    await dave.locator('.editing-bar').waitFor();
    await composer.fill('Meet at 6?');
    await dave.getByRole('button', { name: 'Send' }).click();
    await dave.locator('.message.mine[data-edited]', { hasText: 'Meet at 6?' }).waitFor({ timeout: 15_000 });
    const edited = erin.locator('.message.theirs', { hasText: 'Meet at 6?' });
    await edited.locator('.edited').waitFor({ timeout: 15_000 });
    // Editing is not typing: erin saw no typing indicator (it would have come before the edit).
    expect(await erin.locator('.typing').textContent()).toBe('');
    expect(await erin.locator('.message', { hasText: 'Meet at 5?' }).count()).toBe(0);

    // dave revokes the second; erin sees the marker instead of the text.
    const second = dave.locator('.message.mine', { hasText: 'Wrong chat, sorry' });
    await second.hover();
    await second.getByRole('button', { name: 'Revoke message' }).click();
    await dave.locator('.message.mine[data-revoked]', { hasText: 'You revoked a message' }).waitFor({ timeout: 15_000 });
    await erin.locator('.message.theirs[data-revoked]', { hasText: 'dave revoked a message' }).waitFor({ timeout: 15_000 });
    expect(await erin.locator('.message', { hasText: 'Wrong chat, sorry' }).count()).toBe(0);
    await expect.poll(() => dave.locator('.message.mine').count()).toBe(2);
    await erin.screenshot({ path: join(here, 'screenshots', 'edit-revoke-phone.png') });
  });

  it('sends a friend request, the other user accepts it, both list each other as friends', async () => {
    const [ivan, judy] = await Promise.all([signedIn('ivan', { width: 1000, height: 700 }), signedIn('judy', { width: 390, height: 760 })]);
    await ivan.getByRole('tab', { name: 'Friends' }).click();
    await ivan.getByLabel('Friend user id').fill('judy');
    await ivan.getByRole('button', { name: 'Add friend' }).click();
    await expect.poll(() => ivan.locator('[data-view="friends"] .notice').textContent(), { timeout: 10_000 }).toBe('Request sent to judy.');

    // judy sees the request counted on the tab, opens it and accepts.
    await judy.getByRole('tab', { name: 'Friends' }).locator('.badge', { hasText: '1' }).waitFor({ timeout: 15_000 });
    await judy.getByRole('tab', { name: 'Friends' }).click();
    const request = judy.locator('.requests li[data-user-id="ivan"]');
    await request.waitFor({ timeout: 10_000 });
    await request.getByRole('button', { name: 'Accept' }).click();
    await judy.locator('.friends li[data-user-id="ivan"]').waitFor({ timeout: 15_000 });
    await expect.poll(() => judy.locator('.requests li').count()).toBe(0);
    await ivan.locator('.friends li[data-user-id="judy"]').waitFor({ timeout: 15_000 });
    await ivan.screenshot({ path: join(here, 'screenshots', 'friends.png') });

    // From the friend list, a chat.
    await judy.locator('.friends li[data-user-id="ivan"]').getByRole('button', { name: 'Chat' }).click();
    await expect.poll(() => judy.locator('.chat-header .peer').textContent()).toBe('ivan');
  });

  it('creates a group with a member, both write in it with senders shown; the owner adds and removes a member', async () => {
    const [frank, grace, heidi] = await Promise.all([
      signedIn('frank', { width: 1000, height: 700 }),
      signedIn('grace', { width: 390, height: 760 }),
      signedIn('heidi', { width: 390, height: 760 }),
    ]);
    await frank.getByRole('tab', { name: 'Groups' }).click();
    await frank.getByLabel('Group name').fill('Lunch club');
    await frank.getByLabel('Member ids').fill('grace');
    await frank.getByRole('button', { name: 'Create group' }).click();
    await expect.poll(() => frank.locator('.chat-header .peer').textContent(), { timeout: 10_000 }).toBe('Lunch club');
    await frank.getByLabel('Message', { exact: true }).fill('Welcome to the lunch club');
    await frank.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => frank.locator('.message.mine', { hasText: 'Welcome to the lunch club' }).getAttribute('data-status'), { timeout: 15_000 }).toBe('sent');

    // grace (a member) sees the group by name, opens it, sees frank's message with its sender, replies.
    const graceRow = grace.locator('.conversation', { hasText: 'Lunch club' });
    await graceRow.waitFor({ timeout: 15_000 });
    await graceRow.click();
    const welcome = grace.locator('.message.theirs', { hasText: 'Welcome to the lunch club' });
    await welcome.waitFor({ timeout: 15_000 });
    await expect.poll(() => welcome.locator('.sender').textContent()).toBe('frank');
    await grace.getByLabel('Message', { exact: true }).fill('Count me in');
    await grace.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => frank.locator('.message.theirs', { hasText: 'Count me in' }).locator('.sender').textContent(), { timeout: 15_000 }).toBe('grace');

    // frank lists the members and adds heidi; heidi sees the group among hers.
    await frank.getByRole('button', { name: 'Members' }).click();
    await frank.locator('.members li[data-user-id="grace"]', { hasText: 'member' }).waitFor({ timeout: 10_000 });
    await frank.locator('.members li[data-user-id="frank"]', { hasText: 'owner' }).waitFor();
    await frank.getByLabel('User ids to add').fill('heidi');
    await frank.getByRole('button', { name: 'Add', exact: true }).click();
    await frank.locator('.members li[data-user-id="heidi"]').waitFor({ timeout: 10_000 });
    await heidi.getByRole('tab', { name: 'Groups' }).click();
    const heidiGroup = heidi.locator('.groups li', { hasText: 'Lunch club' });
    await heidiGroup.waitFor({ timeout: 15_000 });

    // grace (not an admin) sees the members without the controls.
    await grace.getByRole('button', { name: 'Members' }).click();
    await grace.locator('.members li[data-user-id="heidi"]').waitFor({ timeout: 10_000 });
    expect(await grace.getByRole('button', { name: /^Remove / }).count()).toBe(0);
    expect(await grace.getByLabel('User ids to add').isVisible()).toBe(false);

    // frank removes heidi; the group leaves heidi's list.
    await frank.getByRole('button', { name: 'Remove heidi' }).click();
    await expect.poll(() => frank.locator('.members li[data-user-id="heidi"]').count(), { timeout: 10_000 }).toBe(0);
    await expect.poll(() => heidiGroup.count(), { timeout: 15_000 }).toBe(0);

    await grace.screenshot({ path: join(here, 'screenshots', 'group-phone.png') });
  });
});
