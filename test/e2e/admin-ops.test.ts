/**
 * Admin operations on messages, end to end against the local runtime: batch sends as
 * asynchronous invocations (idempotent, retried after a crash without duplicates), business
 * notifications, physical purge (holes for members, nothing resurrected by a late stream
 * record) and moderation reads and search over every conversation.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { invoke } from '../../local/lambda';
import { eventually, sleep, syncConversation } from '../support/cirrus';
import { admin, as, cirrus, device, useCirrus } from '../support/harness';
import { faults } from '../../core/faults';
import { awsRequests } from '../../core/aws/accounting';
import { ddb } from '../../core/aws/dynamodb';
import { sqs } from '../../core/aws/sqs-client';
import { config } from '../../core/config';
import { notificationConversationId, singleConversationId } from '../../core/domain/ids';
import { batchClientMsgId, BATCH_PAGE_SIZE, MAX_BATCH_RECIPIENTS } from '../../core/services/batch';
import { MAX_BUSINESS_RECIPIENTS } from '../../core/services/business';
import { MAX_PURGE } from '../../core/services/purge';
import { archive } from '../../core/services/archive';
import { PAGE_TIME_BUDGET_MS, runBatchPage } from '../../core/services/batch-pages';
import { toMessage, type MessageItem } from '../../core/store/messages';
import { adminOpsLimits } from '../../core/http/routes/admin-ops';
import { MAX_PURGE as ROUTE_MAX_PURGE } from '../../core/http/routes/admin-history';
import type { Message } from '../../core/protocol/schema';

/** Short, so purged seqs settle as holes soon; long enough for a batch page's sends on a loaded machine. */
const SETTLE_MS = 8000;

useCirrus({
  settings: { seqSettleMs: SETTLE_MS },
  // A crashed page is retried soon (Lambda waits a minute, then two).
  asyncInvoke: { retryDelaysMs: [500, 1000] },
});

afterEach(() => faults.clear());

/** Every message of a conversation in the offline store (DynamoDB). */
async function stored(conversationId: string): Promise<Message[]> {
  const res = await ddb().send(new QueryCommand({ TableName: cirrus.tableNames.messages, KeyConditionExpression: 'conversationId = :c', ExpressionAttributeValues: { ':c': conversationId }, ConsistentRead: true }));
  return (res.Items ?? []) as Message[];
}

async function archivedSeqs(conversationId: string): Promise<number[]> {
  const rows = await cirrus.dataApi.query(`SELECT seq FROM messages WHERE conversation_id = '${conversationId}' ORDER BY seq`);
  return rows.map((r: { seq: unknown }) => Number(r.seq));
}

async function send(sendId: string, recvId: string, text: string, clientMsgId?: string): Promise<{ conversationId: string; seq: number; serverMsgId: string }> {
  const res = await admin.call('POST', '/messages', { sendId, recvId, contentType: 101, content: { text }, ...(clientMsgId ? { clientMsgId } : {}) });
  expect(res.status).toBe(200);
  return res.body;
}

const batchDone = (batchId: string, timeoutMs = 30_000) =>
  eventually(async () => {
    const res = await admin.call('GET', `/messages/batch/${batchId}`);
    return res.body.status === 'done' && res.body;
  }, timeoutMs);

describe('limits', () => {
  it('are the same in the routes and the services', () => {
    expect({ ...adminOpsLimits, MAX_PURGE: ROUTE_MAX_PURGE }).toEqual({ MAX_BATCH_RECIPIENTS, MAX_BUSINESS_RECIPIENTS, MAX_PURGE });
  });
});

