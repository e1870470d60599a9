/**
 * The provider clients (core/offline-push) against the local push stand-ins (local/push):
 * each client's request is what the service accepts, and each service answer maps to the
 * outcome the notify function acts on.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connect } from 'node:http2';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { importPKCS8, SignJWT } from 'jose';
import webpush from 'web-push';
import { ApnsClient, apnsPayload, closeApnsSessions } from '../../core/offline-push/apns';
import { FcmClient, fcmMessage } from '../../core/offline-push/fcm';
import { validateWebPushSubscription, WebPushClient, webPushPayload, webPushTopic, WEBPUSH_MAX_PLAINTEXT_BYTES } from '../../core/offline-push/webpush';
import { createProviders, providerClient } from '../../core/offline-push/providers';
import type { Device, Notification, PushProvider } from '../../core/offline-push/types';
import { startPushStandIns, type StartedPushStandIns } from '../../local/push';

let push: StartedPushStandIns;

const notification = (over: Partial<Notification> = {}): Notification => ({
  title: 'Alice',
  body: 'Hello there',
  sound: 'default',
  silent: false,
  badge: 3,
  threadId: 'si_alice_bob',
  collapseId: 'si_alice_bob',
  data: { conversationId: 'si_alice_bob', seq: '42' },
  ttlSeconds: 3600,
  priority: 'high',
  ...over,
});

const device = (provider: PushProvider, token: string, over: Partial<Device> = {}): Device => ({
  userId: 'bob',
  deviceId: `d-${provider}`,
  provider,
  token,
  platformId: provider === 'apns' ? 1 : provider === 'fcm' ? 2 : 5,
  appId: provider === 'apns' ? 'com.example.cirrus' : provider === 'fcm' ? 'com.example.cirrus' : 'http://127.0.0.1',
  createdAt: 0,
  updatedAt: 0,
  ...over,
});

/** One raw request to the APNs stand-in. */
async function apnsRaw(path: string, headers: Record<string, string>, body: string): Promise<{ status: number; body: string }> {
  const session = connect(push.endpoints.apns);
  try {
    return await new Promise((resolve, reject) => {
      const stream = session.request({ ':method': 'POST', ':path': path, ...headers });
      let status = 0;
      const chunks: Buffer[] = [];
      stream.on('response', (h) => (status = Number(h[':status'])));
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => resolve({ status, body: Buffer.concat(chunks).toString('utf8') }));
      stream.on('error', reject);
      stream.end(body);
    });
  } finally {
    session.close();
  }
}

async function apnsJwt(iatSeconds: number, key = push.credentials.apns!.privateKey, kid = push.credentials.apns!.keyId): Promise<string> {
  return new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid }).setIssuer(push.credentials.apns!.teamId).setIssuedAt(iatSeconds).sign(await importPKCS8(key, 'ES256'));
}

beforeAll(async () => {
  push = await startPushStandIns();
  process.env.WEBPUSH_ALLOW_LOCALHOST = 'true';
});

afterAll(async () => {
  delete process.env.WEBPUSH_ALLOW_LOCALHOST;
  await closeApnsSessions();
  await push?.close();
});

beforeEach(() => push.standIns.clearNotifications());

