/**
 * Catch-up replies stay inside API Gateway's 128 KB message: `pullMsgs` of 100 messages of
 * 16 KB and `getNewestSeq` of 1,500 conversations are cut by size into pages, and following
 * the pages (as the protocol says) yields everything exactly once.
 */
import { describe, expect, it } from 'vitest';
import { admin, device, useCirrus } from '../support/harness';
import { eventually, type Device } from '../support/cirrus';
import { MAX_WS_MESSAGE_BYTES } from '../../core/protocol/constants';
import { MAX_CONTENT_BYTES } from '../../core/protocol/schema';
import { forEachLimit } from '../../core/domain/concurrency';
import { singleConversationId } from '../../core/domain/ids';

useCirrus();

/** Byte size of every reply frame a device receives, by request id. */
function replySizes(d: Device): Map<string, number> {
  const sizes = new Map<string, number>();
  d.socket.on('message', (data: Buffer) => {
    const frame = JSON.parse(data.toString());
    if (typeof frame.id === 'string') sizes.set(frame.id, data.length);
  });
  return sizes;
}

/** A text content of exactly MAX_CONTENT_BYTES as JSON. */
const fullText = (tag: string) => ({ text: tag + 'x'.repeat(MAX_CONTENT_BYTES - JSON.stringify({ text: tag }).length) });

describe('pullMsgs', () => {
  it('returns 100 messages of 16 KB in pages under 128 KB, marked truncated, that add up to all of them', async () => {
    await admin.register('pm-a', 'pm-b');
    const a = await device('pm-a');
    await forEachLimit(Array.from({ length: 100 }, (_, i) => i + 1), 4, async (i) => {
      await a.ok('sendMsg', { clientMsgId: `m${i}`, recvId: 'pm-b', contentType: 101, content: fullText(`${i}:`) });
    });
    const conversationId = singleConversationId('pm-a', 'pm-b');
    const b = await device('pm-b');
    const sizes = replySizes(b);
    const pages: { id: string; fromSeq: number; toSeq: number; truncated?: true; messages: { seq: number }[] }[] = [];
    for (let from = 1; from <= 100; ) {
      const reply = await b.request('pullMsgs', { conversationId, fromSeq: from, toSeq: 100 });
      expect(reply.error).toBeUndefined();
      pages.push({ id: reply.id!, ...reply.data });
      from = reply.data.toSeq + 1;
    }
    expect(pages.length).toBeGreaterThan(1);
    for (const p of pages) expect(sizes.get(p.id)).toBeLessThan(MAX_WS_MESSAGE_BYTES);
    expect(pages.slice(0, -1).every((p) => p.truncated === true)).toBe(true);
    expect(pages.at(-1)).toMatchObject({ toSeq: 100 });
    expect(pages.at(-1)!.truncated).toBeUndefined();
    expect(pages.flatMap((p) => p.messages.map((m) => m.seq))).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  });

  it('still returns a range that fits whole, untruncated', async () => {
    await admin.register('pm-c', 'pm-d');
    const c = await device('pm-c');
    for (let i = 1; i <= 3; i++) await c.ok('sendMsg', { clientMsgId: `s${i}`, recvId: 'pm-d', contentType: 101, content: fullText(`${i}:`) });
    const page = await c.ok('pullMsgs', { conversationId: singleConversationId('pm-c', 'pm-d'), fromSeq: 1, toSeq: 3 });
    expect(page.truncated).toBeUndefined();
    expect(page.messages.map((m: { seq: number }) => m.seq)).toEqual([1, 2, 3]);
  });
});

describe('getNewestSeq', () => {
  const SENDER = 'newest-sender-' + 'a'.repeat(40);
  const recipients = Array.from({ length: 1500 }, (_, i) => `r${String(i).padStart(4, '0')}-` + 'b'.repeat(50));

  it('lists 1,500 conversations in pages under 128 KB, following nextCursor', async () => {
    await admin.register(SENDER);
    for (const part of [recipients.slice(0, 750), recipients.slice(750)]) {
      const reg = await admin.call('POST', '/users/register', { users: part.map((userId) => ({ userId })) });
      expect(reg.status).toBe(200);
    }
    const batch = await admin.call('POST', '/messages/batch', { sendId: SENDER, recvIds: recipients, contentType: 101, content: { text: 'hello' }, batchId: 'newest-batch' });
    expect(batch.status).toBe(200);
    await eventually(async () => (await admin.call('GET', '/messages/batch/newest-batch')).body.status === 'done', 300_000, 500);

    const d = await device(SENDER);
    const sizes = replySizes(d);
    const seen: string[] = [];
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const reply = await d.request('getNewestSeq', cursor ? { cursor } : {});
      expect(reply.error).toBeUndefined();
      ids.push(reply.id!);
      seen.push(...reply.data.conversations.map((c: { conversationId: string; maxSeq: number }) => c.conversationId));
      cursor = reply.data.nextCursor;
    } while (cursor);
    expect(ids.length).toBeGreaterThan(1);
    for (const id of ids) expect(sizes.get(id)).toBeLessThan(MAX_WS_MESSAGE_BYTES);
    expect(seen).toEqual(recipients.map((r) => singleConversationId(SENDER, r)).sort());
  }, 400_000);

  it('answers a cursor past the last conversation with an empty last page', async () => {
    const d = await device(SENDER);
    const last = await d.ok('getNewestSeq', { cursor: singleConversationId(SENDER, recipients.at(-1)!) });
    expect(last).toMatchObject({ conversations: [] });
    expect(last.nextCursor).toBeUndefined();
  });
});