describe('batch send', () => {
  it('sends one message to each recipient in its own 1:1 conversation, pushes to online devices, and counts', async () => {
    const ids = ['bs-1', 'bs-2', 'bs-3', 'bs-4'];
    await admin.register('bs-s', ...ids);
    const online = await device('bs-2');
    const res = await admin.call('POST', '/messages/batch', { sendId: 'bs-s', recvIds: [...ids, 'bs-2', 'bs-1'], contentType: 101, content: { text: 'hello all' } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ batchId: expect.stringMatching(/^[0-9a-f-]{36}$/), recipients: 4, pages: 1 });
    const { batchId } = res.body;
    const done = await batchDone(batchId);
    expect(done).toEqual({ batchId, status: 'done', recipients: 4, sent: 4, failed: 0, pages: 1, pagesDone: 1, createdAt: expect.any(Number) });
    for (const id of ids) {
      const msgs = await stored(singleConversationId('bs-s', id));
      expect(msgs).toHaveLength(1);
      expect(msgs[0]).toMatchObject({ senderId: 'bs-s', recvId: id, content: { text: 'hello all' }, clientMsgId: batchClientMsgId(batchId, id) });
    }
    const pushed = await online.until(() => online.pushes.find((m) => m.clientMsgId === batchClientMsgId(batchId, 'bs-2')), 10_000, 'the push');
    expect(pushed.conversationId).toBe(singleConversationId('bs-s', 'bs-2'));
  });

  it('sends as system into each notification conversation', async () => {
    await admin.register('bsys-1', 'bsys-2');
    const res = await admin.call('POST', '/messages/batch', { asSystem: true, recvIds: ['bsys-1', 'bsys-2'], contentType: 101, content: { text: 'maintenance tonight' } });
    expect(res.status).toBe(200);
    await batchDone(res.body.batchId);
    for (const id of ['bsys-1', 'bsys-2']) {
      const msgs = await stored(notificationConversationId(id));
      expect(msgs.filter((m) => m.contentType === 101)).toMatchObject([{ senderId: 'system', recvId: id, content: { text: 'maintenance tonight' } }]);
    }
  });

  it('is idempotent by batchId, and refuses a batchId reused for another request', async () => {
    await admin.register('bi-s', 'bi-1', 'bi-2');
    const body = { sendId: 'bi-s', recvIds: ['bi-1', 'bi-2'], contentType: 101, content: { text: 'once' }, batchId: 'bi-batch' };
    const first = await admin.call('POST', '/messages/batch', body);
    expect(first.body).toEqual({ batchId: 'bi-batch', recipients: 2, pages: 1 });
    await batchDone('bi-batch');
    const again = await admin.call('POST', '/messages/batch', { ...body, recvIds: ['bi-2', 'bi-1', 'bi-1'] });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    await sleep(1000);
    expect(await stored(singleConversationId('bi-s', 'bi-1'))).toHaveLength(1);
    expect(await stored(singleConversationId('bi-s', 'bi-2'))).toHaveLength(1);
    expect((await admin.call('GET', '/messages/batch/bi-batch')).body).toMatchObject({ sent: 2, failed: 0, pagesDone: 1 });

    const other = await admin.call('POST', '/messages/batch', { ...body, content: { text: 'twice' } });
    expect(other.status).toBe(409);
    expect(other.body.error.reason).toBe('ALREADY_EXISTS');
  });

  it('counts recipients who refuse the sender as failed, and still finishes', async () => {
    await admin.register('bf-s', 'bf-1', 'bf-2');
    expect((await as('bf-2', 'POST', '/users/bf-2/blacklist', { blockedUserId: 'bf-s' })).status).toBe(200);
    const res = await admin.call('POST', '/messages/batch', { sendId: 'bf-s', recvIds: ['bf-1', 'bf-2'], contentType: 101, content: { text: 'x' } });
    expect(await batchDone(res.body.batchId)).toMatchObject({ status: 'done', sent: 1, failed: 1, recipients: 2 });
    expect(await stored(singleConversationId('bf-s', 'bf-2'))).toHaveLength(0);
  });

  it('retries a page that crashed midway without duplicating any message', async () => {
    const ids = Array.from({ length: BATCH_PAGE_SIZE + 30 }, (_, i) => `bc-${i}`);
    await admin.register('bc-s', ...ids);
    let crashes = 0;
    faults.arm('batch.afterSend', ({ page, index }) => {
      if (page === 0 && index === 40 && crashes === 0) {
        crashes++;
        throw new Error('Injected fault at batch.afterSend');
      }
    });
    const res = await admin.call('POST', '/messages/batch', { sendId: 'bc-s', recvIds: ids, contentType: 101, content: { text: 'crash test' } });
    expect(res.body.pages).toBe(2);
    const done = await batchDone(res.body.batchId, 80_000);
    expect(crashes).toBe(1);
    expect(done).toMatchObject({ recipients: ids.length, sent: ids.length, failed: 0, pages: 2, pagesDone: 2 });
    const counts = await Promise.all(ids.map(async (id) => (await stored(singleConversationId('bc-s', id))).length));
    expect(counts.every((n) => n === 1)).toBe(true);
  }, 120_000);

  it('hands a page it has no time for on to a new invocation, which finishes it', async () => {
    await admin.register('bt-s', 'bt-1', 'bt-2', 'bt-3');
    const now = Date.now();
    await ddb().send(
      new PutCommand({
        TableName: cirrus.tableNames.batches,
        Item: { batchId: 'bt-batch', status: 'running', senderId: 'bt-s', contentType: 101, recipients: 3, pages: 1, sent: 0, failed: 0, pagesDone: 0, fingerprint: 'x', createdAt: now, queuedAt: now, expiresAt: Math.floor(now / 1000) + 3600 },
      }),
    );
    const job = { kind: 'batchPage' as const, batchId: 'bt-batch', page: 0, senderId: 'bt-s', recvIds: ['bt-1', 'bt-2', 'bt-3'], contentType: 101, content: { text: 'later' }, sent: 0, failed: 0 };
    // Its time is up before it starts: nothing is sent here, the whole page is continued.
    const invocations = awsRequests.snapshot();
    await runBatchPage(job, Date.now() - PAGE_TIME_BUDGET_MS - 1);
    expect(awsRequests.since(invocations).Lambda).toEqual({ Invoke: 1 });
    expect(await batchDone('bt-batch')).toMatchObject({ sent: 3, failed: 0, pagesDone: 1 });
    for (const id of ['bt-1', 'bt-2', 'bt-3']) expect(await stored(singleConversationId('bt-s', id))).toHaveLength(1);
  });

  it('refuses bad input before sending anything', async () => {
    await admin.register('bb-s', 'bb-1');
    const post = (body: unknown) => admin.call('POST', '/messages/batch', body);
    const base = { sendId: 'bb-s', recvIds: ['bb-1'], contentType: 101, content: { text: 'x' } };
    const cases: [unknown, number, string][] = [
      [{ ...base, recvIds: [] }, 400, 'INVALID_ARGUMENT'],
      [{ ...base, recvIds: Array.from({ length: MAX_BATCH_RECIPIENTS + 1 }, (_, i) => `u${i}`) }, 400, 'INVALID_ARGUMENT'],
      [{ ...base, asSystem: true }, 400, 'INVALID_ARGUMENT'],
      [{ recvIds: ['bb-1'], contentType: 101, content: { text: 'x' } }, 400, 'INVALID_ARGUMENT'],
      [{ ...base, content: { nope: 1 } }, 400, 'INVALID_ARGUMENT'],
      [{ ...base, contentType: 114, content: { text: 'q', quoted: { conversationId: 'si_a_b', seq: 1, serverMsgId: 'x', senderId: 'a', contentType: 101, summary: 'x' } } }, 400, 'INVALID_ARGUMENT'],
      [{ ...base, content: { text: 'x'.repeat(20_000) } }, 413, 'CONTENT_TOO_LARGE'],
      [{ ...base, sendId: 'bb-nobody' }, 404, 'USER_NOT_FOUND'],
      [{ ...base, recvIds: ['bb-1', 'bb-ghost'], batchId: 'bb-refused' }, 404, 'USER_NOT_FOUND'],
      [{ ...base, batchId: '-bad' }, 400, 'INVALID_ARGUMENT'],
    ];
    for (const [body, status, reason] of cases) {
      const res = await post(body);
      expect({ status: res.status, reason: res.body.error?.reason }, JSON.stringify(body).slice(0, 200)).toEqual({ status, reason });
    }
    // A refused batch is not recorded.
    const refused = await admin.call('GET', '/messages/batch/bb-refused');
    expect(refused.status).toBe(404);
    expect(refused.body.error.reason).toBe('BATCH_NOT_FOUND');
    expect(await stored(singleConversationId('bb-s', 'bb-1'))).toHaveLength(0);
    const user = await as('bb-s', 'POST', '/messages/batch', base);
    expect(user.status).toBe(403);
    expect(user.body.error.reason).toBe('ADMIN_REQUIRED');
    expect((await as('bb-s', 'GET', '/messages/batch/whatever')).status).toBe(403);
  });
});

