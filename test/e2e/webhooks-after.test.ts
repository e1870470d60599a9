/**
 * The after-callbacks besides afterSendMessage, against a real HTTP receiver: each one
 * caused through its real route or frame, signed, carrying its data, delivered once per
 * delivery id when the app answers 2xx; redelivered with the same id after a consumer
 * crash; filtered by userIds / groupIds; not even queued when off. Then the dead-letter
 * routes: peeking leaves the callbacks in place, redriving delivers them again.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually, sleep } from '../support/cirrus';
import { admin, as, cirrus, device, text, useCirrus } from '../support/harness';
import { expectSigned, startWebhookReceiver, type Received } from '../support/webhook-receiver';
import { awsRequests } from '../../core/aws/accounting';
import { groupConversationId, singleConversationId } from '../../core/domain/ids';
import { faults } from '../../core/faults';
import { AFTER_CALLBACKS, validateWebhookSettings, webhookEnv, type AfterCallback, type WebhookCallbackSettings } from '../../core/webhooks/settings';

const SECRET = 'after-callbacks-secret';
const hooks = await startWebhookReceiver();

const NEW_AFTER = AFTER_CALLBACKS.filter((n) => n !== 'afterSendMessage');
const allOn = (extra: Partial<Record<AfterCallback, Partial<WebhookCallbackSettings>>> = {}): Record<string, WebhookCallbackSettings> =>
  Object.fromEntries(NEW_AFTER.map((n) => [n, { enabled: true, ...extra[n] }]));

useCirrus({
  settings: { webhooks: { url: hooks.url, signingSecret: SECRET, timeoutMs: 1000, callbacks: allOn() } },
  // Failed callbacks come back within a second and give up after three receives.
  queueOverrides: { webhook: { visibilityTimeoutSeconds: 1, maxReceiveCount: 3 } },
});

/** Settings are read on use, as in Lambda: the same deployment with other callback settings. */
function useCallbacks(callbacks: Record<string, WebhookCallbackSettings>): void {
  Object.assign(process.env, webhookEnv(validateWebhookSettings({ url: hooks.url, timeoutMs: 1000, callbacks })));
}

/** Delivery ids checked so far: each must arrive exactly once (the receiver answers 204). */
const checked = new Set<string>();

/** The callback of `name` whose data matches, once it arrives; checked for signature and data. */
async function arrives(name: AfterCallback, match: (data: any) => boolean, data: Record<string, unknown>): Promise<Received> {
  const [call] = await eventually(async () => hooks.calls(name, match).length > 0 && hooks.calls(name, match), 10_000);
  expectSigned(call, SECRET);
  expect(call.body.data).toMatchObject(data);
  expect(typeof call.body.data.at === 'number' || name === 'afterSendMessage').toBe(true);
  checked.add(call.body.id);
  return call;
}

const ok = async (res: Promise<{ status: number; body: any }>) => {
  const r = await res;
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
};

