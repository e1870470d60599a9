/**
 * Accepting a message: validate, authorize, deduplicate, allocate a seq, write, push to
 * the recipients (`fanout.ts`), acknowledge. DynamoDB only; nothing here waits on Aurora.
 *
 * Seq allocation and the message write are two requests (an atomic counter update,
 * then a conditional put), not a transaction: transactions cost twice the write units
 * and serialize hot groups on the counter's condition. A crash between the two leaves a
 * hole, which the protocol settles (see `core/domain/holes.ts`): a writer never writes a
 * message later than `seqSettleMs / 2` after its allocation, so a seq still empty
 * `seqSettleMs` after allocation stays empty forever and clients skip it.
 */
import { config } from '../config';
import { groupConversationId, newServerMsgId, notificationConversationId, parseConversationId, singleConversationId, SYSTEM_SENDER } from '../domain/ids';
import { CirrusError } from '../errors';
import { faultPoint } from '../faults';
import { log } from '../log';
import { recentClaimGuard } from '../domain/recent-claims';
import { blockAttribute, claimHash, claimSenders, claimsOf, claimsToDrop, counterMembers, ownSeqOnCounter, recvOptAttribute } from '../domain/claims';
import { connectionsFromPresence } from '../store/connections';
import type { KnownRecipients } from './push';
import { ENCRYPTED_CONTENT_TYPES } from '../protocol/e2ee';
import { ContentType, MAX_CONTENT_BYTES, MessageBody, SessionType, type Message, type SendMsgResult } from '../protocol/schema';
import { notificationSchema } from '../protocol/notifications';
import { conversations, encryptedRefusal, type CounterItem, type Encryption } from '../store/conversations';
import { batchGet } from '../store/dynamo';
import { messageIds, messages, senderMsgKey, type MessageIdItem, type MessageItem } from '../store/messages';
import { beforeSendMessage } from '../webhooks/before-send';
import { fanOut, type FanOutOptions, type OfflineCollector } from './fanout';
import type { OfflinePushInfo } from '../offline-push/rules';
import { isAway, PUSH_STATE_ATTRIBUTES } from '../offline-push/targets';
import { groups } from '../store/groups';
import { refuseIfThrottled } from './limits';
import '../protocol/zod-locale';

export interface Sender {
  /** A user id, or `system` for messages sent by the deployment itself. */
  userId: string;
  platformId?: number;
  /** The connection the message came from; it gets the ack, not a push. */
  connectionId?: string;
}

export interface SendInput {
  sender: Sender;
  clientMsgId: string;
  recvId?: string;
  groupId?: string;
  contentType: number;
  content: unknown;
  /** A notification from `system` (see core/protocol/notifications.ts); never set from a request. */
  notification?: boolean;
  /** A user whose read position moves past this message (whoever caused a notification). */
  readBy?: string;
  /**
   * A notification from `system` into an existing 1:1 conversation `si_<a>_<b>` (e.g.
   * `messageRevoked`), instead of recvId or groupId. Its members are parsed from the id;
   * the conversation's rows exist already, so no send-time rule applies.
   */
  intoConversation?: string;
  /**
   * The send came over WebSocket (or is a notification with a fresh clientMsgId): into a 1:1
   * or notification conversation its idempotency is the window of the sender's last
   * `CLAIM_WINDOW` sends there, claimed on the counter (see core/domain/claims.ts), instead
   * of a durable record.
   */
  windowed?: boolean;
  /**
   * A user's own send (sendMsg, or POST /messages as the user): held to the limits against
   * abuse, i.e. refused while the sender is throttled, and to the group's slow mode (see
   * core/services/limits.ts). Batch pages and notifications are not.
   */
  limited?: boolean;
  /** What the sender wants the offline push to say (schema's `offlinePush`), stored with the message. */
  offlinePush?: OfflinePushInfo;
  /** Takes the message's offline-push targets instead of the send invoking the notify function (a batch page). */
  offline?: OfflineCollector;
}

interface Target {
  conversationId: string;
  sessionType: 1 | 3 | 4;
  /** Users whose UserConversations rows a new 1:1 or notification conversation needs. */
  members: string[];
}

