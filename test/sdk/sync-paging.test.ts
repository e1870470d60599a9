/**
 * The SDK against the local runtime follows the size-cut pages of catch-up: a device
 * syncing 100 messages of 16 KB, or 1,500 conversations, ends with all of them, and every
 * frame it receives stays inside API Gateway's 128 KB message.
 */
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CirrusClient, type CirrusClientOptions } from '../../sdk/src/index';
import { admin, cirrus, useCirrus } from '../support/harness';
import { eventually } from '../support/cirrus';
import { MAX_WS_MESSAGE_BYTES } from '../../core/protocol/constants';
import { MAX_CONTENT_BYTES } from '../../core/protocol/schema';
import { singleConversationId } from '../../core/domain/ids';

useCirrus();

const clients: CirrusClient[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
});

/** The largest frame any client of this file received, in bytes. */
let largestFrame = 0;
class MeasuredWebSocket extends WebSocket {
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols);
    this.on('message', (data: Buffer) => {
      largestFrame = Math.max(largestFrame, data.length);
    });
  }
}

async function client(userId: string): Promise<CirrusClient> {
  const c = await CirrusClient.create({
    wsUrl: cirrus.wsUrl,
    apiUrl: cirrus.apiUrl,
    token: await admin.userToken(userId, 5),
    store: 'memory',
    WebSocket: MeasuredWebSocket as unknown as CirrusClientOptions['WebSocket'],
    backoff: { minDelayMs: 50, maxDelayMs: 200 },
  });
  clients.push(c);
  return c;
}

const fullText = (tag: string) => tag + 'x'.repeat(MAX_CONTENT_BYTES - JSON.stringify({ text: tag }).length);

describe('catching up through size-cut pages', () => {
  it('stores all of 100 messages of 16 KB sent while offline', async () => {
    await admin.register('spg-a', 'spg-b');
    const a = await client('spg-a');
    await a.connect();
    for (let i = 1; i <= 100; i++) await a.sendText({ recvId: 'spg-b' }, fullText(`${i}:`));
    largestFrame = 0;
    const b = await client('spg-b');
    await b.connect();
    await b.sync();
    const conversationId = singleConversationId('spg-a', 'spg-b');
    const messages = await eventually(async () => {
      const all = await b.store.listMessages(conversationId, { limit: 1000 });
      return all.length >= 100 && all;
    }, 60_000, 100);
    expect(messages.map((m) => m.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(messages.map((m) => (m.content as { text: string }).text.split(':')[0])).toEqual(Array.from({ length: 100 }, (_, i) => String(i + 1)));
    expect(await b.getConversation(conversationId)).toMatchObject({ maxSeq: 100, syncedSeq: 100, pendingSeqs: [] });
    expect(largestFrame).toBeGreaterThan(MAX_CONTENT_BYTES);
    expect(largestFrame).toBeLessThan(MAX_WS_MESSAGE_BYTES);
  }, 120_000);

  it('stores all of 1,500 conversations, getNewestSeq included', async () => {
    const sender = 'spg-sender-' + 'a'.repeat(40);
    const recipients = Array.from({ length: 1500 }, (_, i) => `spg${String(i).padStart(4, '0')}-` + 'b'.repeat(50));
    await admin.register(sender);
    for (const part of [recipients.slice(0, 750), recipients.slice(750)]) {
      expect((await admin.call('POST', '/users/register', { users: part.map((userId) => ({ userId })) })).status).toBe(200);
    }
    expect((await admin.call('POST', '/messages/batch', { sendId: sender, recvIds: recipients, contentType: 101, content: { text: 'hi' }, batchId: 'spg-batch' })).status).toBe(200);
    await eventually(async () => (await admin.call('GET', '/messages/batch/spg-batch')).body.status === 'done', 300_000, 500);

    largestFrame = 0;
    const s = await client(sender);
    await s.connect();
    await s.sync();
    const expected = recipients.map((r) => singleConversationId(sender, r)).sort();
    const conversations = (await s.store.listConversations()).filter((c) => c.maxSeq > 0);
    expect(conversations.map((c) => c.conversationId).sort()).toEqual(expected);
    expect(conversations.every((c) => c.syncedSeq === 1 && c.lastMessage?.seq === 1)).toBe(true);
    expect((await s.getNewestSeq()).conversations.map((c) => c.conversationId)).toEqual(expected);
    expect(largestFrame).toBeLessThan(MAX_WS_MESSAGE_BYTES);
  }, 400_000);
});