describe('business notifications', () => {
  it('reach online devices live; reliable ones are also stored for offline users', async () => {
    await admin.register('bn-on', 'bn-off');
    const d = await device('bn-on');
    const live = await admin.call('POST', '/notifications/business', { recvIds: ['bn-on', 'bn-off'], key: 'order.shipped', data: '{"order":1}' });
    expect(live.body).toEqual({ online: 1, stored: 0 });
    const event = await d.until(() => d.frames.find((f: any) => f.push === 'businessNotification') as any, 5000, 'the event');
    expect(event.data).toEqual({ key: 'order.shipped', data: '{"order":1}', sendTime: expect.any(Number) });
    expect(await stored(notificationConversationId('bn-off'))).toHaveLength(0);

    const reliable = await admin.call('POST', '/notifications/business', { recvIds: ['bn-on', 'bn-off', 'bn-off'], key: 'order.paid', data: 'p', reliable: true });
    expect(reliable.body).toEqual({ online: 1, stored: 2 });
    // The offline user gets it on sync.
    const later = await device('bn-off');
    const conv = notificationConversationId('bn-off');
    const { messages } = await syncConversation(later, conv, 1);
    expect(messages).toMatchObject([{ senderId: 'system', contentType: 2001, content: { key: 'order.paid', data: 'p' } }]);
  });

  it('with a notificationId, a retried reliable call stores nothing new', async () => {
    await admin.register('bn-r1', 'bn-r2');
    const body = { recvIds: ['bn-r1', 'bn-r2'], key: 'invoice', data: 'i-7', reliable: true, notificationId: 'invoice-7' };
    expect((await admin.call('POST', '/notifications/business', body)).body).toEqual({ online: 0, stored: 2 });
    expect((await admin.call('POST', '/notifications/business', body)).body).toEqual({ online: 0, stored: 2 });
    // Another id is another notification.
    expect((await admin.call('POST', '/notifications/business', { ...body, recvIds: ['bn-r1'], notificationId: 'invoice-8' })).status).toBe(200);
    expect(await stored(notificationConversationId('bn-r1'))).toHaveLength(2);
    expect(await stored(notificationConversationId('bn-r2'))).toHaveLength(1);
    // Without an id every call is a new notification.
    await admin.call('POST', '/notifications/business', { recvIds: ['bn-r2'], key: 'k', data: 'd', reliable: true });
    await admin.call('POST', '/notifications/business', { recvIds: ['bn-r2'], key: 'k', data: 'd', reliable: true });
    expect(await stored(notificationConversationId('bn-r2'))).toHaveLength(3);
    expect((await admin.call('POST', '/notifications/business', { ...body, notificationId: '-bad' })).status).toBe(400);
  });

  it('refuses bad input and user tokens', async () => {
    await admin.register('bn-x');
    const post = (body: unknown) => admin.call('POST', '/notifications/business', body);
    expect((await post({ recvIds: [], key: 'k', data: 'd' })).status).toBe(400);
    expect((await post({ recvIds: Array.from({ length: MAX_BUSINESS_RECIPIENTS + 1 }, (_, i) => `u${i}`), key: 'k', data: 'd' })).status).toBe(400);
    expect((await post({ recvIds: ['bn-x'], data: 'd' })).status).toBe(400);
    expect((await post({ recvIds: ['bn-x'], key: '', data: 'd' })).status).toBe(400);
    const ghost = await post({ recvIds: ['bn-x', 'bn-ghost'], key: 'k', data: 'd', reliable: true });
    expect(ghost.status).toBe(404);
    expect(ghost.body.error.reason).toBe('USER_NOT_FOUND');
    expect(await stored(notificationConversationId('bn-x'))).toHaveLength(0);
    expect((await as('bn-x', 'POST', '/notifications/business', { recvIds: ['bn-x'], key: 'k', data: 'd' })).status).toBe(403);
  });
});