describe('APNs', () => {
  const client = () => new ApnsClient(push.credentials.apns!, { endpoint: push.endpoints.apns });

  it('delivers an alert over HTTP/2 with a verified provider token, the topic and the payload', async () => {
    const token = push.standIns.mintApnsToken();
    const outcome = await client().send(device('apns', token), notification());
    expect(outcome.kind).toBe('sent');
    expect(outcome.kind === 'sent' && outcome.id).toMatch(/^[0-9a-f-]{36}$/);
    const [received] = push.standIns.notifications({ provider: 'apns' });
    expect(received).toMatchObject({ token, title: 'Alice', body: 'Hello there', badge: 3, threadId: 'si_alice_bob' });
    expect(received.headers).toMatchObject({ 'apns-topic': 'com.example.cirrus', 'apns-push-type': 'alert', 'apns-priority': '10', 'apns-collapse-id': 'si_alice_bob' });
    expect(received.payload).toEqual({ conversationId: 'si_alice_bob', seq: '42', aps: { alert: { title: 'Alice', body: 'Hello there' }, sound: 'default', badge: 3, 'thread-id': 'si_alice_bob' } });
  });

  it('goes to APNS_ENDPOINT when set, for sandbox devices too', async () => {
    process.env.APNS_ENDPOINT = push.endpoints.apns;
    try {
      const token = push.standIns.mintApnsToken({ sandbox: true });
      expect((await new ApnsClient(push.credentials.apns!).send(device('apns', token, { sandbox: true }), notification())).kind).toBe('sent');
    } finally {
      delete process.env.APNS_ENDPOINT;
    }
  });

  it('sends a silent notification without alert or sound at priority 5', async () => {
    const token = push.standIns.mintApnsToken();
    expect((await client().send(device('apns', token), notification({ silent: true, badge: undefined }))).kind).toBe('sent');
    const [received] = push.standIns.notifications({ provider: 'apns' });
    expect(received.headers).toMatchObject({ 'apns-push-type': 'background', 'apns-priority': '5' });
    expect((received.payload as { aps: unknown }).aps).toEqual({ 'content-available': 1, 'thread-id': 'si_alice_bob' });
    // With a badge: an alert push with neither alert nor sound, so the badge is set.
    expect((await client().send(device('apns', token), notification({ silent: true, badge: 5 }))).kind).toBe('sent');
    const [withBadge] = push.standIns.notifications({ provider: 'apns' });
    expect(withBadge.headers).toMatchObject({ 'apns-push-type': 'alert', 'apns-priority': '5' });
    expect((withBadge.payload as { aps: unknown }).aps).toEqual({ 'content-available': 1, badge: 5, 'thread-id': 'si_alice_bob' });
  });

  it('answers an unknown token BadDeviceToken and an uninstalled app 410 Unregistered: both invalid', async () => {
    const unknown = 'ab'.repeat(32);
    expect(await client().send(device('apns', unknown), notification())).toEqual({ kind: 'invalid', reason: 'BadDeviceToken', status: 400 });
    const token = push.standIns.mintApnsToken();
    push.standIns.uninstall('apns', token);
    expect(await client().send(device('apns', token), notification())).toEqual({ kind: 'invalid', reason: 'Unregistered', status: 410 });
    const raw = await apnsRaw(`/3/device/${token}`, { authorization: `bearer ${await apnsJwt(Math.floor(Date.now() / 1000))}`, 'apns-topic': 'com.example.cirrus' }, '{"aps":{}}');
    expect(raw.status).toBe(410);
    expect(Object.keys(JSON.parse(raw.body))).toEqual(['reason', 'timestamp']);
  });

  it('refuses a token for another bundle id (DeviceTokenNotForTopic) and a topic not in the team (TopicDisallowed)', async () => {
    const team = { ...push.credentials.apns!, bundleIds: ['com.example.cirrus', 'com.example.other'] };
    const token = push.standIns.mintApnsToken({ bundleId: 'com.example.cirrus' });
    // The client refuses a bundle id it is not configured for without calling APNs.
    expect((await client().send(device('apns', token, { appId: 'com.example.other' }), notification())).kind).toBe('failed');
    // The team's bundle ids are the stand-in's: com.example.other is not one of them.
    const refused = await new ApnsClient(team, { endpoint: push.endpoints.apns }).send(device('apns', token, { appId: 'com.example.other' }), notification());
    expect(refused).toEqual({ kind: 'failed', reason: 'TopicDisallowed', status: 400 });
    const jwt = await apnsJwt(Math.floor(Date.now() / 1000));
    const raw = await apnsRaw(`/3/device/${push.standIns.mintApnsToken({ bundleId: 'com.example.cirrus.beta' })}`, { authorization: `bearer ${jwt}`, 'apns-topic': 'com.example.cirrus' }, '{"aps":{}}');
    expect(raw).toEqual({ status: 400, body: '{"reason":"DeviceTokenNotForTopic"}' });
  });

  it('maps 429 and 503 to retry with Retry-After', async () => {
    const token = push.standIns.mintApnsToken();
    push.standIns.injectFailure({ provider: 'apns', token, status: 429, retryAfterSeconds: 7 });
    push.standIns.injectFailure({ provider: 'apns', token, status: 503 });
    expect(await client().send(device('apns', token), notification())).toEqual({ kind: 'retry', reason: 'TooManyRequests', status: 429, retryAfterMs: 7000 });
    expect(await client().send(device('apns', token), notification())).toEqual({ kind: 'retry', reason: 'ServiceUnavailable', status: 503 });
    expect((await client().send(device('apns', token), notification())).kind).toBe('sent');
  });

  it('checks the provider token: another key is InvalidProviderToken (failed), one older than an hour ExpiredProviderToken', async () => {
    const stranger = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const token = push.standIns.mintApnsToken();
    expect(await new ApnsClient({ ...push.credentials.apns!, privateKey: stranger }, { endpoint: push.endpoints.apns }).send(device('apns', token), notification())).toEqual({ kind: 'failed', reason: 'InvalidProviderToken', status: 403 });
    const old = await apnsJwt(Math.floor(Date.now() / 1000) - 3700);
    expect(await apnsRaw(`/3/device/${token}`, { authorization: `bearer ${old}`, 'apns-topic': 'com.example.cirrus' }, '{"aps":{}}')).toEqual({ status: 403, body: '{"reason":"ExpiredProviderToken"}' });
    expect(await apnsRaw(`/3/device/${token}`, { 'apns-topic': 'com.example.cirrus' }, '{"aps":{}}')).toEqual({ status: 403, body: '{"reason":"MissingProviderToken"}' });
  });

  it('renews an expired provider token once and sends again', async () => {
    // The token was minted 70 minutes ago by this clock (the client reuses it for 50 minutes of its own time).
    let skew = -70 * 60_000;
    const apns = new ApnsClient(push.credentials.apns!, { endpoint: push.endpoints.apns, now: () => Date.now() + skew });
    const token = push.standIns.mintApnsToken();
    expect((await apns.send(device('apns', token), notification())).kind).toBe('failed'); // Expired, renewed with the same old clock: still expired.
    skew = -30 * 60_000;
    const sent = await apns.send(device('apns', token), notification());
    expect(sent.kind).toBe('sent');
    expect(push.standIns.notifications({ provider: 'apns' })).toHaveLength(1);
  });

  it('refuses a payload over 4096 bytes (PayloadTooLarge); the client shortens the body to fit', async () => {
    const token = push.standIns.mintApnsToken();
    const jwt = await apnsJwt(Math.floor(Date.now() / 1000));
    const big = JSON.stringify({ aps: { alert: { body: 'x'.repeat(4100) } } });
    expect(await apnsRaw(`/3/device/${token}`, { authorization: `bearer ${jwt}`, 'apns-topic': 'com.example.cirrus' }, big)).toEqual({ status: 413, body: '{"reason":"PayloadTooLarge"}' });
    const long = 'é'.repeat(5000);
    const payload = apnsPayload(notification({ body: long }))!;
    expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(4096);
    expect((await client().send(device('apns', token), notification({ body: long }))).kind).toBe('sent');
    const [received] = push.standIns.notifications({ provider: 'apns' });
    expect(received.body!.endsWith('…')).toBe(true);
    expect(received.body!.length).toBeGreaterThan(1500);
    expect(Buffer.byteLength(JSON.stringify(received.payload))).toBeLessThanOrEqual(4096);
    // Data alone over the limit: failed without a request.
    expect((await client().send(device('apns', token), notification({ data: { big: 'x'.repeat(5000) } }))).kind).toBe('failed');
  });

  it('reconnects after APNs sends GOAWAY or the session is closed', async () => {
    const token = push.standIns.mintApnsToken();
    const c = client();
    expect((await c.send(device('apns', token), notification())).kind).toBe('sent');
    push.apnsGoAway();
    await new Promise((r) => setTimeout(r, 50));
    expect((await c.send(device('apns', token), notification())).kind).toBe('sent');
    await closeApnsSessions();
    expect((await c.send(device('apns', token), notification())).kind).toBe('sent');
    expect(push.standIns.notifications({ provider: 'apns' })).toHaveLength(3);
  });
});

