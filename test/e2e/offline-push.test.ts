/**
 * Offline push end to end against the local runtime and its APNs, FCM and Web Push stand-ins:
 * devices registered over HTTP, messages sent over WebSocket and HTTP, notifications as the
 * stand-ins received them.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { ddb } from '../../core/aws/dynamodb';
import type { ReceivedNotification } from '../../local/push/standins';
import { eventually, sleep, type Device } from '../support/cirrus';
import { admin, as, cirrus, device, text, useCirrus } from '../support/harness';

useCirrus({ settings: { onlineIndexMinMembers: 4 }, asyncInvoke: { retryDelaysMs: [200, 400] } });

const standIns = () => cirrus.push.standIns;
const bundleId = () => cirrus.push.settings.apns!.bundleIds[0];

/** Registers an APNs and an FCM device for the user; returns their tokens. */
async function phoneAndTablet(userId: string): Promise<{ apns: string; fcm: string }> {
  const apns = standIns().mintApnsToken();
  const fcm = standIns().mintFcmToken();
  const token = await admin.userToken(userId, 1);
  expect((await admin.call('PUT', `/users/${userId}/devices/phone`, { provider: 'apns', token: apns, platformId: 1, appId: bundleId() }, token)).status).toBe(200);
  expect((await admin.call('PUT', `/users/${userId}/devices/tablet`, { provider: 'fcm', token: fcm, platformId: 2, appId: 'com.example.cirrus' }, token)).status).toBe(200);
  tokens[userId] = { apns, fcm };
  return { apns, fcm };
}
const tokens: Record<string, { apns: string; fcm: string }> = {};
const ownerOf = (token: string) => Object.entries(tokens).find(([, t]) => t.apns === token || t.fcm === token)?.[0];

/** What the stand-ins received for these tokens, once every invocation finished. */
async function received(...tokens: string[]): Promise<ReceivedNotification[]> {
  await cirrus.lambda.idle();
  return standIns()
    .notifications({ limit: 200 })
    .filter((n) => tokens.includes(n.token));
}

let alice: Device;
let n = 0;
const send = (to: string, body = text('hello')) => alice.ok('sendMsg', { clientMsgId: `op-${++n}`, recvId: to, ...body });

beforeAll(async () => {
  await admin.register('op-alice', 'op-bob', 'op-carol', 'op-dave', 'op-erin', 'op-fay');
  await admin.call('PUT', '/users/op-alice', { nickname: 'Alice' });
  alice = await device('op-alice');
});

