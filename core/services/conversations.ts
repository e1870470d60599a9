/**
 * A user's conversation list and their own settings of each conversation. Nothing here
 * is copied per message: the list is assembled from the user's rows, the conversations'
 * counters and the newest messages, a few batched reads for the whole list.
 */
import { parseConversationId } from '../domain/ids';
import { CirrusError } from '../errors';
import { MAX_DELETED_PER_CONVERSATION, SessionType, type Message } from '../protocol/schema';
import { conversations, readPosition, type CounterItem, type MemberSettings, type MemberState } from '../store/conversations';
import { messages, toMessage } from '../store/messages';
import { users, type RecvOpt } from '../store/users';
import { notifyUsers } from './notify';
import { pushEvent } from './push';
import { markRead } from './sync';
import { recvOptChanged } from './online-index';

export interface ConversationView {
  conversationId: string;
  sessionType: 1 | 3 | 4;
  /** The other user of a 1:1 conversation. */
  peerUserId?: string;
  groupId?: string;
  maxSeq: number;
  readSeq: number;
  minSeq: number;
  unread: number;
  pinned: boolean;
  recvOpt: 0 | 1 | 2;
  hidden: boolean;
  /** End-to-end encrypted (MLS): its messages are ciphertext (content types 150-152) the members' devices decrypt. */
  encrypted?: true;
  /** The newest message the user may see, or null. */
  lastMessage: Message | null;
  /** Time of the newest activity (ms): the last message, or the conversation's creation. */
  lastActivity: number;
}

function viewOf(userId: string, state: MemberState, counter: CounterItem | undefined, last: Message | undefined): ConversationView {
  const minSeq = state.minSeq ?? 0;
  const maxSeq = Math.min(counter?.maxSeq ?? 0, state.leftSeq ?? Number.MAX_SAFE_INTEGER);
  const readSeq = readPosition(state, counter);
  const parsed = parseConversationId(state.conversationId);
  return {
    conversationId: state.conversationId,
    sessionType: parsed?.sessionType ?? 1,
    ...(parsed?.sessionType === 1 ? { peerUserId: parsed.members.find((m) => m !== userId) ?? userId } : {}),
    ...(parsed?.sessionType === 3 ? { groupId: parsed.groupId } : {}),
    maxSeq,
    readSeq,
    minSeq,
    unread: Math.max(0, maxSeq - Math.max(readSeq, minSeq)),
    pinned: state.pinned === true,
    recvOpt: state.recvOpt ?? 0,
    hidden: state.hiddenSeq !== undefined && maxSeq <= state.hiddenSeq,
    ...(counter?.encrypted === true ? { encrypted: true as const } : {}),
    lastMessage: last ? last : null,
    lastActivity: last?.sendTime ?? counter?.allocatedAt ?? 0,
  };
}

/** The newest visible message of each conversation: one BatchGetItem per 100, a Query only where that seq is empty. */
async function lastMessages(items: { state: MemberState; counter?: CounterItem }[]): Promise<Map<string, Message>> {
  const wanted = items
    .map(({ state, counter }) => ({
      conversationId: state.conversationId,
      minSeq: state.minSeq ?? 0,
      seq: Math.min(counter?.maxSeq ?? 0, state.leftSeq ?? Number.MAX_SAFE_INTEGER),
      deleted: state.deletedSeqs,
    }))
    .filter((w) => w.seq > w.minSeq);
  const found = new Map(
    (await messages.getMany(wanted.filter((w) => !w.deleted?.has(w.seq)))).map((m) => [m.conversationId, toMessage(m)]),
  );
  await Promise.all(
    wanted
      .filter((w) => !found.has(w.conversationId))
      .map(async (w) => {
        const m = await messages.latest(w.conversationId, w.minSeq + 1, w.seq, w.deleted);
        if (m) found.set(w.conversationId, toMessage(m));
      }),
  );
  return found;
}

/** Pinned first, then by latest activity. */
const order = (a: ConversationView, b: ConversationView) => Number(b.pinned) - Number(a.pinned) || b.lastActivity - a.lastActivity || a.conversationId.localeCompare(b.conversationId);

/**
 * Unread of conversations the user receives normally: the receive option that applies is
 * the stricter of the conversation's own and the user's global one, so silent (2) and
 * not received (1) conversations do not count, whichever of the two says so.
 */
const countsTowardTotal = (globalRecvOpt: RecvOpt) => (v: ConversationView) => v.recvOpt === 0 && globalRecvOpt === 0;

/** The user's global receive option (0 when unset or not registered). */
async function globalRecvOptOf(userId: string): Promise<RecvOpt> {
  const [user] = await users.getMany([userId], 'userId, globalRecvOpt');
  return user?.globalRecvOpt ?? 0;
}

export async function listConversations(userId: string, includeHidden = false): Promise<{ conversations: ConversationView[]; totalUnread: number }> {
  const [states, globalRecvOpt] = await Promise.all([conversations.ofUser(userId), globalRecvOptOf(userId)]);
  const counters = await conversations.counters(states.map((s) => s.conversationId));
  const items = states.map((state) => ({ state, counter: counters.get(state.conversationId) }));
  const last = await lastMessages(items);
  const views = items.map(({ state, counter }) => viewOf(userId, state, counter, last.get(state.conversationId))).sort(order);
  return {
    conversations: includeHidden ? views : views.filter((v) => !v.hidden),
    totalUnread: views.filter(countsTowardTotal(globalRecvOpt)).reduce((n, v) => n + v.unread, 0),
  };
}

