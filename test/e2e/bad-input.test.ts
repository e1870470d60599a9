/**
 * Bad input on every entrance gets a clear error code, and nothing is stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { Device } from '../support/cirrus';
import { admin, as, cirrus, device, text, token, useCirrus } from '../support/harness';
import { issueToken } from '../../core/auth/tokens';
import { MAX_CONTENT_BYTES } from '../../core/protocol/schema';

let alice: Device;
let signingKey: string;

useCirrus();

beforeAll(async () => {
  await admin.register('alice', 'bob', 'outsider');
  await admin.createGroup('club', 'alice', ['bob']);
  alice = await Device.connect(cirrus.wsUrl, await admin.userToken('alice'));
  const secrets = new SSMClient({ endpoint: cirrus.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  signingKey = (await secrets.send(new GetParameterCommand({ Name: process.env.SIGNING_SECRET_ID, WithDecryption: true }))).Parameter!.Value!;
  secrets.destroy();
});

afterAll(async () => {
  await alice?.close();
  await cirrus?.stop();
});

async function conversationsOf(device: Device): Promise<string[]> {
  const newest = await device.ok('getNewestSeq', {});
  return newest.conversations.map((c: { conversationId: string }) => c.conversationId);
}

describe('WebSocket frames', () => {
  it('answers malformed JSON with MALFORMED_FRAME', async () => {
    const reply = await alice.raw('{not json');
    expect(reply.error).toMatchObject({ code: 1001, reason: 'MALFORMED_FRAME', retryable: false });
  });

  it('answers a frame without an id with MALFORMED_FRAME', async () => {
    const reply = await alice.raw(JSON.stringify({ action: 'getNewestSeq' }));
    expect(reply.error?.reason).toBe('MALFORMED_FRAME');
  });

  it('answers an unknown action with UNKNOWN_ACTION naming it', async () => {
    const reply = await alice.request('deleteEverything', {});
    expect(reply.id).toBeDefined();
    expect(reply.error).toMatchObject({ code: 1002, reason: 'UNKNOWN_ACTION' });
    expect(reply.error?.message).toContain('deleteEverything');
  });

  it('rejects missing and wrong-typed fields with INVALID_ARGUMENT and stores nothing', async () => {
    const before = await conversationsOf(alice);
    const missing = await alice.request('sendMsg', { recvId: 'bob', ...text('no id') });
    const wrongType = await alice.request('sendMsg', { clientMsgId: 'w1', recvId: 'bob', contentType: 101, content: { text: 42 } });
    const bothTargets = await alice.request('sendMsg', { clientMsgId: 'w2', recvId: 'bob', groupId: 'club', ...text('x') });
    const noTarget = await alice.request('sendMsg', { clientMsgId: 'w3', ...text('x') });
    const badType = await alice.request('sendMsg', { clientMsgId: 'w4', recvId: 'bob', contentType: 999, content: {} });
    const badRange = await alice.request('pullMsgs', { conversationId: 'sg_club', fromSeq: 5, toSeq: 2 });

    for (const r of [missing, wrongType, bothTargets, noTarget, badType, badRange]) expect(r.error).toMatchObject({ code: 1003, reason: 'INVALID_ARGUMENT', retryable: false });
    expect(missing.error?.message).toContain('clientMsgId');
    expect(await conversationsOf(alice)).toEqual(before);
  });

  it('rejects content over the limit with CONTENT_TOO_LARGE and stores nothing', async () => {
    const before = await conversationsOf(alice);
    const reply = await alice.request('sendMsg', { clientMsgId: 'big', recvId: 'bob', ...text('x'.repeat(MAX_CONTENT_BYTES + 1)) });
    expect(reply.error).toMatchObject({ code: 1004, reason: 'CONTENT_TOO_LARGE' });
    expect(await conversationsOf(alice)).toEqual(before);
  });

  it('closes the connection with 1009 on a message over 128 KB', async () => {
    const d = await Device.connect(cirrus.wsUrl, await admin.userToken('bob'));
    d.socket.send('x'.repeat(129 * 1024));
    await d.until(() => d.closed, 5000, 'close');
    expect(d.closed?.code).toBe(1009);
  });

  it('refuses sending into a group one is not in, and to an unknown user', async () => {
    const outsider = await Device.connect(cirrus.wsUrl, await admin.userToken('outsider'));
    const intoGroup = await outsider.request('sendMsg', { clientMsgId: 'in', groupId: 'club', ...text('let me in') });
    const toNobody = await outsider.request('sendMsg', { clientMsgId: 'nobody', recvId: 'ghost', ...text('hello?') });
    const pullGroup = await outsider.request('pullMsgs', { conversationId: 'sg_club', fromSeq: 1, toSeq: 10 });
    const pullOthers = await outsider.request('pullMsgs', { conversationId: 'si_alice_bob', fromSeq: 1, toSeq: 10 });
    const readOthers = await outsider.request('markRead', { conversationId: 'sg_club', seq: 1 });

    expect(intoGroup.error).toMatchObject({ code: 1203, reason: 'NOT_GROUP_MEMBER' });
    expect(toNobody.error).toMatchObject({ code: 1201, reason: 'USER_NOT_FOUND' });
    for (const r of [pullGroup, pullOthers, readOthers]) expect(r.error?.reason).toBe('CONVERSATION_NOT_FOUND');
    expect(await conversationsOf(outsider)).toEqual([]);
    const club = (await alice.ok('getNewestSeq', {})).conversations.find((c: { conversationId: string }) => c.conversationId === 'sg_club');
    // Only the groupCreated notification is there: the refused sends stored nothing.
    expect(club.maxSeq).toBe(1);
    await outsider.close();
  });
});

describe('tokens on $connect', () => {
  const connectStatus = async (query: string) => {
    try {
      const d = await Device.connect(cirrus.wsUrl.replace(/\?.*$/, ''), query);
      await d.close();
      return 101;
    } catch (err) {
      return (err as { statusCode?: number }).statusCode;
    }
  };

  it('refuses a missing token with 401', async () => {
    const status = await new Promise<number | undefined>((resolve) => {
      const socket = new WebSocket(cirrus.wsUrl);
      socket.once('unexpected-response', (_req, res) => resolve(res.statusCode));
      socket.once('open', () => {
        socket.close();
        resolve(101);
      });
    });
    expect(status).toBe(401);
  });

  it('refuses forged, expired and revoked tokens with 401', async () => {
    const good = await admin.userToken('bob');
    const [payload] = good.split('.');
    const forged = `${payload}.${'A'.repeat(43)}`;
    const now = Math.floor(Date.now() / 1000);
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const expired = issueToken({ ...claims, iat: now - 7200, exp: now - 60 }, signingKey);
    const adminToken = await admin.adminToken();

    expect(await connectStatus(forged)).toBe(401);
    expect(await connectStatus(expired)).toBe(401);
    expect(await connectStatus('garbage')).toBe(401);
    expect(await connectStatus(adminToken)).toBe(401);
    expect(await connectStatus(good)).toBe(101);
    const logout = await admin.call('POST', '/auth/force-logout', { userId: 'bob' });
    expect(logout.body.revoked).toBeGreaterThan(0);
    expect(await connectStatus(good)).toBe(401);
  });
});

describe('force logout', () => {
  it("closes the user's live connections on that platform and refuses their tokens", async () => {
    await admin.register('nora');
    const web = await Device.connect(cirrus.wsUrl, await admin.userToken('nora', 5));
    const phone = await Device.connect(cirrus.wsUrl, await admin.userToken('nora', 1));

    const res = await admin.call('POST', '/auth/force-logout', { userId: 'nora', platformId: 5 });

    expect(res.body).toEqual({ revoked: 1 });
    await web.until(() => web.closed, 5000, 'close');
    expect(web.closed?.code).toBe(1000);
    expect(phone.closed).toBeUndefined();
    expect((await phone.ok('heartbeat', {})).serverTime).toBeGreaterThan(0);
    await phone.close();
  });
});

describe('the HTTP API', () => {
  it('refuses missing, forged, expired and user tokens on admin routes', async () => {
    const body = { users: [{ userId: 'nobody-new' }] };
    const userToken = await admin.userToken('alice');
    const now = Math.floor(Date.now() / 1000);
    const expiredAdmin = issueToken({ kind: 'admin', sub: 'admin', iat: now - 100, exp: now - 1 }, signingKey);

    const missing = await admin.call('POST', '/users/register', body, null);
    const forged = await admin.call('POST', '/users/register', body, 'abc.def');
    const expired = await admin.call('POST', '/users/register', body, expiredAdmin);
    const asUser = await admin.call('POST', '/users/register', body, userToken);
    const badSecret = await admin.call('POST', '/auth/admin-token', { secret: 'wrong' }, null);

    expect(missing).toMatchObject({ status: 401, body: { error: { code: 1101, reason: 'TOKEN_MISSING' } } });
    expect(forged).toMatchObject({ status: 401, body: { error: { code: 1102, reason: 'TOKEN_INVALID' } } });
    expect(expired).toMatchObject({ status: 401, body: { error: { code: 1103, reason: 'TOKEN_EXPIRED' } } });
    expect(asUser).toMatchObject({ status: 403, body: { error: { code: 1106, reason: 'ADMIN_REQUIRED' } } });
    expect(badSecret).toMatchObject({ status: 401, body: { error: { reason: 'ADMIN_SECRET_INVALID' } } });
    const check = await admin.call('POST', '/users/register', { users: [{ userId: 'nobody-new' }] });
    expect(check.body.results[0]).toMatchObject({ ok: true });
  });

  it('answers malformed and invalid bodies with 400 and unknown routes with 404', async () => {
    const malformed = await admin.call('POST', '/users/register', '{oops');
    const invalid = await admin.call('POST', '/users/register', { users: [{ userId: 'has_underscore' }] });
    const tooMany = await admin.call('POST', '/users/register', { users: Array.from({ length: 1001 }, (_, i) => ({ userId: `u${i}` })) });
    const unknown = await admin.call('GET', '/no/such/route');
    const sendUnknown = await admin.call('POST', '/messages', { sendId: 'ghost', recvId: 'alice', ...text('x') });

    expect(malformed).toMatchObject({ status: 400, body: { error: { reason: 'MALFORMED_FRAME' } } });
    expect(invalid).toMatchObject({ status: 400, body: { error: { reason: 'INVALID_ARGUMENT' } } });
    expect(invalid.body.error.message).toContain('users.0.userId');
    expect(tooMany.status).toBe(400);
    expect(unknown.status).toBe(404);
    expect(sendUnknown).toMatchObject({ status: 404, body: { error: { reason: 'USER_NOT_FOUND' } } });
  });

  it('reports per-item results when registering users, including duplicates and reserved ids', async () => {
    const res = await admin.call('POST', '/users/register', { users: [{ userId: 'alice' }, { userId: 'newbie' }, { userId: 'newbie' }, { userId: 'system' }] });
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: { ok: boolean; error?: { reason: string } }) => r.error?.reason ?? 'ok')).toEqual(['ALREADY_EXISTS', 'ok', 'INVALID_ARGUMENT', 'INVALID_ARGUMENT']);
  });

  it('manages group members with per-item results', async () => {
    await admin.register('m1', 'm2');
    const added = await admin.call('POST', '/groups/club/members', { userIds: ['m1', 'm2', 'bob', 'ghost'] });
    expect(added.body.results.map((r: { error?: { reason: string } }) => r.error?.reason ?? 'ok')).toEqual(['ok', 'ok', 'ALREADY_EXISTS', 'USER_NOT_FOUND']);
    expect(added.body.memberCount).toBe(4);
    const removed = await admin.call('POST', '/groups/club/members/remove', { userIds: ['m1', 'alice', 'outsider'] });
    expect(removed.body.results.map((r: { error?: { reason: string } }) => r.error?.reason ?? 'ok')).toEqual(['ok', 'FORBIDDEN', 'NOT_GROUP_MEMBER']);
    expect(removed.body.memberCount).toBe(3);
    const noGroup = await admin.call('POST', '/groups/nope/members', { userIds: ['m1'] });
    expect(noGroup).toMatchObject({ status: 404, body: { error: { reason: 'GROUP_NOT_FOUND' } } });
  });

  it('serves the OpenAPI document', async () => {
    const res = await admin.call('GET', '/openapi.json', undefined, null);
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    expect(Object.keys(res.body.paths)).toContain('/groups/{groupId}/members');
  });
});
