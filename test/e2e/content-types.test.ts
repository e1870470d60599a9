/**
 * Rich content types and typing indicators, over real WebSockets and HTTP against the
 * local runtime: every type round-trips through send, push, sync and the history; invalid
 * content is refused and stores nothing; typing events reach the recipient's devices and
 * are never stored.
 */
import { describe, expect, it } from 'vitest';
import { eventually, sleep, syncConversation, type Device } from '../support/cirrus';
import { admin, as, device, useCirrus } from '../support/harness';
import { groupConversationId, singleConversationId } from '../../core/domain/ids';
import { ContentType, MAX_CONTENT_BYTES, sendableContentTypes } from '../../core/protocol/schema';

useCirrus({ settings: { inlinePushMax: 10 } });

const image = (key: string) => ({ objectKey: `media/${key}.jpg`, mimeType: 'image/jpeg', size: 52_431, width: 1280, height: 960 });

async function maxSeqOf(d: Device, conversationId: string): Promise<number> {
  const newest = await d.ok('getNewestSeq', {});
  return newest.conversations.find((c: { conversationId: string }) => c.conversationId === conversationId)?.maxSeq ?? 0;
}

async function history(conversationId: string, count: number) {
  return eventually(async () => {
    const res = await admin.call('GET', `/conversations/${conversationId}/messages?limit=200`);
    return res.status === 200 && res.body.messages.length >= count && [...res.body.messages].reverse();
  });
}