/** The app badge: the unread of conversations received normally. `knownGlobalRecvOpt`: the user's global option, already read by the caller (the notify function). */
export async function totalUnread(userId: string, knownGlobalRecvOpt?: RecvOpt): Promise<number> {
  const [states, globalRecvOpt] = await Promise.all([conversations.ofUser(userId), knownGlobalRecvOpt ?? globalRecvOptOf(userId)]);
  if (globalRecvOpt !== 0) return 0;
  const counters = await conversations.counters(states.map((s) => s.conversationId));
  return states
    .map((s) => viewOf(userId, s, counters.get(s.conversationId), undefined))
    .filter(countsTowardTotal(globalRecvOpt))
    .reduce((n, v) => n + v.unread, 0);
}

async function requireView(userId: string, conversationId: string): Promise<{ state: MemberState; counter?: CounterItem; view: ConversationView }> {
  const { state, counter } = await conversations.stateAndCounter(userId, conversationId);
  if (!state) throw new CirrusError('CONVERSATION_NOT_FOUND', `No conversation ${conversationId} for ${userId}`);
  const last = await lastMessages([{ state, counter }]);
  return { state, counter, view: viewOf(userId, state, counter, last.get(conversationId)) };
}

export async function getConversation(userId: string, conversationId: string): Promise<ConversationView> {
  return (await requireView(userId, conversationId)).view;
}

export interface SettingsChange {
  pinned?: boolean;
  recvOpt?: 0 | 1 | 2;
  /** true hides the conversation until its next message; false shows it again. */
  hidden?: boolean;
}

/** Applies the user's own changes and tells their live devices (an event, not a stored message). */
async function apply(userId: string, conversationId: string, changes: MemberSettings, announce: Record<string, unknown>): Promise<ConversationView> {
  const updated = await conversations.updateSettings(userId, conversationId, changes);
  if (!updated) throw new CirrusError('CONVERSATION_NOT_FOUND', `No conversation ${conversationId} for ${userId}`);
  await pushEvent(userId, { push: 'conversationChanged', data: { conversationId, changes: announce } });
  return getConversation(userId, conversationId);
}

export async function setConversation(userId: string, conversationId: string, change: SettingsChange): Promise<ConversationView> {
  const { view } = await requireView(userId, conversationId);
  const changes: MemberSettings = { pinned: change.pinned, recvOpt: change.recvOpt };
  if (change.hidden !== undefined) changes.hiddenSeq = change.hidden ? view.maxSeq : -1;
  const result = await apply(userId, conversationId, changes, { ...change });
  // A large group's online index carries each member's receive option.
  const parsed = parseConversationId(conversationId);
  if (change.recvOpt !== undefined && parsed?.sessionType === SessionType.group) await recvOptChanged(userId, parsed.groupId, change.recvOpt);
  return result;
}

/** Clears the history for this user only: messages up to now are no longer returned to them. */
export async function clearConversation(userId: string, conversationId: string): Promise<ConversationView> {
  const { view } = await requireView(userId, conversationId);
  return apply(userId, conversationId, { minSeq: view.maxSeq }, { minSeq: view.maxSeq });
}

/** Deletes the conversation from the user's list: hidden and cleared; a new message brings it back, empty before it. */
export async function deleteConversation(userId: string, conversationId: string): Promise<ConversationView> {
  const { view } = await requireView(userId, conversationId);
  return apply(userId, conversationId, { minSeq: view.maxSeq, hiddenSeq: view.maxSeq }, { minSeq: view.maxSeq, hidden: true });
}

/**
 * Deletes messages for this user only (a number set on their row, so at most
 * MAX_DELETED_PER_CONVERSATION per conversation); their other devices learn it from a
 * `messagesDeletedForMe` notification. Returns every seq deleted for them.
 */
export async function deleteMessagesForMe(userId: string, req: { conversationId: string; seqs: readonly number[] }): Promise<{ conversationId: string; deletedSeqs: number[] }> {
  const { state, view } = await requireView(userId, req.conversationId);
  const outside = req.seqs.filter((s) => s <= view.minSeq || s > view.maxSeq);
  if (outside.length > 0) throw new CirrusError('MESSAGE_NOT_FOUND', `Not visible to ${userId}: seq ${outside.slice(0, 5).join(', ')}`);
  const fresh = [...new Set(req.seqs)].filter((s) => !state.deletedSeqs?.has(s)).sort((a, b) => a - b);
  let all = state.deletedSeqs ?? new Set<number>();
  if (fresh.length > 0) {
    const updated = await conversations.addDeleted(userId, req.conversationId, fresh, MAX_DELETED_PER_CONVERSATION);
    if (!updated) {
      throw new CirrusError('TOO_MANY_DELETED', `At most ${MAX_DELETED_PER_CONVERSATION} messages of a conversation can be deleted for oneself; clear the conversation instead`);
    }
    all = updated;
    await notifyUsers([userId], 'messagesDeletedForMe', { userId, conversationId: req.conversationId, seqs: fresh }, userId);
  }
  return { conversationId: req.conversationId, deletedSeqs: [...all].sort((a, b) => a - b) };
}

export async function readConversation(userId: string, conversationId: string, seq?: number): Promise<ConversationView> {
  await markRead(userId, { conversationId, seq: seq ?? Number.MAX_SAFE_INTEGER });
  return getConversation(userId, conversationId);
}