describe('FCM', () => {
  const client = () => new FcmClient(push.credentials.fcm!, { endpoint: push.endpoints.fcm, tokenEndpoint: push.endpoints.fcmToken });

  it('gets an access token by the JWT-bearer grant and sends a v1 message', async () => {
    const token = push.standIns.mintFcmToken();
    const outcome = await client().send(device('fcm', token), notification());
    expect(outcome.kind).toBe('sent');
    expect(outcome.kind === 'sent' && outcome.id).toMatch(/^projects\/cirrus-local\/messages\//);
    const [received] = push.standIns.notifications({ provider: 'fcm' });
    expect(received).toMatchObject({ token, title: 'Alice', body: 'Hello there', badge: 3, threadId: 'si_alice_bob' });
    expect(received.payload).toEqual({
      data: { conversationId: 'si_alice_bob', seq: '42' },
      notification: { title: 'Alice', body: 'Hello there' },
      android: { priority: 'HIGH', ttl: '3600s', collapse_key: 'si_alice_bob', notification: { tag: 'si_alice_bob', sound: 'default', notification_count: 3 } },
    });
  });

  it('sends a silent notification as a data-only message', async () => {
    const token = push.standIns.mintFcmToken();
    expect((await client().send(device('fcm', token), notification({ silent: true }))).kind).toBe('sent');
    const [received] = push.standIns.notifications({ provider: 'fcm' });
    expect(received.payload).toEqual({ data: { conversationId: 'si_alice_bob', seq: '42', badge: '3' }, android: { priority: 'HIGH', ttl: '3600s', collapse_key: 'si_alice_bob' } });
  });

  it('maps an unknown token (INVALID_ARGUMENT) and an uninstalled app (UNREGISTERED) to invalid, another project to failed', async () => {
    const c = client();
    expect(await c.send(device('fcm', 'not-a-token'), notification())).toMatchObject({ kind: 'invalid', status: 400, reason: expect.stringMatching(/^INVALID_ARGUMENT: The registration token is not a valid FCM registration token/) });
    const token = push.standIns.mintFcmToken();
    push.standIns.uninstall('fcm', token);
    expect(await c.send(device('fcm', token), notification())).toMatchObject({ kind: 'invalid', status: 404, reason: expect.stringMatching(/^UNREGISTERED/) });
    const foreign = push.standIns.mintFcmToken({ projectId: 'someone-else' });
    expect(await c.send(device('fcm', foreign), notification())).toMatchObject({ kind: 'failed', status: 403, reason: expect.stringMatching(/^SENDER_ID_MISMATCH/) });
  });

  it('maps QUOTA_EXCEEDED (429, Retry-After) and UNAVAILABLE (503) to retry', async () => {
    const token = push.standIns.mintFcmToken();
    push.standIns.injectFailure({ provider: 'fcm', token, status: 429, retryAfterSeconds: 12 });
    push.standIns.injectFailure({ provider: 'fcm', token, status: 503 });
    expect(await client().send(device('fcm', token), notification())).toMatchObject({ kind: 'retry', status: 429, retryAfterMs: 12_000, reason: expect.stringMatching(/^QUOTA_EXCEEDED/) });
    expect(await client().send(device('fcm', token), notification())).toMatchObject({ kind: 'retry', status: 503, reason: expect.stringMatching(/^UNAVAILABLE/) });
  });

  it('refuses an assertion signed with another key: failed, nothing sent', async () => {
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const c = new FcmClient({ ...push.credentials.fcm!, privateKey: stranger }, { endpoint: push.endpoints.fcm, tokenEndpoint: push.endpoints.fcmToken });
    expect(await c.send(device('fcm', push.standIns.mintFcmToken()), notification())).toMatchObject({ kind: 'failed', status: 400, reason: expect.stringContaining('Invalid JWT Signature') });
    expect(push.standIns.notifications({ provider: 'fcm' })).toHaveLength(0);
  });

  it('asks for one access token however many sends start together', async () => {
    const c = client();
    const tokens = Array.from({ length: 5 }, () => push.standIns.mintFcmToken());
    let grants = 0;
    const realFetch = globalThis.fetch;
    globalThis.fetch = (input, init) => {
      if (String(input) === push.endpoints.fcmToken) grants++;
      return realFetch(input, init);
    };
    try {
      const outcomes = await Promise.all(tokens.map((t) => c.send(device('fcm', t), notification())));
      expect(outcomes.map((o) => o.kind)).toEqual(['sent', 'sent', 'sent', 'sent', 'sent']);
    } finally {
      globalThis.fetch = realFetch;
    }
    expect(grants).toBe(1);
  });

  it('renews the access token once when FCM answers 401', async () => {
    const token = push.standIns.mintFcmToken();
    const c = client();
    expect((await c.send(device('fcm', token), notification())).kind).toBe('sent');
    push.standIns.injectFailure({ provider: 'fcm', token, status: 401 });
    expect((await c.send(device('fcm', token), notification())).kind).toBe('sent');
    // Twice 401: failed.
    push.standIns.injectFailure({ provider: 'fcm', token, status: 401, count: 2 });
    expect(await c.send(device('fcm', token), notification())).toMatchObject({ kind: 'failed', status: 401 });
  });

  it('checks the message: data values are strings, at most 4096 bytes; the client shortens the body', async () => {
    const token = push.standIns.mintFcmToken();
    const tokenRes = await fetch(push.endpoints.fcmToken, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        assertion: await new SignJWT({ scope: 'https://www.googleapis.com/auth/firebase.messaging' })
          .setProtectedHeader({ alg: 'RS256' })
          .setIssuer(push.credentials.fcm!.clientEmail)
          .setAudience(push.endpoints.fcmToken)
          .setIssuedAt()
          .setExpirationTime('1h')
          .sign(await importPKCS8(push.credentials.fcm!.privateKey, 'RS256')),
      }),
    });
    const { access_token, token_type, expires_in } = (await tokenRes.json()) as { access_token: string; token_type: string; expires_in: number };
    expect(token_type).toBe('Bearer');
    expect(expires_in).toBeGreaterThan(3000);
    const send = (message: unknown) =>
      fetch(`${push.endpoints.fcm}/v1/projects/cirrus-local/messages:send`, { method: 'POST', headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' }, body: JSON.stringify({ message }) }).then(async (r) => ({ status: r.status, body: (await r.json()) as { error?: { status: string; details: { errorCode: string }[] } } }));
    const notString = await send({ token, data: { seq: 42 } });
    expect(notString.status).toBe(400);
    expect(notString.body.error).toMatchObject({ status: 'INVALID_ARGUMENT', details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: 'INVALID_ARGUMENT' }] });
    const tooBig = await send({ token, notification: { body: 'x'.repeat(4100) } });
    expect(tooBig.status).toBe(400);
    const long = '漢'.repeat(3000);
    expect(Buffer.byteLength(JSON.stringify(fcmMessage(notification({ body: long }))))).toBeLessThanOrEqual(4096);
    expect((await client().send(device('fcm', token), notification({ body: long }))).kind).toBe('sent');
    expect(push.standIns.notifications({ provider: 'fcm' })[0].body!.endsWith('…')).toBe(true);
    const wrongBearer = await fetch(`${push.endpoints.fcm}/v1/projects/cirrus-local/messages:send`, { method: 'POST', headers: { authorization: 'Bearer nope' }, body: '{}' });
    expect(wrongBearer.status).toBe(401);
  });
});

