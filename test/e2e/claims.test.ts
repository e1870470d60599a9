/**
 * The idempotency window of WebSocket sends into 1:1 conversations, claimed on the
 * conversation's counter (core/domain/claims.ts): one counter update allocates, claims and
 * records the sender's own position; a retry inside the window is answered with the first
 * ack and stores nothing; past the window (the sender's last CLAIM_WINDOW sends in the
 * conversation) a retry is a new message, as docs/protocol.md documents. Blocks and receive
 * options reach the send through their mirrors on the counter.
 */
import { describe, expect, it } from 'vitest';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ddb } from '../../core/aws/dynamodb';
import { CLAIM_WINDOW, claimAttribute, claimHash, claimsToDrop } from '../../core/domain/claims';
import { conversations } from '../../core/store/conversations';
import { sleep, type Device } from '../support/cirrus';
import { admin, as, cirrus, device, text, useCirrus } from '../support/harness';

// Short enough for a test to outlive a write window, long enough for a loaded machine to write within one.
const SETTLE_MS = 4000;

useCirrus({ settings: { seqSettleMs: SETTLE_MS } });

async function counterItem(conversationId: string): Promise<Record<string, any>> {
  const { Item } = await ddb().send(new GetCommand({ TableName: cirrus.tableNames.conversations, Key: { conversationId }, ConsistentRead: true }));
  return Item!;
}

async function storedSeqs(conversationId: string): Promise<number[]> {
  const res = await ddb().send(
    new QueryCommand({ TableName: cirrus.tableNames.messages, KeyConditionExpression: 'conversationId = :c', ExpressionAttributeValues: { ':c': conversationId }, ConsistentRead: true }),
  );
  return (res.Items ?? []).map((m) => Number(m.seq));
}

async function newest(d: Device, conversationId: string): Promise<{ maxSeq: number; readSeq: number; unread: number }> {
  const { conversations: list } = await d.ok('getNewestSeq', {});
  return list.find((c: { conversationId: string }) => c.conversationId === conversationId);
}

describe('a retry inside the window', () => {
  it('is answered with the first ack, stores nothing, and leaves the unread count alone', async () => {
    await admin.register('cw1', 'cw2');
    const sender = await device('cw1', 1);
    const other = await device('cw1', 2);
    const receiver = await device('cw2');
    const first = await sender.ok('sendMsg', { clientMsgId: 'once', recvId: 'cw2', ...text('once') });
    // The same send again, from another device of the sender too.
    expect(await sender.ok('sendMsg', { clientMsgId: 'once', recvId: 'cw2', ...text('once') })).toEqual(first);
    expect(await other.ok('sendMsg', { clientMsgId: 'once', recvId: 'cw2', ...text('once') })).toEqual(first);
    expect(await storedSeqs(first.conversationId)).toEqual([1]);
    expect(await newest(receiver, first.conversationId)).toMatchObject({ maxSeq: 1, unread: 1 });
    // The counter holds the claim at the message's seq; the sender's position is on it, not on their row.
    const counter = await counterItem(first.conversationId);
    expect(counter[claimAttribute('cw1')]).toEqual({ [claimHash('once')]: 1 });
    expect(await newest(sender, first.conversationId)).toMatchObject({ maxSeq: 1, readSeq: 1, unread: 0 });
    const row = await ddb().send(new GetCommand({ TableName: cirrus.tableNames.userConversations, Key: { userId: 'cw1', conversationId: first.conversationId }, ConsistentRead: true }));
    expect(row.Item?.ownSeq).toBeUndefined();
  });
});