describe('content types', () => {
  it('round-trips every content type through sendMsg, push, sync and the history', async () => {
    await admin.register('ct-alice', 'ct-bob');
    const alice = await device('ct-alice', 1);
    const bob = await device('ct-bob', 5);
    const conversationId = singleConversationId('ct-alice', 'ct-bob');

    const first = await alice.ok('sendMsg', { clientMsgId: 'ct-0', recvId: 'ct-bob', contentType: 101, content: { text: 'hello' } });
    const bodies: { contentType: number; content: unknown }[] = [
      { contentType: 101, content: { text: 'hello' } },
      { contentType: 102, content: { source: image('p1'), big: { url: 'https://cdn.example.com/p1-big.jpg', mimeType: 'image/jpeg', size: 20_000 }, snapshot: image('p1-small') } },
      { contentType: 103, content: { sound: { objectKey: 'voice/v1.m4a', mimeType: 'audio/mp4', size: 8_000 }, durationSeconds: 7 } },
      { contentType: 104, content: { video: { url: 'https://cdn.example.com/v.mp4', mimeType: 'video/mp4', size: 9_000_000, width: 1920, height: 1080 }, snapshot: image('v-poster'), durationSeconds: 42 } },
      { contentType: 105, content: { file: { objectKey: 'files/report.pdf', mimeType: 'application/pdf', size: 0 }, fileName: 'Q3 report.pdf' } },
      { contentType: 106, content: { text: '@ct-bob look', atUserIds: ['ct-bob'] } },
      {
        contentType: 107,
        content: {
          title: 'Chat history',
          summaries: ['ct-alice: hello', 'ct-bob: hi'],
          messages: [
            { senderId: 'ct-alice', contentType: 101, content: { text: 'hello' }, sendTime: 1_700_000_000_000 },
            { senderId: 'ct-bob', contentType: 102, content: { source: image('x') }, sendTime: 1_700_000_000_500 },
          ],
        },
      },
      { contentType: 108, content: { userId: 'ct-carol', nickname: 'Carol', faceUrl: 'https://cdn.example.com/carol.png', ex: '{"vip":true}' } },
      { contentType: 109, content: { latitude: 48.8584, longitude: 2.2945, description: 'Eiffel Tower' } },
      { contentType: 110, content: { data: '{"kind":"poll"}', description: 'a poll' } },
      {
        contentType: 114,
        content: { text: 'indeed', quoted: { conversationId, seq: first.seq, serverMsgId: first.serverMsgId, senderId: 'ct-alice', contentType: 101, summary: 'hello' } },
      },
      { contentType: 118, content: { markdown: '# Title\n\n- **bold** item\n- `code`' } },
      // Encrypted conversations' MLS messages: opaque to Cirrus, carried as they are.
      { contentType: 150, content: { data: Buffer.from('an MLS PrivateMessage').toString('base64'), epoch: 3 } },
      { contentType: 151, content: { data: Buffer.from('an MLS commit').toString('base64'), epoch: 2 } },
      { contentType: 152, content: { data: Buffer.from('an MLS Welcome').toString('base64'), commitSeq: 1, devices: [{ userId: 'ct-bob', deviceId: 'phone' }] } },
      // One too large to travel inline: a message/mls media object, by key, size and SHA-256.
      { contentType: 151, content: { object: { objectKey: 'media/ct-alice/AAAAAAAAAAAAAAAAAAAAAA/mls.bin', size: 30_000, sha256: 'ab'.repeat(32) }, epoch: 3 } },
    ];
    // Every sendable type is exercised.
    expect(new Set(bodies.map((b) => b.contentType))).toEqual(new Set(sendableContentTypes));

    const acks = [];
    for (const [i, body] of bodies.slice(1).entries()) acks.push(await alice.ok('sendMsg', { clientMsgId: `ct-${i + 1}`, recvId: 'ct-bob', ...body }));
    expect(acks.map((a) => a.seq)).toEqual(bodies.slice(1).map((_, i) => i + 2));

    // Pushes may arrive in any order (delivery is concurrent); clients order by seq.
    const pushed = [...(await bob.waitForPushes(bodies.length))].sort((x, y) => x.seq - y.seq);
    expect(pushed.map((m) => ({ contentType: m.contentType, content: m.content }))).toEqual(bodies);

    const maxSeq = await maxSeqOf(bob, conversationId);
    expect(maxSeq).toBe(bodies.length);
    const synced = await syncConversation(bob, conversationId, maxSeq);
    expect(synced.messages.map((m) => ({ contentType: m.contentType, content: m.content }))).toEqual(bodies);

    const archived = await history(conversationId, bodies.length);
    expect(archived.map((m: { contentType: number; content: unknown }) => ({ contentType: m.contentType, content: m.content }))).toEqual(bodies);
  });

  it('allows atAll in group messages', async () => {
    await admin.register('ctg-owner', 'ctg-member');
    await admin.createGroup('ct-group', 'ctg-owner', ['ctg-member']);
    const owner = await device('ctg-owner');
    const member = await device('ctg-member');
    const body = { contentType: 106, content: { text: '@all meeting at 3', atUserIds: [], atAll: true } };

    const ack = await owner.ok('sendMsg', { clientMsgId: 'all-1', groupId: 'ct-group', ...body });

    const chat = await member.until(() => member.pushes.find((p) => p.contentType === 106), 15_000, 'mention push');
    expect(chat.content).toEqual(body.content);
    const synced = await syncConversation(member, groupConversationId('ct-group'), ack.seq, ack.seq);
    expect(synced.messages[0].content).toEqual(body.content);
    const archived = await history(groupConversationId('ct-group'), ack.seq);
    expect(archived.find((m: { seq: number }) => m.seq === ack.seq).content).toEqual(body.content);
  });

  it('refuses invalid content of every type with INVALID_ARGUMENT and stores nothing', async () => {
    await admin.register('bad-a', 'bad-b', 'bad-c');
    const a = await device('bad-a');
    const conversationId = singleConversationId('bad-a', 'bad-b');
    const first = await a.ok('sendMsg', { clientMsgId: 'ok-1', recvId: 'bad-b', contentType: 101, content: { text: 'fine' } });
    const other = await a.ok('sendMsg', { clientMsgId: 'ok-2', recvId: 'bad-c', contentType: 101, content: { text: 'elsewhere' } });
    const media = { objectKey: 'media/a.jpg', mimeType: 'image/jpeg', size: 1 };
    const quoted = { conversationId, seq: first.seq, serverMsgId: first.serverMsgId, senderId: 'bad-a', contentType: 101 };
    const forwarded = { senderId: 'bad-a', contentType: 101, content: { text: 'x' }, sendTime: 1 };

    const invalid: [string, number, unknown][] = [
      ['text: wrong type', 101, { text: 42 }],
      ['text: empty', 101, { text: '' }],
      ['picture: missing source', 102, { big: media }],
      ['picture: both objectKey and url', 102, { source: { ...media, url: 'https://cdn.example.com/a.jpg' } }],
      ['picture: neither objectKey nor url', 102, { source: { mimeType: 'image/jpeg', size: 1 } }],
      ['picture: data: URL', 102, { source: { url: 'data:image/png;base64,iVBORw0KGgo=', mimeType: 'image/png', size: 10 } }],
      ['picture: http URL', 102, { source: { url: 'http://cdn.example.com/a.jpg', mimeType: 'image/jpeg', size: 1 } }],
      ['picture: negative size', 102, { source: { ...media, size: -1 } }],
      ['picture: embedded bytes', 102, { source: media, bytes: 'iVBORw0KGgo=' }],
      ['voice: duration as string', 103, { sound: media, durationSeconds: '7' }],
      ['voice: missing duration', 103, { sound: media }],
      ['video: missing video', 104, { durationSeconds: 3 }],
      ['video: bad mime type', 104, { video: { ...media, mimeType: 'video' }, durationSeconds: 3 }],
      ['file: missing fileName', 105, { file: media }],
      ['file: data: URL', 105, { file: { url: 'data:text/plain,hello', mimeType: 'text/plain', size: 5 }, fileName: 'a.txt' }],
      ['mention: atAll in 1:1', 106, { text: '@all', atUserIds: [], atAll: true }],
      ['mention: atUserIds not an array', 106, { text: 'hi', atUserIds: 'bad-b' }],
      ['mention: 101 users', 106, { text: 'hi', atUserIds: Array.from({ length: 101 }, (_, i) => `u${i}`) }],
      ['mergeForward: 101 messages', 107, { title: 't', summaries: [], messages: Array.from({ length: 101 }, () => forwarded) }],
      ['mergeForward: no messages', 107, { title: 't', summaries: [], messages: [] }],
      ['mergeForward: 11 summaries', 107, { title: 't', summaries: Array.from({ length: 11 }, () => 's'), messages: [forwarded] }],
      ['card: missing userId', 108, { nickname: 'x' }],
      ['card: faceUrl data: URL', 108, { userId: 'bad-c', faceUrl: 'data:image/png;base64,AA' }],
      ['location: latitude 91', 109, { latitude: 91, longitude: 0 }],
      ['location: longitude -181', 109, { latitude: 0, longitude: -181 }],
      ['location: latitude as string', 109, { latitude: '48.8', longitude: 2.3 }],
      ['custom: missing data', 110, { description: 'x' }],
      ['quote: another conversation', 114, { text: 'no', quoted: { ...quoted, conversationId: other.conversationId } }],
      ['quote: summary over 200 characters', 114, { text: 'no', quoted: { ...quoted, summary: 'x'.repeat(201) } }],
      ['quote: missing quoted', 114, { text: 'no' }],
      ['markdown: wrong field', 118, { text: '# no' }],
      ['mls: both data and object', 151, { data: 'AAAA', object: { objectKey: 'media/a/b/c', size: 1, sha256: 'ab'.repeat(32) }, epoch: 1 }],
      ['mls: neither data nor object', 150, { epoch: 1 }],
      ['mls: object without a SHA-256', 152, { object: { objectKey: 'media/a/b/c', size: 1 }, commitSeq: 1, devices: [{ userId: 'bad-b', deviceId: 'p' }] }],
      ['mls: object outside the media store', 151, { object: { objectKey: 'exports/a/b', size: 1, sha256: 'ab'.repeat(32) }, epoch: 1 }],
      ['mls: object over 4 MiB', 151, { object: { objectKey: 'media/a/b/c', size: 4 * 1024 * 1024 + 1, sha256: 'ab'.repeat(32) }, epoch: 1 }],
      ['unknown contentType', 999, { text: 'x' }],
    ];
    for (const [label, contentType, content] of invalid) {
      const reply = await a.request('sendMsg', { clientMsgId: `bad-${label}`, recvId: 'bad-b', contentType, content });
      expect({ label, reason: reply.error?.reason }).toEqual({ label, reason: 'INVALID_ARGUMENT' });
    }

    const tooLarge = await a.request('sendMsg', { clientMsgId: 'big', recvId: 'bad-b', contentType: ContentType.markdown, content: { markdown: '#'.repeat(MAX_CONTENT_BYTES + 1) } });
    expect(tooLarge.error?.reason).toBe('CONTENT_TOO_LARGE');

    expect(await maxSeqOf(a, conversationId)).toBe(1);
    const synced = await syncConversation(a, conversationId, 1);
    expect(synced.messages.map((m) => m.clientMsgId)).toEqual(['ok-1']);
  });

  it('validates POST /messages through the same path', async () => {
    await admin.register('http-a', 'http-b');
    const picture = { source: { url: 'https://cdn.example.com/a.jpg', mimeType: 'image/jpeg', size: 10 } };

    const sent = await admin.call('POST', '/messages', { sendId: 'http-a', recvId: 'http-b', contentType: 102, content: picture });
    const refused = await admin.call('POST', '/messages', { sendId: 'http-a', recvId: 'http-b', contentType: 102, content: { source: { ...picture.source, url: 'data:image/png,x' } } });

    expect(sent.status).toBe(200);
    expect(refused).toMatchObject({ status: 400, body: { error: { reason: 'INVALID_ARGUMENT' } } });
    const b = await device('http-b');
    const synced = await syncConversation(b, sent.body.conversationId, 1);
    expect(synced.messages.map((m) => m.content)).toEqual([picture]);
    expect(await maxSeqOf(b, sent.body.conversationId)).toBe(1);
  });
});