describe('Web Push', () => {
  const client = () => new WebPushClient(push.credentials.webpush!);

  it('sends a VAPID-signed aes128gcm message the stand-in decrypts to what was sent', async () => {
    const subscription = push.standIns.createWebPushSubscription();
    const n = notification();
    const outcome = await client().send(device('webpush', JSON.stringify(subscription)), n);
    expect(outcome.kind).toBe('sent');
    const [received] = push.standIns.notifications({ provider: 'webpush', token: subscription.endpoint });
    expect(received.payload).toEqual(JSON.parse(webPushPayload(n)!));
    expect(received).toMatchObject({ token: subscription.endpoint, title: 'Alice', body: 'Hello there', badge: 3, threadId: 'si_alice_bob' });
    expect(received.headers).toMatchObject({ ttl: '3600', urgency: 'high' });
    expect(received.headers.topic).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(received.headers.topic).toBe(webPushTopic('si_alice_bob'));
  });

  it('refuses VAPID signed by a key other than the subscription\'s applicationServerKey (403): failed', async () => {
    const subscription = push.standIns.createWebPushSubscription();
    const other = webpush.generateVAPIDKeys();
    const c = new WebPushClient({ ...push.credentials.webpush!, publicKey: other.publicKey, privateKey: other.privateKey });
    expect(await c.send(device('webpush', JSON.stringify(subscription)), notification())).toMatchObject({ kind: 'failed', status: 403 });
    // A JWT that does not verify with the key it names: 401.
    const forged = new WebPushClient({ ...push.credentials.webpush!, privateKey: other.privateKey });
    expect(await forged.send(device('webpush', JSON.stringify(subscription)), notification())).toMatchObject({ kind: 'failed', status: 401 });
    expect(push.standIns.notifications({ provider: 'webpush' })).toHaveLength(0);
  });

  it('maps an unknown subscription (404) and an unsubscribed one (410) to invalid, 429 and 503 to retry', async () => {
    const subscription = push.standIns.createWebPushSubscription();
    const unknown = { ...subscription, endpoint: subscription.endpoint.replace(/[^/]+$/, 'nobody') };
    expect(await client().send(device('webpush', JSON.stringify(unknown)), notification())).toMatchObject({ kind: 'invalid', status: 404 });
    push.standIns.injectFailure({ provider: 'webpush', token: subscription.endpoint, status: 429, retryAfterSeconds: 3 });
    push.standIns.injectFailure({ provider: 'webpush', token: subscription.endpoint, status: 503 });
    expect(await client().send(device('webpush', JSON.stringify(subscription)), notification())).toMatchObject({ kind: 'retry', status: 429, retryAfterMs: 3000 });
    expect(await client().send(device('webpush', JSON.stringify(subscription)), notification())).toMatchObject({ kind: 'retry', status: 503 });
    push.standIns.uninstall('webpush', JSON.stringify(subscription));
    expect(await client().send(device('webpush', JSON.stringify(subscription)), notification())).toMatchObject({ kind: 'invalid', status: 410 });
  });

  it('keeps the plaintext within the record size: a long body is shortened, the body the service gets stays under 4096 bytes', async () => {
    const subscription = push.standIns.createWebPushSubscription();
    const long = '🙂'.repeat(2000);
    expect(Buffer.byteLength(webPushPayload(notification({ body: long }))!)).toBeLessThanOrEqual(WEBPUSH_MAX_PLAINTEXT_BYTES);
    expect((await client().send(device('webpush', JSON.stringify(subscription)), notification({ body: long }))).kind).toBe('sent');
    const [received] = push.standIns.notifications({ provider: 'webpush' });
    expect(received.body!.endsWith('…')).toBe(true);
    // An encrypted body over 4096 bytes: 413.
    const details = webpush.generateRequestDetails(subscription, 'x'.repeat(4100), { vapidDetails: { subject: 'mailto:a@example.com', publicKey: push.credentials.webpush!.publicKey, privateKey: push.credentials.webpush!.privateKey }, TTL: 60 });
    const res = await fetch(details.endpoint, { method: 'POST', headers: Object.fromEntries(Object.entries(details.headers).filter(([k]) => k !== 'Content-Length').map(([k, v]) => [k, String(v)])), body: new Uint8Array(details.body) });
    expect(res.status).toBe(413);
    // No TTL: 400.
    const noTtl = await fetch(details.endpoint, { method: 'POST', headers: { authorization: String(details.headers.Authorization) } });
    expect(noTtl.status).toBe(400);
  });

  it('validateWebPushSubscription takes only https endpoints on the push services (localhost only when allowed)', async () => {
    const keys = push.standIns.createWebPushSubscription().keys;
    expect(validateWebPushSubscription({ endpoint: 'https://fcm.googleapis.com/fcm/send/abc', keys })).toEqual({ endpoint: 'https://fcm.googleapis.com/fcm/send/abc', keys });
    expect(validateWebPushSubscription(JSON.stringify({ endpoint: 'https://web.push.apple.com/QK', keys }))).not.toBeTypeOf('string');
    expect(validateWebPushSubscription({ endpoint: 'https://169.254.169.254/latest/meta-data', keys })).toMatch(/not an allowed push service/);
    expect(validateWebPushSubscription({ endpoint: 'https://evil.example.com/push.apple.com', keys })).toMatch(/not an allowed push service/);
    expect(validateWebPushSubscription({ endpoint: 'https://push.apple.com.evil.example/x', keys })).toMatch(/not an allowed push service/);
    expect(validateWebPushSubscription({ endpoint: 'http://fcm.googleapis.com/fcm/send/abc', keys })).toMatch(/https/);
    expect(validateWebPushSubscription({ endpoint: 'https://fcm.googleapis.com:8443/x', keys })).toMatch(/port/);
    expect(validateWebPushSubscription({ endpoint: 'https://u:p@fcm.googleapis.com/x', keys })).toMatch(/credentials/);
    expect(validateWebPushSubscription({ endpoint: 'http://127.0.0.1:8080/local/push/webpush/send/x', keys }, { allowLocalhost: false })).toMatch(/https/);
    expect(validateWebPushSubscription({ endpoint: 'http://127.0.0.1:8080/local/push/webpush/send/x', keys }, { allowLocalhost: true })).not.toBeTypeOf('string');
    expect(validateWebPushSubscription({ endpoint: 'https://fcm.googleapis.com/x', keys: { ...keys, auth: 'AAAA' } })).toMatch(/auth/);
    expect(validateWebPushSubscription({ endpoint: 'https://fcm.googleapis.com/x', keys: { ...keys, p256dh: 'AAAA' } })).toMatch(/p256dh/);
    expect(validateWebPushSubscription('{not json')).toMatch(/JSON/);
    expect(validateWebPushSubscription({ endpoint: 'https://push.example.org/x', keys }, { allowedHosts: ['push.example.org'] })).not.toBeTypeOf('string');
    // A subscription on a host that is not allowed is never posted to (the device kept: a setting may allow it); a malformed one is invalid.
    expect((await client().send(device('webpush', JSON.stringify({ endpoint: 'https://metadata.google.internal/x', keys })), notification())).kind).toBe('failed');
    expect(await client().send(device('webpush', '{not json'), notification())).toMatchObject({ kind: 'invalid', status: 400 });
  });
});