describe('the window edge', () => {
  it(`recognizes the sender's last ${CLAIM_WINDOW} sends; a retry of an older one is a new message`, async () => {
    await admin.register('ce1', 'ce2');
    const sender = await device('ce1');
    const receiver = await device('ce2');
    const acks = [];
    for (let i = 0; i <= CLAIM_WINDOW; i += 1) acks.push(await sender.ok('sendMsg', { clientMsgId: `edge-${i}`, recvId: 'ce2', ...text(`edge ${i}`) }));
    const conversationId = acks[0].conversationId;
    const claims = (await counterItem(conversationId))[claimAttribute('ce1')];
    expect(Object.keys(claims)).toHaveLength(CLAIM_WINDOW);
    expect(claims[claimHash('edge-0')]).toBeUndefined();
    // The oldest still inside the window: the first ack.
    expect(await sender.ok('sendMsg', { clientMsgId: 'edge-1', recvId: 'ce2', ...text('edge 1') })).toEqual(acks[1]);
    // Past the window: a new message (documented; the SDK reconciles against sync before such a retry).
    const late = await sender.ok('sendMsg', { clientMsgId: 'edge-0', recvId: 'ce2', ...text('edge 0') });
    expect(late.seq).toBe(CLAIM_WINDOW + 2);
    expect(await storedSeqs(conversationId)).toHaveLength(CLAIM_WINDOW + 2);
    expect(await newest(receiver, conversationId)).toMatchObject({ maxSeq: CLAIM_WINDOW + 2, unread: CLAIM_WINDOW + 2 });
  });
});

describe('a resend of a purged message', () => {
  it('inside the window is acknowledged as before and stores nothing again', async () => {
    await admin.register('cp1', 'cp2');
    const sender = await device('cp1');
    const first = await sender.ok('sendMsg', { clientMsgId: 'purged', recvId: 'cp2', ...text('purge me') });
    const res = await admin.call('POST', `/admin/conversations/${first.conversationId}/messages/purge`, { seqs: [first.seq] });
    expect(res.body).toEqual({ purged: 1 });
    await sleep(SETTLE_MS / 2 + 200);

    expect(await sender.ok('sendMsg', { clientMsgId: 'purged', recvId: 'cp2', ...text('purge me') })).toEqual(first);
    expect(await storedSeqs(first.conversationId)).toEqual([]);
    expect((await counterItem(first.conversationId)).maxSeq).toBe(first.seq);
  });
});

describe('blocks and receive options', () => {
  it('reach the send through their mirrors on the counter', async () => {
    await admin.register('cb1', 'cb2');
    const sender = await device('cb1');
    const first = await sender.ok('sendMsg', { clientMsgId: 'before', recvId: 'cb2', ...text('before') });
    expect((await as('cb2', 'POST', '/users/cb2/blacklist', { blockedUserId: 'cb1' })).status).toBe(200);
    expect((await counterItem(first.conversationId))['blk#cb2']).toBe(true);
    const refused = await sender.request('sendMsg', { clientMsgId: 'blocked', recvId: 'cb2', ...text('blocked') });
    expect(refused.error?.reason).toBe('BLOCKED');
    expect((await as('cb2', 'DELETE', '/users/cb2/blacklist/cb1')).status).toBe(200);
    expect((await counterItem(first.conversationId))['blk#cb2']).toBeUndefined();
    expect(await sender.ok('sendMsg', { clientMsgId: 'after', recvId: 'cb2', ...text('after') })).toMatchObject({ seq: 2 });

    expect((await as('cb2', 'PUT', `/users/cb2/conversations/${first.conversationId}`, { recvOpt: 2 })).status).toBe(200);
    expect((await counterItem(first.conversationId))['ro#cb2']).toBe(2);
  });

  it('made before the conversation exists are mirrored when it is created', async () => {
    await admin.register('cn1', 'cn2');
    expect((await as('cn1', 'POST', '/users/cn1/blacklist', { blockedUserId: 'cn2' })).status).toBe(200);
    const sender = await device('cn1');
    // cn1 blocked cn2, which does not stop cn1 from writing to cn2.
    const first = await sender.ok('sendMsg', { clientMsgId: 'one', recvId: 'cn2', ...text('one') });
    expect((await counterItem(first.conversationId))['blk#cn1']).toBe(true);
    const back = await (await device('cn2')).request('sendMsg', { clientMsgId: 'back', recvId: 'cn1', ...text('back') });
    expect(back.error?.reason).toBe('BLOCKED');
  });
});