function resolveTarget(input: SendInput): Target {
  const { sender, recvId, groupId } = input;
  if (input.intoConversation !== undefined) {
    const parsed = parseConversationId(input.intoConversation);
    if (!input.notification || sender.userId !== SYSTEM_SENDER || recvId !== undefined || groupId !== undefined || parsed?.sessionType !== SessionType.single) {
      throw new Error(`intoConversation is for system notifications into 1:1 conversations: ${input.intoConversation}`);
    }
    return { conversationId: input.intoConversation, sessionType: SessionType.single, members: [] };
  }
  if ((recvId === undefined) === (groupId === undefined)) throw new CirrusError('INVALID_ARGUMENT', 'Exactly one of recvId and groupId is required');
  if (groupId !== undefined) return { conversationId: groupConversationId(groupId), sessionType: SessionType.group, members: [] };
  if (sender.userId === SYSTEM_SENDER) return { conversationId: notificationConversationId(recvId!), sessionType: SessionType.notification, members: [recvId!] };
  return { conversationId: singleConversationId(sender.userId, recvId!), sessionType: SessionType.single, members: [...new Set([sender.userId, recvId!])] };
}

function validateContent(input: SendInput, target: Target): MessageBody {
  const { contentType, content } = input;
  if (input.notification) {
    const schema = notificationSchema(contentType);
    if (input.sender.userId !== SYSTEM_SENDER || !schema) throw new Error(`Not a notification: ${contentType} from ${input.sender.userId}`);
    // Notifications are built by Cirrus itself; a schema failure is a bug, not bad input.
    return { contentType, content: schema.parse(content) } as unknown as MessageBody;
  }
  return validateChatContent(contentType, content, target);
}

/** Validates chat content as a send does (schema, size, rules of the target); also used by edits. */
export function validateChatContent(contentType: number, content: unknown, target: Pick<Target, 'conversationId' | 'sessionType'>): MessageBody {
  const parsed = MessageBody.safeParse({ contentType, content });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CirrusError('INVALID_ARGUMENT', `Invalid content: ${issue ? `${issue.path.join('.') || 'content'}: ${issue.message}` : 'does not match its contentType'}`);
  }
  const bytes = Buffer.byteLength(JSON.stringify(parsed.data.content), 'utf8');
  if (bytes > MAX_CONTENT_BYTES) throw new CirrusError('CONTENT_TOO_LARGE', `Content is ${bytes} bytes; the limit is ${MAX_CONTENT_BYTES}`);
  checkContentAgainstTarget(parsed.data, target);
  return parsed.data;
}

/** The rules of content types that depend on where the message goes. */
function checkContentAgainstTarget(body: MessageBody, target: Pick<Target, 'conversationId' | 'sessionType'>): void {
  if (body.contentType === ContentType.mention && body.content.atAll && target.sessionType !== SessionType.group) {
    throw new CirrusError('INVALID_ARGUMENT', 'Invalid content: atAll: only group messages can mention everyone');
  }
  if (body.contentType === ContentType.quote && body.content.quoted.conversationId !== target.conversationId) {
    throw new CirrusError('INVALID_ARGUMENT', `Invalid content: quoted.conversationId: the quoted message must be in ${target.conversationId}`);
  }
}

/**
 * Reads the idempotency record and every item the send-time rules need, in one
 * BatchGetItem, then applies the rules. A refused send stores nothing.
 */
async function precheck(input: SendInput, key: string, slow: SlowMode): Promise<MessageIdItem | undefined> {
  const t = (k: Parameters<typeof config.tableName>[0]) => config.tableName(k);
  const senderId = input.sender.userId;
  const fromSystem = senderId === SYSTEM_SENDER;
  const request: Parameters<typeof batchGet>[0] = { [t('messageIds')]: { Keys: [{ senderMsgKey: key }], ConsistentRead: true } };
  if (input.intoConversation !== undefined) return (await batchGet(request))[t('messageIds')]?.[0] as unknown as MessageIdItem | undefined;
  // Strongly consistent: a member kicked (or blocked) a moment ago must not get through.
  const want = (table: string, keys: Record<string, string>) => (request[table] = { Keys: [keys], ConsistentRead: true });
  if (input.groupId !== undefined) {
    want(t('groups'), { groupId: input.groupId });
    if (!fromSystem) want(t('groupMembers'), { groupId: input.groupId, userId: senderId });
  } else {
    want(t('users'), { userId: input.recvId! });
    if (!fromSystem && input.recvId !== senderId) {
      want(t('blacklist'), { userId: input.recvId!, blockedUserId: senderId });
      if (config.requireFriendship()) want(t('friends'), { userId: senderId, friendUserId: input.recvId! });
    }
  }
  const found = await batchGet(request);
  const one = (table: string) => found[table]?.[0] as Record<string, unknown> | undefined;
  if (input.groupId !== undefined) {
    const group = one(t('groups'));
    if (!group) throw new CirrusError('GROUP_NOT_FOUND', `Group ${input.groupId} does not exist`);
    if (!fromSystem) {
      if (group.status === 'dismissed') throw new CirrusError('GROUP_DISMISSED', `Group ${input.groupId} was dismissed`);
      const member = one(t('groupMembers'));
      if (!member) throw new CirrusError('NOT_GROUP_MEMBER', `${senderId} is not a member of group ${input.groupId}`);
      const mutedUntil = Number(member.mutedUntil ?? 0);
      if (mutedUntil > Date.now()) throw new CirrusError('MEMBER_MUTED', `${senderId} is muted in group ${input.groupId} until ${new Date(mutedUntil).toISOString()}`);
      const manager = member.role === 'owner' || member.role === 'admin';
      if (group.muteAll === true && !manager) throw new CirrusError('GROUP_MUTED', `Group ${input.groupId} is muted`);
      if (group.encrypted === true && !ENCRYPTED_CONTENT_TYPES.has(input.contentType)) {
        throw new CirrusError('ENCRYPTED_CONVERSATION', `Group ${input.groupId} is end-to-end encrypted: content type ${input.contentType} would be plaintext; send MLS messages (150, 151, 152)`);
      }
      if (input.limited) {
        // The archive's throttle, on the member item read here anyway.
        refuseIfThrottled(senderId, member.throttledUntil);
        const seconds = Number(group.slowModeSeconds ?? 0);
        if (seconds > 0 && !manager) Object.assign(slow, { intervalMs: seconds * 1000, lastSentAt: Number(member.lastSentAt ?? 0) });
      }
    }
  } else {
    if (!one(t('users'))) throw new CirrusError('USER_NOT_FOUND', `User ${input.recvId} is not registered`);
    if (!fromSystem && input.recvId !== senderId) {
      if (one(t('blacklist'))) throw new CirrusError('BLOCKED', `${input.recvId} does not accept messages from ${senderId}`);
      if (config.requireFriendship() && !one(t('friends'))) throw new CirrusError('NOT_FRIENDS', `${senderId} and ${input.recvId} are not friends`);
    }
  }
  return one(t('messageIds')) as unknown as MessageIdItem | undefined;
}