beforeAll(async () => {
  await admin.register('alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'gina', 'owner');
});

afterEach(() => {
  for (const name of NEW_AFTER) delete hooks.answers[name];
  faults.clear();
});

afterAll(() => hooks.close());

describe('messages', () => {
  it('afterMarkRead: markRead (frame) and readConversation (route) each report the new read position', async () => {
    const sent = await ok(admin.call('POST', '/messages', { sendId: 'alice', recvId: 'bob', ...text('read me') }));
    const bob = await device('bob');
    const conversationId = singleConversationId('alice', 'bob');
    await bob.ok('markRead', { conversationId, seq: sent.seq });
    await arrives('afterMarkRead', (d) => d.userId === 'bob' && d.readSeq === sent.seq, { userId: 'bob', conversationId, readSeq: sent.seq });

    await admin.createGroup('read-g', 'owner', ['carol']);
    const inGroup = await ok(admin.call('POST', '/messages', { sendId: 'owner', groupId: 'read-g', ...text('group read') }));
    await ok(as('carol', 'POST', `/users/carol/conversations/${groupConversationId('read-g')}/read`, {}));
    await arrives('afterMarkRead', (d) => d.userId === 'carol' && d.groupId === 'read-g', { userId: 'carol', conversationId: groupConversationId('read-g'), readSeq: inGroup.seq, groupId: 'read-g' });
  });

  it('afterRevokeMessage: the revoked marker and who revoked it', async () => {
    const alice = await device('alice');
    const ack = await alice.ok('sendMsg', { clientMsgId: 'to-revoke', recvId: 'bob', ...text('oops') });
    await alice.ok('revokeMsg', { conversationId: ack.conversationId, seq: ack.seq });
    const call = await arrives('afterRevokeMessage', (d) => d.message.clientMsgId === 'to-revoke', { revokedBy: 'alice', message: { conversationId: ack.conversationId, seq: ack.seq, senderId: 'alice', content: null } });
    expect(call.body.data.message.revoked).toMatchObject({ by: 'alice' });
  });
});

describe('connections', () => {
  it('afterUserOnline and afterUserOffline: one each per connection', async () => {
    const dave = await device('dave', 3);
    const online = await arrives('afterUserOnline', (d) => d.userId === 'dave', { userId: 'dave', platformId: 3 });
    await dave.close();
    await arrives('afterUserOffline', (d) => d.userId === 'dave', { userId: 'dave', platformId: 3, connectionId: online.body.data.connectionId });
  });

  it('afterUserKicked: a forced logout, a ban and a login elsewhere, with their reasons', async () => {
    await device('erin', 1);
    await ok(admin.call('POST', '/auth/force-logout', { userId: 'erin' }));
    await arrives('afterUserKicked', (d) => d.userId === 'erin', { userId: 'erin', platformId: 1, reason: 'forcedLogout' });

    // Two connections kicked by one ban: two callbacks, queued together.
    await device('frank', 2);
    await device('frank', 3);
    await ok(admin.call('POST', '/users/frank/ban', { reason: 'spam' }));
    await arrives('afterUserKicked', (d) => d.userId === 'frank' && d.platformId === 2, { userId: 'frank', platformId: 2, reason: 'banned' });
    await arrives('afterUserKicked', (d) => d.userId === 'frank' && d.platformId === 3, { userId: 'frank', platformId: 3, reason: 'banned' });

    // One connection per platform (the default policy): the second login kicks the first.
    const first = await device('gina', 1);
    const firstOnline = await arrives('afterUserOnline', (d) => d.userId === 'gina', { userId: 'gina' });
    await device('gina', 1);
    await first.until(() => first.closed);
    await arrives('afterUserKicked', (d) => d.userId === 'gina', { userId: 'gina', platformId: 1, reason: 'loggedInElsewhere', connectionId: firstOnline.body.data.connectionId });
  });
});

describe('friends', () => {
  it('afterAddFriend: an accepted request and an import', async () => {
    await ok(as('alice', 'POST', '/users/alice/friend-requests', { toUserId: 'carol', message: 'hi' }));
    await ok(as('carol', 'POST', '/users/carol/friend-requests/alice/accept', {}));
    await arrives('afterAddFriend', (d) => d.friendUserId === 'alice' && d.userId === 'carol', { userId: 'carol', friendUserId: 'alice', opUserId: 'carol', via: 'request' });

    await ok(admin.call('POST', '/friends/import', { userId: 'dave', friendUserIds: ['erin', 'gina'] }));
    for (const friend of ['erin', 'gina']) {
      await arrives('afterAddFriend', (d) => d.userId === 'dave' && d.friendUserId === friend, { userId: 'dave', friendUserId: friend, opUserId: '@admin', via: 'import' });
    }
  });

  it('afterDeleteFriend', async () => {
    await ok(as('alice', 'DELETE', '/users/alice/friends/carol'));
    await arrives('afterDeleteFriend', (d) => d.userId === 'alice', { userId: 'alice', friendUserId: 'carol', opUserId: 'alice' });
  });
});

describe('groups', () => {
  it('afterCreateGroup', async () => {
    await ok(as('owner', 'POST', '/groups', { groupId: 'g1', name: 'G one', memberUserIds: ['alice', 'bob'], joinPolicy: 'free' }));
    const call = await arrives('afterCreateGroup', (d) => d.group.groupId === 'g1', { group: { groupId: 'g1', name: 'G one', ownerUserId: 'owner', joinPolicy: 'free' }, opUserId: 'owner' });
    expect(call.body.data.memberUserIds.sort()).toEqual(['alice', 'bob', 'owner']);
  });

  it('afterJoinGroup: by invitation, by joining a free group, by an accepted application', async () => {
    await ok(as('owner', 'POST', '/groups/g1/members', { userIds: ['carol'] }));
    await arrives('afterJoinGroup', (d) => d.groupId === 'g1' && d.userIds.includes('carol'), { groupId: 'g1', userIds: ['carol'], inviterUserId: 'owner' });

    expect((await ok(as('dave', 'POST', '/users/dave/groups/g1/apply', { message: '' }))).status).toBe('joined');
    const joined = await arrives('afterJoinGroup', (d) => d.groupId === 'g1' && d.userIds.includes('dave'), { groupId: 'g1', userIds: ['dave'] });
    expect(joined.body.data).not.toHaveProperty('inviterUserId');

    await ok(as('owner', 'PUT', '/groups/g1', { joinPolicy: 'approval' }));
    expect((await ok(as('erin', 'POST', '/users/erin/groups/g1/apply', { message: 'me too' }))).status).toBe('applied');
    await ok(as('owner', 'POST', '/groups/g1/applications/erin/accept', {}));
    await arrives('afterJoinGroup', (d) => d.groupId === 'g1' && d.userIds.includes('erin'), { groupId: 'g1', userIds: ['erin'] });
  });

  it('afterSetGroupInfo: only the changed fields', async () => {
    await ok(as('owner', 'PUT', '/groups/g1', { name: 'G one', introduction: 'About g1' }));
    await arrives('afterSetGroupInfo', (d) => d.groupId === 'g1' && d.changes.introduction === 'About g1', { groupId: 'g1', opUserId: 'owner', changes: { introduction: 'About g1' } });
    expect(hooks.calls('afterSetGroupInfo', (d) => d.changes.introduction === 'About g1')[0].body.data.changes).not.toHaveProperty('name');
  });

  it('afterKickGroupMember and afterQuitGroup', async () => {
    await ok(as('owner', 'POST', '/groups/g1/members/remove', { userIds: ['carol', 'dave'] }));
    await arrives('afterKickGroupMember', (d) => d.groupId === 'g1', { groupId: 'g1', userIds: ['carol', 'dave'], opUserId: 'owner' });
    await ok(as('bob', 'POST', '/users/bob/groups/g1/quit'));
    await arrives('afterQuitGroup', (d) => d.groupId === 'g1', { groupId: 'g1', userId: 'bob' });
  });

  it('afterDismissGroup', async () => {
    await ok(as('owner', 'DELETE', '/groups/g1'));
    await arrives('afterDismissGroup', (d) => d.groupId === 'g1', { groupId: 'g1', opUserId: 'owner' });
  });
});

describe('delivery', () => {
  it('every callback above arrived exactly once per delivery id', async () => {
    expect(new Set([...checked].map((id) => id.split('-')[0]))).toEqual(new Set(NEW_AFTER));
    await sleep(2500);
    for (const id of checked) expect(hooks.received.filter((r) => r.body.id === id), id).toHaveLength(1);
  });

  it('a consumer crash after the POST redelivers the callback with the same delivery id (the app deduplicates by it)', async () => {
    let crashes = 1;
    faults.arm('webhook.afterPost', (d) => {
      if ((d.callbacks as string[]).includes('afterCreateGroup') && crashes-- > 0) throw new Error('Injected crash after the POST');
    });
    await ok(as('owner', 'POST', '/groups', { groupId: 'crash-g', name: 'crash' }));
    const calls = await eventually(async () => hooks.calls('afterCreateGroup', (d) => d.group.groupId === 'crash-g').length >= 2 && hooks.calls('afterCreateGroup', (d) => d.group.groupId === 'crash-g'));
    await sleep(2000);
    expect(hooks.calls('afterCreateGroup', (d) => d.group.groupId === 'crash-g')).toHaveLength(2);
    for (const call of calls) expectSigned(call, SECRET);
    expect(calls[1].body.id).toBe(calls[0].body.id);
    expect(calls[1].body.data).toEqual(calls[0].body.data);
  });
});

describe('filters and cost', () => {
  afterEach(() => useCallbacks(allOn()));

  it('groupIds / userIds: only events involving a watched group or user are called back', async () => {
    useCallbacks(allOn({ afterCreateGroup: { groupIds: ['watched-g'] }, afterUserOnline: { userIds: ['bob'] }, afterQuitGroup: { userIds: ['alice'], groupIds: ['watched-g'] } }));
    await ok(as('owner', 'POST', '/groups', { groupId: 'unwatched-g', name: 'u', memberUserIds: ['alice', 'bob'] }));
    await ok(as('owner', 'POST', '/groups', { groupId: 'watched-g', name: 'w', memberUserIds: ['alice', 'bob'] }));
    await device('carol', 7);
    await device('bob', 7);
    await ok(as('bob', 'POST', '/users/bob/groups/unwatched-g/quit'));
    await ok(as('alice', 'POST', '/users/alice/groups/unwatched-g/quit'));
    await arrives('afterCreateGroup', (d) => d.group.groupId === 'watched-g', { group: { groupId: 'watched-g' } });
    await arrives('afterUserOnline', (d) => d.userId === 'bob' && d.platformId === 7, { userId: 'bob' });
    await arrives('afterQuitGroup', (d) => d.groupId === 'unwatched-g' && d.userId === 'alice', { userId: 'alice' });
    await sleep(1500);
    expect(hooks.calls('afterCreateGroup', (d) => d.group.groupId === 'unwatched-g')).toHaveLength(0);
    expect(hooks.calls('afterUserOnline', (d) => d.userId === 'carol' && d.platformId === 7)).toHaveLength(0);
    expect(hooks.calls('afterQuitGroup', (d) => d.groupId === 'unwatched-g' && d.userId === 'bob')).toHaveLength(0);
  });

  it('skipContentTypes: afterRevokeMessage skips the listed content types', async () => {
    useCallbacks(allOn({ afterRevokeMessage: { skipContentTypes: [110] } }));
    const alice = await device('alice', 8);
    const skipped = await alice.ok('sendMsg', { clientMsgId: 'skip-revoke', recvId: 'bob', contentType: 110, content: { data: '{"k":1}' } });
    const kept = await alice.ok('sendMsg', { clientMsgId: 'kept-revoke', recvId: 'bob', ...text('kept') });
    await alice.ok('revokeMsg', { conversationId: skipped.conversationId, seq: skipped.seq });
    await alice.ok('revokeMsg', { conversationId: kept.conversationId, seq: kept.seq });
    await arrives('afterRevokeMessage', (d) => d.message.clientMsgId === 'kept-revoke', { revokedBy: 'alice' });
    await sleep(1000);
    expect(hooks.calls('afterRevokeMessage', (d) => d.message.clientMsgId === 'skip-revoke')).toHaveLength(0);
  });

  it('a callback that is off costs no request: markRead queues nothing for it', async () => {
    const conversationId = singleConversationId('alice', 'bob');
    const bob = await device('bob', 9);
    const sqsSends = (counts: Record<string, Record<string, number>>) => (counts.SQS?.SendMessage ?? 0) + (counts.SQS?.SendMessageBatch ?? 0);
    const markRead = async (on: boolean): Promise<number> => {
      useCallbacks({ ...allOn(), afterMarkRead: { enabled: on } });
      const sent = await ok(admin.call('POST', '/messages', { sendId: 'alice', recvId: 'bob', ...text(`cost ${on}`) }));
      await bob.until(() => bob.pushes.find((m) => m.seq === sent.seq));
      await sleep(500);
      const before = awsRequests.snapshot();
      await bob.ok('markRead', { conversationId, seq: sent.seq });
      return sqsSends(awsRequests.since(before));
    };
    expect(await markRead(false)).toBe(0);
    expect(await markRead(true)).toBe(1);
  });
});

describe('dead letters', () => {
  it('peek shows the dead-lettered callbacks and leaves them; redrive delivers them again with their delivery ids', async () => {
    hooks.answers.afterDismissGroup = () => ({ status: 503 });
    await ok(as('owner', 'POST', '/groups', { groupId: 'dlq-g', name: 'dlq' }));
    await ok(as('owner', 'DELETE', '/groups/dlq-g'));
    // While it is retried, the callback shows as pending in the webhook queue.
    await eventually(async () => {
      const { pending } = await ok(admin.call('GET', '/admin/webhooks/dead-letters'));
      return pending.waiting + pending.inFlight === 1;
    }, 20_000);
    await eventually(async () => cirrus.sqs.depth('Webhook-dlq').visible === 1, 20_000);
    const failed = hooks.calls('afterDismissGroup', (d) => d.groupId === 'dlq-g');
    expect(failed).toHaveLength(3);

    const peek = await ok(admin.call('GET', '/admin/webhooks/dead-letters?limit=5'));
    expect(peek).toMatchObject({ configured: true, approximateCount: 1, pending: { waiting: 0, inFlight: 0 } });
    expect(peek.messages).toEqual([
      {
        receiptId: expect.any(String),
        callback: 'afterDismissGroup',
        deliveryId: failed[0].body.id,
        data: { groupId: 'dlq-g', opUserId: 'owner', at: expect.any(Number) },
        sentAt: expect.any(Number),
        receiveCount: expect.any(Number),
      },
    ]);
    // Peeking consumes nothing: the same callback is there to see again.
    const again = await ok(admin.call('GET', '/admin/webhooks/dead-letters'));
    expect(again.messages.map((m: { receiptId: string }) => m.receiptId)).toEqual([peek.messages[0].receiptId]);
    expect(cirrus.sqs.depth('Webhook-dlq').visible).toBe(1);

    hooks.answers.afterDismissGroup = () => ({ status: 200 });
    expect(await ok(admin.call('POST', '/admin/webhooks/dead-letters/redrive'))).toEqual({ moved: 1 });
    expect(cirrus.sqs.depth('Webhook-dlq').visible + cirrus.sqs.depth('Webhook-dlq').inFlight).toBe(0);
    const delivered = await eventually(async () => hooks.calls('afterDismissGroup', (d) => d.groupId === 'dlq-g').length === 4 && hooks.calls('afterDismissGroup', (d) => d.groupId === 'dlq-g')[3]);
    expectSigned(delivered, SECRET);
    expect(delivered.body.id).toBe(failed[0].body.id);
    expect(await ok(admin.call('GET', '/admin/webhooks/dead-letters'))).toEqual({ configured: true, approximateCount: 0, pending: { waiting: 0, inFlight: 0 }, messages: [] });
    expect(await ok(admin.call('POST', '/admin/webhooks/dead-letters/redrive'))).toEqual({ moved: 0 });
  });

  it('bad input: limit out of range is INVALID_ARGUMENT', async () => {
    for (const limit of ['0', '101', 'ten']) {
      const res = await admin.call('GET', `/admin/webhooks/dead-letters?limit=${limit}`);
      expect(res.status, limit).toBe(400);
      expect(res.body.error.reason).toBe('INVALID_ARGUMENT');
    }
  });

  it('with webhooks not configured: configured false, nothing listed, nothing moved', async () => {
    const saved = process.env.WEBHOOK_URL;
    delete process.env.WEBHOOK_URL;
    try {
      expect(await ok(admin.call('GET', '/admin/webhooks/dead-letters'))).toEqual({ configured: false, approximateCount: 0, pending: { waiting: 0, inFlight: 0 }, messages: [] });
      expect(await ok(admin.call('POST', '/admin/webhooks/dead-letters/redrive'))).toEqual({ moved: 0 });
    } finally {
      process.env.WEBHOOK_URL = saved;
    }
  });
});
