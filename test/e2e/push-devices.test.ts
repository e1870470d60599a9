/**
 * Offline push devices: registration over HTTP and WebSocket with the same checks, the
 * masked listing, the per-user cap, a token moving between users, push settings, the push
 * configuration, the app state (setAppBackground), and the removal of a session's devices
 * on logout, force logout, ban and a kick by the multi-login policy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createECDH, randomBytes } from 'node:crypto';
import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { Device as WsDevice, sleep } from '../support/cirrus';
import { admin, as, cirrus, device, useCirrus } from '../support/harness';
import { ddb } from '../../core/aws/dynamodb';
import { connectionsFromPresence, hasForegroundConnection } from '../../core/store/connections';

useCirrus();

const BUNDLE = 'com.example.chat';
const PUSH_SETTINGS = {
  apns: { keyId: 'ABCDEFGHIJ', teamId: 'TEAM123456', bundleIds: [BUNDLE, 'com.example.chat.beta'], keyParameter: '/cirrus/apns-key' },
  fcm: { projectId: 'cirrus-test', serviceAccountParameter: '/cirrus/fcm-account' },
  webpush: { publicKey: createECDH('prime256v1').generateKeys().toString('base64url'), subject: 'mailto:ops@example.com', privateKeyParameter: '/cirrus/vapid' },
};

const saved: Record<string, string | undefined> = {};
function setEnv(name: string, value: string | undefined): void {
  if (!(name in saved)) saved[name] = process.env[name];
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}
beforeAll(() => {
  setEnv('PUSH_SETTINGS', JSON.stringify(PUSH_SETTINGS));
  // As deployed: the push services browsers use only (the local runtime allows its stand-in on localhost).
  setEnv('WEBPUSH_ALLOW_LOCALHOST', undefined);
});
afterAll(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

const apnsToken = () => randomBytes(32).toString('hex');
const fcmToken = () => `${randomBytes(8).toString('hex')}:APA91b${randomBytes(90).toString('base64url')}`;
function subscription(endpoint = `https://fcm.googleapis.com/fcm/send/${randomBytes(12).toString('hex')}`) {
  const ecdh = createECDH('prime256v1');
  return { endpoint, keys: { p256dh: ecdh.generateKeys().toString('base64url'), auth: randomBytes(16).toString('base64url') } };
}
const apns = (token = apnsToken()) => ({ provider: 'apns', token, platformId: 1, appId: BUNDLE, locale: 'en-US' });
const fcm = (token = fcmToken()) => ({ provider: 'fcm', token, platformId: 2, appId: 'com.example.chat' });
const webpush = (token: unknown = subscription()) => ({ provider: 'webpush', token, platformId: 5, appId: 'https://chat.example.com' });

async function userItem(userId: string): Promise<Record<string, any>> {
  return (await ddb().send(new GetCommand({ TableName: cirrus.tableNames.users, Key: { userId }, ConsistentRead: true }))).Item ?? {};
}
async function storedDevices(userId: string): Promise<Record<string, any>[]> {
  return (await ddb().send(new QueryCommand({ TableName: cirrus.tableNames.devices, KeyConditionExpression: 'userId = :u', ExpressionAttributeValues: { ':u': userId }, ConsistentRead: true }))).Items ?? [];
}
async function connectionItem(userId: string, connectionId: string): Promise<Record<string, any> | undefined> {
  return (await ddb().send(new GetCommand({ TableName: cirrus.tableNames.connections, Key: { userId, connectionId }, ConsistentRead: true }))).Item;
}
const ids = async (userId: string) => (await storedDevices(userId)).map((d) => d.deviceId).sort();
const devsMap = async (userId: string) => (await userItem(userId)).devs ?? {};

async function put(userId: string, deviceId: string, body: unknown, token?: string) {
  return admin.call('PUT', `/users/${userId}/devices/${encodeURIComponent(deviceId)}`, body, token ?? (await admin.userToken(userId, 5)));
}

describe('registration over HTTP', () => {
  it('registers APNs, FCM and Web Push devices, lists them with masked tokens, and names them in the user item', async () => {
    await admin.register('pd-ann');
    const token = await admin.userToken('pd-ann', 1);
    const a = apnsToken().toUpperCase();
    const f = fcmToken();
    const sub = subscription();
    const r1 = await put('pd-ann', 'iphone', apns(a), token);
    expect(r1.status).toBe(200);
    expect(r1.body).toMatchObject({ device: { deviceId: 'iphone', provider: 'apns', platformId: 1, appId: BUNDLE, locale: 'en-US' }, evicted: [] });
    expect(r1.body.device.sessionId).toEqual(expect.any(String));
    expect((await put('pd-ann', 'pixel', fcm(f), token)).status).toBe(200);
    // A subscription as an object, or as its JSON text.
    expect((await put('pd-ann', 'browser', webpush(JSON.stringify(sub)), token)).status).toBe(200);

    const list = await admin.call('GET', '/users/pd-ann/devices', undefined, token);
    expect(list.status).toBe(200);
    expect(list.body.maxDevices).toBe(10);
    expect(list.body.devices.map((d: { deviceId: string }) => d.deviceId)).toEqual(['iphone', 'pixel', 'browser']);
    const text = JSON.stringify(list.body);
    // No token is listed in full, to the user or to an admin.
    for (const secret of [a, a.toLowerCase(), f, sub.keys.p256dh, sub.keys.auth, sub.endpoint]) expect(text).not.toContain(secret);
    expect(JSON.stringify((await as('@admin', 'GET', '/users/pd-ann/devices')).body)).not.toContain(a.toLowerCase());
    expect(list.body.devices[0].tokenHint).toBe(`${a.toLowerCase().slice(0, 6)}…${a.toLowerCase().slice(-6)}`);
    expect(list.body.devices[2].tokenHint).toBe('https://fcm.googleapis.com/…');

    // Stored: the APNs token in lowercase, the subscription as compact JSON; the user item's map names each device.
    const stored = await storedDevices('pd-ann');
    expect(stored.find((d) => d.deviceId === 'iphone')!.token).toBe(a.toLowerCase());
    expect(JSON.parse(stored.find((d) => d.deviceId === 'browser')!.token)).toEqual(sub);
    expect(await devsMap('pd-ann')).toEqual({ iphone: 'apns', pixel: 'fcm', browser: 'webpush' });

    // The map and the preferences are never part of the profile.
    const profile = await admin.call('GET', '/users/pd-ann', undefined, token);
    expect(profile.body.user.devs).toBeUndefined();
    expect(Object.keys(profile.body.user).sort()).toEqual(['createdAt', 'userId']);

    // Unregistering removes the item and the map entry; an unknown id is not an error.
    const del = await admin.call('DELETE', '/users/pd-ann/devices/pixel', undefined, token);
    expect(del.body).toEqual({ removed: true });
    expect((await admin.call('DELETE', '/users/pd-ann/devices/pixel', undefined, token)).body).toEqual({ removed: false });
    expect(await ids('pd-ann')).toEqual(['browser', 'iphone']);
    expect(await devsMap('pd-ann')).toEqual({ iphone: 'apns', browser: 'webpush' });
  });

  it('refuses what the deployment cannot send to, with a clear code, storing nothing', async () => {
    await admin.register('pd-bad');
    const token = await admin.userToken('pd-bad', 1);
    const refused = async (deviceId: string, body: unknown, reason = 'INVALID_ARGUMENT', match?: RegExp) => {
      const res = await put('pd-bad', deviceId, body, token);
      expect(res.body.error?.reason, JSON.stringify(res.body)).toBe(reason);
      if (match) expect(res.body.error.message).toMatch(match);
    };
    await refused('d', { ...apns(), token: 'abc' }, 'INVALID_ARGUMENT', /64 to 200 hexadecimal/);
    await refused('d', { ...apns(), token: 'z'.repeat(64) });
    await refused('d', { ...apns(), token: 'a'.repeat(202) });
    await refused('d', { ...apns(), appId: 'com.other.app' }, 'INVALID_ARGUMENT', /not a bundle id/);
    await refused('d', { ...fcm(), token: 'short' });
    await refused('d', { ...fcm(), token: `${'a'.repeat(100)} ${'b'.repeat(10)}` });
    await refused('d', { ...fcm(), sandbox: true }, 'INVALID_ARGUMENT', /sandbox/);
    await refused('d', webpush({ ...subscription(), keys: { p256dh: randomBytes(65).toString('base64url'), auth: randomBytes(16).toString('base64url') } }), 'INVALID_ARGUMENT', /p256dh/);
    await refused('d', webpush({ ...subscription(), keys: { ...subscription().keys, auth: randomBytes(8).toString('base64url') } }), 'INVALID_ARGUMENT', /auth/);
    await refused('d', webpush(subscription('http://push.example.net/x')), 'INVALID_ARGUMENT', /https/);
    await refused('d', webpush(subscription('http://127.0.0.1:9001/2018-06-01/runtime/invocation/next')), 'INVALID_ARGUMENT', /https/);
    await refused('d', webpush(subscription('https://user:pw@fcm.googleapis.com/x')), 'INVALID_ARGUMENT', /credentials/);
    await refused('d', webpush(subscription('https://push.example.net/x')), 'INVALID_ARGUMENT', /not an allowed push service/);
    await refused('d', webpush(subscription('https://fcm.googleapis.com:8443/x')), 'INVALID_ARGUMENT', /port/);
    await refused('d', webpush('{not json'));
    await refused('d', webpush('"a string"'));
    await refused('d', { ...apns(), locale: 'not a locale' }, 'INVALID_ARGUMENT', /BCP 47/);
    await refused('d', { ...apns(), provider: 'sms' });
    await refused('d', { ...apns(), platformId: 12 });
    await refused('x'.repeat(65), apns());
    await refused('a\u0000b', apns());
    // Path segments API Gateway would decode or split: refused everywhere.
    for (const id of ['a/b', 'a b', 'a%b', 'a?b', '-a', 'é']) await refused(id, apns());
    // Providers that are off in this deployment.
    setEnv('PUSH_SETTINGS', JSON.stringify({ apns: PUSH_SETTINGS.apns }));
    try {
      await refused('d', fcm(), 'PUSH_PROVIDER_DISABLED', /fcm is not enabled.*enabled: apns/);
      await refused('d', webpush(), 'PUSH_PROVIDER_DISABLED');
      const res = await put('pd-bad', 'd', fcm(), token);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe(1601);
    } finally {
      setEnv('PUSH_SETTINGS', JSON.stringify(PUSH_SETTINGS));
    }
    expect(await storedDevices('pd-bad')).toEqual([]);
    expect((await userItem('pd-bad')).devs).toBeUndefined();
  });

  it('accepts a push service on localhost only when the deployment allows it (the local stand-in)', async () => {
    await admin.register('pd-loop');
    const sub = subscription('http://127.0.0.1:4999/push/abc');
    expect((await put('pd-loop', 'tab', webpush(sub))).body.error.reason).toBe('INVALID_ARGUMENT');
    setEnv('WEBPUSH_ALLOW_LOCALHOST', 'true');
    try {
      expect((await put('pd-loop', 'tab', webpush(sub))).status).toBe(200);
      expect((await put('pd-loop', 'tab2', webpush(subscription('http://push.example.net/abc')))).body.error.reason).toBe('INVALID_ARGUMENT');
    } finally {
      setEnv('WEBPUSH_ALLOW_LOCALHOST', undefined);
    }
    expect(await ids('pd-loop')).toEqual(['tab']);
  });

  it('lets the user themself and admins register, nobody else; an unregistered user gets USER_NOT_FOUND and nothing is written', async () => {
    await admin.register('pd-own', 'pd-other');
    const other = await admin.userToken('pd-other', 1);
    expect((await put('pd-own', 'd1', apns(), other)).body.error.reason).toBe('FORBIDDEN');
    expect((await admin.call('GET', '/users/pd-own/devices', undefined, other)).body.error.reason).toBe('FORBIDDEN');
    expect((await admin.call('DELETE', '/users/pd-own/devices/d1', undefined, other)).body.error.reason).toBe('FORBIDDEN');
    const byAdmin = await as('@admin', 'PUT', '/users/pd-own/devices/d1', apns());
    expect(byAdmin.status).toBe(200);
    // An admin's registration belongs to no session.
    expect(byAdmin.body.device.sessionId).toBeUndefined();
    expect(await ids('pd-own')).toEqual(['d1']);

    const ghost = await as('@admin', 'PUT', '/users/pd-ghost/devices/d1', apns());
    expect(ghost.body.error.reason).toBe('USER_NOT_FOUND');
    expect(await storedDevices('pd-ghost')).toEqual([]);
    expect(await userItem('pd-ghost')).toEqual({});
  });
});

describe('registration over WebSocket', () => {
  it('registerPushDevice and unregisterPushDevice, with the same checks, tied to the connection\'s session', async () => {
    await admin.register('pd-ws');
    const d = await device('pd-ws', 2);
    const bad = await d.request('registerPushDevice', { deviceId: 'p', ...fcm('bad token!') });
    expect(bad.error?.reason).toBe('INVALID_ARGUMENT');
    const lone = await d.raw(`{"id":"x","action":"registerPushDevice","data":{"deviceId":"\\ud800","provider":"fcm","token":"${fcmToken()}","platformId":2,"appId":"a"}}`);
    expect(lone.error?.reason).toBe('INVALID_ARGUMENT');
    expect((await d.request('registerPushDevice', { ...fcm() })).error?.reason).toBe('INVALID_ARGUMENT');
    expect((await d.request('registerPushDevice', { deviceId: 'a/b', ...fcm() })).error?.reason).toBe('INVALID_ARGUMENT');
    setEnv('PUSH_SETTINGS', JSON.stringify({ webpush: PUSH_SETTINGS.webpush }));
    try {
      expect((await d.request('registerPushDevice', { deviceId: 'p', ...fcm() })).error?.reason).toBe('PUSH_PROVIDER_DISABLED');
    } finally {
      setEnv('PUSH_SETTINGS', JSON.stringify(PUSH_SETTINGS));
    }
    expect(await storedDevices('pd-ws')).toEqual([]);

    const ok = await d.ok('registerPushDevice', { deviceId: 'p', ...fcm(), locale: 'zh-Hans-CN' });
    expect(ok).toMatchObject({ device: { deviceId: 'p', provider: 'fcm', platformId: 2, locale: 'zh-Hans-CN' }, evicted: [] });
    const [stored] = await storedDevices('pd-ws');
    expect(stored.sessionId).toBe(ok.device.sessionId);
    expect(typeof stored.sessionId).toBe('string');
    expect(await d.ok('unregisterPushDevice', { deviceId: 'p' })).toEqual({ removed: true });
    expect(await d.ok('unregisterPushDevice', { deviceId: 'p' })).toEqual({ removed: false });
    expect(await storedDevices('pd-ws')).toEqual([]);
    expect(await devsMap('pd-ws')).toEqual({});
  });
});

describe('the cap and moving tokens', () => {
  it('keeps at most pushMaxDevices devices per user, evicting the least recently updated', async () => {
    setEnv('PUSH_MAX_DEVICES', '3');
    try {
      await admin.register('pd-cap');
      const token = await admin.userToken('pd-cap', 1);
      const tokens = [apnsToken(), apnsToken(), apnsToken(), apnsToken()];
      for (const [i, t] of tokens.slice(0, 3).entries()) {
        expect((await put('pd-cap', `d${i}`, apns(t), token)).body.evicted).toEqual([]);
        await sleep(5);
      }
      // Refreshing d0 makes d1 the least recently updated.
      expect((await put('pd-cap', 'd0', apns(tokens[0]), token)).body.evicted).toEqual([]);
      await sleep(5);
      const fourth = await put('pd-cap', 'd3', apns(tokens[3]), token);
      expect(fourth.body.evicted).toEqual(['d1']);
      expect(await ids('pd-cap')).toEqual(['d0', 'd2', 'd3']);
      expect(Object.keys(await devsMap('pd-cap')).sort()).toEqual(['d0', 'd2', 'd3']);
      expect((await as('@admin', 'GET', '/push/config')).body.maxDevices).toBe(3);
    } finally {
      setEnv('PUSH_MAX_DEVICES', undefined);
    }
  });

  it('moves a token registered by another user (a phone that changed hands) or under another device id', async () => {
    await admin.register('pd-old', 'pd-new');
    const t = apnsToken();
    expect((await put('pd-old', 'phone', apns(t))).status).toBe(200);
    expect((await put('pd-old', 'tablet', fcm())).status).toBe(200);
    // The same token in another case is the same token.
    const moved = await put('pd-new', 'my-phone', apns(t.toUpperCase()));
    expect(moved.status).toBe(200);
    // Nothing of the other user leaks into the answer.
    expect(JSON.stringify(moved.body)).not.toContain('pd-old');
    expect(await ids('pd-old')).toEqual(['tablet']);
    expect(await devsMap('pd-old')).toEqual({ tablet: 'fcm' });
    expect(await ids('pd-new')).toEqual(['my-phone']);
    // Under another device id of the same user: the old id goes.
    const sub = subscription();
    expect((await put('pd-new', 'tab-1', webpush(sub))).status).toBe(200);
    expect((await put('pd-new', 'tab-2', webpush({ ...sub, expirationTime: null }))).status).toBe(200);
    expect(await ids('pd-new')).toEqual(['my-phone', 'tab-2']);
    expect(await devsMap('pd-new')).toEqual({ 'my-phone': 'apns', 'tab-2': 'webpush' });
  });
});

describe('push settings and configuration', () => {
  it('reads and changes quiet hours and hidden previews, checking times and time zones', async () => {
    await admin.register('pd-set', 'pd-nosy');
    const token = await admin.userToken('pd-set', 1);
    const call = (method: string, body?: unknown, t = token) => admin.call(method, '/users/pd-set/push-settings', body, t);
    expect((await call('GET')).body).toEqual({ quietHours: null, hidePreview: false });
    const quiet = { start: '22:30', end: '07:00', timeZone: 'Asia/Tokyo' };
    expect((await call('PUT', { quietHours: quiet })).body).toEqual({ quietHours: quiet, hidePreview: false });
    expect((await call('PUT', { hidePreview: true })).body).toEqual({ quietHours: quiet, hidePreview: true });
    expect((await call('GET')).body).toEqual({ quietHours: quiet, hidePreview: true });
    expect((await userItem('pd-set')).pushPrefs).toEqual({ quietHours: quiet, hidePreview: true });
    for (const bad of [
      { quietHours: { ...quiet, timeZone: 'Mars/Olympus' } },
      { quietHours: { ...quiet, start: '24:00' } },
      { quietHours: { ...quiet, end: '7:00' } },
      { quietHours: { ...quiet, end: '22:30' } },
      { quietHours: { start: '22:00', end: '06:00' } },
      { hidePreview: 'yes' },
      { other: 1 },
    ]) {
      const res = await call('PUT', bad);
      expect(res.body.error?.reason, JSON.stringify(bad)).toBe('INVALID_ARGUMENT');
    }
    expect((await call('GET')).body).toEqual({ quietHours: quiet, hidePreview: true });
    expect((await call('PUT', { quietHours: null, hidePreview: false })).body).toEqual({ quietHours: null, hidePreview: false });
    expect((await userItem('pd-set')).pushPrefs).toBeUndefined();
    expect((await call('GET', undefined, await admin.userToken('pd-nosy', 1))).body.error.reason).toBe('FORBIDDEN');
    expect((await as('@admin', 'GET', '/users/pd-set/push-settings')).status).toBe(200);
    expect((await as('@admin', 'GET', '/users/pd-nobody/push-settings')).body.error.reason).toBe('USER_NOT_FOUND');
    // Never part of the profile.
    await call('PUT', { hidePreview: true });
    expect((await as('@admin', 'GET', '/users/pd-set')).body.user.pushPrefs).toBeUndefined();
  });

  it('GET /push/config tells authenticated clients which providers are on, with the VAPID key and bundle ids', async () => {
    await admin.register('pd-cfg');
    const token = await admin.userToken('pd-cfg', 5);
    const res = await admin.call('GET', '/push/config', undefined, token);
    expect(res.body).toEqual({
      providers: ['apns', 'fcm', 'webpush'],
      apns: { bundleIds: PUSH_SETTINGS.apns.bundleIds },
      fcm: { projectId: 'cirrus-test' },
      webpush: { publicKey: PUSH_SETTINGS.webpush.publicKey },
      maxDevices: 10,
    });
    // No parameter name (where the secrets are) is shown.
    expect(JSON.stringify(res.body)).not.toContain('/cirrus/');
    expect((await admin.call('GET', '/push/config', undefined, null)).body.error.reason).toBe('TOKEN_MISSING');
    setEnv('PUSH_SETTINGS', undefined);
    try {
      expect((await admin.call('GET', '/push/config', undefined, token)).body).toEqual({ providers: [], maxDevices: 10 });
    } finally {
      setEnv('PUSH_SETTINGS', JSON.stringify(PUSH_SETTINGS));
    }
  });
});

describe('app state', () => {
  it('setAppBackground marks and clears the connection in the user item and the Connections table; a new connection is in the foreground', async () => {
    await admin.register('pd-bg');
    const phone = await device('pd-bg', 1);
    const web = await device('pd-bg', 5);
    const connIds = async () => connectionsFromPresence('pd-bg', (await userItem('pd-bg')).conns);
    expect((await connIds()).every((c) => c.background === undefined)).toBe(true);
    expect(hasForegroundConnection((await userItem('pd-bg')).conns)).toBe(true);

    expect(await phone.ok('setAppBackground', { background: true })).toEqual({ background: true });
    let conns = await connIds();
    const phoneConn = conns.find((c) => c.platformId === 1)!;
    expect(phoneConn.background).toBe(true);
    expect(conns.find((c) => c.platformId === 5)!.background).toBeUndefined();
    expect((await connectionItem('pd-bg', phoneConn.connectionId))?.background).toBe(true);
    expect(hasForegroundConnection((await userItem('pd-bg')).conns)).toBe(true);

    expect(await web.ok('setAppBackground', { background: true })).toEqual({ background: true });
    expect(hasForegroundConnection((await userItem('pd-bg')).conns)).toBe(false);

    expect(await phone.ok('setAppBackground', { background: false })).toEqual({ background: false });
    conns = await connIds();
    expect(conns.find((c) => c.platformId === 1)!.background).toBeUndefined();
    expect((await userItem('pd-bg')).conns[phoneConn.connectionId].bg).toBeUndefined();
    expect((await connectionItem('pd-bg', phoneConn.connectionId))?.background).toBeUndefined();
    expect(hasForegroundConnection((await userItem('pd-bg')).conns)).toBe(true);

    expect((await phone.request('setAppBackground', { background: 'yes' })).error?.reason).toBe('INVALID_ARGUMENT');
    expect((await phone.request('setAppBackground', {})).error?.reason).toBe('INVALID_ARGUMENT');

    // A connection closing takes its mark with it; a new one starts in the foreground.
    await web.close();
    const web2 = await device('pd-bg', 5);
    await web2.ok('heartbeat', {});
    const after = await connIds();
    expect(after.find((c) => c.platformId === 5)?.background).toBeUndefined();
  });

  it('hasForegroundConnection ignores expired entries and is false without connections', () => {
    const now = 1_000_000;
    expect(hasForegroundConnection(undefined, now)).toBe(false);
    expect(hasForegroundConnection({}, now)).toBe(false);
    expect(hasForegroundConnection({ a: { p: 1, s: 's', t: 1, e: now - 1 } }, now)).toBe(false);
    expect(hasForegroundConnection({ a: { p: 1, s: 's', t: 1, e: now + 10, bg: 1 } }, now)).toBe(false);
    expect(hasForegroundConnection({ a: { p: 1, s: 's', t: 1, e: now + 10, bg: 1 }, b: { p: 5, s: 's', t: 1, e: now + 10 } }, now)).toBe(true);
  });
});

describe('devices end with their session', () => {
  it('logout removes the devices its session registered, revokes it and closes its connections; other sessions keep theirs', async () => {
    await admin.register('pd-out');
    const phoneToken = await admin.userToken('pd-out', 1);
    const webToken = await admin.userToken('pd-out', 5);
    expect((await put('pd-out', 'phone', apns(), phoneToken)).status).toBe(200);
    expect((await put('pd-out', 'browser', webpush(), webToken)).status).toBe(200);
    expect((await as('@admin', 'PUT', '/users/pd-out/devices/by-admin', fcm())).status).toBe(200);
    const phoneWs = await WsDevice.connect(cirrus.wsUrl, phoneToken);
    const webWs = await WsDevice.connect(cirrus.wsUrl, webToken);

    const res = await admin.call('POST', '/auth/logout', undefined, phoneToken);
    expect(res.body).toEqual({ devicesRemoved: 1, closed: 1 });
    await phoneWs.until(() => phoneWs.closed, 5000, 'close');
    expect(await ids('pd-out')).toEqual(['browser', 'by-admin']);
    expect(await devsMap('pd-out')).toEqual({ browser: 'webpush', 'by-admin': 'fcm' });
    expect((await admin.call('GET', '/users/pd-out/devices', undefined, phoneToken)).body.error.reason).toBe('TOKEN_REVOKED');
    expect((await admin.call('GET', '/users/pd-out/devices', undefined, webToken)).status).toBe(200);
    expect(webWs.closed).toBeUndefined();
    expect((await as('@admin', 'POST', '/auth/logout')).body.error.reason).toBe('INVALID_ARGUMENT');
    await webWs.close();
  });

  it("logout also removes the same platform's devices left by the user's ended sessions (an expired token the app replaced)", async () => {
    await admin.register('pd-renew');
    const expire = async (sessionId: string) =>
      ddb().send(new UpdateCommand({ TableName: cirrus.tableNames.sessions, Key: { userId: 'pd-renew', sessionId }, UpdateExpression: 'SET expiresAt = :past', ExpressionAttributeValues: { ':past': Math.floor(Date.now() / 1000) - 1 } }));
    // The phone registered with its first token; that token expired and the app got a new one.
    const first = await put('pd-renew', 'phone', apns(), await admin.userToken('pd-renew', 1));
    await expire(first.body.device.sessionId);
    // A browser's ended session: another platform, another installation.
    const web = await put('pd-renew', 'browser', webpush(), await admin.userToken('pd-renew', 5));
    await expire(web.body.device.sessionId);
    // A second iPhone still signed in.
    expect((await put('pd-renew', 'phone-2', apns(), await admin.userToken('pd-renew', 1))).status).toBe(200);
    const renewed = await admin.userToken('pd-renew', 1);
    const res = await admin.call('POST', '/auth/logout', undefined, renewed);
    expect(res.body).toEqual({ devicesRemoved: 1, closed: 0 });
    expect(await ids('pd-renew')).toEqual(['browser', 'phone-2']);
  });

  it('force logout removes every device, or with a platform those of its sessions and platform', async () => {
    await admin.register('pd-force');
    const phoneToken = await admin.userToken('pd-force', 1);
    const webToken = await admin.userToken('pd-force', 5);
    expect((await put('pd-force', 'phone', apns(), phoneToken)).status).toBe(200);
    expect((await put('pd-force', 'browser', webpush(), webToken)).status).toBe(200);
    // Registered by an admin for the iOS platform: goes with the platform.
    expect((await as('@admin', 'PUT', '/users/pd-force/devices/ipad', { ...apns(), platformId: 1 })).status).toBe(200);
    const r = await as('@admin', 'POST', '/auth/force-logout', { userId: 'pd-force', platformId: 1 });
    expect(r.body).toEqual({ revoked: 1 });
    expect(await ids('pd-force')).toEqual(['browser']);
    expect(await as('@admin', 'POST', '/auth/force-logout', { userId: 'pd-force' })).toMatchObject({ body: { revoked: 1 } });
    expect(await ids('pd-force')).toEqual([]);
    expect(await devsMap('pd-force')).toEqual({});
  });

  it('a ban removes every device of the user', async () => {
    await admin.register('pd-ban', 'pd-bystander');
    expect((await put('pd-ban', 'phone', apns())).status).toBe(200);
    expect((await as('@admin', 'PUT', '/users/pd-ban/devices/other', fcm())).status).toBe(200);
    expect((await put('pd-bystander', 'phone', apns())).status).toBe(200);
    expect((await as('@admin', 'POST', '/users/pd-ban/ban', {})).status).toBe(200);
    expect(await ids('pd-ban')).toEqual([]);
    expect(await devsMap('pd-ban')).toEqual({});
    expect(await ids('pd-bystander')).toEqual(['phone']);
  });

  it('a kick by the multi-login policy removes the kicked session\'s devices, not the new one\'s', async () => {
    const before = process.env.MULTI_LOGIN_POLICY;
    process.env.MULTI_LOGIN_POLICY = 'onePerPlatform';
    try {
      await admin.register('pd-kick');
      const oldToken = await admin.userToken('pd-kick', 1);
      const oldWs = await WsDevice.connect(cirrus.wsUrl, oldToken);
      await oldWs.ok('registerPushDevice', { deviceId: 'old-phone', ...apns() });
      const otherToken = await admin.userToken('pd-kick', 5);
      expect((await put('pd-kick', 'browser', webpush(), otherToken)).status).toBe(200);
      const newToken = await admin.userToken('pd-kick', 1);
      expect((await put('pd-kick', 'new-phone', apns(), newToken)).status).toBe(200);
      const newWs = await WsDevice.connect(cirrus.wsUrl, newToken);
      await oldWs.until(() => oldWs.closed, 5000, 'kick');
      expect(await ids('pd-kick')).toEqual(['browser', 'new-phone']);
      expect(await devsMap('pd-kick')).toEqual({ browser: 'webpush', 'new-phone': 'apns' });
      // A second connection with the same token closes the first but keeps the session and its devices.
      const again = await WsDevice.connect(cirrus.wsUrl, newToken);
      await newWs.until(() => newWs.closed, 5000, 'kick');
      expect(await ids('pd-kick')).toEqual(['browser', 'new-phone']);
      await again.close();
    } finally {
      if (before === undefined) delete process.env.MULTI_LOGIN_POLICY;
      else process.env.MULTI_LOGIN_POLICY = before;
    }
  });
});