/** A group's slow mode as the precheck read it, for a member it holds. */
interface SlowMode {
  intervalMs?: number;
  /** The member's last send (0: none), from the precheck's strongly consistent read. */
  lastSentAt?: number;
}

function slowModeRefusal(groupId: string, waitMs: number): CirrusError {
  return new CirrusError('THROTTLED', `Group ${groupId} is in slow mode; send again in ${Math.max(1, Math.ceil(waitMs / 1000))} s`, { retryAfterMs: waitMs });
}

function buildMessage(input: SendInput, body: MessageBody, target: Target, seq: number, serverMsgId: string, sendTime: number): MessageItem {
  return {
    serverMsgId,
    clientMsgId: input.clientMsgId,
    conversationId: target.conversationId,
    seq,
    sessionType: target.sessionType,
    senderId: input.sender.userId,
    ...(input.sender.platformId !== undefined ? { senderPlatformId: input.sender.platformId } : {}),
    ...(input.recvId !== undefined ? { recvId: input.recvId } : {}),
    ...(input.groupId !== undefined ? { groupId: input.groupId } : {}),
    contentType: body.contentType,
    content: body.content,
    ...(input.offlinePush && Object.keys(input.offlinePush).length > 0 ? { offlinePush: input.offlinePush } : {}),
    // Counted in the sender's sending window by the archive function, from the stream record.
    ...(input.limited && input.sender.userId !== SYSTEM_SENDER ? { limited: true as const } : {}),
    sendTime,
    expiresAt: Math.floor(sendTime / 1000) + Math.round(config.messageTtlDays() * 86400),
  };
}

/** Everything after the write (own position, archive, push): see `fanout.ts`. */
function deliver(message: MessageItem, input: SendInput, extra: Pick<FanOutOptions, 'readByOwnSeq' | 'ownOnCounter' | 'known' | 'notify'> = {}): Promise<void> {
  return fanOut(message, { originConnectionId: input.sender.connectionId, readBy: input.readBy, offline: input.offline, ...extra });
}

/**
 * How long a recent claim refuses the same send, and so how long a refused duplicate waits
 * for the first attempt's idempotency record: well inside the write window, so that the
 * duplicate can still finish the first attempt's write at its seq.
 */
const claimWaitMs = (): number => Math.min(1000, config.seqSettleMs() / 4);

/** A user's send into a 1:1 conversation marks it encrypted (an MLS message) or is refused once it is (anything else). */
const encryptionOf = (input: SendInput, target: Target): Encryption | undefined =>
  target.sessionType !== SessionType.single || input.sender.userId === SYSTEM_SENDER || input.intoConversation !== undefined
    ? undefined
    : ENCRYPTED_CONTENT_TYPES.has(input.contentType)
      ? 'mls'
      : 'plain';

type Allocation = { seq: number; allocatedAt: number; counter: CounterItem } | { record: MessageIdItem };

