/**
 * Read and delivery receipts without write amplification. Each member has two positions
 * per conversation, `readSeq` and `deliveredSeq` (one number each, moved forward only), so
 * reading or acknowledging costs one write whatever the group's size. "Who has read seq
 * S" is then every member whose readSeq >= S, counted from the `byConversation` index of
 * UserConversations (ordered by readSeq) when someone asks, never stored per message.
 *
 * Live events: a moved position reaches the user's own devices (read only) and, in a 1:1
 * conversation, the other user, as a `receipt` event frame (not stored). Group members
 * ask with getReadReceipts / getMessageReaders when they show a message's receipts.
 */
import { parseConversationId } from '../domain/ids';
import { CirrusError } from '../errors';
import { decodeCursor, encodeCursor } from '../http/paging';
import { SessionType, type ActionRequest, type ActionResult } from '../protocol/schema';
import { claimsOnCounter } from '../domain/claims';
import { conversations, readPosition as positionOf, type CounterItem, type MemberPosition, type MemberState } from '../store/conversations';

const readPosition = (p: MemberPosition | MemberState, counter?: CounterItem) => positionOf(p, counter);
import { messages } from '../store/messages';
import { pushEvent } from './push';

/** Who may see a message at `seq`: joined before it, and had not left before it. */
const couldSee = (p: Pick<MemberPosition, 'minSeq' | 'leftSeq'>, seq: number) => (p.minSeq ?? 0) < seq && (p.leftSeq === undefined || p.leftSeq >= seq);

/**
 * Tells who should know that a position moved: the user's own devices (their other
 * devices clear the badge) for reads, and the other user of a 1:1 conversation.
 */
export async function announcePosition(userId: string, conversationId: string, moved: { readSeq?: number; deliveredSeq?: number }): Promise<void> {
  const parsed = parseConversationId(conversationId);
  const event = { push: 'receipt' as const, data: { conversationId, userId, ...moved } };
  const targets = new Set<string>();
  if (moved.readSeq !== undefined) targets.add(userId);
  if (parsed?.sessionType === SessionType.single) for (const member of parsed.members) if (member !== userId) targets.add(member);
  await Promise.all([...targets].map((target) => pushEvent(target, event)));
}

async function requireMember(userId: string, conversationId: string): Promise<{ state: MemberState; counter: CounterItem; maxSeq: number }> {
  const { state, counter } = await conversations.stateAndCounter(userId, conversationId);
  if (!state || !counter) throw new CirrusError('CONVERSATION_NOT_FOUND', `No conversation ${conversationId} for ${userId}`);
  return { state, counter, maxSeq: Math.min(counter.maxSeq, state.leftSeq ?? Number.MAX_SAFE_INTEGER) };
}

/**
 * The counter, where 1:1 and notification conversations record each member's own position
 * (core/domain/claims.ts): the one the caller read already, or one more read for an admin.
 */
async function ownPositions(conversationId: string, read?: CounterItem): Promise<CounterItem | undefined> {
  if (!claimsOnCounter(conversationId)) return undefined;
  return read ?? (await conversations.counters([conversationId])).get(conversationId);
}

export async function markDelivered(userId: string, req: ActionRequest<'markDelivered'>): Promise<ActionResult<'markDelivered'>> {
  const { state, counter, maxSeq } = await requireMember(userId, req.conversationId);
  const target = Math.min(req.seq, maxSeq);
  const known = Math.max(state.deliveredSeq ?? 0, readPosition(state, counter));
  // Read implies delivered: nothing to write, nobody to tell.
  if (target <= known) return { conversationId: req.conversationId, deliveredSeq: known };
  if (!(await conversations.advanceDelivered(userId, req.conversationId, target))) {
    const again = await requireMember(userId, req.conversationId);
    return { conversationId: req.conversationId, deliveredSeq: Math.max(again.state.deliveredSeq ?? 0, readPosition(again.state, again.counter)) };
  }
  await announcePosition(userId, req.conversationId, { deliveredSeq: target });
  return { conversationId: req.conversationId, deliveredSeq: target };
}

/** The seqs must be messages the caller could see. */
function checkVisible(state: MemberState | undefined, maxSeq: number, seqs: readonly number[]): void {
  const minSeq = state?.minSeq ?? 0;
  const outside = seqs.filter((s) => s <= minSeq || s > maxSeq);
  if (outside.length > 0) throw new CirrusError('MESSAGE_NOT_FOUND', `Not visible to the caller: seq ${outside.slice(0, 5).join(', ')}`);
}