describe('offline push, end to end', () => {
  it('an offline recipient gets exactly one notification per device, with title, body, badge, thread and data', async () => {
    const bob = await phoneAndTablet('op-bob');
    const ack = await send('op-bob', text('are you there?'));
    const got = await received(bob.apns, bob.fcm);
    expect(got.map((g) => g.provider).sort()).toEqual(['apns', 'fcm']);
    for (const g of got) expect(g).toMatchObject({ title: 'Alice', body: 'are you there?', threadId: ack.conversationId });
    const apns = got.find((g) => g.provider === 'apns')!;
    expect(apns.badge).toBeGreaterThanOrEqual(1);
    expect(apns.payload).toMatchObject({ conversationId: ack.conversationId, seq: String(ack.seq), serverMsgId: ack.serverMsgId, senderId: 'op-alice' });
    // The message id is the collapse id: a repeat replaces it.
    expect(apns.headers['apns-collapse-id']).toBe(ack.serverMsgId);
  });

  it("the message's own offlinePush: title, body, sound and ex at their largest, or no push at all", async () => {
    const bob = tokens['op-bob'];
    standIns().clearNotifications();
    const offlinePush = { title: 'T'.repeat(100), body: '😀'.repeat(500), sound: 'bell.caf', ex: 'x'.repeat(1024) };
    const ack = await alice.ok('sendMsg', { clientMsgId: `op-${++n}`, recvId: 'op-bob', ...text('own push'), offlinePush });
    const got = await received(bob.apns, bob.fcm);
    expect(got).toHaveLength(2);
    for (const g of got) {
      expect(g.title).toBe('T'.repeat(100));
      // Cut to fit: never more than 200 characters, never a broken character.
      expect(Array.from(g.body!).length).toBeLessThanOrEqual(200);
      expect(g.body!.startsWith('😀😀')).toBe(true);
    }
    const apns = got.find((g) => g.provider === 'apns')!;
    expect((apns.payload as { aps: { sound?: string } }).aps.sound).toBe('bell.caf');
    expect(apns.payload).toMatchObject({ ex: 'x'.repeat(1024), seq: String(ack.seq) });
    // Stored with the message, as sent.
    const pulled = await alice.ok('pullMsgs', { conversationId: ack.conversationId, fromSeq: ack.seq, toSeq: ack.seq });
    expect(pulled.messages[0].offlinePush).toEqual(offlinePush);
    standIns().clearNotifications();
    await alice.ok('sendMsg', { clientMsgId: `op-${++n}`, recvId: 'op-bob', ...text('quiet'), offlinePush: { disabled: true } });
    expect(await received(bob.apns, bob.fcm)).toEqual([]);
    const tooLong = await alice.request('sendMsg', { clientMsgId: `op-${++n}`, recvId: 'op-bob', ...text('x'), offlinePush: { ex: 'x'.repeat(1025) } });
    expect(tooLong.error?.reason).toBe('INVALID_ARGUMENT');
  });

  it('a recipient in the foreground gets none; once the app is in the background, one per device', async () => {
    const carol = await phoneAndTablet('op-carol');
    const live = await device('op-carol', 1);
    await send('op-carol');
    expect(await received(carol.apns, carol.fcm)).toEqual([]);
    await live.ok('setAppBackground', { background: true });
    await send('op-carol', text('in the background'));
    expect((await received(carol.apns, carol.fcm)).map((g) => g.body)).toEqual(['in the background', 'in the background']);
    await live.close();
  });

  it("never the sender's own devices", async () => {
    const own = await phoneAndTablet('op-alice');
    await send('op-bob', text('from alice'));
    await as('@admin', 'POST', '/messages', { sendId: 'op-alice', recvId: 'op-bob', ...text('from alice over HTTP') });
    expect(await received(own.apns, own.fcm)).toEqual([]);
  });

  it('do not receive: none; silently: no alert and no sound', async () => {
    const dave = await phoneAndTablet('op-dave');
    const first = await send('op-dave', text('one'));
    expect((await received(dave.apns, dave.fcm)).map((g) => g.body)).toEqual(['one', 'one']);
    standIns().clearNotifications();
    expect((await as('op-dave', 'PUT', `/users/op-dave/conversations/${first.conversationId}`, { recvOpt: 1 })).status).toBe(200);
    await send('op-dave', text('two'));
    expect(await received(dave.apns, dave.fcm)).toEqual([]);
    expect((await as('op-dave', 'PUT', `/users/op-dave/conversations/${first.conversationId}`, { recvOpt: 2 })).status).toBe(200);
    await send('op-dave', text('three'));
    const got = await received(dave.apns, dave.fcm);
    expect(got).toHaveLength(2);
    for (const g of got) expect(g.title ?? g.body).toBeUndefined();
    const aps = (got.find((g) => g.provider === 'apns')!.payload as { aps: Record<string, unknown> }).aps;
    expect(aps.sound).toBeUndefined();
    expect(aps.alert).toBeUndefined();
  });

  it("the user's push settings: quiet hours (now, in their time zone) make it silent; hidden previews say New message", async () => {
    const dave = tokens['op-dave'];
    const hhmm = (d: Date, zone: string) => new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(d);
    const zone = 'Asia/Kolkata';
    const quietHours = { start: hhmm(new Date(Date.now() - 3600_000), zone), end: hhmm(new Date(Date.now() + 3600_000), zone), timeZone: zone };
    expect((await as('op-dave', 'PUT', '/users/op-dave/push-settings', { quietHours })).status).toBe(200);
    await as('op-dave', 'PUT', '/users/op-dave/conversations/si_op-alice_op-dave', { recvOpt: 0 });
    standIns().clearNotifications();
    await send('op-dave', text('at night'));
    const quiet = await received(dave.apns, dave.fcm);
    expect(quiet).toHaveLength(2);
    for (const g of quiet) expect(g.title ?? g.body).toBeUndefined();
    expect((await as('op-dave', 'PUT', '/users/op-dave/push-settings', { quietHours: null, hidePreview: true })).status).toBe(200);
    standIns().clearNotifications();
    await send('op-dave', text('a secret'));
    expect((await received(dave.apns, dave.fcm)).map((g) => [g.title, g.body])).toEqual([
      ['Alice', 'New message'],
      ['Alice', 'New message'],
    ]);
    expect((await as('op-dave', 'PUT', '/users/op-dave/push-settings', { hidePreview: false })).status).toBe(200);
  });

  it('a blocked sender: the message is refused and nobody is notified', async () => {
    const erin = await phoneAndTablet('op-erin');
    expect((await as('op-erin', 'POST', '/users/op-erin/blacklist', { blockedUserId: 'op-alice' })).status).toBe(200);
    const refused = await alice.request('sendMsg', { clientMsgId: `op-${++n}`, recvId: 'op-erin', ...text('hi') });
    expect(refused.error?.reason).toBe('BLOCKED');
    expect(await received(erin.apns, erin.fcm)).toEqual([]);
  });

  it('an invalid token is pruned: the device is gone from the user', async () => {
    const fay = await phoneAndTablet('op-fay');
    standIns().uninstall('fcm', fay.fcm);
    await send('op-fay');
    await cirrus.lambda.idle();
    const devices = (await as('op-fay', 'GET', '/users/op-fay/devices')).body.devices.map((d: { deviceId: string }) => d.deviceId);
    expect(devices).toEqual(['phone']);
    const user = (await ddb().send(new GetCommand({ TableName: cirrus.tableNames.users, Key: { userId: 'op-fay' }, ConsistentRead: true }))).Item!;
    expect(Object.keys(user.devs)).toEqual(['phone']);
  });

  it('throttled (429) and unavailable (503) answers are retried: then one notification', async () => {
    const bob = { apns: (await as('op-bob', 'GET', '/users/op-bob/devices')).body.devices.find((d: { deviceId: string }) => d.deviceId === 'phone') };
    expect(bob.apns).toBeDefined();
    standIns().clearNotifications();
    standIns().injectFailure({ provider: 'apns', status: 429, reason: 'TooManyRequests', count: 1 });
    standIns().injectFailure({ provider: 'apns', status: 503, reason: 'ServiceUnavailable', count: 1 });
    await send('op-bob', text('after retries'));
    await cirrus.lambda.idle();
    const apns = standIns().notifications({ provider: 'apns', limit: 50 }).filter((g) => g.body === 'after retries');
    expect(apns).toHaveLength(1);
  });

  it('what keeps failing goes to DeadLetters with its reason', async () => {
    const before = cirrus.sqs.peek('DeadLetters').length;
    // As many failures as the notify function makes attempts (4).
    standIns().injectFailure({ provider: 'fcm', status: 500, reason: 'INTERNAL', count: 4 });
    await send('op-bob', text('fails'));
    await cirrus.lambda.idle();
    const letters = cirrus.sqs
      .peek('DeadLetters')
      .slice(before)
      .map((m) => JSON.parse(m.body))
      .filter((b) => b.source === 'notify');
    expect(letters).toHaveLength(1);
    expect(letters[0].record.devices).toEqual([expect.objectContaining({ userId: 'op-bob', deviceId: 'tablet', provider: 'fcm' })]);
    expect(letters[0].reason).toMatch(/INTERNAL|500/);
  });
});