describe('typing indicators', () => {
  const typingEvents = (d: Device) => d.frames.filter((f) => (f as { push?: string }).push === 'typing');

  it("pushes an event frame to the recipient's devices and stores nothing", async () => {
    await admin.register('ty-a', 'ty-b');
    const a = await device('ty-a', 1);
    const bPhone = await device('ty-b', 1);
    const bWeb = await device('ty-b', 5);
    const before = await bWeb.ok('getNewestSeq', {});

    const started = await a.ok('typing', { recvId: 'ty-b', typing: true });
    expect(started).toEqual({ delivered: 2 });
    const conversationId = singleConversationId('ty-a', 'ty-b');
    for (const d of [bPhone, bWeb]) {
      const [event] = await d.until(() => typingEvents(d).length >= 1 && typingEvents(d), 10_000, 'typing event');
      expect(event).toEqual({ push: 'typing', data: { conversationId, userId: 'ty-a', typing: true } });
    }
    expect(await a.ok('typing', { recvId: 'ty-b', typing: false })).toEqual({ delivered: 2 });
    await bPhone.until(() => typingEvents(bPhone).length >= 2, 10_000, 'second typing event');
    expect(typingEvents(bPhone)[1]).toEqual({ push: 'typing', data: { conversationId, userId: 'ty-a', typing: false } });

    await sleep(300);
    expect(bPhone.pushes).toHaveLength(0);
    expect(a.pushes).toHaveLength(0);
    expect(typingEvents(a)).toHaveLength(0);
    expect(await bWeb.ok('getNewestSeq', {})).toMatchObject({ conversations: before.conversations });
    expect(await maxSeqOf(bWeb, conversationId)).toBe(0);
  });

  it('reports delivered 0 for an offline recipient', async () => {
    await admin.register('ty-on', 'ty-off');
    const on = await device('ty-on');
    expect(await on.ok('typing', { recvId: 'ty-off', typing: true })).toEqual({ delivered: 0 });
  });

  it('is refused for an unknown user, when blocked, and for bad input', async () => {
    await admin.register('ty-x', 'ty-y');
    const x = await device('ty-x');
    const y = await device('ty-y');

    const unknown = await x.request('typing', { recvId: 'ty-nobody', typing: true });
    expect(unknown.error?.reason).toBe('USER_NOT_FOUND');

    const blocked = await as('ty-y', 'POST', '/users/ty-y/blacklist', { blockedUserId: 'ty-x' });
    expect(blocked.status).toBe(200);
    const refused = await x.request('typing', { recvId: 'ty-y', typing: true });
    expect(refused.error?.reason).toBe('BLOCKED');
    // The blocker may still tell the blocked user.
    expect(await y.ok('typing', { recvId: 'ty-x', typing: true })).toEqual({ delivered: 1 });

    const missing = await x.request('typing', { recvId: 'ty-y' });
    const wrongType = await x.request('typing', { recvId: 'ty-y', typing: 'yes' });
    expect(missing.error?.reason).toBe('INVALID_ARGUMENT');
    expect(wrongType.error?.reason).toBe('INVALID_ARGUMENT');
    await sleep(200);
    expect(typingEvents(y)).toHaveLength(0);
  });
});
