/**
 * The web chat demo's encrypted chat in Chromium: two users sign in, one starts an encrypted
 * chat (the lock), both read each other's messages, both see the same key fingerprints and
 * safety number, and the server's message store holds none of the text.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { launchChromium, chromiumPath } from '../support/browser';
import { buildWeb } from '../../web/build';
import { startCirrus } from '../support/cirrus';
import { ddb } from '../../core/aws/dynamodb';
import type { LocalCirrus } from '../../local/runtime';

let cirrus: LocalCirrus;
let browser: Browser;
let outDir: string;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  chromiumPath();
  outDir = mkdtempSync(join(tmpdir(), 'cirrus-web-e2ee-'));
  await buildWeb({ outDir, logLevel: 'silent' });
  [cirrus, browser] = await Promise.all([startCirrus({ webDist: outDir }), launchChromium()]);
}, 240_000);

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await cirrus?.stop();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

async function signedIn(userId: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error(`[${userId}] page error: ${err.message}`));
  await page.goto(cirrus.url + '/');
  await page.getByLabel('User id').fill(userId);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('.state[data-state="connected"]').waitFor({ timeout: 20_000 });
  return page;
}

describe('the encrypted chat of the web demo', () => {
  it('two users chat end-to-end encrypted, with the lock mark and the same key fingerprints', async () => {
    const [alice, bob] = await Promise.all([signedIn('enc-alice'), signedIn('enc-bob')]);

    await alice.getByLabel('User id to chat with').fill('enc-bob');
    await alice.getByRole('checkbox', { name: 'Encrypted' }).check();
    await alice.getByRole('button', { name: 'Start' }).click();
    await alice.locator('.chat-header .lock:not([hidden])').waitFor({ timeout: 20_000 });
    await alice.getByLabel('Message').fill('Meet me by the old lighthouse');
    await alice.getByRole('button', { name: 'Send' }).click();
    await alice.locator('.message.mine[data-encrypted]', { hasText: 'Meet me by the old lighthouse' }).waitFor({ timeout: 15_000 });

    // bob's list shows the conversation with its lock; opened, it shows the decrypted text.
    const entry = bob.locator('[data-conversation-id="si_enc-alice_enc-bob"]');
    await entry.locator('.lock').waitFor({ timeout: 20_000 });
    await entry.locator('button').click();
    await bob.locator('.message.theirs[data-encrypted]', { hasText: 'Meet me by the old lighthouse' }).waitFor({ timeout: 20_000 });
    await bob.getByLabel('Message').fill('Bring the blue lantern');
    await bob.getByRole('button', { name: 'Send' }).click();
    await alice.locator('.message.theirs[data-encrypted]', { hasText: 'Bring the blue lantern' }).waitFor({ timeout: 20_000 });

    // Both hold the same devices with the same fingerprints, and the same safety number.
    const keysOf = async (page: Page) => {
      await page.locator('.keys summary').click();
      await page.locator('.keys .fingerprint').nth(1).waitFor({ timeout: 10_000 });
      const rows = await page.locator('.keys li').evaluateAll((lis) => lis.map((li) => `${li.getAttribute('data-user-id')}/${li.getAttribute('data-device-id')} ${li.querySelector('code')?.textContent}`));
      return { rows: rows.sort(), safety: await page.locator('.safety-number').textContent() };
    };
    const [a, b] = await Promise.all([keysOf(alice), keysOf(bob)]);
    expect(a.rows).toHaveLength(2);
    expect(a.rows).toEqual(b.rows);
    expect(a.safety).toMatch(/^Safety number: (\d{5} ){11}\d{5}$/);
    expect(a.safety).toBe(b.safety);

    // The server's offline store holds only ciphertext.
    const items = (await ddb().send(new ScanCommand({ TableName: cirrus.tableNames.messages }))).Items ?? [];
    expect(items.filter((i) => i.contentType === 150)).toHaveLength(2);
    expect(JSON.stringify(items)).not.toMatch(/lighthouse|lantern/);
  }, 120_000);
});