describe('providers', () => {
  it('reuses one client per provider for the same credentials, and fails sends to a provider that is off', async () => {
    const providers = createProviders(push.credentials);
    expect(createProviders(push.credentials)).toBe(providers);
    expect(providers.client('fcm')).toBe(providers.client('fcm'));
    expect(await providerClient('apns', {}).send(device('apns', 'ab'.repeat(32)), notification())).toEqual({ kind: 'failed', reason: 'apns is not configured for this deployment' });
  });
});

describe('unreachable services', () => {
  it('are retried later', async () => {
    // A port nothing listens on (the stand-ins' own, closed).
    const gone = await startPushStandIns();
    const endpoints = gone.endpoints;
    await gone.close();
    expect(await new ApnsClient(push.credentials.apns!, { endpoint: endpoints.apns }).send(device('apns', 'ab'.repeat(32)), notification())).toMatchObject({ kind: 'retry', reason: expect.stringMatching(/^APNs unreachable/) });
    expect(await new FcmClient(push.credentials.fcm!, { endpoint: endpoints.fcm, tokenEndpoint: endpoints.fcmToken }).send(device('fcm', 'x'), notification())).toMatchObject({ kind: 'retry' });
    const sub = { endpoint: `${endpoints.fcm.replace(/\/fcm$/, '')}/webpush/send/abc`, keys: push.standIns.createWebPushSubscription().keys };
    expect(await new WebPushClient(push.credentials.webpush!).send(device('webpush', JSON.stringify(sub)), notification())).toMatchObject({ kind: 'retry' });
  });
});