describe('physical purge', () => {
  it('removes messages from both stores; members see holes; a late stream record does not bring them back', async () => {
    await admin.register('pg-a', 'pg-b');
    const sent = [];
    for (let i = 1; i <= 5; i++) sent.push(await send('pg-a', 'pg-b', `purge me ${i}`, `pg-${i}`));
    const conv = sent[0].conversationId;
    // Seq 2 has an edit, kept in message_edits.
    const a = await device('pg-a');
    await a.ok('editMsg', { conversationId: conv, seq: 2, contentType: 101, content: { text: 'edited' } });
    await eventually(async () => (await archivedSeqs(conv)).length >= 5 && (await cirrus.dataApi.query(`SELECT 1 FROM message_edits WHERE conversation_id = '${conv}'`)).length === 1, 30_000);
    const before = toMessage((await stored(conv)).find((m) => m.seq === 2)! as MessageItem);

    const res = await admin.call('POST', `/admin/conversations/${conv}/messages/purge`, { seqs: [2, 4, 4, 99] });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ purged: 2 });
    expect((await stored(conv)).map((m) => m.seq).filter((s) => s <= 5)).toEqual([1, 3, 5]);
    expect((await archivedSeqs(conv)).filter((s) => s <= 5)).toEqual([1, 3, 5]);
    expect(await cirrus.dataApi.query(`SELECT 1 FROM message_edits WHERE conversation_id = '${conv}'`)).toEqual([]);

    // Members: holes in a pull, gaps in the history.
    await sleep(SETTLE_MS + 200);
    const b = await device('pg-b');
    const synced = await syncConversation(b, conv, 5);
    expect(synced.holes).toEqual([2, 4]);
    expect(synced.pending).toEqual([]);
    expect(synced.messages.map((m) => m.seq)).toEqual([1, 3, 5]);
    const hist = await as('pg-b', 'GET', `/conversations/${conv}/messages?limit=10`);
    expect(hist.body.messages.map((m: Message) => m.seq).filter((s: number) => s <= 5)).toEqual([5, 3, 1]);

    // A resend of a purged message's clientMsgId is acknowledged and stores nothing.
    const afterPurge = (await stored(conv)).map((m) => m.seq);
    const resent = await send('pg-a', 'pg-b', 'purge me 2', 'pg-2');
    expect(resent).toMatchObject({ conversationId: conv, seq: 2, serverMsgId: sent[1].serverMsgId });
    expect((await stored(conv)).map((m) => m.seq)).toEqual(afterPurge);

    // Late stream records (a redelivered batch: the INSERT and the edit's MODIFY of the
    // purged message) insert nothing; a probe in the same batch is archived.
    const outcome = await archive([{ id: 'late', message: before }]);
    expect([...outcome.done]).toEqual(['late']);
    const probe = { ...before, conversationId: 'si_pg-probe_pg-z', seq: 1, serverMsgId: `${before.serverMsgId}-probe` };
    const streamArn = `arn:aws:dynamodb:us-east-1:000000000000:table/${cirrus.tableNames.messages}/stream/late`;
    const record = (n: number, eventName: 'INSERT' | 'MODIFY', message: Message, old?: Message) => ({
      eventID: String(n),
      eventName,
      eventSourceARN: streamArn,
      dynamodb: {
        Keys: marshall({ conversationId: message.conversationId, seq: message.seq }),
        NewImage: marshall({ ...message, expiresAt: 0 }, { removeUndefinedValues: true }),
        ...(old ? { OldImage: marshall({ ...old, expiresAt: 0 }, { removeUndefinedValues: true }) } : {}),
        SequenceNumber: String(n),
      },
    });
    const original = { ...before, content: { text: 'purge me 2' }, version: 0, edited: undefined };
    const answer = await invoke<{ batchItemFailures: unknown[] }>('archive', {
      Records: [record(1, 'INSERT', original), record(2, 'MODIFY', before, original), record(3, 'INSERT', probe)],
    });
    expect(answer.batchItemFailures).toEqual([]);
    expect(await archivedSeqs('si_pg-probe_pg-z')).toEqual([1]);
    expect((await archivedSeqs(conv)).filter((s) => s <= 5)).toEqual([1, 3, 5]);
    expect(await cirrus.dataApi.query(`SELECT 1 FROM message_edits WHERE conversation_id = '${conv}'`)).toEqual([]);
  });

  it('purges what was sent before a time', async () => {
    await admin.register('pt-a', 'pt-b');
    await send('pt-a', 'pt-b', 'old 1');
    const { conversationId: conv } = await send('pt-a', 'pt-b', 'old 2');
    await sleep(20);
    const cut = Date.now();
    await sleep(20);
    await send('pt-a', 'pt-b', 'new');
    await eventually(async () => (await archivedSeqs(conv)).length === 3, 30_000);
    const res = await admin.call('POST', `/admin/conversations/${conv}/messages/purge`, { before: cut });
    expect(res.body).toEqual({ purged: 2 });
    expect((await stored(conv)).map((m) => m.seq)).toEqual([3]);
    expect(await archivedSeqs(conv)).toEqual([3]);
    expect((await admin.call('POST', `/admin/conversations/${conv}/messages/purge`, { before: cut })).body).toEqual({ purged: 0 });
  });

  it('refuses bad input and user tokens', async () => {
    await admin.register('pb-a', 'pb-b');
    const { conversationId: conv } = await send('pb-a', 'pb-b', 'keep');
    const purge = (body: unknown, c = conv) => admin.call('POST', `/admin/conversations/${c}/messages/purge`, body);
    const cases: [unknown, number, string][] = [
      [{ seqs: [1], before: Date.now() }, 400, 'INVALID_ARGUMENT'],
      [{}, 400, 'INVALID_ARGUMENT'],
      [{ seqs: [] }, 400, 'INVALID_ARGUMENT'],
      [{ seqs: [0] }, 400, 'INVALID_ARGUMENT'],
      [{ seqs: Array.from({ length: MAX_PURGE + 1 }, (_, i) => i + 1) }, 400, 'INVALID_ARGUMENT'],
      [{ before: -1 }, 400, 'INVALID_ARGUMENT'],
    ];
    for (const [body, status, reason] of cases) {
      const res = await purge(body);
      expect({ status: res.status, reason: res.body.error?.reason }, JSON.stringify(body).slice(0, 100)).toEqual({ status, reason });
    }
    const unknown = await purge({ seqs: [1] }, singleConversationId('pb-a', 'pb-nobody'));
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.reason).toBe('CONVERSATION_NOT_FOUND');
    expect((await as('pb-a', 'POST', `/admin/conversations/${conv}/messages/purge`, { seqs: [1] })).status).toBe(403);
    expect(await stored(conv)).toHaveLength(1);
  });
});

