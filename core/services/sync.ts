/**
 * Reconnect and catch-up: the newest seq of every conversation, pulling seq ranges, and
 * the read position. Clients rely on these, not on push, for correctness.
 */
import { config } from '../config';
import { classifyMissing } from '../domain/holes';
import { CirrusError } from '../errors';
import { REPLY_PAGE_BYTES } from '../protocol/constants';
import { MAX_PULL, type ActionResult } from '../protocol/schema';
import { conversations, readPosition, type CounterItem, type MemberState } from '../store/conversations';
import { nowSeconds } from '../store/dynamo';
import { messages, toMessage } from '../store/messages';
import { announcePosition } from './receipts';
import { groupOf, notifyAfter } from '../webhooks/after';

/** The highest seq the member may see, and the lowest hidden one. */
function visibleRange(state: MemberState, counter: CounterItem | undefined): { minSeq: number; maxSeq: number } {
  const maxSeq = Math.min(counter?.maxSeq ?? 0, state.leftSeq ?? Number.MAX_SAFE_INTEGER);
  return { minSeq: state.minSeq ?? 0, maxSeq };
}

const unreadOf = (state: MemberState, counter: CounterItem | undefined, maxSeq: number, minSeq: number) => Math.max(0, maxSeq - Math.max(readPosition(state, counter), minSeq));

/** Conversation rows read per Query while filling a page of getNewestSeq (one BatchGetItem of counters each). */
const NEWEST_ROWS_PER_READ = 100;

/** JSON bytes an item adds to an array: itself and a comma. */
const itemBytes = (item: unknown) => Buffer.byteLength(JSON.stringify(item)) + 1;

/**
 * The user's conversations in id order from after `cursor`, as many as fit in
 * REPLY_PAGE_BYTES; `nextCursor` (the last row the page accounts for) when more follow.
 */
export async function getNewestSeq(userId: string, req: { cursor?: string } = {}): Promise<ActionResult<'getNewestSeq'>> {
  const out: ActionResult<'getNewestSeq'>['conversations'] = [];
  let bytes = 0;
  let after = req.cursor;
  for (;;) {
    const page = await conversations.pageOfUser(userId, after, NEWEST_ROWS_PER_READ);
    const counters = await conversations.counters(page.items.map((s) => s.conversationId));
    for (const s of page.items) {
      const counter = counters.get(s.conversationId);
      if (counter) {
        const { minSeq, maxSeq } = visibleRange(s, counter);
        const entry = { conversationId: s.conversationId, maxSeq, readSeq: readPosition(s, counter), minSeq, unread: unreadOf(s, counter, maxSeq, minSeq) };
        const size = itemBytes(entry);
        if (out.length > 0 && bytes + size > REPLY_PAGE_BYTES) return { conversations: out, nextCursor: after!, serverTime: Date.now() };
        out.push(entry);
        bytes += size;
      }
      after = s.conversationId;
    }
    if (page.next === undefined) return { conversations: out, serverTime: Date.now() };
    after = page.next;
  }
}

async function memberView(userId: string, conversationId: string) {
  const { state, counter } = await conversations.stateAndCounter(userId, conversationId);
  if (!state || !counter) throw new CirrusError('CONVERSATION_NOT_FOUND', `No conversation ${conversationId} for ${userId}`);
  return { state, counter, ...visibleRange(state, counter) };
}

export async function pullMsgs(userId: string, req: { conversationId: string; fromSeq: number; toSeq: number; limit?: number }): Promise<ActionResult<'pullMsgs'>> {
  const { state, counter, minSeq, maxSeq } = await memberView(userId, req.conversationId);
  const fromSeq = Math.max(req.fromSeq, minSeq + 1);
  let toSeq = Math.min(req.toSeq, maxSeq, fromSeq + (req.limit ?? MAX_PULL) - 1);
  if (toSeq < fromSeq) return { conversationId: req.conversationId, fromSeq, toSeq: Math.max(toSeq, fromSeq - 1), messages: [], holes: [], pending: [] };
  const read = await messages.range(req.conversationId, fromSeq, toSeq);
  const now = nowSeconds();
  // Cut by size: the messages that fit in REPLY_PAGE_BYTES (always the first), the rest from toSeq + 1.
  const deleted = state.deletedSeqs;
  let bytes = 0;
  let cutAt: number | undefined;
  for (const m of read) {
    if (m.expiresAt <= now || deleted?.has(m.seq)) continue;
    const size = itemBytes(toMessage(m));
    if (bytes > 0 && bytes + size > REPLY_PAGE_BYTES) {
      cutAt = m.seq;
      break;
    }
    bytes += size;
  }
  if (cutAt !== undefined) toSeq = cutAt - 1;
  const items = cutAt === undefined ? read : read.filter((m) => m.seq <= toSeq);
  const truncated = cutAt !== undefined ? { truncated: true as const } : {};
  const live = items.filter((m) => m.expiresAt > now);
  const { holes, pending } = classifyMissing({
    fromSeq,
    toSeq,
    present: live,
    expired: items.filter((m) => m.expiresAt <= now).map((m) => m.seq),
    counterAllocatedAt: counter.allocatedAt,
    now: Date.now(),
    settleMs: config.seqSettleMs(),
  });
  // Messages the user deleted for themselves are holes to them: they will never see them.
  if (deleted?.size) {
    const gone = live.filter((m) => deleted.has(m.seq)).map((m) => m.seq);
    if (gone.length > 0) {
      return {
        conversationId: req.conversationId,
        fromSeq,
        toSeq,
        ...truncated,
        messages: live.filter((m) => !deleted.has(m.seq)).map(toMessage),
        holes: [...holes, ...gone].sort((a, b) => a - b),
        pending,
      };
    }
  }
  return { conversationId: req.conversationId, fromSeq, toSeq, ...truncated, messages: live.map(toMessage), holes, pending };
}

export async function markRead(userId: string, req: { conversationId: string; seq: number }): Promise<ActionResult<'markRead'>> {
  const { state, counter, minSeq, maxSeq } = await memberView(userId, req.conversationId);
  const target = Math.min(req.seq, maxSeq);
  let readSeq = state.readSeq ?? 0;
  // The explicit read position moves even below ownSeq: receipts count reads of others' messages.
  if (target > readSeq && (await conversations.advanceRead(userId, req.conversationId, target))) {
    readSeq = target;
    await announcePosition(userId, req.conversationId, { readSeq: readPosition({ ...state, readSeq }, counter) });
    await notifyAfter('afterMarkRead', [userId, req.conversationId, readSeq], { userId, conversationId: req.conversationId, readSeq, ...groupOf(req.conversationId), at: Date.now() }, { userIds: [userId], ...groupOf(req.conversationId) });
  }
  const now = { ...state, readSeq };
  return { conversationId: req.conversationId, readSeq: readPosition(now, counter), unread: unreadOf(now, counter, maxSeq, minSeq) };
}
