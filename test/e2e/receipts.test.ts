/**
 * Read and delivery receipts: live events in 1:1 conversations, counts and reader lists
 * in a 200-member group, and a read that costs the same number of DynamoDB writes in a
 * group of 3 as in a group of 200.
 */
import { describe, expect, it } from 'vitest';
import { eventually, sleep, type Device } from '../support/cirrus';
import { admin, as, cirrus, device, text, token, useCirrus } from '../support/harness';
import { groupConversationId, singleConversationId } from '../../core/domain/ids';
import { awsRequests, type RequestCounts } from '../../core/aws/accounting';

useCirrus();

const receiptsOf = (d: Device) => d.frames.filter((f): f is { push: 'receipt'; data: Record<string, unknown> } => (f as { push?: string }).push === 'receipt');

/** Nothing queued or in flight, for a moment: background work cannot pollute a count. */
async function settle(): Promise<void> {
  await cirrus.lambda.idle();
  // And the stream consumer (archive) has nothing left to do.
  await cirrus.streams.idle();
  await sleep(300);
}

const WRITES = ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems'];
const dynamoWrites = (counts: RequestCounts) => WRITES.reduce((n, c) => n + (counts.DynamoDB?.[c] ?? 0), 0);

describe('1:1 receipts', () => {
  it('shows the peer delivery then read positions live and on demand; the reader\'s other device follows', async () => {
    await admin.register('rc-a', 'rc-b');
    const a = await device('rc-a');
    const bPhone = await device('rc-b', 1);
    const bWeb = await device('rc-b', 5);
    const conversationId = singleConversationId('rc-a', 'rc-b');
    const first = await a.ok('sendMsg', { clientMsgId: 'c1', recvId: 'rc-b', ...text('one') });
    const second = await a.ok('sendMsg', { clientMsgId: 'c2', recvId: 'rc-b', ...text('two') });
    await bPhone.waitForPushes(2);

    expect(await bPhone.ok('markDelivered', { conversationId, seq: second.seq })).toEqual({ conversationId, deliveredSeq: second.seq });
    const delivered = await a.until(() => receiptsOf(a).find((r) => r.data.deliveredSeq === second.seq), 10_000, 'delivery receipt');
    expect(delivered.data).toEqual({ conversationId, userId: 'rc-b', deliveredSeq: second.seq });
    let receipts = await a.ok('getReadReceipts', { conversationId, seqs: [first.seq, second.seq] });
    expect(receipts).toEqual({
      conversationId,
      memberCount: 2,
      receipts: [
        { seq: first.seq, senderId: 'rc-a', readCount: 0, deliveredCount: 1, unreadCount: 1 },
        { seq: second.seq, senderId: 'rc-a', readCount: 0, deliveredCount: 1, unreadCount: 1 },
      ],
      peer: { userId: 'rc-b', readSeq: 0, deliveredSeq: second.seq },
    });

    await bPhone.ok('markRead', { conversationId, seq: first.seq });
    const read = await a.until(() => receiptsOf(a).find((r) => r.data.readSeq === first.seq), 10_000, 'read receipt');
    expect(read.data).toEqual({ conversationId, userId: 'rc-b', readSeq: first.seq });
    // The reader's other device learns it too, to clear its badge.
    await bWeb.until(() => receiptsOf(bWeb).find((r) => r.data.readSeq === first.seq), 10_000, 'own read receipt');
    receipts = await a.ok('getReadReceipts', { conversationId, seqs: [first.seq, second.seq] });
    expect(receipts.receipts.map((r: { readCount: number }) => r.readCount)).toEqual([1, 0]);
    expect(receipts.peer).toEqual({ userId: 'rc-b', readSeq: first.seq, deliveredSeq: second.seq });

    // Read implies delivered: acknowledging less than what was read writes nothing and tells no one.
    await bPhone.ok('markRead', { conversationId, seq: second.seq });
    await a.until(() => receiptsOf(a).find((r) => r.data.readSeq === second.seq), 10_000, 'second read receipt');
    await settle();
    const before = awsRequests.snapshot();
    const count = receiptsOf(a).length;
    expect(await bPhone.ok('markDelivered', { conversationId, seq: first.seq })).toEqual({ conversationId, deliveredSeq: second.seq });
    expect(dynamoWrites(awsRequests.since(before))).toBe(0);
    await sleep(300);
    expect(receiptsOf(a)).toHaveLength(count);

    // Replying counts as having read what came before (ownSeq), with no index write.
    const reply = await bPhone.ok('sendMsg', { clientMsgId: 'r1', recvId: 'rc-a', ...text('three') });
    await a.waitForPushes(1);
    const afterReply = await eventually(async () => {
      const r = await a.ok('getReadReceipts', { conversationId, seqs: [second.seq] });
      return r.peer.readSeq === reply.seq && r;
    });
    expect(afterReply.receipts[0].readCount).toBe(1);
    expect((await bWeb.ok('getNewestSeq', {})).conversations.find((c: { conversationId: string }) => c.conversationId === conversationId)).toMatchObject({ readSeq: reply.seq, unread: 0 });

    // The same over HTTP, as each user; strangers see nothing.
    const byHttp = await as('rc-a', 'GET', `/users/rc-a/conversations/${conversationId}/receipts?seqs=${first.seq},${second.seq}`);
    expect(byHttp.status).toBe(200);
    expect(byHttp.body.peer).toEqual({ userId: 'rc-b', readSeq: second.seq + 1, deliveredSeq: second.seq + 1 });
    await admin.register('rc-z');
    const z = await device('rc-z');
    expect((await z.request('getReadReceipts', { conversationId, seqs: [first.seq] })).error).toMatchObject({ reason: 'CONVERSATION_NOT_FOUND' });
    expect((await a.request('getReadReceipts', { conversationId, seqs: [second.seq + 5] })).error).toMatchObject({ reason: 'MESSAGE_NOT_FOUND' });
    expect((await a.request('getReadReceipts', { conversationId, seqs: Array.from({ length: 101 }, (_, i) => i + 1) })).error).toMatchObject({ reason: 'INVALID_ARGUMENT' });
    expect((await a.request('markDelivered', { conversationId, seq: -1 })).error).toMatchObject({ reason: 'INVALID_ARGUMENT' });
    const badSeqs = await as('rc-a', 'GET', `/users/rc-a/conversations/${conversationId}/receipts?seqs=1,x`);
    expect(badSeqs.body.error).toMatchObject({ reason: 'INVALID_ARGUMENT' });
  });
});