describe('moderation', () => {
  it('an admin token reads the history of any conversation', async () => {
    await admin.register('md-a', 'md-b', 'md-c');
    const { conversationId } = await send('md-a', 'md-b', 'private words');
    await eventually(async () => (await archivedSeqs(conversationId)).length === 1, 30_000);
    const res = await admin.call('GET', `/conversations/${conversationId}/messages`);
    expect(res.status).toBe(200);
    expect(res.body.messages).toMatchObject([{ senderId: 'md-a', content: { text: 'private words' } }]);
    const outsider = await as('md-c', 'GET', `/conversations/${conversationId}/messages`);
    expect(outsider.status).toBe(404);
  });

  it('searches every conversation, with or without words, filtered and paged newest first', async () => {
    await admin.register('ms-a', 'ms-b', 'ms-c');
    const one = await send('ms-a', 'ms-b', 'zebracorn sighting one');
    await sleep(5);
    const two = await send('ms-c', 'ms-b', 'zebracorn sighting two');
    await sleep(5);
    await send('ms-c', 'ms-a', 'nothing to see');
    await eventually(async () => (await archivedSeqs(singleConversationId('ms-a', 'ms-c'))).length === 1 && (await archivedSeqs(two.conversationId)).length === 1, 30_000);
    const search = (query: string) => admin.call('GET', `/admin/messages/search?${query}`);

    const all = await search('q=zebracorn');
    expect(all.status).toBe(200);
    expect(all.body.messages.map((m: Message) => m.content)).toEqual([{ text: 'zebracorn sighting two' }, { text: 'zebracorn sighting one' }]);
    expect((await search(`q=zebracorn&conversationId=${one.conversationId}`)).body.messages.map((m: Message) => m.seq)).toEqual([one.seq]);
    expect((await search('q=zebracorn&senderId=ms-c')).body.messages).toHaveLength(1);
    expect((await search('q=zebracorn&contentType=102')).body.messages).toHaveLength(0);

    // Without words: everything of the sender, paged.
    const first = await search('senderId=ms-c&limit=1');
    expect(first.body.messages.map((m: Message) => m.content)).toEqual([{ text: 'nothing to see' }]);
    const second = await search(`senderId=ms-c&limit=1&cursor=${first.body.nextCursor}`);
    expect(second.body.messages.map((m: Message) => m.content)).toEqual([{ text: 'zebracorn sighting two' }]);
    expect(second.body.nextCursor).toBeNull();
    const sendTime = all.body.messages[0].sendTime;
    expect((await search(`senderId=ms-c&from=${sendTime}&to=${sendTime}`)).body.messages).toHaveLength(1);

    expect((await search('from=10&to=5')).status).toBe(400);
    expect((await search('cursor=nonsense')).status).toBe(400);
    expect((await search('limit=101')).status).toBe(400);
    expect((await as('ms-a', 'GET', '/admin/messages/search?q=zebracorn')).status).toBe(403);
  });
});
