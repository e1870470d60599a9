/**
 * Webhooks to the app backend, against a real HTTP server standing in for it: signed
 * callbacks, beforeSendMessage's verdicts and failure policies, afterSendMessage (queued by
 * the archive from the Messages stream) through its queue with retries.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { eventually, sleep, type Device } from '../support/cirrus';
import { admin, cirrus, device, text, useCirrus } from '../support/harness';
import { expectSigned as expectSignedWith, startWebhookReceiver, type Answer, type Received } from '../support/webhook-receiver';
import { groupConversationId, singleConversationId } from '../../core/domain/ids';
import { validateWebhookSettings, webhookEnv } from '../../core/webhooks/settings';
import { faults } from '../../core/faults';

const SECRET = 'test-webhook-secret';

const hooks = await startWebhookReceiver();
const { received, url } = hooks;
let answerBefore: (r: Received) => Answer = () => ({ json: { action: 'allow' } });
let answerAfter: (r: Received) => Answer = () => ({ status: 204 });
hooks.answers.beforeSendMessage = (r) => answerBefore(r);
hooks.answers.afterSendMessage = (r) => answerAfter(r);

const callbacks = {
  beforeSendMessage: { enabled: true, failurePolicy: 'open' as const },
  afterSendMessage: { enabled: true, skipContentTypes: [110] },
};

useCirrus({
  settings: { webhooks: { url, signingSecret: SECRET, timeoutMs: 300, callbacks } },
  // Failed after-callbacks come back within a second instead of a minute, and give up after three tries.
  queueOverrides: { webhook: { visibilityTimeoutSeconds: 1, maxReceiveCount: 3 } },
});

const before = (clientMsgId: string) => received.filter((r) => r.body.callback === 'beforeSendMessage' && r.body.data.clientMsgId === clientMsgId);
const after = (clientMsgId: string) => received.filter((r) => r.body.callback === 'afterSendMessage' && r.body.data.clientMsgId === clientMsgId);

const expectSigned = (r: Received) => expectSignedWith(r, SECRET);

async function maxSeq(d: Device, conversationId: string): Promise<number> {
  const newest = await d.ok('getNewestSeq', {});
  return newest.conversations.find((c: { conversationId: string }) => c.conversationId === conversationId)?.maxSeq ?? 0;
}

let alice: Device;
let bob: Device;

beforeAll(async () => {
  await admin.register('alice', 'bob', 'carol');
  await admin.createGroup('hooks', 'alice', ['bob', 'carol']);
  alice = await device('alice', 1);
  bob = await device('bob', 2);
});

afterAll(() => hooks.close());

beforeEach(() => {
  answerBefore = () => ({ json: { action: 'allow' } });
  answerAfter = () => ({ status: 204 });
});

describe('beforeSendMessage', () => {
  it('allow: the message is sent; both callbacks are signed, once each, with stable delivery ids', async () => {
    const ack = await alice.ok('sendMsg', { clientMsgId: 'allow-1', recvId: 'bob', ...text('hello') });
    await bob.until(() => bob.pushes.find((m) => m.clientMsgId === 'allow-1'));
    const [call] = before('allow-1');
    expectSigned(call);
    expect(call.body.data).toMatchObject({ senderId: 'alice', senderPlatformId: 1, clientMsgId: 'allow-1', recvId: 'bob', conversationId: ack.conversationId, contentType: 101, content: { text: 'hello' } });
    const [done] = await eventually(async () => after('allow-1').length > 0 && after('allow-1'));
    expectSigned(done);
    expect(done.body.data).toMatchObject({ conversationId: ack.conversationId, seq: ack.seq, serverMsgId: ack.serverMsgId, content: { text: 'hello' } });
    await sleep(1500);
    expect(before('allow-1')).toHaveLength(1);
    expect(after('allow-1')).toHaveLength(1);
  });

  it('refuse: the sender gets REFUSED_BY_APP with the app code and message; nothing is stored', async () => {
    answerBefore = () => ({ json: { action: 'refuse', code: 10042, message: 'Links are not allowed here' } });
    const conversationId = groupConversationId('hooks');
    const seqBefore = await maxSeq(alice, conversationId);
    const reply = await alice.request('sendMsg', { clientMsgId: 'refuse-1', groupId: 'hooks', ...text('http://spam') });
    expect(reply.error).toEqual({ code: 1310, reason: 'REFUSED_BY_APP', message: 'Links are not allowed here', retryable: false, appCode: 10042 });
    expect(before('refuse-1')[0].body.data).toMatchObject({ groupId: 'hooks', conversationId, sessionType: 3 });

    // The HTTP send route is judged the same way.
    const res = await admin.call('POST', '/messages', { sendId: 'alice', groupId: 'hooks', clientMsgId: 'refuse-2', ...text('http://spam') });
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ reason: 'REFUSED_BY_APP', appCode: 10042, message: 'Links are not allowed here' });

    await sleep(300);
    expect(await maxSeq(alice, conversationId)).toBe(seqBefore);
    const pulled = await alice.ok('pullMsgs', { conversationId, fromSeq: 1, toSeq: Math.max(1, seqBefore + 2) });
    expect(JSON.stringify(pulled)).not.toContain('http://spam');
    expect(after('refuse-1')).toHaveLength(0);
  });

  it('modify: the stored, pushed and after-callback content is the modified one', async () => {
    answerBefore = () => ({ json: { action: 'modify', content: { text: 'h*llo' } } });
    const ack = await alice.ok('sendMsg', { clientMsgId: 'modify-1', recvId: 'bob', ...text('hello') });
    const pushed = await bob.until(() => bob.pushes.find((m) => m.clientMsgId === 'modify-1'));
    expect(pushed.content).toEqual({ text: 'h*llo' });
    const pulled = await bob.ok('pullMsgs', { conversationId: ack.conversationId, fromSeq: ack.seq, toSeq: ack.seq });
    expect(pulled.messages.map((m: { content: unknown }) => m.content)).toEqual([{ text: 'h*llo' }]);
    const [done] = await eventually(async () => after('modify-1').length > 0 && after('modify-1'));
    expect(done.body.data.content).toEqual({ text: 'h*llo' });
  });

  it('an invalid modification is a backend failure: under the open policy the original is sent', async () => {
    answerBefore = () => ({ json: { action: 'modify', content: { text: 42 } } });
    const ack = await alice.ok('sendMsg', { clientMsgId: 'modify-bad', recvId: 'bob', ...text('original') });
    const pulled = await bob.ok('pullMsgs', { conversationId: ack.conversationId, fromSeq: ack.seq, toSeq: ack.seq });
    expect(pulled.messages[0].content).toEqual({ text: 'original' });
  });

  it('a modification holding U+0000 or a lone surrogate is invalid too: the original is sent', async () => {
    for (const [i, modified] of ['nul\u0000', 'half \ud800'].entries()) {
      answerBefore = () => ({ json: { action: 'modify', content: { text: modified } } });
      const ack = await alice.ok('sendMsg', { clientMsgId: `modify-odd-${i}`, recvId: 'bob', ...text('original') });
      const pulled = await bob.ok('pullMsgs', { conversationId: ack.conversationId, fromSeq: ack.seq, toSeq: ack.seq });
      expect(pulled.messages[0].content).toEqual({ text: 'original' });
    }
  });

  it.each([
    ['a timeout', { delayMs: 1000, json: { action: 'refuse', code: 10001 } }],
    ['a 500', { status: 500, json: { action: 'refuse', code: 10001 } }],
    ['a malformed answer', { json: { action: 'refuse', code: 5 } }],
  ] as const)('open policy: after %s the message is sent unchanged', async (name, answer) => {
    answerBefore = () => answer;
    const clientMsgId = `open-${name.replace(/\W/g, '')}`;
    const ack = await alice.ok('sendMsg', { clientMsgId, recvId: 'bob', ...text('still here') });
    const pulled = await bob.ok('pullMsgs', { conversationId: ack.conversationId, fromSeq: ack.seq, toSeq: ack.seq });
    expect(pulled.messages[0].content).toEqual({ text: 'still here' });
  });

  it('a resend of an accepted clientMsgId gets the first ack without calling the app again', async () => {
    const first = await alice.ok('sendMsg', { clientMsgId: 'resend-1', recvId: 'bob', ...text('once') });
    answerBefore = () => ({ json: { action: 'refuse', code: 10002, message: 'would refuse now' } });
    const again = await alice.ok('sendMsg', { clientMsgId: 'resend-1', recvId: 'bob', ...text('once') });
    expect(again).toEqual(first);
    expect(before('resend-1')).toHaveLength(1);
  });

  describe('closed policy', () => {
    // Settings are read on use, as in Lambda: the same deployment with the policy changed.
    let saved: string | undefined;
    beforeAll(() => {
      saved = process.env.WEBHOOK_CALLBACKS;
      const closed = validateWebhookSettings({ url, timeoutMs: 300, callbacks: { ...callbacks, beforeSendMessage: { enabled: true, failurePolicy: 'closed' } } });
      Object.assign(process.env, webhookEnv(closed));
    });
    afterAll(() => {
      process.env.WEBHOOK_CALLBACKS = saved;
    });

    it.each([
      ['a timeout', { delayMs: 1000, json: { action: 'allow' } }],
      ['a 500', { status: 500, json: { action: 'allow' } }],
    ] as const)('after %s the send is refused with APP_UNAVAILABLE (retryable) and nothing is stored', async (name, answer) => {
      answerBefore = () => answer;
      const conversationId = singleConversationId('alice', 'carol');
      const seqBefore = await maxSeq(alice, conversationId);
      const clientMsgId = `closed-${name.replace(/\W/g, '')}`;
      const reply = await alice.request('sendMsg', { clientMsgId, recvId: 'carol', ...text('blocked') });
      expect(reply.error).toMatchObject({ code: 1503, reason: 'APP_UNAVAILABLE', retryable: true });
      expect(reply.error?.message).not.toContain(url);
      await sleep(200);
      expect(await maxSeq(alice, conversationId)).toBe(seqBefore);

      // The same clientMsgId goes through once the backend answers.
      answerBefore = () => ({ json: { action: 'allow' } });
      const ack = await alice.ok('sendMsg', { clientMsgId, recvId: 'carol', ...text('blocked') });
      expect(ack.seq).toBe(seqBefore + 1);
      expect(new Set(before(clientMsgId).map((r) => r.body.id)).size).toBe(1);
    });
  });
});

describe('afterSendMessage', () => {
  it('is retried through its queue until the app answers 2xx, with the same delivery id', async () => {
    let attempts = 0;
    answerAfter = (r) => (r.body.data.clientMsgId === 'retry-1' && ++attempts <= 2 ? { status: 500 } : { status: 200 });
    const ack = await alice.ok('sendMsg', { clientMsgId: 'retry-1', recvId: 'bob', ...text('eventually') });
    const calls = await eventually(async () => after('retry-1').length >= 3 && after('retry-1'), 20_000);
    await sleep(2500);
    expect(after('retry-1')).toHaveLength(3);
    for (const call of calls) expectSigned(call);
    expect(new Set(calls.map((c) => c.headers['x-cirrus-delivery-id'])).size).toBe(1);
    expect(calls[2].body.data).toMatchObject({ conversationId: ack.conversationId, seq: ack.seq });
  });

  it('is called for a message whose send crashed right after the write and was never sent again', async () => {
    faults.crash('send.afterWrite');
    const crashed = await alice.request('sendMsg', { clientMsgId: 'crashed-1', recvId: 'bob', ...text('written, then the send crashed') });
    expect(crashed.data).toBeUndefined();
    const [call] = await eventually(async () => after('crashed-1').length >= 1 && after('crashed-1'), 20_000);
    expectSigned(call);
    expect(call.body.data).toMatchObject({ conversationId: singleConversationId('alice', 'bob'), clientMsgId: 'crashed-1' });
    await cirrus.streams.idle();
    await sleep(500);
    expect(after('crashed-1')).toHaveLength(1);
  });

  it('lands in the dead-letter queue when the app never answers 2xx', async () => {
    answerAfter = (r) => (r.body.data.clientMsgId === 'dlq-1' ? { status: 503 } : { status: 200 });
    expect(cirrus.sqs.depth('Webhook-dlq').visible).toBe(0);
    await alice.ok('sendMsg', { clientMsgId: 'dlq-1', recvId: 'bob', ...text('nobody listens') });
    await eventually(async () => cirrus.sqs.depth('Webhook-dlq').visible === 1, 20_000);
    expect(after('dlq-1')).toHaveLength(3);
  });

  it('skips the content types it is told to skip', async () => {
    await alice.ok('sendMsg', { clientMsgId: 'skip-1', recvId: 'bob', contentType: 110, content: { data: '{"kind":"poke"}' } });
    await bob.until(() => bob.pushes.find((m) => m.clientMsgId === 'skip-1'));
    // The archive has read the message from the stream (and would have queued its callback).
    await cirrus.streams.idle();
    await sleep(1000);
    expect(after('skip-1')).toHaveLength(0);
    expect(before('skip-1')).toHaveLength(1);
  });
});

describe('filters on the message callbacks', () => {
  let saved: string | undefined;
  beforeAll(() => {
    saved = process.env.WEBHOOK_CALLBACKS;
    const watched = validateWebhookSettings({
      url,
      timeoutMs: 300,
      callbacks: { beforeSendMessage: { enabled: true, userIds: ['carol'] }, afterSendMessage: { enabled: true, groupIds: ['hooks'] } },
    });
    Object.assign(process.env, webhookEnv(watched));
  });
  afterAll(() => {
    process.env.WEBHOOK_CALLBACKS = saved;
  });

  it('beforeSendMessage judges only messages involving a watched user; afterSendMessage reports only a watched group', async () => {
    answerBefore = () => ({ json: { action: 'refuse', code: 10077, message: 'Carol is protected' } });
    const plain = await alice.ok('sendMsg', { clientMsgId: 'filter-bob', recvId: 'bob', ...text('to bob') });
    expect(plain.seq).toBeGreaterThan(0);
    const refused = await alice.request('sendMsg', { clientMsgId: 'filter-carol', recvId: 'carol', ...text('to carol') });
    expect(refused.error).toMatchObject({ reason: 'REFUSED_BY_APP', appCode: 10077 });
    expect(before('filter-bob')).toHaveLength(0);
    expect(before('filter-carol')).toHaveLength(1);

    answerBefore = () => ({ json: { action: 'allow' } });
    await alice.ok('sendMsg', { clientMsgId: 'filter-group', groupId: 'hooks', ...text('to the group') });
    await eventually(async () => after('filter-group').length === 1);
    await sleep(1000);
    expect(after('filter-bob')).toHaveLength(0);
  });
});
