/**
 * The key-package directory of encrypted conversations (MLS): publishing with the checks on
 * each key package, claiming atomically (a one-time key package is handed out once, then the
 * last-resort one), who may claim (the app's 1:1 rules, or a shared group), removal, and the
 * encrypted content types on the ordinary send path.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { admin, as, cirrus, device, useCirrus } from '../support/harness';
import { ddb } from '../../core/aws/dynamodb';
import { fingerprint, generateKeyPackage, newSignatureKeys, type SignatureKeys } from '../../sdk/src/e2ee/mls';
import { conversations } from '../../core/store/conversations';
import { claimHash, claimsOf } from '../../core/domain/claims';

useCirrus({ settings: { requireFriendship: true } });

const kp = async (userId: string, deviceId: string, keys: SignatureKeys) => (await generateKeyPackage(userId, deviceId, keys)).b64;
const path = (userId: string, deviceId: string) => `/users/${userId}/e2ee/devices/${deviceId}`;

async function stored(userId: string): Promise<Record<string, any>[]> {
  return (await ddb().send(new QueryCommand({ TableName: cirrus.tableNames.keyPackages, KeyConditionExpression: 'userId = :u', ExpressionAttributeValues: { ':u': userId }, ConsistentRead: true }))).Items ?? [];
}

describe('the key-package directory', () => {
  it('registers a device on its first publish, with its fingerprint and the key packages it holds', async () => {
    await admin.register('kd-a');
    const keys = await newSignatureKeys();
    const first = await as('kd-a', 'PUT', path('kd-a', 'd1'), { keyPackages: [await kp('kd-a', 'd1', keys)] });
    expect(first.status).toBe(400);
    expect(first.body.error.message).toMatch(/lastResort: required/);
    expect(await stored('kd-a')).toEqual([]);

    const res = await as('kd-a', 'PUT', path('kd-a', 'd1'), { keyPackages: [await kp('kd-a', 'd1', keys), await kp('kd-a', 'd1', keys)], lastResort: await kp('kd-a', 'd1', keys) });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ deviceId: 'd1', keyPackages: 2, added: 2 });
    const list = await as('kd-a', 'GET', '/users/kd-a/e2ee/devices');
    expect(list.body.devices).toEqual([{ deviceId: 'd1', fingerprint: await fingerprint(keys.publicKey), keyPackages: 2, publishedAt: expect.any(Number) }]);
    // A later publish adds to the batch; the same key package twice is held once.
    const again = await kp('kd-a', 'd1', keys);
    expect((await as('kd-a', 'PUT', path('kd-a', 'd1'), { keyPackages: [again, again] })).body).toEqual({ deviceId: 'd1', keyPackages: 3, added: 1 });
  });

  it('refuses bad key packages with INVALID_ARGUMENT and stores nothing', async () => {
    await admin.register('kd-b', 'kd-other');
    const keys = await newSignatureKeys();
    const good = await kp('kd-b', 'd1', keys);
    const cases: [string, unknown, RegExp][] = [
      ['malformed base64', { keyPackages: ['not base64!'], lastResort: good }, /base64/],
      ['oversized', { keyPackages: [randomBytes(3000).toString('base64')], lastResort: good }, /more than 2048 bytes/],
      ['not an MLS message', { keyPackages: [randomBytes(300).toString('base64')], lastResort: good }, /not an MLS message|not a key package/],
      ['another user', { keyPackages: [await kp('kd-other', 'd1', keys)], lastResort: good }, /identity kd-b\/d1/],
      ['another device', { keyPackages: [await kp('kd-b', 'd2', keys)], lastResort: good }, /identity kd-b\/d1/],
      ['another signature key', { keyPackages: [await kp('kd-b', 'd1', await newSignatureKeys())], lastResort: good }, /same signature key/],
      ['too many', { keyPackages: Array(101).fill(good), lastResort: good }, /keyPackages/],
    ];
    for (const [name, body, message] of cases) {
      const res = await as('kd-b', 'PUT', path('kd-b', 'd1'), body);
      expect(res.status, name).toBe(400);
      expect(res.body.error, name).toMatchObject({ reason: 'INVALID_ARGUMENT', message: expect.stringMatching(message) });
    }
    expect(await stored('kd-b')).toEqual([]);
    // A welcome or a private message is not a key package either.
    await as('kd-b', 'PUT', path('kd-b', 'd1'), { keyPackages: [], lastResort: good });
    const other = await as('kd-b', 'PUT', path('kd-b', 'd1'), { keyPackages: [await kp('kd-b', 'd1', await newSignatureKeys())] });
    expect(other.status).toBe(409);
    expect(other.body.error.reason).toBe('ALREADY_EXISTS');
  });

  it('publishes with the user\'s own token only', async () => {
    await admin.register('kd-c');
    const keys = await newSignatureKeys();
    const body = { keyPackages: [], lastResort: await kp('kd-c', 'd1', keys) };
    expect((await as('@admin', 'PUT', path('kd-c', 'd1'), body)).body.error).toMatchObject({ reason: 'FORBIDDEN' });
    expect((await as('kd-a', 'PUT', path('kd-c', 'd1'), body)).body.error).toMatchObject({ reason: 'FORBIDDEN' });
    expect(await stored('kd-c')).toEqual([]);
  });

  it('hands out each one-time key package once, even to concurrent claims, then the last-resort one', async () => {
    await admin.register('kd-d', 'kd-e');
    await admin.call('POST', '/friends/import', { userId: 'kd-e', friendUserIds: ['kd-d'] });
    const keys = await newSignatureKeys();
    const oneTime = await Promise.all(Array.from({ length: 5 }, () => kp('kd-d', 'phone', keys)));
    const lastResort = await kp('kd-d', 'phone', keys);
    await as('kd-d', 'PUT', path('kd-d', 'phone'), { keyPackages: oneTime, lastResort });

    const claims = await Promise.all(Array.from({ length: 8 }, () => as('kd-e', 'POST', '/users/kd-d/e2ee/key-packages/claim', {})));
    for (const c of claims) expect(c.status).toBe(200);
    const got = claims.map((c) => c.body.keyPackages[0]);
    const fresh = got.filter((g) => !g.lastResort).map((g) => g.keyPackage);
    expect(fresh.sort()).toEqual([...oneTime].sort());
    expect(got.filter((g) => g.lastResort).map((g) => g.keyPackage)).toEqual([lastResort, lastResort, lastResort]);
    expect((await as('kd-d', 'GET', '/users/kd-d/e2ee/devices')).body.devices[0].keyPackages).toBe(0);
    // Other users see the devices and fingerprints, not the counts.
    expect((await as('kd-e', 'GET', '/users/kd-d/e2ee/devices')).body.devices).toEqual([{ deviceId: 'phone', fingerprint: await fingerprint(keys.publicKey), publishedAt: expect.any(Number) }]);
  });

  it("follows the app's rules on who may claim: registered, not blocked, friends here, or a shared group", async () => {
    await admin.register('kd-f', 'kd-g', 'kd-h');
    const keys = await newSignatureKeys();
    await as('kd-f', 'PUT', path('kd-f', 'd1'), { keyPackages: [await kp('kd-f', 'd1', keys)], lastResort: await kp('kd-f', 'd1', keys) });
    const claim = (caller: string, userId: string, body: unknown = {}) => as(caller, 'POST', `/users/${userId}/e2ee/key-packages/claim`, body);
    expect((await claim('kd-g', 'kd-nobody')).body.error).toMatchObject({ reason: 'USER_NOT_FOUND' });
    expect((await claim('kd-g', 'kd-f')).body.error).toMatchObject({ reason: 'NOT_FRIENDS' });
    expect((await as('kd-g', 'GET', '/users/kd-f/e2ee/devices')).body.error).toMatchObject({ reason: 'NOT_FRIENDS' });
    await admin.call('POST', '/friends/import', { userId: 'kd-g', friendUserIds: ['kd-f'] });
    await as('kd-f', 'POST', '/users/kd-f/blacklist', { blockedUserId: 'kd-g' });
    expect((await claim('kd-g', 'kd-f')).body.error).toMatchObject({ reason: 'BLOCKED' });
    // A group both are in: no friendship needed; a group the user is not in: refused.
    const groupId = `kd-grp-${randomBytes(3).toString('hex')}`;
    expect((await admin.call('POST', '/groups', { groupId, name: 'g', ownerUserId: 'kd-h', memberUserIds: ['kd-f'] })).status).toBe(200);
    expect((await claim('kd-g', 'kd-f', { groupId })).body.error).toMatchObject({ reason: 'NOT_GROUP_MEMBER' });
    const ok = await claim('kd-h', 'kd-f', { groupId });
    expect(ok.status).toBe(200);
    expect(ok.body.keyPackages).toHaveLength(1);
    expect((await claim('kd-h', 'kd-f', { groupId: 'kd-no-such-group' })).body.error).toMatchObject({ reason: 'NOT_GROUP_MEMBER' });
  });

  it("hides a banned user's devices from others, so the members' devices remove them", async () => {
    await admin.register('kd-ban', 'kd-peer');
    await admin.call('POST', '/friends/import', { userId: 'kd-peer', friendUserIds: ['kd-ban'] });
    const keys = await newSignatureKeys();
    await as('kd-ban', 'PUT', path('kd-ban', 'd1'), { keyPackages: [await kp('kd-ban', 'd1', keys)], lastResort: await kp('kd-ban', 'd1', keys) });
    expect((await as('kd-peer', 'GET', '/users/kd-ban/e2ee/devices')).body.devices).toHaveLength(1);
    expect((await admin.call('POST', '/users/kd-ban/ban', {})).status).toBe(200);
    expect((await as('kd-peer', 'GET', '/users/kd-ban/e2ee/devices')).body.devices).toEqual([]);
    expect((await as('kd-peer', 'POST', '/users/kd-ban/e2ee/key-packages/claim', {})).body.keyPackages).toEqual([]);
    await admin.call('DELETE', '/users/kd-ban/ban');
    expect((await as('kd-peer', 'GET', '/users/kd-ban/e2ee/devices')).body.devices).toHaveLength(1);
  });

  it('removes a device and its key packages', async () => {
    await admin.register('kd-i');
    const keys = await newSignatureKeys();
    await as('kd-i', 'PUT', path('kd-i', 'd1'), { keyPackages: [await kp('kd-i', 'd1', keys)], lastResort: await kp('kd-i', 'd1', keys) });
    expect((await as('kd-i', 'DELETE', path('kd-i', 'd1'))).body).toEqual({ removed: true });
    expect(await stored('kd-i')).toEqual([]);
    expect((await as('kd-i', 'POST', '/users/kd-i/e2ee/key-packages/claim', {})).body).toEqual({ userId: 'kd-i', keyPackages: [] });
    expect((await as('kd-i', 'DELETE', path('kd-i', 'd1'))).body).toEqual({ removed: false });
  });
});

describe('encrypted content on the send path', () => {
  it('stores MLS messages as sent and refuses malformed ones', async () => {
    await admin.register('kd-s', 'kd-t');
    await admin.call('POST', '/friends/import', { userId: 'kd-s', friendUserIds: ['kd-t'] });
    const s = await device('kd-s');
    const data = randomBytes(200).toString('base64');
    const ack = await s.ok('sendMsg', { clientMsgId: 'e1', recvId: 'kd-t', contentType: 150, content: { data, epoch: 3 } });
    const pulled = await s.ok('pullMsgs', { conversationId: ack.conversationId, fromSeq: ack.seq, toSeq: ack.seq });
    expect(pulled.messages[0]).toMatchObject({ contentType: 150, content: { data, epoch: 3 } });
    for (const [contentType, content] of [
      [150, { data: 'not base64!', epoch: 1 }],
      [150, { data: randomBytes(13 * 1024).toString('base64'), epoch: 1 }],
      [151, { data, epoch: -1 }],
      [152, { data, commitSeq: 1, devices: [] }],
      [150, { data, epoch: 1, text: 'plaintext on the side' }],
    ] as const) {
      const reply = await s.request('sendMsg', { clientMsgId: `bad-${contentType}-${Math.random()}`, recvId: 'kd-t', contentType, content });
      expect(['INVALID_ARGUMENT', 'CONTENT_TOO_LARGE'], JSON.stringify(content).slice(0, 80)).toContain(reply.error?.reason);
    }
  });
});

describe('an encrypted group', () => {
  it('is flagged at creation and refuses plaintext from its members, while MLS messages go through', async () => {
    await admin.register('kd-x', 'kd-y');
    const created = await admin.call('POST', '/groups', { groupId: 'kd-secret', name: 'Secret', ownerUserId: 'kd-x', memberUserIds: ['kd-y'], encrypted: true });
    expect(created.body.group).toMatchObject({ encrypted: true });
    expect((await as('kd-y', 'GET', '/groups/kd-secret')).body.group.encrypted).toBe(true);
    const plain = await admin.call('POST', '/groups', { groupId: 'kd-open', name: 'Open', ownerUserId: 'kd-x', memberUserIds: ['kd-y'] });
    expect(plain.body.group.encrypted).toBeUndefined();

    const y = await device('kd-y');
    const refused = await y.request('sendMsg', { clientMsgId: 'p1', groupId: 'kd-secret', contentType: 101, content: { text: 'in the clear' } });
    expect(refused.error).toMatchObject({ code: 1311, reason: 'ENCRYPTED_CONVERSATION' });
    const overHttp = await admin.call('POST', '/messages', { sendId: 'kd-x', groupId: 'kd-secret', contentType: 101, content: { text: 'in the clear' } });
    expect(overHttp.body.error).toMatchObject({ reason: 'ENCRYPTED_CONVERSATION' });
    const ack = await y.ok('sendMsg', { clientMsgId: 'c1', groupId: 'kd-secret', contentType: 150, content: { data: randomBytes(64).toString('base64'), epoch: 0 } });
    expect(ack.seq).toBeGreaterThan(1);
    // Nothing of the refused plaintext was stored.
    const pulled = await y.ok('pullMsgs', { conversationId: 'sg_kd-secret', fromSeq: 1, toSeq: 100 });
    expect(JSON.stringify(pulled.messages)).not.toContain('in the clear');
    // A plaintext group is unaffected.
    await y.ok('sendMsg', { clientMsgId: 'p2', groupId: 'kd-open', contentType: 101, content: { text: 'hello' } });
  });
});

describe('an encrypted 1:1 conversation', () => {
  it('turns encrypted with its first MLS message: then plaintext from either side is refused, over WebSocket and HTTP', async () => {
    await admin.register('kd-m', 'kd-n');
    await admin.call('POST', '/friends/import', { userId: 'kd-m', friendUserIds: ['kd-n'] });
    const [m, n] = [await device('kd-m'), await device('kd-n')];
    const conversationId = 'si_kd-m_kd-n';
    // Plaintext before: an ordinary 1:1.
    await n.ok('sendMsg', { clientMsgId: 'before', recvId: 'kd-m', contentType: 101, content: { text: 'before encryption' } });
    const listed = async (userId: string) => ((await as(userId, 'GET', `/users/${userId}/conversations`)).body.conversations as { conversationId: string; encrypted?: boolean }[]).find((c) => c.conversationId === conversationId);
    expect((await listed('kd-m'))?.encrypted).toBeUndefined();

    // The first MLS message, over HTTP (the durable path), marks it.
    const mls = await admin.call('POST', '/messages', { sendId: 'kd-m', recvId: 'kd-n', contentType: 151, content: { data: randomBytes(64).toString('base64'), epoch: 0 } });
    expect(mls.status).toBe(200);
    const counter = (await conversations.counter(conversationId))!;
    expect(counter.encrypted).toBe(true);
    for (const userId of ['kd-m', 'kd-n']) expect((await listed(userId))?.encrypted, userId).toBe(true);

    const refusedWs = await n.request('sendMsg', { clientMsgId: 'plain-n', recvId: 'kd-m', contentType: 101, content: { text: 'in the clear from n' } });
    expect(refusedWs.error).toMatchObject({ code: 1311, reason: 'ENCRYPTED_CONVERSATION' });
    const refusedWs2 = await m.request('sendMsg', { clientMsgId: 'plain-m', recvId: 'kd-n', contentType: 101, content: { text: 'in the clear from m' } });
    expect(refusedWs2.error).toMatchObject({ code: 1311, reason: 'ENCRYPTED_CONVERSATION' });
    const refusedHttp = await admin.call('POST', '/messages', { sendId: 'kd-n', recvId: 'kd-m', contentType: 101, content: { text: 'in the clear over http' } });
    expect([refusedHttp.status, refusedHttp.body.error?.reason]).toEqual([400, 'ENCRYPTED_CONVERSATION']);
    // MLS messages still go through from both sides.
    await n.ok('sendMsg', { clientMsgId: 'mls-n', recvId: 'kd-m', contentType: 150, content: { data: randomBytes(64).toString('base64'), epoch: 1 } });
    // A plaintext send that read the counter before the MLS message (a race) is refused by the claim's own condition, allocating nothing.
    const before = (await conversations.counter(conversationId))!;
    const raced = await conversations.claim(conversationId, 'kd-n', claimHash('raced'), [], Object.keys(claimsOf(before, 'kd-n') ?? {}).length, Date.now(), 'plain');
    expect(raced.ok).toBe(false);
    expect(raced.counter?.encrypted).toBe(true);
    expect((await conversations.counter(conversationId))!.maxSeq).toBe(before.maxSeq);

    // Nothing of the refused plaintext was stored; what came before stays.
    const pulled = await m.ok('pullMsgs', { conversationId, fromSeq: 1, toSeq: 100 });
    expect(JSON.stringify(pulled.messages)).not.toContain('in the clear');
    expect(JSON.stringify(pulled.messages)).toContain('before encryption');
    expect(pulled.messages.map((x: { contentType: number }) => x.contentType)).toEqual([101, 151, 150]);
  });

  it('lists an encrypted group as encrypted', async () => {
    await admin.register('kd-g1');
    await admin.call('POST', '/groups', { groupId: 'kd-listed', name: 'Listed', ownerUserId: 'kd-g1', memberUserIds: [], encrypted: true });
    const list = (await as('kd-g1', 'GET', '/users/kd-g1/conversations')).body.conversations as { conversationId: string; encrypted?: boolean }[];
    expect(list.find((c) => c.conversationId === 'sg_kd-listed')?.encrypted).toBe(true);
  });
});
