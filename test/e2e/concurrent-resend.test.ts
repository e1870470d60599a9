/**
 * Concurrent resends of one clientMsgId: one seq, one stored message, one ack, whatever the
 * number of devices resending at once; a first attempt that crashes between allocation and
 * claim costs at most one settled hole; distinct clientMsgIds (even ones sharing a recent
 * claim slot) never refuse each other.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ddb } from '../../core/aws/dynamodb';
import { RECENT_CLAIM_SLOTS, recentClaimGuard, recentClaimSlot } from '../../core/domain/recent-claims';
import { conversations } from '../../core/store/conversations';
import { faults } from '../../core/faults';
import { sleep, syncConversation, type Device } from '../support/cirrus';
import { admin, cirrus, device, text, useCirrus } from '../support/harness';

// Long enough that a loaded test machine never closes a write window (a new 1:1 conversation links its members first).
const SETTLE_MS = 8000;

useCirrus({ settings: { seqSettleMs: SETTLE_MS } });

afterEach(() => faults.clear());

async function storedSeqs(conversationId: string): Promise<number[]> {
  const res = await ddb().send(
    new QueryCommand({ TableName: cirrus.tableNames.messages, KeyConditionExpression: 'conversationId = :c', ExpressionAttributeValues: { ':c': conversationId }, ConsistentRead: true }),
  );
  return (res.Items ?? []).map((m) => Number(m.seq));
}

async function view(d: Device, conversationId: string): Promise<{ maxSeq: number; unread: number }> {
  const newest = await d.ok('getNewestSeq', {});
  return newest.conversations.find((c: { conversationId: string }) => c.conversationId === conversationId);
}

/** `n` sendMsg frames at once, spread over the devices. */
function burst(devices: Device[], n: number, data: (i: number) => Record<string, unknown>) {
  return Promise.all(Array.from({ length: n }, (_, i) => devices[i % devices.length].request('sendMsg', data(i))));
}

