/**
 * Crashes injected between the steps of the message path, Lambda's retries of push
 * invocations and of archive stream batches, poison stream records: no acknowledged message is lost or
 * duplicated, and sync never stalls.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, sleep, syncConversation } from '../support/cirrus';
import { admin, cirrus, device, text, useCirrus } from '../support/harness';
import { faults } from '../../core/faults';
import { AwsServiceError } from '../../core/aws/signed-request';
import { marshall } from '@aws-sdk/util-dynamodb';
import { invoke } from '../../local/lambda';

const SETTLE_MS = 1500;

async function archivedRows(conversationId: string): Promise<number[]> {
  const rows = await cirrus.dataApi.query(`SELECT seq FROM messages WHERE conversation_id = '${conversationId}' ORDER BY seq`);
  return rows.map((r: { seq: unknown }) => Number(r.seq));
}

useCirrus({
    settings: { seqSettleMs: SETTLE_MS, inlinePushMax: 2 },
    asyncInvoke: { retryDelaysMs: [300, 300] },
  });

afterEach(() => faults.clear());

describe('a crash between seq allocation and the message write', () => {
  it('is finished at its seq by a retry inside the write window, leaving no hole', async () => {
    await admin.register('fa0', 'fa9');
    const sender = await device('fa0');
    const first = await sender.ok('sendMsg', { clientMsgId: 'before', recvId: 'fa9', ...text('before') });
    faults.crash('send.afterAllocate');

    const crashed = await sender.request('sendMsg', { clientMsgId: 'crashy', recvId: 'fa9', ...text('crashy') });
    const retried = await sender.ok('sendMsg', { clientMsgId: 'crashy', recvId: 'fa9', ...text('crashy') });

    expect(crashed.data).toBeUndefined();
    expect(retried.seq).toBe(first.seq + 1);
    const synced = await syncConversation(sender, first.conversationId, retried.seq);
    expect(synced.messages.map((m) => m.clientMsgId)).toEqual(['before', 'crashy']);
    expect(synced.holes).toEqual([]);
  });

  it('leaves a hole that settles, never stalls later messages, and the retry is acknowledged once', async () => {
    await admin.register('fa1', 'fa2');
    const sender = await device('fa1');
    const receiver = await device('fa2');
    const first = await sender.ok('sendMsg', { clientMsgId: 'before', recvId: 'fa2', ...text('before') });
    faults.crash('send.afterAllocate');

    const crashed = await sender.request('sendMsg', { clientMsgId: 'crashy', recvId: 'fa2', ...text('crashy') });
    const after = await sender.ok('sendMsg', { clientMsgId: 'after', recvId: 'fa2', ...text('after') });

    expect(crashed.data).toBeUndefined();
    expect(after.seq).toBe(first.seq + 2);
    // Right away: the later message is there, the crashed seq is still pending.
    const early = await syncConversation(receiver, first.conversationId, after.seq);
    expect(early.messages.map((m) => m.clientMsgId)).toEqual(['before', 'after']);
    expect(early.pending).toEqual([first.seq + 1]);
    // Once the settle time has passed, the hole is final, and a retry gets a new seq, once.
    await sleep(SETTLE_MS + 200);
    const retried = await sender.ok('sendMsg', { clientMsgId: 'crashy', recvId: 'fa2', ...text('crashy') });
    expect(retried.seq).toBe(first.seq + 3);
    expect(await sender.ok('sendMsg', { clientMsgId: 'crashy', recvId: 'fa2', ...text('crashy') })).toEqual(retried);
    const settled = await syncConversation(receiver, first.conversationId, retried.seq);
    expect(settled.holes).toEqual([first.seq + 1]);
    expect(settled.pending).toEqual([]);
    expect(settled.messages.map((m) => m.clientMsgId)).toEqual(['before', 'after', 'crashy']);
  });
});

describe('a crash after the idempotency claim, before the message write', () => {
  it('lets the retry write the message at the claimed seq, leaving no hole', async () => {
    await admin.register('fb1', 'fb2');
    const sender = await device('fb1');
    faults.crash('send.afterClaim');

    const crashed = await sender.request('sendMsg', { clientMsgId: 'claimed', recvId: 'fb2', ...text('claimed') });
    const retried = await sender.ok('sendMsg', { clientMsgId: 'claimed', recvId: 'fb2', ...text('claimed') });

    expect(crashed.data).toBeUndefined();
    expect(retried.seq).toBe(1);
    const synced = await syncConversation(sender, retried.conversationId, 1);
    expect(synced.messages.map((m) => m.serverMsgId)).toEqual([retried.serverMsgId]);
  });

  it('gives the message a new seq when the retry comes after the claimed seq settled', async () => {
    await admin.register('fc1', 'fc2');
    const sender = await device('fc1');
    faults.crash('send.afterClaim');

    await sender.request('sendMsg', { clientMsgId: 'slow-retry', recvId: 'fc2', ...text('slow') });
    await sleep(SETTLE_MS / 2 + 200);
    const retried = await sender.ok('sendMsg', { clientMsgId: 'slow-retry', recvId: 'fc2', ...text('slow') });
    const again = await sender.ok('sendMsg', { clientMsgId: 'slow-retry', recvId: 'fc2', ...text('slow') });

    expect(retried.seq).toBe(2);
    expect(again).toEqual(retried);
    await sleep(SETTLE_MS);
    const synced = await syncConversation(sender, retried.conversationId, 2);
    expect(synced.holes).toEqual([1]);
    expect(synced.messages.map((m) => m.seq)).toEqual([2]);
  });
});

describe('a crash after the message write, before the push', () => {
  it('leaves the message to sync; the resend pushes it and keeps one stored copy', async () => {
    await admin.register('fd1', 'fd2');
    const sender = await device('fd1');
    const receiver = await device('fd2');
    faults.crash('send.afterWrite');

    const crashed = await sender.request('sendMsg', { clientMsgId: 'written', recvId: 'fd2', ...text('written') });
    expect(crashed.data).toBeUndefined();
    // Not pushed, but stored: the recipient has it by sync.
    const early = await syncConversation(receiver, 'si_fd1_fd2', 1);
    expect(early.messages.map((m) => m.clientMsgId)).toEqual(['written']);
    expect(receiver.pushes).toHaveLength(0);

    const retried = await sender.ok('sendMsg', { clientMsgId: 'written', recvId: 'fd2', ...text('written') });
    const [pushed] = await receiver.waitForPushes(1);
    expect(pushed.serverMsgId).toBe(retried.serverMsgId);
    const synced = await syncConversation(receiver, retried.conversationId, 1);
    expect(synced.messages).toHaveLength(1);
    await eventually(async () => (await archivedRows(retried.conversationId)).length === 1);
  });
});

describe('a crash right after the message write', () => {
  it('still archives the message, though it is never sent again', async () => {
    await admin.register('fw1', 'fw2');
    const sender = await device('fw1');
    faults.crash('send.afterWrite');

    const crashed = await sender.request('sendMsg', { clientMsgId: 'written', recvId: 'fw2', ...text('written, never resent') });

    expect(crashed.data).toBeUndefined();
    const conversationId = 'si_fw1_fw2';
    // The offline store has it, and the history gets it from the Messages stream.
    const receiver = await device('fw2');
    const synced = await syncConversation(receiver, conversationId, 1);
    expect(synced.messages.map((m) => m.clientMsgId)).toEqual(['written']);
    await eventually(async () => (await archivedRows(conversationId)).length === 1, 20_000);
    const [row] = await cirrus.dataApi.query(`SELECT content FROM messages WHERE conversation_id = '${conversationId}'`);
    expect(JSON.stringify(row.content)).toContain('written, never resent');
  });
});

describe('an edit', () => {
  it('reaches the history from the stream, keeping the replaced content in message_edits', async () => {
    await admin.register('fx1', 'fx2');
    const sender = await device('fx1');
    const ack = await sender.ok('sendMsg', { clientMsgId: 'to-edit', recvId: 'fx2', ...text('first words') });
    await sender.ok('editMsg', { conversationId: ack.conversationId, seq: ack.seq, contentType: 101, content: { text: 'second words' } });

    await eventually(async () => (await cirrus.dataApi.query(`SELECT 1 FROM message_edits WHERE conversation_id = '${ack.conversationId}'`)).length === 1, 20_000);
    const [edit] = await cirrus.dataApi.query(`SELECT version, content FROM message_edits WHERE conversation_id = '${ack.conversationId}'`);
    expect(Number(edit.version)).toBe(0);
    expect(JSON.stringify(edit.content)).toContain('first words');
    await eventually(async () => {
      const [row] = await cirrus.dataApi.query(`SELECT content FROM messages WHERE conversation_id = '${ack.conversationId}'`);
      return JSON.stringify(row?.content).includes('second words');
    }, 20_000);
  });
});

describe('a stream record that can never be archived', () => {
  it('goes whole to the DeadLetters queue and does not hold back the records after it', async () => {
    const streamArn = `arn:aws:dynamodb:us-east-1:000000000000:table/${cirrus.tableNames.messages}/stream/poison`;
    const good = { conversationId: 'si_fp1_fp2', seq: 1, serverMsgId: 'fp-good', clientMsgId: 'fp-good', senderId: 'fp1', recvId: 'fp2', sessionType: 1, contentType: 101, content: { text: 'fine' }, sendTime: Date.now(), expiresAt: 0 };
    const record = (n: number, image: Record<string, unknown>) => ({
      eventID: String(n),
      eventName: 'INSERT',
      eventSourceARN: streamArn,
      dynamodb: { Keys: marshall({ conversationId: image.conversationId, seq: image.seq ?? 0 }), NewImage: marshall(image), SequenceNumber: String(n) },
    });
    const before = cirrus.sqs.depth('DeadLetters').visible;

    // A message item without its seq and sender: unreadable, it can never be archived.
    const answer = await invoke<{ batchItemFailures: unknown[] }>('archive', { Records: [record(1, { conversationId: 'si_fp1_fp2', content: 'broken' }), record(2, good)] });

    expect(answer.batchItemFailures).toEqual([]);
    expect(await archivedRows('si_fp1_fp2')).toEqual([1]);
    expect(cirrus.sqs.depth('DeadLetters').visible).toBe(before + 1);
    const letter = cirrus.sqs.peek('DeadLetters').map((m) => JSON.parse(m.body)).find((b) => b.record?.eventID === '1');
    expect(letter).toMatchObject({ source: 'archive', reason: expect.stringContaining('unreadable'), record: { eventName: 'INSERT', dynamodb: { SequenceNumber: '1' } } });
  });

  it('is retried, not dead-lettered, while the history database is resuming', async () => {
    cirrus.dataApi.setPaused(true);
    const streamArn = `arn:aws:dynamodb:us-east-1:000000000000:table/${cirrus.tableNames.messages}/stream/paused`;
    const message = { conversationId: 'si_fq1_fq2', seq: 1, serverMsgId: 'fq', clientMsgId: 'fq', senderId: 'fq1', recvId: 'fq2', sessionType: 1, contentType: 101, content: { text: 'x' }, sendTime: Date.now(), expiresAt: 0 };
    const before = cirrus.sqs.depth('DeadLetters').visible;
    try {
      const answer = await invoke<{ batchItemFailures: { itemIdentifier: string }[] }>('archive', {
        Records: [{ eventID: '7', eventName: 'INSERT', eventSourceARN: streamArn, dynamodb: { Keys: marshall({ conversationId: message.conversationId, seq: 1 }), NewImage: marshall(message), SequenceNumber: '7' } }],
      });
      expect(answer.batchItemFailures).toEqual([{ itemIdentifier: '7' }]);
      expect(cirrus.sqs.depth('DeadLetters').visible).toBe(before);
    } finally {
      cirrus.dataApi.setPaused(false);
    }
  });
});

describe('a crash after the push, before the ack', () => {
  it('pushes again on the resend (deduplicable by seq), and stores and archives one copy', async () => {
    await admin.register('fe1', 'fe2');
    const sender = await device('fe1');
    const receiver = await device('fe2');
    faults.crash('send.afterPush');

    const crashed = await sender.request('sendMsg', { clientMsgId: 'repush', recvId: 'fe2', ...text('x') });
    expect(crashed.data).toBeUndefined();
    const ack = await sender.ok('sendMsg', { clientMsgId: 'repush', recvId: 'fe2', ...text('x') });

    const pushes = await receiver.waitForPushes(2, 10_000);
    expect(new Set(pushes.map((p) => `${p.conversationId}:${p.seq}`))).toEqual(new Set([`${ack.conversationId}:${ack.seq}`]));
    await eventually(async () => (await archivedRows(ack.conversationId)).length === 1);
    await sleep(1500);
    expect(await archivedRows(ack.conversationId)).toEqual([1]);
    const synced = await syncConversation(receiver, ack.conversationId, 1);
    expect(synced.messages).toHaveLength(1);
  });
});

describe('a push that fails', () => {
  it('never fails the send: the message is acknowledged, stored, and reaches the recipient by sync', async () => {
    await admin.register('fp1', 'fp2');
    const sender = await device('fp1');
    const receiver = await device('fp2');
    // Every post of the sending function fails as API Gateway's 500 would.
    let posts = 0;
    faults.arm('connections.beforePost', () => {
      posts++;
      throw new AwsServiceError('InternalServerErrorException', 'Internal server error', 500, undefined, 1);
    });
    try {
      const ack = await sender.ok('sendMsg', { clientMsgId: 'unpushed', recvId: 'fp2', ...text('x') });
      expect(posts).toBeGreaterThan(0);
      expect(receiver.pushes).toHaveLength(0);
      const synced = await syncConversation(receiver, ack.conversationId, ack.seq);
      expect(synced.messages.map((m) => m.clientMsgId)).toEqual(['unpushed']);
    } finally {
      faults.disarm('connections.beforePost');
    }
    await eventually(async () => (await archivedRows('si_fp1_fp2')).length === 1);
  });
});

describe('retries', () => {
  it('of a push invocation (Lambda retries it) pushes again, stores nothing twice', async () => {
    const members = ['ff1', 'ff2', 'ff3', 'ff4'];
    await admin.register(...members);
    await admin.createGroup('fault-push', 'ff1', members.slice(1));
    const socks = await Promise.all(members.map((m) => device(m)));
    // The group's creation notice is pushed by its own invocation first.
    await cirrus.lambda.idle();
    faults.crash('push.afterPost');

    const ack = await socks[0].ok('sendMsg', { clientMsgId: 'push-redeliver', groupId: 'fault-push', ...text('x') });

    for (const d of socks.slice(1)) {
      const pushes = await d.until(() => {
        const chat = d.pushes.filter((p) => p.contentType === 101);
        return chat.length >= 2 && chat;
      }, 10_000, 'two pushes of the chat message');
      expect(pushes.every((p) => p.seq === ack.seq)).toBe(true);
    }
    const synced = await syncConversation(socks[2], 'sg_fault-push', ack.seq);
    expect(synced.messages.filter((m) => m.contentType === 101)).toHaveLength(1);
  });

  it('of an archive batch (the stream retries it) adds no row', async () => {
    await admin.register('fg1', 'fg2');
    const sender = await device('fg1');
    let crashes = 0;
    // Only batches holding messages count (the Outbox stream's directory rows go through the same function).
    faults.arm('archive.afterInsert', ({ messages }) => {
      if ((messages as number) > 0 && crashes++ === 0) throw new Error('Injected fault at archive.afterInsert');
    });

    const ack = await sender.ok('sendMsg', { clientMsgId: 'archive-twice', recvId: 'fg2', ...text('x') });

    await eventually(async () => crashes >= 2);
    await sleep(300);
    expect(await archivedRows(ack.conversationId)).toEqual([1]);
  });

  it('while the history database is paused only delays the archive, and history reads say retry', async () => {
    await admin.register('fh1', 'fh2');
    const sender = await device('fh1');
    const receiver = await device('fh2');
    cirrus.dataApi.setPaused(true);

    const ack = await sender.ok('sendMsg', { clientMsgId: 'paused', recvId: 'fh2', ...text('x') });

    await receiver.waitForPushes(1);
    const historyWhilePaused = await admin.call('GET', `/conversations/${ack.conversationId}/messages`);
    expect(historyWhilePaused).toMatchObject({ status: 503, body: { error: { reason: 'UNAVAILABLE', retryable: true } } });
    await sleep(1200);
    cirrus.dataApi.setPaused(false);
    await eventually(async () => (await archivedRows(ack.conversationId)).length === 1, 10_000);
  });
});
