/**
 * The notify function's work (core/offline-push/notify.ts) against the local runtime's
 * DynamoDB and queues, run as the notify function (its grants enforced), with a recording
 * ProviderClient that answers as each provider client's contract says (sent, invalid, retry,
 * failed, or a throw): one notification per device, pruning, retries, the DeadLetters queue,
 * a large group's roster, blocked senders.
 */
import { QueryCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { ddb } from '../../core/aws/dynamodb';
import { runNotify, type NotifyDeps } from '../../core/offline-push/notify';
import type { PushMessage } from '../../core/offline-push/rules';
import type { NotifyJob } from '../../core/offline-push/targets';
import type { Device as PushDevice, Notification, ProviderClient, PushProvider, SendOutcome } from '../../core/offline-push/types';
import { totalUnread } from '../../core/services/conversations';
import { devices } from '../../core/store/devices';
import { runAsFunction } from '../../local/lambda';
import { admin, as, cirrus, device, useCirrus } from '../support/harness';
import { expectSigned, startWebhookReceiver } from '../support/webhook-receiver';

const MIN = 4;
const SECRET = 'offline-push-hooks';
const TIMEOUT_MS = 300;
const hooks = await startWebhookReceiver();
// beforeOfflinePush with the closed policy: even then a failure sends the notification as built.
// Offline push off for the runtime's own notify function: its invocations (the group's notifications) send nothing here.
useCirrus({ settings: { onlineIndexMinMembers: MIN, offlinePush: false, webhooks: { url: hooks.url, signingSecret: SECRET, timeoutMs: TIMEOUT_MS, callbacks: { beforeOfflinePush: { enabled: true, failurePolicy: 'closed' } } } } });

/** Records every call; answers from a per-token script (default: sent). */
class FakeProvider implements ProviderClient {
  calls: { device: PushDevice; notification: Notification }[] = [];
  script = new Map<string, (SendOutcome | Error)[]>();
  async send(device: PushDevice, notification: Notification): Promise<SendOutcome> {
    this.calls.push({ device, notification });
    const next = this.script.get(device.token)?.shift();
    if (next instanceof Error) throw next;
    return next ?? { kind: 'sent', id: `id-${this.calls.length}` };
  }
  to(userId: string) {
    return this.calls.filter((c) => c.device.userId === userId);
  }
}

let fake: FakeProvider;
const deps = (over: Partial<NotifyDeps> = {}): NotifyDeps => ({
  client: (_p: PushProvider) => fake,
  settings: { showPreview: true, mentionsBreakThrough: true },
  badge: (userId, globalRecvOpt) => totalUnread(userId, globalRecvOpt),
  sleep: async () => undefined,
  remainingMs: () => 30_000,
  ...over,
});
const run = (job: Omit<NotifyJob, 'kind'>, over: Partial<NotifyDeps> = {}) => runAsFunction('notify', () => runNotify({ kind: 'notify', ...job }, deps(over)));

const register = (userId: string, deviceId: string, provider: PushProvider, token: string) =>
  devices.put({ userId, deviceId, provider, token, platformId: provider === 'apns' ? 1 : provider === 'fcm' ? 2 : 5, appId: 'com.example.chat' }, 10);

const oneToOne = (seq: number, over: Partial<PushMessage> = {}): PushMessage => ({
  conversationId: 'si_np-alice_np-bob',
  seq,
  serverMsgId: `srv-${seq}`,
  sessionType: 1,
  senderId: 'np-alice',
  recvId: 'np-bob',
  contentType: 101,
  content: { text: `hello ${seq}` },
  sendTime: Date.now(),
  ...over,
});

const deadLetters = () => cirrus.sqs.peek('DeadLetters').map((m) => JSON.parse(m.body)).filter((b) => b.source === 'notify');
const userItem = async (userId: string) => (await ddb().send(new GetCommand({ TableName: cirrus.tableNames.users, Key: { userId }, ConsistentRead: true }))).Item ?? {};
async function roster(groupId: string): Promise<string[]> {
  const res = await ddb().send(new QueryCommand({ TableName: cirrus.tableNames.groupOnline, KeyConditionExpression: 'gs = :g', ExpressionAttributeValues: { ':g': `${groupId}#p0` }, ConsistentRead: true }));
  return (res.Items ?? []).map((i) => i.uc as string).sort();
}

beforeAll(async () => {
  await admin.register('np-alice', 'np-bob', 'np-carol', 'np-dave', 'np-erin');
  await admin.call('PUT', '/users/np-alice', { nickname: 'Alice' });
  await register('np-bob', 'bob-phone', 'apns', 'bob-apns-token');
  await register('np-bob', 'bob-tablet', 'fcm', 'bob-fcm-token');
  await register('np-carol', 'carol-browser', 'webpush', 'carol-subscription');
});

describe('the notify function', () => {
  it('sends exactly one notification per device of each target, with the sender as title and the badge', async () => {
    fake = new FakeProvider();
    const outcome = await run({ message: oneToOne(1), targets: [{ userId: 'np-bob', recvOpt: 0 }] });
    expect(outcome).toMatchObject({ recipients: 1, sent: 2, failed: 0, pruned: 0 });
    expect(fake.calls.map((c) => c.device.deviceId).sort()).toEqual(['bob-phone', 'bob-tablet']);
    const n = fake.calls[0].notification;
    expect(n).toMatchObject({ title: 'Alice', body: 'hello 1', sound: 'default', silent: false, threadId: 'si_np-alice_np-bob', collapseId: 'srv-1', data: { conversationId: 'si_np-alice_np-bob', seq: '1', senderId: 'np-alice' } });
    expect(typeof n.badge).toBe('number');
  });

  it('never notifies the sender, and silent targets get no sound', async () => {
    fake = new FakeProvider();
    await register('np-alice', 'alice-phone', 'apns', 'alice-apns-token');
    await run({ message: oneToOne(2), targets: [{ userId: 'np-alice', recvOpt: 0 }, { userId: 'np-bob', recvOpt: 2 }] });
    expect(fake.to('np-alice')).toEqual([]);
    expect(fake.to('np-bob').map((c) => [c.notification.silent, c.notification.sound])).toEqual([
      [true, undefined],
      [true, undefined],
    ]);
    await devices.remove('np-alice', ['alice-phone']);
  });

  it('prunes a device whose token the provider calls invalid, and only that one', async () => {
    fake = new FakeProvider();
    await register('np-dave', 'dave-old', 'fcm', 'dave-stale-token');
    await register('np-dave', 'dave-new', 'fcm', 'dave-good-token');
    fake.script.set('dave-stale-token', [{ kind: 'invalid', reason: 'UNREGISTERED', status: 404 }]);
    const outcome = await run({ message: oneToOne(3, { recvId: 'np-dave', conversationId: 'si_np-alice_np-dave' }), targets: [{ userId: 'np-dave', recvOpt: 0 }] });
    expect(outcome).toMatchObject({ sent: 1, pruned: 1 });
    expect((await devices.ofUser('np-dave')).map((d) => d.deviceId)).toEqual(['dave-new']);
    expect(Object.keys((await userItem('np-dave')).devs)).toEqual(['dave-new']);
  });

  it('retries 429 and 503 answers with backoff, then succeeds: one notification delivered', async () => {
    fake = new FakeProvider();
    const waits: number[] = [];
    fake.script.set('carol-subscription', [
      { kind: 'retry', reason: 'TooManyRequests', status: 429, retryAfterMs: 1_500 },
      { kind: 'retry', reason: 'ServiceUnavailable', status: 503 },
    ]);
    const outcome = await run({ message: oneToOne(4), targets: [{ userId: 'np-carol', recvOpt: 0 }] }, { sleep: async (ms) => void waits.push(ms) });
    expect(outcome).toMatchObject({ sent: 1, retried: 2, failed: 0 });
    expect(fake.calls).toHaveLength(3);
    // The service's Retry-After is honoured.
    expect(waits[0]).toBeGreaterThanOrEqual(1_500);
  });

  it('sends what keeps failing, or cannot be fixed, to DeadLetters with the reason, and never throws after sending', async () => {
    fake = new FakeProvider();
    const before = deadLetters().length;
    fake.script.set('bob-apns-token', [{ kind: 'failed', reason: 'BadTopic', status: 400 }]);
    fake.script.set('bob-fcm-token', [new Error('socket hang up'), new Error('socket hang up'), new Error('socket hang up'), new Error('socket hang up')]);
    const outcome = await run({ message: oneToOne(5), targets: [{ userId: 'np-bob', recvOpt: 0 }] });
    expect(outcome).toMatchObject({ sent: 0, failed: 2, retried: 3 });
    const letters = deadLetters().slice(before);
    expect(letters).toHaveLength(1);
    expect(letters[0].record.message).toMatchObject({ conversationId: 'si_np-alice_np-bob', seq: 5 });
    expect(letters[0].record.devices.map((d: { deviceId: string; reason: string }) => [d.deviceId, d.reason]).sort()).toEqual([
      ['bob-phone', 'BadTopic'],
      ['bob-tablet', 'request failed: socket hang up'],
    ]);
    // Both devices kept: a failure is not an invalid token.
    expect(await devices.ofUser('np-bob')).toHaveLength(2);
  });

  it('stops retrying when the time left is short, and dead-letters instead of running into the timeout', async () => {
    fake = new FakeProvider();
    fake.script.set('carol-subscription', [{ kind: 'retry', reason: 'TooManyRequests', status: 429, retryAfterMs: 10_000 }]);
    const outcome = await run({ message: oneToOne(6), targets: [{ userId: 'np-carol', recvOpt: 0 }] }, { remainingMs: () => 5_000 });
    expect(outcome).toMatchObject({ sent: 0, retried: 0, failed: 1 });
    expect(fake.calls).toHaveLength(1);
  });

  it('a batch page’s targets each get their own message’s conversation and seq', async () => {
    fake = new FakeProvider();
    await run({
      message: oneToOne(10),
      targets: [
        { userId: 'np-bob', recvOpt: 0, m: { conversationId: 'si_np-alice_np-bob', seq: 10, serverMsgId: 'srv-b', sendTime: 1, recvId: 'np-bob' } },
        { userId: 'np-carol', recvOpt: 0, m: { conversationId: 'si_np-alice_np-carol', seq: 3, serverMsgId: 'srv-c', sendTime: 1, recvId: 'np-carol' } },
      ],
    });
    expect(fake.to('np-carol').map((c) => c.notification.data)).toEqual([{ conversationId: 'si_np-alice_np-carol', seq: '3', serverMsgId: 'srv-c', senderId: 'np-alice' }]);
    expect(fake.to('np-bob').map((c) => c.notification.threadId)).toEqual(['si_np-alice_np-bob', 'si_np-alice_np-bob']);
  });
});

describe('beforeOfflinePush', () => {
  const hookFor = (seq: number) => hooks.calls('beforeOfflinePush', (d) => d.seq === seq);

  it('tells the app each recipient’s notification, signed, and sends it unchanged on allow', async () => {
    fake = new FakeProvider();
    await run({ message: oneToOne(30), targets: [{ userId: 'np-bob', recvOpt: 0 }] });
    const [call] = hookFor(30);
    expectSigned(call, SECRET);
    expect(call.body.data).toMatchObject({ userId: 'np-bob', conversationId: 'si_np-alice_np-bob', seq: 30, serverMsgId: 'srv-30', senderId: 'np-alice', sessionType: 1, contentType: 101, notification: { title: 'Alice', body: 'hello 30', silent: false } });
    expect(fake.calls).toHaveLength(2);
  });

  it('lets the app rewrite title, body and ex', async () => {
    fake = new FakeProvider();
    hooks.answers.beforeOfflinePush = () => ({ json: { action: 'modify', title: 'Your order', body: 'It shipped', ex: 'order=7' } });
    await run({ message: oneToOne(31), targets: [{ userId: 'np-carol', recvOpt: 0 }] });
    expect(fake.calls.map((c) => c.notification)).toEqual([expect.objectContaining({ title: 'Your order', body: 'It shipped', data: expect.objectContaining({ ex: 'order=7', seq: '31' }) })]);
    delete hooks.answers.beforeOfflinePush;
  });

  it('lets the app suppress one recipient’s push', async () => {
    fake = new FakeProvider();
    hooks.answers.beforeOfflinePush = (r) => (r.body.data.userId === 'np-bob' ? { json: { action: 'refuse', code: 10001 } } : { json: { action: 'allow' } });
    const outcome = await run({ message: oneToOne(32), targets: [{ userId: 'np-bob', recvOpt: 0 }, { userId: 'np-carol', recvOpt: 0 }] });
    expect(outcome).toMatchObject({ suppressed: 1, sent: 1 });
    expect(fake.calls.map((c) => c.device.userId)).toEqual(['np-carol']);
    delete hooks.answers.beforeOfflinePush;
  });

  it.each([
    ['a timeout', { delayMs: TIMEOUT_MS * 3, json: { action: 'refuse', code: 10001 } }],
    ['a 500', { status: 500, json: { action: 'refuse', code: 10001 } }],
    ['an invalid modification', { json: { action: 'modify', title: 't'.repeat(101) } }],
  ] as const)('sends the notification as built after %s, even under the closed policy', async (_what, answer) => {
    fake = new FakeProvider();
    hooks.answers.beforeOfflinePush = () => answer;
    const seq = 33 + n++;
    await run({ message: oneToOne(seq), targets: [{ userId: 'np-carol', recvOpt: 0 }] });
    expect(fake.calls.map((c) => [c.notification.title, c.notification.body])).toEqual([['Alice', `hello ${seq}`]]);
    delete hooks.answers.beforeOfflinePush;
  });
});
let n = 0;

describe('a large group', () => {
  it('keeps a roster of its members with devices, through joins, first and last devices, and leaves', async () => {
    const created = await as('np-alice', 'POST', '/groups', { groupId: 'np-g', name: 'Climbers', memberUserIds: ['np-bob', 'np-carol', 'np-dave'] });
    expect(created.status).toBe(200);
    // Four members: indexed; bob, carol and dave have devices, alice none.
    expect(await roster('np-g')).toEqual(['np-bob', 'np-carol', 'np-dave']);
    await as('np-alice', 'POST', '/groups/np-g/members', { userIds: ['np-erin'] });
    expect(await roster('np-g')).toEqual(['np-bob', 'np-carol', 'np-dave']);
    await register('np-erin', 'erin-phone', 'apns', 'erin-token');
    expect(await roster('np-g')).toEqual(['np-bob', 'np-carol', 'np-dave', 'np-erin']);
    await devices.remove('np-erin', ['erin-phone']);
    expect(await roster('np-g')).toEqual(['np-bob', 'np-carol', 'np-dave']);
    await register('np-erin', 'erin-phone', 'apns', 'erin-token');
    await as('np-dave', 'POST', '/users/np-dave/groups/np-g/quit');
    expect(await roster('np-g')).toEqual(['np-bob', 'np-carol', 'np-erin']);
  });

  it('notifies the roster members without a foreground connection, not the sender, not who blocked the sender', async () => {
    const carol = await device('np-carol');
    // erin blocked alice: her group messages reach erin, but no push does.
    expect((await as('np-erin', 'POST', '/users/np-erin/blacklist', { blockedUserId: 'np-alice' })).status).toBe(200);
    await register('np-alice', 'alice-phone', 'apns', 'alice-apns-token');
    fake = new FakeProvider();
    const message: PushMessage = { conversationId: 'sg_np-g', seq: 20, serverMsgId: 'srv-g20', sessionType: 3, senderId: 'np-alice', groupId: 'np-g', contentType: 101, content: { text: 'climbing?' }, sendTime: Date.now() };
    const outcome = await run({ message, roster: { groupId: 'np-g', shards: 1 } });
    expect(outcome.recipients).toBe(1);
    expect(fake.calls.map((c) => c.device.userId)).toEqual(['np-bob', 'np-bob']);
    expect(fake.calls[0].notification).toMatchObject({ title: 'Climbers', body: 'Alice: climbing?' });
    await carol.close();
  });
});