describe('groups and batch sends', () => {
  it('a group with an online index notifies its offline members with devices, from its roster', async () => {
    const created = await as('op-alice', 'POST', '/groups', { groupId: 'op-g', name: 'Ropes', memberUserIds: ['op-bob', 'op-carol', 'op-dave'] });
    expect(created.status).toBe(200);
    const state = (await ddb().send(new GetCommand({ TableName: cirrus.tableNames.groups, Key: { groupId: 'op-g' }, ConsistentRead: true }))).Item!.onlineIndex;
    expect(state).toEqual({ s: 1, ready: true });
    await cirrus.lambda.idle();
    standIns().clearNotifications();
    await alice.ok('sendMsg', { clientMsgId: `op-${++n}`, groupId: 'op-g', ...text('climb at 6') });
    await cirrus.lambda.idle();
    const got = standIns().notifications({ limit: 50 }).filter((g) => g.body === 'Alice: climb at 6');
    // bob's phone and tablet, carol's two (her connection is closed now), dave's two (his 1:1 options are not the group's); never alice's.
    expect(got.every((g) => g.title === 'Ropes')).toBe(true);
    expect(got.map((g) => `${ownerOf(g.token)}/${g.provider}`).sort()).toEqual(['op-bob/apns', 'op-bob/fcm', 'op-carol/apns', 'op-carol/fcm', 'op-dave/apns', 'op-dave/fcm']);
  });

  it('a batch send notifies each offline recipient once per device', async () => {
    standIns().clearNotifications();
    const res = await admin.call('POST', '/messages/batch', { sendId: 'op-alice', recvIds: ['op-bob', 'op-carol'], ...text('newsletter') });
    expect(res.status).toBe(200);
    await eventually(async () => (await admin.call('GET', `/messages/batch/${res.body.batchId}`)).body.status === 'done');
    await cirrus.lambda.idle();
    await sleep(100);
    const got = standIns().notifications({ limit: 50 }).filter((g) => g.body === 'newsletter');
    expect(got.map((g) => `${ownerOf(g.token)}/${g.provider}`).sort()).toEqual(['op-bob/apns', 'op-bob/fcm', 'op-carol/apns', 'op-carol/fcm']);
  });
});
