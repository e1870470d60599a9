/**
 * The local runtime starts the push stand-ins and configures the functions for them: keys
 * generated once and kept in the state directory, the secrets in Parameter Store, PUSH_SETTINGS
 * and the provider endpoints in the functions' environment; the landing page lists what the
 * stand-ins received.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { startCirrus } from '../support/cirrus';
import type { LocalCirrus } from '../../local/runtime';
import type { Device, Notification, PushCredentials, PushSettings } from '../../core/offline-push/types';
import { createProviders } from '../../core/offline-push/providers';
import { closeApnsSessions } from '../../core/offline-push/apns';
import { validateWebPushSubscription } from '../../core/offline-push/webpush';

const dataDir = mkdtempSync(join(tmpdir(), 'cirrus-push-'));
const webDist = mkdtempSync(join(tmpdir(), 'cirrus-noweb-'));
let cirrus: LocalCirrus;

const notification: Notification = { title: 'Alice', body: 'Lunch?', silent: false, badge: 2, threadId: 'si_a_b', collapseId: 'si_a_b', data: { conversationId: 'si_a_b', seq: '7' }, ttlSeconds: 600, priority: 'high' };
const device = (provider: Device['provider'], token: string, appId: string): Device => ({ userId: 'bob', deviceId: provider, provider, token, appId, platformId: 1, createdAt: 0, updatedAt: 0 });

/** The credentials as the notify function gets them: PUSH_SETTINGS from its environment, the secrets from Parameter Store. */
async function loadCredentials(): Promise<PushCredentials> {
  const settings = JSON.parse(process.env.PUSH_SETTINGS!) as PushSettings;
  const ssm = new SSMClient({ endpoint: cirrus.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const get = async (name: string) => (await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }))).Parameter!.Value!;
  const account = JSON.parse(await get(settings.fcm!.serviceAccountParameter)) as { client_email: string; private_key: string };
  const credentials: PushCredentials = {
    apns: { ...settings.apns!, privateKey: await get(settings.apns!.keyParameter) },
    fcm: { ...settings.fcm!, clientEmail: account.client_email, privateKey: account.private_key },
    webpush: { ...settings.webpush!, privateKey: await get(settings.webpush!.privateKeyParameter) },
  };
  ssm.destroy();
  return credentials;
}

const post = async (url: string, body: unknown) => (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json() as Promise<any>;

beforeAll(async () => {
  cirrus = await startCirrus({ dataDir, webDist });
});

afterAll(async () => {
  await closeApnsSessions();
  await cirrus?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(webDist, { recursive: true, force: true });
});

describe('push stand-ins in the local runtime', () => {
  let apnsToken: string;
  let subscription: { endpoint: string; keys: { p256dh: string; auth: string } };

  it('configures the functions: PUSH_SETTINGS, the endpoints, the secrets in Parameter Store; every provider delivers', async () => {
    expect(JSON.parse(process.env.PUSH_SETTINGS!)).toEqual(cirrus.push.settings);
    expect(process.env.APNS_ENDPOINT).toBe(cirrus.push.endpoints.apns);
    expect(process.env.FCM_ENDPOINT).toBe(`${cirrus.url}/local/push/fcm`);
    expect(process.env.FCM_TOKEN_ENDPOINT).toBe(`${cirrus.url}/local/push/fcm/token`);
    const credentials = await loadCredentials();
    expect(credentials).toEqual(cirrus.push.credentials);
    const providers = createProviders(credentials);

    const config = await (await fetch(cirrus.push.urls.config)).json();
    expect(config).toMatchObject({ bundleIds: ['com.example.cirrus'], projectId: 'cirrus-local', vapidPublicKey: credentials.webpush!.publicKey });
    apnsToken = (await post(cirrus.push.urls.apnsTokens, {})).token;
    const fcmToken = (await post(cirrus.push.urls.fcmTokens, {})).token;
    subscription = await post(cirrus.push.urls.webPushSubscriptions, { applicationServerKey: config.vapidPublicKey });
    // The functions' environment allows this runtime's own host for Web Push.
    expect(validateWebPushSubscription(subscription)).toEqual(subscription);

    expect((await providers.send(device('apns', apnsToken, 'com.example.cirrus'), notification)).kind).toBe('sent');
    expect((await providers.send(device('fcm', fcmToken, 'com.example.cirrus'), notification)).kind).toBe('sent');
    expect((await providers.send(device('webpush', JSON.stringify(subscription), cirrus.url), notification)).kind).toBe('sent');
    const { notifications } = await (await fetch(cirrus.push.urls.notifications)).json();
    expect(notifications.map((n: { provider: string }) => n.provider)).toEqual(['webpush', 'fcm', 'apns']);
    expect(notifications.every((n: { title: string; body: string; badge: number }) => n.title === 'Alice' && n.body === 'Lunch?' && n.badge === 2)).toBe(true);
  });

  it('lists the recent notifications on the landing page', async () => {
    const page = await (await fetch(`${cirrus.url}/`)).text();
    expect(page).toContain('Recent notifications');
    expect(page.match(/<b>Alice<\/b> Lunch\?/g)).toHaveLength(3);
    const own = await fetch(`${cirrus.url}/local/push/`);
    expect(own.headers.get('content-type')).toContain('text/html');
    expect(await own.text()).toContain(`…${apnsToken.slice(-12)}`);
  });

  it('keeps the keys, tokens and subscriptions across a restart', async () => {
    const before = cirrus.push.credentials;
    const port = new URL(cirrus.url).port;
    await closeApnsSessions();
    await cirrus.stop();
    cirrus = await startCirrus({ dataDir, webDist, port: Number(port) });
    expect(cirrus.push.credentials).toEqual(before);
    const providers = createProviders(await loadCredentials());
    expect((await providers.send(device('apns', apnsToken, 'com.example.cirrus'), notification)).kind).toBe('sent');
    expect((await providers.send(device('webpush', JSON.stringify(subscription), cirrus.url), notification)).kind).toBe('sent');
  });
});
