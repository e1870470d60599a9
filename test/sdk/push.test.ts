/**
 * The SDK's offline push calls against the local runtime: registering and unregistering a
 * device (over HTTP, and over the connection without `apiUrl`), push settings, the app
 * state told to the server and told again after a reconnect, and logout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { CirrusClient, type CirrusClientOptions } from '../../sdk/src/index';
import { admin, cirrus, useCirrus } from '../support/harness';
import { eventually } from '../support/cirrus';
import { ddb } from '../../core/aws/dynamodb';
import { connectionsFromPresence } from '../../core/store/connections';

useCirrus();

const BUNDLE = 'com.example.chat';
let before: string | undefined;
beforeAll(() => {
  before = process.env.PUSH_SETTINGS;
  process.env.PUSH_SETTINGS = JSON.stringify({
    apns: { keyId: 'ABCDEFGHIJ', teamId: 'TEAM123456', bundleIds: [BUNDLE], keyParameter: '/cirrus/apns-key' },
    fcm: { projectId: 'cirrus-test', serviceAccountParameter: '/cirrus/fcm-account' },
  });
});

const clients: CirrusClient[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  if (before === undefined) delete process.env.PUSH_SETTINGS;
  else process.env.PUSH_SETTINGS = before;
});

async function client(userId: string, platformId = 1, options: Partial<CirrusClientOptions> = {}): Promise<CirrusClient> {
  const c = await CirrusClient.create({
    wsUrl: cirrus.wsUrl,
    apiUrl: cirrus.apiUrl,
    token: await admin.userToken(userId, platformId),
    store: 'memory',
    WebSocket: WebSocket as unknown as CirrusClientOptions['WebSocket'],
    backoff: { minDelayMs: 50, maxDelayMs: 200 },
    ...options,
  });
  clients.push(c);
  return c;
}

const apnsToken = () => randomBytes(32).toString('hex');
async function deviceIds(userId: string): Promise<string[]> {
  const res = await ddb().send(new QueryCommand({ TableName: cirrus.tableNames.devices, KeyConditionExpression: 'userId = :u', ExpressionAttributeValues: { ':u': userId }, ConsistentRead: true }));
  return (res.Items ?? []).map((d) => d.deviceId as string).sort();
}
async function liveConnections(userId: string) {
  const item = (await ddb().send(new GetCommand({ TableName: cirrus.tableNames.users, Key: { userId }, ConsistentRead: true }))).Item ?? {};
  return connectionsFromPresence(userId, item.conns);
}

describe('push devices from the SDK', () => {
  it('registers and unregisters over HTTP, and over the connection without apiUrl', async () => {
    await admin.register('sdkp-ann');
    const c = await client('sdkp-ann');
    const token = apnsToken();
    const res = await c.registerPushDevice({ deviceId: 'phone', provider: 'apns', token, appId: BUNDLE, platformId: 1, locale: 'en-GB' });
    expect(res.device).toMatchObject({ deviceId: 'phone', provider: 'apns', locale: 'en-GB' });
    expect(res.device.tokenHint).not.toBe(token);
    expect(await deviceIds('sdkp-ann')).toEqual(['phone']);
    const listed = await c.api.listPushDevices();
    expect(listed.devices.map((d) => d.deviceId)).toEqual(['phone']);
    await expect(c.registerPushDevice({ deviceId: 'web', provider: 'webpush', token: 'x', appId: 'https://a.example', platformId: 5 })).rejects.toMatchObject({ reason: 'PUSH_PROVIDER_DISABLED' });
    expect(await c.unregisterPushDevice('phone')).toEqual({ removed: true });
    expect(await deviceIds('sdkp-ann')).toEqual([]);

    // Without apiUrl: over the WebSocket connection.
    const ws = await client('sdkp-ann', 2, { apiUrl: undefined });
    await ws.connect();
    await ws.registerPushDevice({ deviceId: 'pixel', provider: 'fcm', token: `f${randomBytes(80).toString('base64url')}`, appId: 'com.example.chat', platformId: 2 });
    expect(await deviceIds('sdkp-ann')).toEqual(['pixel']);
    expect(await ws.unregisterPushDevice('pixel')).toEqual({ removed: true });
    expect(await deviceIds('sdkp-ann')).toEqual([]);
  });

  it('reads and changes push settings', async () => {
    await admin.register('sdkp-set');
    const c = await client('sdkp-set');
    expect(await c.getPushSettings()).toEqual({ quietHours: null, hidePreview: false });
    const quietHours = { start: '23:00', end: '06:30', timeZone: 'America/New_York' };
    expect(await c.setPushSettings({ quietHours })).toEqual({ quietHours, hidePreview: false });
    expect(await c.setPushSettings({ hidePreview: true })).toEqual({ quietHours, hidePreview: true });
    await expect(c.setPushSettings({ quietHours: { ...quietHours, timeZone: 'Nowhere/Land' } })).rejects.toMatchObject({ reason: 'INVALID_ARGUMENT' });
    expect(await c.getPushSettings()).toEqual({ quietHours, hidePreview: true });
  });

  it('tells the server the app state, and again on every new connection', async () => {
    await admin.register('sdkp-bg');
    const c = await client('sdkp-bg');
    expect(c.currentAppState).toBe('active');
    // Set before connecting: sent when the connection opens.
    await c.setAppState('background');
    await c.connect();
    await eventually(async () => (await liveConnections('sdkp-bg')).some((x) => x.background === true));

    await c.setAppState('active');
    await eventually(async () => {
      const conns = await liveConnections('sdkp-bg');
      return conns.length === 1 && conns[0].background === undefined;
    });

    await c.setAppState('background');
    const first = (await liveConnections('sdkp-bg'))[0].connectionId;
    await eventually(async () => (await liveConnections('sdkp-bg'))[0]?.background === true);
    // A new connection starts in the foreground on the server: the client tells it again.
    c.disconnect();
    await eventually(async () => (await liveConnections('sdkp-bg')).length === 0);
    await c.connect();
    const again = await eventually(async () => {
      const conns = await liveConnections('sdkp-bg');
      return conns.length === 1 && conns[0].connectionId !== first && conns[0].background === true && conns;
    });
    expect(again[0].background).toBe(true);
    await expect(c.setAppState('asleep' as never)).rejects.toMatchObject({ reason: 'USAGE' });
  });

  it('logout ends the session on the server, removes its devices and closes the client', async () => {
    await admin.register('sdkp-out');
    const c = await client('sdkp-out');
    await c.connect();
    await c.registerPushDevice({ deviceId: 'phone', provider: 'apns', token: apnsToken(), appId: BUNDLE, platformId: 1 });
    const other = await client('sdkp-out', 5);
    await other.registerPushDevice({ deviceId: 'tablet', provider: 'apns', token: apnsToken(), appId: BUNDLE, platformId: 1 });
    await c.logout();
    expect(c.state).toBe('disconnected');
    expect(await deviceIds('sdkp-out')).toEqual(['tablet']);
    const refused = await admin.call('GET', '/users/sdkp-out/devices', undefined, c.token);
    expect(refused.body.error.reason).toBe('TOKEN_REVOKED');
  });
});