describe('20 concurrent sends of one clientMsgId', () => {
  it('in a new 1:1 conversation allocate one seq, store one message, and all get the same ack', async () => {
    await admin.register('cr1', 'cr2');
    const senders = await Promise.all([1, 2, 5].map((p) => device('cr1', p)));
    const receiver = await device('cr2');

    const replies = await burst(senders, 20, () => ({ clientMsgId: 'twenty', recvId: 'cr2', ...text('once') }));

    expect(replies.filter((r) => r.error)).toEqual([]);
    const acks = replies.map((r) => r.data);
    expect(new Set(acks.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(acks[0]).toMatchObject({ seq: 1 });
    expect(await storedSeqs(acks[0].conversationId)).toEqual([1]);
    expect(await view(receiver, acks[0].conversationId)).toMatchObject({ maxSeq: 1, unread: 1 });
    const synced = await syncConversation(receiver, acks[0].conversationId, 1);
    expect(synced.messages.map((m) => m.serverMsgId)).toEqual([acks[0].serverMsgId]);
  });

  it('in a group advance maxSeq by one and every member has one unread', async () => {
    const members = ['crg1', 'crg2', 'crg3'];
    await admin.register(...members);
    await admin.createGroup('cr-group', 'crg1', members.slice(1));
    const senders = await Promise.all([1, 2].map((p) => device('crg1', p)));
    const readers = await Promise.all(members.slice(1).map((m) => device(m)));
    const before = await view(readers[0], 'sg_cr-group');
    for (const r of readers) await r.ok('markRead', { conversationId: 'sg_cr-group', seq: before.maxSeq });

    const replies = await burst(senders, 20, () => ({ clientMsgId: 'group-twenty', groupId: 'cr-group', ...text('once') }));

    expect(replies.filter((r) => r.error)).toEqual([]);
    const acks = replies.map((r) => r.data);
    expect(new Set(acks.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(acks[0].seq).toBe(before.maxSeq + 1);
    expect((await storedSeqs('sg_cr-group')).filter((s) => s > before.maxSeq)).toEqual([before.maxSeq + 1]);
    for (const r of readers) expect(await view(r, 'sg_cr-group')).toMatchObject({ maxSeq: before.maxSeq + 1, unread: 1 });
  });
});

describe('a first attempt that crashes between allocation and claim', () => {
  it('over WebSocket into a 1:1 conversation: the concurrent duplicates finish its write at its seq, once, and leave no hole', async () => {
    await admin.register('crc1', 'crc2');
    const senders = await Promise.all([1, 2].map((p) => device('crc1', p)));
    const receiver = await device('crc2');
    faults.crash('send.afterAllocate');

    const replies = await burst(senders, 20, () => ({ clientMsgId: 'crash-first', recvId: 'crc2', ...text('once') }));

    const acks = replies.filter((r) => !r.error).map((r) => r.data);
    expect(acks).toHaveLength(19);
    expect(new Set(acks.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(acks[0].seq).toBe(1);
    expect(await storedSeqs(acks[0].conversationId)).toEqual([1]);
    expect(await view(receiver, acks[0].conversationId)).toMatchObject({ maxSeq: 1, unread: 1 });
    // A later retry is a plain resend.
    expect(await senders[0].ok('sendMsg', { clientMsgId: 'crash-first', recvId: 'crc2', ...text('once') })).toEqual(acks[0]);
    const synced = await syncConversation(receiver, acks[0].conversationId, 1);
    expect(synced.holes).toEqual([]);
    expect(synced.messages.map((m) => m.seq)).toEqual([1]);
  });

  it('over HTTP: leaves one hole; the concurrent duplicates store the message once, at one new seq', async () => {
    await admin.register('crh1', 'crh2');
    const receiver = await device('crh2');
    faults.crash('send.afterAllocate');

    const replies = await Promise.all(Array.from({ length: 10 }, () => admin.call('POST', '/messages', { sendId: 'crh1', clientMsgId: 'crash-first', recvId: 'crh2', ...text('once') })));

    const acks = replies.filter((r) => r.status === 200).map((r) => r.body);
    expect(acks).toHaveLength(9);
    expect(new Set(acks.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(acks[0].seq).toBe(2);
    expect(await storedSeqs(acks[0].conversationId)).toEqual([2]);
    await sleep(SETTLE_MS + 200);
    const synced = await syncConversation(receiver, acks[0].conversationId, 2);
    expect(synced.holes).toEqual([1]);
    expect(synced.messages.map((m) => m.seq)).toEqual([2]);
  });
});

describe('concurrent late resends after the first seq settled as a hole', () => {
  it('move the claim to one new seq, not one each', async () => {
    await admin.register('crl1', 'crl2');
    const senders = await Promise.all([1, 2].map((p) => device('crl1', p)));
    const receiver = await device('crl2');
    faults.crash('send.afterClaim');
    await senders[0].request('sendMsg', { clientMsgId: 'late', recvId: 'crl2', ...text('late') });
    await sleep(SETTLE_MS / 2 + 200);

    const replies = await burst(senders, 10, () => ({ clientMsgId: 'late', recvId: 'crl2', ...text('late') }));

    expect(replies.filter((r) => r.error)).toEqual([]);
    const acks = replies.map((r) => r.data);
    expect(new Set(acks.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(acks[0].seq).toBe(2);
    expect(await storedSeqs(acks[0].conversationId)).toEqual([2]);
    expect(await view(receiver, acks[0].conversationId)).toMatchObject({ maxSeq: 2 });
  });
});

describe('distinct clientMsgIds sent concurrently', () => {
  // Recent claim slots guard the durable path (groups, HTTP); a burst of 30 frames is also past the
  // 8-send window that recognizes resends in a 1:1 conversation (docs/protocol.md, "Idempotency").
  it('each get their own seq, also when they share a recent claim slot; duplicates in slots of their own get none', async () => {
    await admin.register('crd1', 'crd2');
    await admin.createGroup('crd-group', 'crd1', ['crd2']);
    const senders = await Promise.all([1, 2].map((p) => device('crd1', p)));
    const receiver = await device('crd2');
    const before = await view(receiver, 'sg_crd-group');
    await receiver.ok('markRead', { conversationId: 'sg_crd-group', seq: before.maxSeq });
    // Ten ids in one slot, found by brute force, and ten ids with a slot each.
    const slot = recentClaimSlot('crd1', 'same-0');
    const colliding = ['same-0'];
    for (let i = 1; colliding.length < 10; i += 1) if (recentClaimSlot('crd1', `same-${i}`) === slot) colliding.push(`same-${i}`);
    const slots = new Set([slot]);
    const apart: string[] = [];
    for (let i = 0; apart.length < 10; i += 1) {
      const s = recentClaimSlot('crd1', `apart-${i}`);
      if (!slots.has(s)) slots.add(s), apart.push(`apart-${i}`);
    }
    // The colliding ids once each, the others twice, all at once.
    const frames = [...colliding, ...apart, ...apart];

    const replies = await burst(senders, frames.length, (i) => ({ clientMsgId: frames[i], groupId: 'crd-group', ...text(frames[i]) }));

    expect(replies.filter((r) => r.error)).toEqual([]);
    const acks = replies.map((r) => r.data);
    for (let i = 10; i < 20; i += 1) expect(acks[i + 10]).toEqual(acks[i]);
    const seqs = acks.slice(0, 20).map((a) => a.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => before.maxSeq + i + 1));
    expect((await storedSeqs('sg_crd-group')).filter((s) => s > before.maxSeq).length).toBe(20);
    expect(await view(receiver, 'sg_crd-group')).toMatchObject({ maxSeq: before.maxSeq + 20, unread: 20 });
  });
});

/** An item's size as DynamoDB bills it: names + strings in UTF-8 bytes, numbers 1 byte per 2 significant digits + 1, booleans 1. */
function itemBytes(item: Record<string, unknown>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) {
    bytes += Buffer.byteLength(name, 'utf8');
    if (typeof value === 'string') bytes += Buffer.byteLength(value, 'utf8');
    else if (typeof value === 'number') bytes += Math.ceil(String(value).replace(/^0+|\.|-/g, '').length / 2) + 1;
    else if (typeof value === 'boolean') bytes += 1;
    else throw new Error(`unexpected attribute ${name}`);
  }
  return bytes;
}

describe('the counter item with every recent claim slot filled', () => {
  it('stays under 1 KB for the longest conversation id, so an allocation is one write unit', async () => {
    const a = `a${'x'.repeat(63)}`;
    const b = `b${'y'.repeat(63)}`;
    const conversationId = `si_${a}_${b}`;
    expect(conversationId).toHaveLength(132);
    await conversations.createLinked(conversationId, 1);
    const bySlot = new Map<string, string>();
    for (let i = 0; bySlot.size < RECENT_CLAIM_SLOTS; i += 1) bySlot.set(recentClaimSlot(a, `m-${i}`), `m-${i}`);
    for (const id of bySlot.values()) expect(await conversations.allocate(conversationId, 1, Date.now(), recentClaimGuard(a, id, 0, Date.now(), 1000))).toBeDefined();

    const { Item } = await ddb().send(new GetCommand({ TableName: cirrus.tableNames.conversations, Key: { conversationId }, ConsistentRead: true }));
    expect(Object.keys(Item!).filter((k) => k.startsWith('rc'))).toHaveLength(RECENT_CLAIM_SLOTS);
    // Room for maxSeq up to 2^53 (9 bytes instead of 2 now).
    expect(itemBytes(Item!) + 7).toBeLessThanOrEqual(1024);

    const guard = recentClaimGuard(a, 'one-more', 0, Date.now(), 1000);
    const res = await ddb().send(
      new UpdateCommand({
        TableName: cirrus.tableNames.conversations,
        Key: { conversationId },
        UpdateExpression: 'SET maxSeq = maxSeq + :one, allocatedAt = :now, #rc = :rc',
        ConditionExpression: 'attribute_not_exists(#rc) OR NOT begins_with(#rc, :h) OR #rc < :cut',
        ExpressionAttributeNames: { '#rc': guard.slot },
        ExpressionAttributeValues: { ':one': 1, ':now': Date.now(), ':rc': guard.value, ':h': guard.hash, ':cut': guard.staleBelow },
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    expect(res.ConsumedCapacity?.CapacityUnits).toBe(1);
    // The measure tells: the same update of an item just over 1 KB costs 2.
    const padded = await ddb().send(
      new UpdateCommand({
        TableName: cirrus.tableNames.conversations,
        Key: { conversationId },
        UpdateExpression: 'SET maxSeq = maxSeq + :one, padding = :pad',
        ExpressionAttributeValues: { ':one': 1, ':pad': 'p'.repeat(1024 - itemBytes(Item!)) },
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    expect(padded.ConsumedCapacity?.CapacityUnits).toBe(2);
  });
});
