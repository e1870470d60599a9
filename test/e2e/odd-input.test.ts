/**
 * Odd input that is easy to lose or alter on the way to DynamoDB, PostgreSQL or SQS: lone
 * UTF-16 surrogates, U+0000, paths that are not valid percent-encoded UTF-8. Each gets a
 * clear error and stores nothing; what is accepted reads back the same everywhere.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Device } from '../support/cirrus';
import { eventually } from '../support/cirrus';
import { admin, as, device, text, useCirrus } from '../support/harness';

useCirrus();

let alice: Device;

beforeAll(async () => {
  await admin.register('alice', 'bob', 'carol');
  await admin.createGroup('club', 'alice', ['bob']);
  alice = await device('alice');
});

async function seqsOf(d: Device): Promise<Record<string, number>> {
  const newest = await d.ok('getNewestSeq', {});
  return Object.fromEntries(newest.conversations.map((c: { conversationId: string; maxSeq: number }) => [c.conversationId, c.maxSeq]));
}

describe('lone UTF-16 surrogates', () => {
  it('two clientMsgIds that differ only in lone surrogates are both refused, not taken for one message', async () => {
    const before = await seqsOf(alice);
    const first = await alice.request('sendMsg', { clientMsgId: 'twin-\ud800', recvId: 'bob', ...text('first') });
    const second = await alice.request('sendMsg', { clientMsgId: 'twin-\ud801', recvId: 'bob', ...text('second') });
    for (const reply of [first, second]) {
      expect(reply.error, JSON.stringify(reply)).toMatchObject({ code: 1003, reason: 'INVALID_ARGUMENT' });
      expect(reply.error!.message).toContain('clientMsgId');
      expect(reply.error!.message).toMatch(/surrogate/);
    }
    expect(await seqsOf(alice)).toEqual(before);
  });

  it('are refused in any string of a frame or a body, naming the field', async () => {
    let before = await seqsOf(alice);
    const inText = await alice.request('sendMsg', { clientMsgId: 'lone-text', recvId: 'bob', ...text('broken \udc00 text') });
    expect(inText.error).toMatchObject({ reason: 'INVALID_ARGUMENT' });
    expect(inText.error!.message).toContain('content.text');
    const inKey = await alice.request('sendMsg', { clientMsgId: 'lone-key', recvId: 'bob', contentType: 110, content: { data: 'x', ['\ud83d']: 1 } });
    expect(inKey.error).toMatchObject({ reason: 'INVALID_ARGUMENT' });
    expect(await seqsOf(alice)).toEqual(before);

    // An emoji is a key of the message's reactions: half of 😀 is not an emoji.
    const target = await alice.ok('sendMsg', { clientMsgId: 'react-target', recvId: 'bob', ...text('react to me') });
    before = await seqsOf(alice);
    const halfEmoji = await alice.request('reactMsg', { conversationId: target.conversationId, seq: target.seq, emoji: '\ud83d', reacted: true });
    expect(halfEmoji.error).toMatchObject({ reason: 'INVALID_ARGUMENT' });
    expect(halfEmoji.error!.message).toContain('emoji');
    const pulled = await alice.ok('pullMsgs', { conversationId: target.conversationId, fromSeq: target.seq, toSeq: target.seq });
    expect(pulled.messages[0].reactions).toBeUndefined();
    expect(await seqsOf(alice)).toEqual(before);

    const http = await admin.call('POST', '/messages', { sendId: 'alice', recvId: 'bob', clientMsgId: 'http-\ud800', ...text('over HTTP') });
    expect(http.status).toBe(400);
    expect(http.body.error).toMatchObject({ code: 1003, reason: 'INVALID_ARGUMENT' });
    expect(http.body.error.message).toContain('clientMsgId');
    const nickname = await admin.call('PUT', '/users/carol', { nickname: 'half \ud83d' });
    expect(nickname.status).toBe(400);
    expect(nickname.body.error.message).toContain('nickname');
    expect((await admin.call('GET', '/users/carol')).body.user.nickname).toBeUndefined();
    const query = await as('alice', 'GET', `/users/alice/messages/search?q=${encodeURIComponent('a')}%ED%A0%80`);
    expect(query.status).toBe(400);
    expect(query.body.error.reason).toBe('INVALID_ARGUMENT');
    expect(await seqsOf(alice)).toEqual(before);
  });

  it('a well-formed astral character (a surrogate pair) is accepted as usual', async () => {
    const ack = await alice.ok('sendMsg', { clientMsgId: 'pair-😀', recvId: 'bob', ...text('😀') });
    expect(ack.seq).toBeGreaterThan(0);
  });
});

describe('U+0000 (NUL)', () => {
  it('is refused in message content over the WebSocket and HTTP, naming the field, and nothing is stored', async () => {
    const before = await seqsOf(alice);
    const ws = await alice.request('sendMsg', { clientMsgId: 'nul-ws', recvId: 'bob', ...text('nul\u0000byte') });
    expect(ws.error).toMatchObject({ code: 1003, reason: 'INVALID_ARGUMENT' });
    expect(ws.error!.message).toContain('content.text');
    expect(ws.error!.message).toContain('U+0000');
    const inGroup = await alice.request('sendMsg', { clientMsgId: 'nul-group', groupId: 'club', contentType: 110, content: { data: '{"a":"\u0000"}' } });
    expect(inGroup.error).toMatchObject({ reason: 'INVALID_ARGUMENT' });
    const http = await admin.call('POST', '/messages', { sendId: 'alice', recvId: 'bob', ...text('nul\u0000byte') });
    expect(http.status).toBe(400);
    expect(http.body.error).toMatchObject({ reason: 'INVALID_ARGUMENT' });
    expect(http.body.error.message).toContain('content.text');
    const business = await admin.call('POST', '/notifications/business', { recvIds: ['bob'], key: 'k', data: 'a\u0000b', reliable: true });
    expect(business.status).toBe(400);
    expect(await seqsOf(alice)).toEqual(before);
  });

  it('is refused in an edit and in profile fields', async () => {
    const ack = await alice.ok('sendMsg', { clientMsgId: 'to-edit', recvId: 'bob', ...text('before') });
    const edit = await alice.request('editMsg', { conversationId: ack.conversationId, seq: ack.seq, ...text('after\u0000') });
    expect(edit.error).toMatchObject({ reason: 'INVALID_ARGUMENT' });
    const pulled = await alice.ok('pullMsgs', { conversationId: ack.conversationId, fromSeq: ack.seq, toSeq: ack.seq });
    expect(pulled.messages[0].content).toEqual({ text: 'before' });
    const nickname = await admin.call('PUT', '/users/carol', { nickname: 'bad\u0000name' });
    expect(nickname.status).toBe(400);
    expect(nickname.body.error.message).toContain('nickname');
  });

  it('an accepted message reads back identically from the push, sync and the HTTP history', async () => {
    // U+FFFE and U+FFFF are characters SQS refuses in a message body: the jobs must escape them.
    const odd = 'tab\t, bell\u0007, escape\u001b, é, 😀, \ufffd, \ufffe, \uffff, \u2028, \\u0000 spelled out, "quotes"';
    const bob = await device('bob');
    const ack = await alice.ok('sendMsg', { clientMsgId: 'odd-but-fine', recvId: 'bob', ...text(odd) });
    const [pushed] = await bob.waitForPushes(1);
    expect(pushed.content).toEqual({ text: odd });
    const pulled = await alice.ok('pullMsgs', { conversationId: ack.conversationId, fromSeq: ack.seq, toSeq: ack.seq });
    expect(pulled.messages[0].content).toEqual({ text: odd });
    const archived = await eventually(async () => {
      const res = await as('alice', 'GET', `/conversations/${ack.conversationId}/messages`);
      return res.body.messages?.find((m: { seq: number }) => m.seq === ack.seq);
    });
    expect(archived.content).toEqual({ text: odd });
  });
});

describe('HTTP paths that are not valid percent-encoded UTF-8', () => {
  it('answer 400 INVALID_ARGUMENT with the error envelope, not a 500', async () => {
    for (const path of ['/users/%ED%A0%80', '/users/%FF', '/users/%E0%A4', '/groups/%C0%AF/members', '/users/alice/conversations/%ZZ']) {
      const res = await admin.call('GET', path);
      expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBe(400);
      expect(res.body.error).toMatchObject({ code: 1003, reason: 'INVALID_ARGUMENT', retryable: false });
    }
  });

  it('a valid percent-encoded path still works', async () => {
    const res = await admin.call('GET', `/users/${encodeURIComponent('alice')}`);
    expect(res.status).toBe(200);
    expect((await admin.call('GET', '/users/%61lice')).body.user.userId).toBe('alice');
  });
});

describe('the global receive option in the total unread', () => {
  it('"do not receive" (1) and "silently" (2) take every conversation out of the total unread', async () => {
    await admin.register('quiet', 'loud');
    await admin.createGroup('quiet-g', 'loud', ['quiet']);
    const loud = await device('loud');
    await loud.ok('sendMsg', { clientMsgId: 'q1', recvId: 'quiet', ...text('one') });
    await loud.ok('sendMsg', { clientMsgId: 'q2', groupId: 'quiet-g', ...text('two') });
    const total = async () => {
      const list = await as('quiet', 'GET', '/users/quiet/conversations');
      const badge = await as('quiet', 'GET', '/users/quiet/unread');
      expect(badge.body.totalUnread).toBe(list.body.totalUnread);
      return list.body.totalUnread as number;
    };
    const normal = await total();
    expect(normal).toBeGreaterThanOrEqual(2);

    expect((await as('quiet', 'PUT', '/users/quiet/settings', { globalRecvOpt: 1 })).status).toBe(200);
    expect(await total()).toBe(0);
    // Each conversation's own unread is still there: sync has everything.
    const list = await as('quiet', 'GET', '/users/quiet/conversations');
    expect(list.body.conversations.reduce((n: number, c: { unread: number }) => n + c.unread, 0)).toBe(normal);

    expect((await as('quiet', 'PUT', '/users/quiet/settings', { globalRecvOpt: 2 })).status).toBe(200);
    expect(await total()).toBe(0);

    expect((await as('quiet', 'PUT', '/users/quiet/settings', { globalRecvOpt: 0 })).status).toBe(200);
    expect(await total()).toBe(normal);
  });
});

describe('sending to a group that does not exist', () => {
  it('answers GROUP_NOT_FOUND on the WebSocket and over HTTP, and stores nothing', async () => {
    const before = await seqsOf(alice);
    const ws = await alice.request('sendMsg', { clientMsgId: 'ghost-g', groupId: 'no-such-group', ...text('anyone?') });
    expect(ws.error).toMatchObject({ code: 1202, reason: 'GROUP_NOT_FOUND' });
    const http = await admin.call('POST', '/messages', { sendId: 'alice', groupId: 'no-such-group', ...text('anyone?') });
    expect(http.status).toBe(404);
    expect(http.body.error).toMatchObject({ code: 1202, reason: 'GROUP_NOT_FOUND' });
    expect(await seqsOf(alice)).toEqual(before);
  });

  it('a group one is not in still answers NOT_GROUP_MEMBER', async () => {
    const carol = await device('carol');
    const reply = await carol.request('sendMsg', { clientMsgId: 'outside', groupId: 'club', ...text('let me in') });
    expect(reply.error).toMatchObject({ code: 1203, reason: 'NOT_GROUP_MEMBER' });
  });
});
