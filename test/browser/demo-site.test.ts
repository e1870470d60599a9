/**
 * The web chat demo as the deployed demo site runs it: the build served from its own origin with
 * a `config.json` and the site's Content-Security-Policy (as `CirrusDemoSite` deploys them), an
 * app backend on a third origin implementing the token URL contract of docs/deploy.md (its own
 * session cookie, CORS with credentials, a user token from the admin API), and a local Cirrus
 * for the APIs. Chromium is required, as for chat.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { chromiumPath, launchChromium } from '../support/browser';
import { buildWeb } from '../../web/build';
import { DEMO_CONTENT_SECURITY_POLICY } from '../../lib/demo-site';
import { serveStatic } from '../../local/web';
import { Admin, startCirrus } from '../support/cirrus';
import type { LocalCirrus } from '../../local/runtime';


let cirrus: LocalCirrus;
let browser: Browser;
let outDir: string;
let site: Server;
let backend: Server;
let siteUrl: string;
let backendUrl: string;
const contexts: BrowserContext[] = [];
/** What the app backend's token endpoint received. */
const tokenRequests: { origin?: string; cookie?: string; body: unknown }[] = [];

const listen = (server: Server) =>
  new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://localhost:${(server.address() as AddressInfo).port}`)));

const readBody = async (req: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

beforeAll(async () => {
  chromiumPath();
  outDir = mkdtempSync(join(tmpdir(), 'cirrus-site-'));
  await buildWeb({ outDir, logLevel: 'silent' });
  [cirrus, browser] = await Promise.all([startCirrus({ webDist: outDir }), launchChromium()]);
  const admin = new Admin(cirrus.apiUrl, cirrus.adminSecret);
  await admin.call('POST', '/users/register', { users: [{ userId: 'erin' }] });

  // The app backend: GET /login?user= sets its session cookie; POST /cirrus/token is the contract.
  backend = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const cors = {
        'access-control-allow-origin': siteUrl,
        'access-control-allow-credentials': 'true',
        'access-control-allow-methods': 'POST',
        'access-control-allow-headers': 'content-type',
        vary: 'origin',
      };
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json', ...cors });
        res.end(JSON.stringify(body));
      };
      if (url.pathname === '/login') {
        res.writeHead(200, { 'set-cookie': `session=${url.searchParams.get('user')}; Path=/; HttpOnly; SameSite=Lax`, 'content-type': 'text/plain' });
        return void res.end('signed in');
      }
      if (url.pathname !== '/cirrus/token') return reply(404, { message: 'not found' });
      if (req.method === 'OPTIONS') {
        res.writeHead(204, cors);
        return void res.end();
      }
      const body = JSON.parse((await readBody(req)) || '{}') as unknown;
      tokenRequests.push({ origin: req.headers.origin, cookie: req.headers.cookie, body });
      const user = /(?:^|;\s*)session=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
      if (!user) return reply(401, { message: 'Sign in to the app first' });
      await admin.call('POST', '/users/register', { users: [{ userId: user }] });
      const issued = await admin.call('POST', '/auth/user-token', { userId: user, platformId: 5 });
      reply(200, { token: issued.body.token, userId: user });
    })().catch(() => {
      res.writeHead(500);
      res.end();
    });
  });
  backendUrl = await listen(backend);

  // The demo site: the build, config.json and the deployed CSP (its https:/wss: read as the
  // local runtime's http:/ws:).
  const csp = DEMO_CONTENT_SECURITY_POLICY.replaceAll('https:', 'http:').replaceAll('wss:', 'ws:');
  site = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    res.setHeader('content-security-policy', csp);
    if (url.pathname === '/config.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ wsUrl: cirrus.wsUrl, apiUrl: cirrus.apiUrl, tokenUrl: `${backendUrl}/cirrus/token` }));
    }
    if (serveStatic(outDir, req, res, url.pathname)) return;
    res.writeHead(404);
    res.end();
  });
  siteUrl = await listen(site);
});

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await new Promise((resolve) => (site ? site.close(resolve) : resolve(undefined)));
  await new Promise((resolve) => (backend ? backend.close(resolve) : resolve(undefined)));
  await cirrus?.stop();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

describe('web chat demo on a demo site', () => {
  it('has no config.json in the local runtime, which keeps the development sign-in', async () => {
    expect((await fetch(cirrus.url + '/config.json')).status).toBe(404);
  });

  it('signs in through the token URL with the app backend cookie, within the CSP', async () => {
    const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    contexts.push(context);
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    page.on('pageerror', (err) => violations.push(`page error: ${err.message}`));

    await page.goto(siteUrl + '/');
    await page.getByText(`Signs in through the app's backend (${new URL(backendUrl).host})`).waitFor();
    // Without the backend's session, its answer's message is shown.
    await page.getByLabel('User id').fill('dave');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').getByText('Sign in to the app first').waitFor();
    expect(tokenRequests.at(-1)).toMatchObject({ origin: siteUrl, body: { userId: 'dave' } });

    // Signed in to the app backend (its cookie), the demo gets a token and connects.
    await page.goto(`${backendUrl}/login?user=dave`);
    await page.goto(siteUrl + '/');
    await page.getByLabel('User id').fill('dave');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.state[data-state="connected"]').waitFor({ timeout: 15_000 });
    expect(await page.locator('.me').textContent()).toBe('dave');
    expect(tokenRequests.at(-1)).toMatchObject({ origin: siteUrl, cookie: 'session=dave', body: { userId: 'dave' } });

    // The HTTP API works from the site's origin: start a chat and send a message.
    await page.getByLabel('User id to chat with').fill('erin');
    await page.getByRole('button', { name: 'Start' }).click();
    await page.getByLabel('Message', { exact: true }).fill('hello from the demo site');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.locator('.message.mine[data-status="sent"], .message.mine[data-status="read"]').first().waitFor({ timeout: 15_000 });
    expect(violations).toEqual([]);
  });
});