/**
 * Counts for each seq; `userId` undefined for an admin token (any conversation). One
 * BatchGetItem for the senders and one paged Query over the members' positions.
 */
export async function getReadReceipts(userId: string | undefined, req: ActionRequest<'getReadReceipts'>): Promise<ActionResult<'getReadReceipts'>> {
  const seqs = [...new Set(req.seqs ?? [])].sort((a, b) => a - b);
  let counter: CounterItem | undefined;
  if (userId !== undefined) {
    const member = await requireMember(userId, req.conversationId);
    checkVisible(member.state, member.maxSeq, seqs);
    counter = member.counter;
  } else if (!parseConversationId(req.conversationId)) {
    throw new CirrusError('INVALID_ARGUMENT', `Not a conversation id: ${req.conversationId}`);
  }
  const [positions, found, own] = await Promise.all([
    conversations.allPositions(req.conversationId),
    seqs.length > 0 ? messages.getMany(seqs.map((seq) => ({ conversationId: req.conversationId, seq }))) : Promise.resolve([]),
    ownPositions(req.conversationId, counter),
  ]);
  const readPosition = (p: MemberPosition) => positionOf(p, own);
  const senders = new Map(found.map((m) => [m.seq, m.senderId]));
  const receipts = seqs.map((seq) => {
    const senderId = senders.get(seq) ?? null;
    const eligible = positions.filter((p) => p.userId !== senderId && couldSee(p, seq));
    const readCount = eligible.filter((p) => readPosition(p) >= seq).length;
    const deliveredCount = eligible.filter((p) => Math.max(readPosition(p), p.deliveredSeq ?? 0) >= seq).length;
    return { seq, senderId, readCount, deliveredCount, unreadCount: eligible.length - readCount };
  });
  const parsed = parseConversationId(req.conversationId);
  const peerPosition = userId !== undefined && parsed?.sessionType === SessionType.single ? positions.find((p) => p.userId !== userId) : undefined;
  return {
    conversationId: req.conversationId,
    memberCount: positions.filter((p) => p.leftSeq === undefined).length,
    receipts,
    ...(peerPosition
      ? { peer: { userId: peerPosition.userId, readSeq: readPosition(peerPosition), deliveredSeq: Math.max(readPosition(peerPosition), peerPosition.deliveredSeq ?? 0) } }
      : {}),
  };
}

const DEFAULT_READERS = 100;

/** Who has read (or not) a message, paged through the index by readSeq. */
export async function getMessageReaders(userId: string | undefined, req: ActionRequest<'getMessageReaders'>): Promise<ActionResult<'getMessageReaders'>> {
  let counter: CounterItem | undefined;
  if (userId !== undefined) {
    const member = await requireMember(userId, req.conversationId);
    checkVisible(member.state, member.maxSeq, [req.seq]);
    counter = member.counter;
  } else if (!parseConversationId(req.conversationId)) {
    throw new CirrusError('INVALID_ARGUMENT', `Not a conversation id: ${req.conversationId}`);
  }
  let startKey = decodeCursor(req.cursor);
  if (startKey && startKey.conversationId !== req.conversationId) throw new CirrusError('INVALID_ARGUMENT', 'The cursor is not one this API returned for this conversation');
  const [[message], own] = await Promise.all([messages.getMany([{ conversationId: req.conversationId, seq: req.seq }]), ownPositions(req.conversationId, counter)]);
  const readPosition = (p: MemberPosition) => positionOf(p, own);
  const senderId = message?.senderId;
  const limit = req.limit ?? DEFAULT_READERS;
  const users: { userId: string; readSeq: number }[] = [];
  // Readers: every position, those who read kept here (a key-condition filter cannot see
  // ownSeq and readSeq together); non-readers: narrowed by the index's sort key.
  const range = req.status === 'read' ? {} : { readBelow: req.seq };
  const wanted = (p: MemberPosition) => (readPosition(p) >= req.seq) === (req.status === 'read');
  do {
    // Each page is consumed whole, so DynamoDB's LastEvaluatedKey is the cursor.
    const page = await conversations.positions(req.conversationId, { ...range, startKey, limit: limit - users.length });
    for (const p of page.items) if (p.userId !== senderId && couldSee(p, req.seq) && wanted(p)) users.push({ userId: p.userId, readSeq: readPosition(p) });
    startKey = page.lastKey;
  } while (startKey && users.length < limit);
  return { conversationId: req.conversationId, seq: req.seq, users, cursor: encodeCursor(startKey) };
}