/** An item's size as DynamoDB bills it (strings, numbers, booleans, maps of numbers). */
function itemBytes(item: Record<string, unknown>): number {
  const value = (v: unknown): number => {
    if (typeof v === 'string') return Buffer.byteLength(v, 'utf8');
    if (typeof v === 'number') return Math.ceil(String(v).replace(/^0+|\.|-/g, '').length / 2) + 1;
    if (typeof v === 'boolean') return 1;
    if (v && typeof v === 'object') return 3 + Object.entries(v).reduce((n, [k, x]) => n + Buffer.byteLength(k, 'utf8') + value(x) + 1, 0);
    throw new Error(`unexpected value ${String(v)}`);
  };
  return Object.entries(item).reduce((n, [k, v]) => n + Buffer.byteLength(k, 'utf8') + value(v), 0);
}

describe('the counter of a 1:1 conversation with the longest ids', () => {
  it(`stays under 1 KB with both claim maps full and every mirror set, so a claim is one write unit`, async () => {
    const a = `a${'x'.repeat(63)}`;
    const b = `b${'y'.repeat(63)}`;
    const conversationId = `si_${a}_${b}`;
    expect(conversationId).toHaveLength(132);
    await conversations.ensureCounter(conversationId, 1);
    const linked = await conversations.linkWithClaims(conversationId, undefined, { senders: [a, b], blocked: [a, b], recvOpts: new Map([[a, 2], [b, 1]]) });
    expect(linked).toBeDefined();
    let counter = linked!;
    for (let i = 0; i < CLAIM_WINDOW * 2 + 3; i += 1) {
      const sender = i % 2 ? a : b;
      const claims = (counter[claimAttribute(sender)] ?? {}) as Record<string, number>;
      const result = await conversations.claim(conversationId, sender, claimHash(`m-${i}`), claimsToDrop(claims), Object.keys(claims).length, Date.now());
      expect(result.ok).toBe(true);
      counter = result.counter!;
      // Both SETs read the item before the update: the claim holds the seq just allocated.
      expect((counter[claimAttribute(sender)] as Record<string, number>)[claimHash(`m-${i}`)]).toBe(counter.maxSeq);
      expect(Object.keys(counter[claimAttribute(sender)] as object).length).toBeLessThanOrEqual(CLAIM_WINDOW);
    }
    const item = await counterItem(conversationId);
    expect(Object.keys(item[claimAttribute(a)])).toHaveLength(CLAIM_WINDOW);
    expect(Object.keys(item[claimAttribute(b)])).toHaveLength(CLAIM_WINDOW);
    // Room for maxSeq and every claimed seq up to 2^53 (9 bytes each instead of 2 now), and mv up to 10^6.
    expect(itemBytes(item) + 7 * (1 + 2 * CLAIM_WINDOW) + 3).toBeLessThanOrEqual(1024);

    // The same claim, metered: one write unit.
    const claims = item[claimAttribute(a)] as Record<string, number>;
    awaitMetered: {
      const { UpdateCommand } = await import('@aws-sdk/lib-dynamodb');
      const res = await ddb().send(
        new UpdateCommand({
          TableName: cirrus.tableNames.conversations,
          Key: { conversationId },
          UpdateExpression: `SET maxSeq = maxSeq + :one, allocatedAt = :now, #c.#h = maxSeq + :one REMOVE ${claimsToDrop(claims).map((_, i) => `#c.#d${i}`).join(', ')}`,
          ConditionExpression: 'attribute_not_exists(#c.#h) AND size(#c) = :n',
          ExpressionAttributeNames: { '#c': claimAttribute(a), '#h': claimHash('metered'), ...Object.fromEntries(claimsToDrop(claims).map((k, i) => [`#d${i}`, k])) },
          ExpressionAttributeValues: { ':one': 1, ':now': Date.now(), ':n': Object.keys(claims).length },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      expect(res.ConsumedCapacity?.CapacityUnits).toBe(1);
      break awaitMetered;
    }
    // A retry of a claimed hash fails and returns the item as it was: the earlier seq.
    const again = await conversations.claim(conversationId, a, claimHash('metered'), [], CLAIM_WINDOW, Date.now());
    expect(again.ok).toBe(false);
    expect((again.counter![claimAttribute(a)] as Record<string, number>)[claimHash('metered')]).toBe(item.maxSeq + 1);
  });
});