/**
 * Allocates a seq for (sender, clientMsgId), creating the members' conversation rows the
 * first time, unless the same send is in flight: the allocation's own condition on the
 * counter's recent claims refuses it then (see `core/domain/recent-claims.ts`), and this
 * waits for the first attempt's idempotency record instead. `fromSeq` is the seq a resend
 * moves the claim away from (0 for a first send); the record awaited is one at another seq.
 * When the first attempt never claims (it crashed), its recent claim turns stale after
 * `claimWaitMs` and one of the waiting sends allocates (the crashed seq settles as a hole).
 */
async function allocate(input: SendInput, target: Target, key: string, fromSeq: number): Promise<Allocation> {
  const windowMs = claimWaitMs();
  for (let round = 0; round < 3; round += 1) {
    const allocatedAt = Date.now();
    const guard = recentClaimGuard(input.sender.userId, input.clientMsgId, fromSeq, allocatedAt, windowMs);
    const counter = await conversations.allocate(target.conversationId, target.sessionType, allocatedAt, guard, encryptionOf(input, target));
    if (counter) {
      if (!counter.linked && target.members.length > 0) {
        // Once per conversation: before the message exists, so that when it does, every
        // member's getNewestSeq already lists the conversation.
        await Promise.all(target.members.map((userId) => conversations.join(userId, target.conversationId, 0, false)));
        await conversations.markLinked(target.conversationId);
      }
      return { seq: counter.maxSeq, allocatedAt, counter };
    }
    log.info('duplicate send in flight: waiting for its claim', { conversationId: target.conversationId, fromSeq });
    const record = await awaitClaim(key, fromSeq, windowMs);
    if (record) return { record };
  }
  throw new CirrusError('SEND_IN_PROGRESS');
}

/** Polls the idempotency record (strongly consistent) until it holds a seq other than `fromSeq`, for at most `windowMs`. */
async function awaitClaim(key: string, fromSeq: number, windowMs: number): Promise<MessageIdItem | undefined> {
  const until = Date.now() + windowMs;
  for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(delay, until - Date.now()))));
    const record = await messageIds.get(key);
    if (record && record.seq !== fromSeq) return record;
    // Past the window the first attempt's recent claim is stale (another round if clocks disagree).
    if (Date.now() > until) return undefined;
  }
}

/** Writes a message unless its seq's write window has closed. */
async function write(message: MessageItem, allocatedAt: number): Promise<boolean> {
  if (Date.now() - allocatedAt > config.seqSettleMs() / 2) {
    throw new CirrusError('INTERNAL', 'The send took too long; its seq was abandoned. Retry with the same clientMsgId.');
  }
  // false: the same message was written by a concurrent retry at this seq (which notifies its offline recipients).
  return messages.put(message);
}

/**
 * The app backend's beforeSendMessage verdict on a chat message (notifications, built by
 * Cirrus itself, are not its to judge): the body to store, possibly modified, or a throw.
 */
function approvedByApp(input: SendInput, target: Target, body: MessageBody): Promise<MessageBody> {
  if (input.notification) return Promise.resolve(body);
  return beforeSendMessage(
    {
      senderId: input.sender.userId,
      ...(input.sender.platformId !== undefined ? { senderPlatformId: input.sender.platformId } : {}),
      clientMsgId: input.clientMsgId,
      conversationId: target.conversationId,
      sessionType: target.sessionType,
      ...(input.recvId !== undefined ? { recvId: input.recvId } : {}),
      ...(input.groupId !== undefined ? { groupId: input.groupId } : {}),
      contentType: body.contentType,
      content: body.content,
    },
    body,
    (contentType, content) => validateChatContent(contentType, content, target),
  );
}

const ack = (m: Pick<MessageIdItem, 'serverMsgId' | 'conversationId' | 'seq' | 'sendTime'>): SendMsgResult => ({
  serverMsgId: m.serverMsgId,
  conversationId: m.conversationId,
  seq: m.seq,
  sendTime: m.sendTime,
});

export async function sendMessage(input: SendInput): Promise<SendMsgResult> {
  return (await acceptMessage(input)).ack;
}

/** What a send did: its ack. */
export interface Accepted {
  ack: SendMsgResult;
}

/** Accepts a message: the windowed path for WebSocket sends into 1:1 and notification conversations, the durable one otherwise. */
export async function acceptMessage(input: SendInput): Promise<Accepted> {
  const target = resolveTarget(input);
  const body = validateContent(input, target);
  if (input.windowed && input.intoConversation === undefined && target.sessionType !== SessionType.group) return sendWindowed(input, body, target);
  return { ack: await sendDurable(input, body, target) };
}