/** Registers `n` users with this prefix; returns their ids. */
async function users(prefix: string, n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(3, '0')}`);
  for (let i = 0; i < ids.length; i += 500) await admin.register(...ids.slice(i, i + 500));
  return ids;
}

async function readAs(userId: string, conversationId: string, seq: number): Promise<void> {
  const res = await admin.call('POST', `/users/${userId}/conversations/${conversationId}/read`, { seq });
  if (res.status !== 200) throw new Error(`read: ${JSON.stringify(res.body)}`);
}

/** The DynamoDB writes of one member's read, measured alone. */
async function writesOfOneRead(userId: string, conversationId: string, seq: number): Promise<number> {
  await token(userId);
  await settle();
  const before = awsRequests.snapshot();
  // With the member's own token: an admin token's call is also written to the audit log.
  const res = await as(userId, 'POST', `/users/${userId}/conversations/${conversationId}/read`, { seq });
  if (res.status !== 200) throw new Error(`read: ${JSON.stringify(res.body)}`);
  await settle();
  return dynamoWrites(awsRequests.since(before));
}

describe('group receipts', () => {
  it('counts and lists the readers of each message in a 200-member group, with as many writes per read as in a group of 3', async () => {
    const [owner, ...members] = await users('rg', 200);
    await admin.createGroup('rg-big', owner, members);
    const conversationId = groupConversationId('rg-big');
    const o = await device(owner);
    const sent = [];
    for (const t of ['one', 'two', 'three']) sent.push(await o.ok('sendMsg', { clientMsgId: t, groupId: 'rg-big', ...text(t) }));
    const [s1, s2, s3] = sent.map((s) => s.seq as number);

    // 50 members read up to s2, 30 of them (and 10 others) on to s3; 20 only acknowledge s3.
    const readTwo = members.slice(0, 50);
    const readThree = [...members.slice(0, 30), ...members.slice(50, 60)];
    const deliveredOnly = members.slice(100, 120);
    for (const u of readTwo) await readAs(u, conversationId, s2);
    for (const u of readThree) await readAs(u, conversationId, s3);
    for (const u of deliveredOnly) {
      const d = await device(u);
      await d.ok('markDelivered', { conversationId, seq: s3 });
      await d.close();
    }
    // A member who joins now could never see s1..s3 and counts nowhere.
    await admin.register('rg-late');
    expect((await admin.call('POST', '/groups/rg-big/members', { userIds: ['rg-late'] })).status).toBe(200);
    await readAs('rg-late', conversationId, s3 + 10);

    const receipts = await eventually(async () => {
      const r = await o.ok('getReadReceipts', { conversationId, seqs: [s1, s2, s3] });
      return r.receipts[2].readCount === 40 && r;
    });
    expect(receipts.memberCount).toBe(201);
    expect(receipts.receipts).toEqual([
      { seq: s1, senderId: owner, readCount: 60, deliveredCount: 80, unreadCount: 139 },
      { seq: s2, senderId: owner, readCount: 60, deliveredCount: 80, unreadCount: 139 },
      { seq: s3, senderId: owner, readCount: 40, deliveredCount: 60, unreadCount: 159 },
    ]);
    expect(receipts.peer).toBeUndefined();

    // Readers of s2, paged by 25: exactly the 60, each once; the unread of s3: exactly 159.
    const pageThrough = async (status: 'read' | 'unread', seq: number) => {
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await o.ok('getMessageReaders', { conversationId, seq, status, limit: 25, ...(cursor ? { cursor } : {}) });
        seen.push(...page.users.map((u: { userId: string }) => u.userId));
        cursor = page.cursor ?? undefined;
        pages++;
      } while (cursor && pages < 50);
      return seen;
    };
    const readersOfTwo = await pageThrough('read', s2);
    expect(readersOfTwo).toHaveLength(60);
    expect(new Set(readersOfTwo)).toEqual(new Set([...readTwo, ...members.slice(50, 60)]));
    const unreadOfThree = await pageThrough('unread', s3);
    expect(unreadOfThree).toHaveLength(159);
    expect(unreadOfThree).not.toContain(owner);
    expect(unreadOfThree).not.toContain('rg-late');
    expect(unreadOfThree.filter((u) => readThree.includes(u))).toEqual([]);

    // Over HTTP for a member, and a cursor of another conversation is refused.
    const http = await as(members[0], 'GET', `/users/${members[0]}/conversations/${conversationId}/messages/${s3}/readers?status=read&limit=500`);
    expect(http.status).toBe(200);
    expect(http.body.users).toHaveLength(40);
    const forged = Buffer.from(JSON.stringify({ conversationId: 'sg_other', readSeq: 1, userId: 'x' })).toString('base64url');
    expect((await o.request('getMessageReaders', { conversationId, seq: s3, status: 'read', cursor: forged })).error).toMatchObject({ reason: 'INVALID_ARGUMENT' });

    // The cost of a read does not grow with the group.
    const [smallOwner, ...smallMembers] = await users('rs', 3);
    await admin.createGroup('rs-small', smallOwner, smallMembers);
    const small = await device(smallOwner);
    const smallSent = await small.ok('sendMsg', { clientMsgId: 'x', groupId: 'rs-small', ...text('x') });
    const inSmall = await writesOfOneRead(smallMembers[0], groupConversationId('rs-small'), smallSent.seq);
    const inBig = await writesOfOneRead(members[150], conversationId, s3);
    expect(inSmall).toBe(1);
    expect(inBig).toBe(inSmall);
  }, 240_000);
});
