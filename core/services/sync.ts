/**
 * Reconnect and catch-up: the newest seq of every conversation, pulling seq ranges, and
 * the read position. Clients rely on these, not on push, for correctness.
 */
import { config } from '../config';
import { classifyMissing } from '../domain/holes';
import { CirrusError } from '../errors';
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

const unreadOf = (state: MemberState, maxSeq: number, minSeq: number) => Math.max(0, maxSeq - Math.max(readPosition(state), minSeq));

export async function getNewestSeq(userId: string): Promise<ActionResult<'getNewestSeq'>> {
  const states = await conversations.ofUser(userId);
  const counters = await conversations.counters(states.map((s) => s.conversationId));
  return {
    conversations: states
      .filter((s) => counters.has(s.conversationId))
      .map((s) => {
        const { minSeq, maxSeq } = visibleRange(s, counters.get(s.conversationId));
        return { conversationId: s.conversationId, maxSeq, readSeq: readPosition(s), minSeq, unread: unreadOf(s, maxSeq, minSeq) };
      }),
    serverTime: Date.now(),
  };
}

async function memberView(userId: string, conversationId: string) {
  const { state, counter } = await conversations.stateAndCounter(userId, conversationId);
  if (!state || !counter) throw new CirrusError('CONVERSATION_NOT_FOUND', `No conversation ${conversationId} for ${userId}`);
  return { state, counter, ...visibleRange(state, counter) };
}

export async function pullMsgs(userId: string, req: { conversationId: string; fromSeq: number; toSeq: number; limit?: number }): Promise<ActionResult<'pullMsgs'>> {
  const { state, counter, minSeq, maxSeq } = await memberView(userId, req.conversationId);
  const fromSeq = Math.max(req.fromSeq, minSeq + 1);
  const toSeq = Math.min(req.toSeq, maxSeq, fromSeq + (req.limit ?? MAX_PULL) - 1);
  if (toSeq < fromSeq) return { conversationId: req.conversationId, fromSeq, toSeq: Math.max(toSeq, fromSeq - 1), messages: [], holes: [], pending: [] };
  const items = await messages.range(req.conversationId, fromSeq, toSeq);
  const now = nowSeconds();
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
  const deleted = state.deletedSeqs;
  if (deleted?.size) {
    const gone = live.filter((m) => deleted.has(m.seq)).map((m) => m.seq);
    if (gone.length > 0) {
      return {
        conversationId: req.conversationId,
        fromSeq,
        toSeq,
        messages: live.filter((m) => !deleted.has(m.seq)).map(toMessage),
        holes: [...holes, ...gone].sort((a, b) => a - b),
        pending,
      };
    }
  }
  return { conversationId: req.conversationId, fromSeq, toSeq, messages: live.map(toMessage), holes, pending };
}

export async function markRead(userId: string, req: { conversationId: string; seq: number }): Promise<ActionResult<'markRead'>> {
  const { state, minSeq, maxSeq } = await memberView(userId, req.conversationId);
  const target = Math.min(req.seq, maxSeq);
  let readSeq = state.readSeq ?? 0;
  // The explicit read position moves even below ownSeq: receipts count reads of others' messages.
  if (target > readSeq && (await conversations.advanceRead(userId, req.conversationId, target))) {
    readSeq = target;
    await announcePosition(userId, req.conversationId, { readSeq: readPosition({ ...state, readSeq }) });
    await notifyAfter('afterMarkRead', [userId, req.conversationId, readSeq], { userId, conversationId: req.conversationId, readSeq, ...groupOf(req.conversationId), at: Date.now() }, { userIds: [userId], ...groupOf(req.conversationId) });
  }
  const now = { ...state, readSeq };
  return { conversationId: req.conversationId, readSeq: readPosition(now), unread: unreadOf(now, maxSeq, minSeq) };
}