async function sendDurable(input: SendInput, body: MessageBody, target: Target): Promise<SendMsgResult> {
  const key = senderMsgKey(input.sender.userId, input.clientMsgId);
  const slow: SlowMode = {};
  const existing = await precheck(input, key, slow);
  // A resend of a message already accepted is answered whatever the slow mode.
  if (existing) return resend(input, body, target, key, existing);
  if (slow.intervalMs !== undefined) {
    // Slow mode, refused from the read alone when plainly too soon: no write, no webhook.
    const wait = slow.lastSentAt! + slow.intervalMs - Date.now();
    if (wait > 0) throw slowModeRefusal(input.groupId!, wait);
  }
  // Before the seq: a refusal (or a closed-policy failure) stores nothing and leaves no hole.
  const approved = await approvedByApp(input, target, body);
  if (slow.intervalMs !== undefined) {
    // Slow mode: one conditional write on the member item (only in such groups), before any seq.
    const wait = await groups.claimSlowMode(input.groupId!, input.sender.userId, Date.now(), slow.intervalMs);
    if (wait > 0) throw slowModeRefusal(input.groupId!, wait);
  }

  const allocation = await allocate(input, target, key, 0);
  // A concurrent duplicate: answer as a resend of the first attempt, which allocated.
  if ('record' in allocation) return resend(input, body, target, key, allocation.record, approved);
  const { seq, allocatedAt } = allocation;
  faultPoint('send.afterAllocate', { conversationId: target.conversationId, seq });
  const sendTime = Date.now();
  const serverMsgId = newServerMsgId(sendTime);
  const claimed = await messageIds.claim({
    senderMsgKey: key,
    conversationId: target.conversationId,
    seq,
    serverMsgId,
    sendTime,
    allocatedAt,
    expiresAt: Math.floor(sendTime / 1000) + Math.round(config.messageTtlDays() * 86400),
  });
  if (!claimed) {
    // A concurrent send of the same clientMsgId won; our seq becomes a settled hole.
    log.info('duplicate send lost the claim', { conversationId: target.conversationId, abandonedSeq: seq });
    const winner = await messageIds.get(key);
    if (winner) return resend(input, body, target, key, winner, approved);
    throw new CirrusError('SEND_IN_PROGRESS');
  }
  faultPoint('send.afterClaim', { conversationId: target.conversationId, seq });
  const message = buildMessage(input, approved, target, seq, serverMsgId, sendTime);
  const won = await write(message, allocatedAt);
  faultPoint('send.afterWrite', { conversationId: target.conversationId, seq });
  const readByOwnSeq = input.readBy && input.intoConversation !== undefined ? ownSeqOnCounter(allocation.counter, input.readBy) : 0;
  await deliver(message, input, { notify: won, ...(readByOwnSeq ? { readByOwnSeq } : {}) });
  faultPoint('send.afterPush', { conversationId: target.conversationId, seq });
  log.debug('message accepted', { conversationId: target.conversationId, seq, serverMsgId });
  return ack(message);
}

/**
 * A clientMsgId seen before. Whatever step the first attempt stopped at, finish it:
 * the ack is the first attempt's, and the message is pushed and handed to the archive
 * again (the client deduplicates pushes by seq, the archive is idempotent). An accepted (stored) message is not put to the app's
 * beforeSendMessage again; one whose first attempt stopped before its write is, since
 * the content to write (possibly the app's modification) was never stored. A purged
 * message is acknowledged and not stored again.
 */
async function resend(input: SendInput, body: MessageBody, target: Target, key: string, existing: MessageIdItem, approvedBody?: MessageBody): Promise<SendMsgResult> {
  // Purged for good by an admin: a late resend (or a redelivered batch page) must not bring it back.
  if (existing.purgedAt !== undefined) return ack(existing);
  const stored = await messages.get(existing.conversationId, existing.seq);
  if (stored) {
    await deliver(stored, input);
    return ack(existing);
  }
  const approved = approvedBody ?? (await approvedByApp(input, target, body));
  if (Date.now() - existing.allocatedAt <= config.seqSettleMs() / 2) {
    const message = buildMessage(input, approved, target, existing.seq, existing.serverMsgId, existing.sendTime);
    const won = await write(message, existing.allocatedAt);
    await deliver(message, input, { notify: won });
    return ack(existing);
  }
  // The first attempt's seq settled as a hole: give the message a new one. Concurrent
  // late resends refuse each other in the allocation; the refused ones answer with the
  // record once the one that allocated has moved it.
  const allocation = await allocate(input, target, key, existing.seq);
  if ('record' in allocation) return resend(input, body, target, key, allocation.record, approved);
  const { seq, allocatedAt } = allocation;
  faultPoint('send.afterAllocate', { conversationId: target.conversationId, seq });
  const sendTime = Date.now();
  const next = { seq, serverMsgId: newServerMsgId(sendTime), sendTime, allocatedAt };
  if (!(await messageIds.reassign(key, existing.seq, next))) throw new CirrusError('SEND_IN_PROGRESS');
  const message = buildMessage(input, approved, target, seq, next.serverMsgId, sendTime);
  const won = await write(message, allocatedAt);
  await deliver(message, input, { notify: won });
  log.info('message accepted on retry after its first seq settled as a hole', { conversationId: target.conversationId, seq, abandonedSeq: existing.seq });
  return ack({ ...next, conversationId: target.conversationId });
}