describe('development endpoints', () => {
  it('mint tokens, inject failures, uninstall and list notifications over HTTP', async () => {
    const post = (url: string, body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const { token } = (await (await post(push.urls.fcmTokens, {})).json()) as { token: string };
    expect((await post(push.urls.failures, { provider: 'fcm', token, status: 503, retryAfterSeconds: 2 })).status).toBe(204);
    const c = new FcmClient(push.credentials.fcm!, { endpoint: push.endpoints.fcm, tokenEndpoint: push.endpoints.fcmToken });
    expect(await c.send(device('fcm', token), notification())).toMatchObject({ kind: 'retry', retryAfterMs: 2000 });
    expect((await c.send(device('fcm', token), notification())).kind).toBe('sent');
    const list = (await (await fetch(`${push.urls.notifications}?provider=fcm`)).json()) as { notifications: { token: string; title: string }[] };
    expect(list.notifications[0]).toMatchObject({ token, title: 'Alice' });
    const apns = (await (await post(push.urls.apnsTokens, { bundleId: 'com.example.cirrus' })).json()) as { token: string };
    expect(apns.token).toMatch(/^[0-9a-f]{64}$/);
    const sub = (await (await post(push.urls.webPushSubscriptions, {})).json()) as { endpoint: string; keys: { p256dh: string; auth: string } };
    expect(validateWebPushSubscription(sub, { allowLocalhost: true })).toEqual(sub);
    expect((await post(push.urls.uninstall, { provider: 'fcm', token })).status).toBe(204);
    expect((await c.send(device('fcm', token), notification())).kind).toBe('invalid');
    expect((await post(push.urls.failures, { provider: 'fcm', status: 200 })).status).toBe(400);
  });

  it('keeps keys and tokens across a restart when given a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'push-'));
    try {
      const first = await startPushStandIns({ file: join(dir, 'push.json') });
      const token = first.standIns.mintApnsToken();
      const keyId = first.credentials.apns!.keyId;
      await first.close();
      // The private keys are readable by the owner only.
      expect(statSync(join(dir, 'push.json')).mode & 0o077).toBe(0);
      const second = await startPushStandIns({ file: join(dir, 'push.json') });
      expect(second.credentials.apns!.keyId).toBe(keyId);
      expect((await new ApnsClient(second.credentials.apns!, { endpoint: second.endpoints.apns }).send(device('apns', token), notification())).kind).toBe('sent');
      await closeApnsSessions();
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