/** What the windowed precheck read: the counter, and what the push needs about the recipients. */
interface WindowedView {
  counter?: CounterItem;
  known: KnownRecipients;
}

/**
 * The windowed send's precheck: one BatchGetItem of the counter (strongly consistent: the
 * claims and the block mirror), the recipient's user item (existence, live connections,
 * global receive option) and the sender's (their other live devices), both eventually
 * consistent, plus the friendship when REQUIRE_FRIENDSHIP. The blacklist is read only when
 * the counter does not carry the sender's claims yet (a new conversation).
 */
async function windowedPrecheck(input: SendInput, target: Target): Promise<WindowedView> {
  const t = (k: Parameters<typeof config.tableName>[0]) => config.tableName(k);
  const senderId = input.sender.userId;
  const recvId = input.recvId!;
  const fromUser = senderId !== SYSTEM_SENDER && senderId !== recvId;
  const userIds = [...new Set([recvId, ...(senderId !== SYSTEM_SENDER ? [senderId] : [])])];
  const request: Parameters<typeof batchGet>[0] = {
    [t('conversations')]: { Keys: [{ conversationId: target.conversationId }], ConsistentRead: true },
    // `devs`: whether the recipient has devices for an offline push (a projection costs nothing: reads are charged by item size).
    // `throttledUntil`: the sender's throttle across containers (core/services/limits.ts).
    [t('users')]: { Keys: userIds.map((userId) => ({ userId })), ProjectionExpression: `userId, conns, globalRecvOpt, throttledUntil, ${PUSH_STATE_ATTRIBUTES}` },
  };
  if (fromUser && config.requireFriendship()) request[t('friends')] = { Keys: [{ userId: senderId, friendUserId: recvId }], ConsistentRead: true };
  const found = await batchGet(request);
  const people = new Map((found[t('users')] ?? []).map((u) => [u.userId as string, u]));
  const recipient = people.get(recvId);
  if (!recipient) throw new CirrusError('USER_NOT_FOUND', `User ${recvId} is not registered`);
  if (input.limited && senderId !== SYSTEM_SENDER) refuseIfThrottled(senderId, people.get(senderId)?.throttledUntil);
  if (fromUser && config.requireFriendship() && !found[t('friends')]?.[0]) throw new CirrusError('NOT_FRIENDS', `${senderId} and ${recvId} are not friends`);
  const counter = found[t('conversations')]?.[0] as CounterItem | undefined;
  // Refused before the app's webhook sees it; the claim's condition settles a race with the first MLS message.
  if (counter?.encrypted === true && encryptionOf(input, target) === 'plain') throw encryptedRefusal(target.conversationId);
  const mirrored = counter !== undefined && claimsOf(counter, senderId) !== undefined;
  if (fromUser) {
    const blocked = mirrored
      ? counter[blockAttribute(recvId)] === true
      : (await batchGet({ [t('blacklist')]: { Keys: [{ userId: recvId, blockedUserId: senderId }], ConsistentRead: true } }))[t('blacklist')]?.length;
    if (blocked) throw new CirrusError('BLOCKED', `${recvId} does not accept messages from ${senderId}`);
  }
  const live = [...people.values()].flatMap((u) => connectionsFromPresence(u.userId as string, u.conns));
  const options = new Map<string, 0 | 1 | 2>();
  if (recvId !== senderId) {
    const global = Number(recipient.globalRecvOpt ?? 0);
    const own = Number(counter?.[recvOptAttribute(recvId)] ?? 0);
    // 1 (do not receive) beats 2 (silently) beats 0.
    const opt = global === 1 || own === 1 ? 1 : global === 2 || own === 2 ? 2 : 0;
    if (opt !== 0) options.set(recvId, opt);
  }
  const away = recvId !== senderId && isAway(recipient) ? [recvId] : [];
  return { counter: mirrored ? counter : undefined, known: { live, options, away } };
}

/**
 * Makes a 1:1 or notification conversation ready for claims: the counter (seq 0 when new),
 * the members' rows, then, in one update, `linked`, the senders' claim maps and the
 * mirrors of the members' blocks and receive options, read from their sources after the
 * counter exists (a change of a source from then on also changes its mirror; `mv` tells
 * the link that one did, and it reads again). Once per conversation; idempotent.
 */
async function linkForClaims(target: Target): Promise<CounterItem> {
  const t = (k: Parameters<typeof config.tableName>[0]) => config.tableName(k);
  const members = counterMembers(target.conversationId);
  for (let round = 0; round < 5; round += 1) {
    const counter = await conversations.ensureCounter(target.conversationId, target.sessionType);
    if (round === 0) await Promise.all(members.map((userId) => conversations.join(userId, target.conversationId, 0, false)));
    const pairs = members.length === 2 ? [{ userId: members[0], blockedUserId: members[1] }, { userId: members[1], blockedUserId: members[0] }] : [];
    const sources = await batchGet({
      ...(pairs.length ? { [t('blacklist')]: { Keys: pairs, ConsistentRead: true } } : {}),
      [t('userConversations')]: { Keys: members.map((userId) => ({ userId, conversationId: target.conversationId })), ProjectionExpression: 'userId, recvOpt', ConsistentRead: true },
    });
    const blocked = (sources[t('blacklist')] ?? []).map((b) => b.userId as string);
    const recvOpts = new Map((sources[t('userConversations')] ?? []).filter((r) => Number(r.recvOpt ?? 0) !== 0).map((r) => [r.userId as string, Number(r.recvOpt)]));
    const mv = counter.mv === undefined ? undefined : Number(counter.mv);
    const linked = await conversations.linkWithClaims(target.conversationId, mv, { senders: claimSenders(target.conversationId), blocked, recvOpts });
    if (linked) return linked;
  }
  throw new CirrusError('SEND_IN_PROGRESS', 'The conversation kept changing while being set up; retry');
}

const windowedAck = (m: Pick<MessageItem, 'serverMsgId' | 'conversationId' | 'seq' | 'sendTime'>): SendMsgResult => ack(m);

/**
 * A send into a 1:1 or notification conversation over WebSocket: one conditional update of
 * the counter allocates the seq, claims the clientMsgId (its hash must be new among the
 * sender's last `CLAIM_WINDOW` sends in the conversation) and records the sender's own
 * position; one conditional put writes the message. A known hash is a retry
 * (`windowedRetry`). See core/domain/claims.ts.
 */
async function sendWindowed(input: SendInput, body: MessageBody, target: Target): Promise<Accepted> {
  const senderId = input.sender.userId;
  const view = await windowedPrecheck(input, target);
  const hash = claimHash(input.clientMsgId);
  let counter = view.counter;
  const known = (c: CounterItem | undefined) => claimsOf(c, senderId)?.[hash];
  let approved: MessageBody | undefined;
  if (known(counter) === undefined) {
    // Before the seq: a refusal (or a closed-policy failure) stores nothing and leaves no hole.
    approved = await approvedByApp(input, target, body);
  }
  // Each round that fails lost to a concurrent send of the sender's and starts from the counter that one left.
  for (let round = 0; round < 40; round += 1) {
    if (!counter) counter = await linkForClaims(target);
    const earlier = known(counter);
    if (earlier !== undefined) return windowedRetry(input, body, target, counter, Number(earlier), view.known, approved);
    const claims = claimsOf(counter, senderId) ?? {};
    const allocatedAt = Date.now();
    const encryption = encryptionOf(input, target);
    const result = await conversations.claim(target.conversationId, senderId, hash, claimsToDrop(claims), Object.keys(claims).length, allocatedAt, encryption);
    if (!result.ok) {
      if (encryption === 'plain' && result.counter?.encrypted === true) throw encryptedRefusal(target.conversationId);
      // A concurrent send: of the same clientMsgId (its seq is in the map now), or of another one (the map changed).
      counter = result.counter && claimsOf(result.counter, senderId) !== undefined ? result.counter : undefined;
      continue;
    }
    const seq = result.counter.maxSeq;
    faultPoint('send.afterAllocate', { conversationId: target.conversationId, seq });
    faultPoint('send.afterClaim', { conversationId: target.conversationId, seq });
    approved ??= await approvedByApp(input, target, body);
    const sendTime = Date.now();
    const message = buildMessage(input, approved, target, seq, newServerMsgId(sendTime), sendTime);
    return writeWindowed(input, message, allocatedAt, view.known);
  }
  throw new CirrusError('SEND_IN_PROGRESS');
}

/**
 * Writes a windowed send's message at its freshly claimed seq, unless its write window
 * closed. A concurrent retry of the same clientMsgId may have written it first: then
 * that stored message is the answer (and this attempt pushes nothing).
 */
async function writeWindowed(input: SendInput, message: MessageItem, allocatedAt: number, known: KnownRecipients): Promise<Accepted> {
  if (Date.now() - allocatedAt > config.seqSettleMs() / 2) {
    throw new CirrusError('INTERNAL', 'The send took too long; its seq was abandoned. Retry with the same clientMsgId.');
  }
  const won = await messages.put(message);
  const stored = won ? message : await messages.get(message.conversationId, message.seq);
  if (!stored) throw new CirrusError('SEND_IN_PROGRESS');
  faultPoint('send.afterWrite', { conversationId: message.conversationId, seq: message.seq });
  if (won) {
    await deliver(message, input, { ownOnCounter: input.sender.userId !== SYSTEM_SENDER, known, notify: true });
    faultPoint('send.afterPush', { conversationId: message.conversationId, seq: message.seq });
    log.debug('message accepted', { conversationId: message.conversationId, seq: message.seq, serverMsgId: message.serverMsgId });
  }
  return { ack: windowedAck(stored) };
}

/**
 * A clientMsgId among the sender's last sends in the conversation, claimed at `seq`:
 * - stored there: acknowledged with the stored message, which is pushed again;
 * - not stored, and its write window still open (it is the counter's latest allocation,
 *   made less than `seqSettleMs / 2` ago): this attempt writes it (a concurrent put of the
 *   first attempt makes one of the two win; both answer with the winner);
 * - not stored, and the window possibly open: waits a moment for the first attempt's write,
 *   then asks the client to retry (SEND_IN_PROGRESS);
 * - not stored and the window closed: the seq settles as a hole and the claim moves to a
 *   new seq, in one update conditioned on the old one, so that concurrent retries move it once.
 */
async function windowedRetry(
  input: SendInput,
  body: MessageBody,
  target: Target,
  counter: CounterItem,
  seq: number,
  known: KnownRecipients,
  approvedBody?: MessageBody,
): Promise<Accepted> {
  const senderId = input.sender.userId;
  const hash = claimHash(input.clientMsgId);
  const halfWindow = config.seqSettleMs() / 2;
  const waitUntil = Date.now() + claimWaitMs();
  for (let round = 0; round < 50; round += 1) {
    const stored = await messages.get(target.conversationId, seq);
    if (stored) {
      if (stored.senderId !== senderId || stored.clientMsgId !== input.clientMsgId) {
        throw new CirrusError('INTERNAL', `clientMsgId ${input.clientMsgId} collides with a recent one of this conversation; send it with another clientMsgId`);
      }
      await deliver(stored, input, { ownOnCounter: senderId !== SYSTEM_SENDER, known });
      return { ack: windowedAck(stored) };
    }
    const latest = seq === counter.maxSeq;
    // Every allocation up to the counter's latest was made at or before its allocatedAt.
    const closed = Date.now() - counter.allocatedAt > halfWindow;
    if (latest && !closed) {
      const approved = approvedBody ?? (await approvedByApp(input, target, body));
      const sendTime = Date.now();
      return writeWindowed(input, buildMessage(input, approved, target, seq, newServerMsgId(sendTime), sendTime), counter.allocatedAt, known);
    }
    if (closed) {
      // Purged for good by an admin (who left a purged record): a late resend must not bring it back.
      const purged = await messageIds.get(senderMsgKey(senderId, input.clientMsgId));
      if (purged?.purgedAt !== undefined && purged.seq === seq) return { ack: ack(purged) };
      const moved = await conversations.moveClaim(target.conversationId, senderId, hash, seq, Date.now());
      if (moved.ok) {
        faultPoint('send.afterAllocate', { conversationId: target.conversationId, seq: moved.counter.maxSeq });
        const approved = approvedBody ?? (await approvedByApp(input, target, body));
        const sendTime = Date.now();
        const message = buildMessage(input, approved, target, moved.counter.maxSeq, newServerMsgId(sendTime), sendTime);
        log.info('message accepted on retry after its first seq settled as a hole', { conversationId: target.conversationId, seq: message.seq, abandonedSeq: seq });
        return writeWindowed(input, message, Number(moved.counter.allocatedAt), known);
      }
      const now = moved.counter ? claimsOf(moved.counter, senderId)?.[hash] : undefined;
      if (now === undefined || !moved.counter) throw new CirrusError('SEND_IN_PROGRESS');
      counter = moved.counter;
      seq = Number(now);
      continue;
    }
    // The first attempt may still write it: wait a moment for it, then let the client retry.
    if (Date.now() > waitUntil) throw new CirrusError('SEND_IN_PROGRESS');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const fresh = await conversations.counter(target.conversationId);
    if (!fresh) throw new CirrusError('SEND_IN_PROGRESS');
    counter = fresh;
  }
  throw new CirrusError('SEND_IN_PROGRESS');
}

