/**
 * Changing a sent message: revoke, delete for everyone, and edit. The DynamoDB item is replaced
 * in place by a marker (content null, `revoked` or `deleted` {by, at}; seq, serverMsgId,
 * sender and sendTime stay) under a conditional update on its `version` (0 on send, +1
 * per change); the Messages stream carries the change to the history (which applies it only
 * over an older version), and a notification goes into the same conversation, so every
 * device of every member learns it by push and by sync. See docs/architecture.md,
 * "Changing a message".
 */
import { createHash } from 'node:crypto';
import { config } from '../config';
import { parseConversationId, SYSTEM_SENDER } from '../domain/ids';
import { CirrusError } from '../errors';
import { actorName, isAdmin, type Actor } from '../http/actor';
import { log } from '../log';
import { ContentType, MAX_REACTION_EMOJI, SessionType, type Message } from '../protocol/schema';
import { conversations } from '../store/conversations';
import { groups } from '../store/groups';
import { messageIds, messages, senderMsgKey, toMessage, type MessageItem } from '../store/messages';
import { notifyConversation } from './notify';
import { validateChatContent } from './send';
import { notifyAfter } from '../webhooks/after';

export type ChangeKind = 'revoke' | 'delete';

export interface MessageRef {
  conversationId: string;
  seq: number;
}

/** The notification of a change: one per (message, version), whatever the retries. */
function changeClientMsgId(conversationId: string, seq: number, version: number): string {
  return `chg-${createHash('sha256').update(`${conversationId}#${seq}#${version}`).digest('base64url').slice(0, 40)}`;
}

/** The message, if the caller may see it: a user must be in the conversation, with the seq in their visible part. */
async function load(actor: Actor, ref: MessageRef): Promise<MessageItem> {
  if (!isAdmin(actor)) {
    const { state } = await conversations.stateAndCounter(actor.userId, ref.conversationId);
    if (!state) throw new CirrusError('CONVERSATION_NOT_FOUND', `No conversation ${ref.conversationId} for ${actor.userId}`);
    if (ref.seq <= (state.minSeq ?? 0) || ref.seq > (state.leftSeq ?? Number.MAX_SAFE_INTEGER)) {
      throw new CirrusError('MESSAGE_NOT_FOUND', `No message at seq ${ref.seq} of ${ref.conversationId} for ${actor.userId}`);
    }
  }
  const message = await messages.get(ref.conversationId, ref.seq);
  if (!message) throw new CirrusError('MESSAGE_NOT_FOUND', `No message at seq ${ref.seq} of ${ref.conversationId}`);
  return message;
}

/**
 * Who may revoke: an admin token any message; the sender within the revoke window; in a
 * group, the owner any message and an admin those of ordinary members. Delete for
 * everyone: the sender (at any time) or an admin token.
 */
async function authorize(actor: Actor, message: MessageItem, kind: ChangeKind): Promise<void> {
  if (isAdmin(actor)) return;
  const me = actor.userId;
  if (message.senderId === SYSTEM_SENDER || message.sessionType === SessionType.notification) {
    throw new CirrusError('FORBIDDEN', `Notifications cannot be ${kind === 'revoke' ? 'revoked' : 'deleted'} by users`);
  }
  if (kind === 'delete') {
    if (message.senderId !== me) throw new CirrusError('FORBIDDEN', 'Only the sender may delete a message for everyone');
    return;
  }
  if (message.sessionType === SessionType.group) {
    const roles = await groups.members(message.groupId!, [me, message.senderId]);
    const myRole = roles.get(me)?.role;
    if (!myRole) throw new CirrusError('NOT_GROUP_MEMBER', `${me} is not a member of group ${message.groupId}`);
    if (myRole === 'owner') return;
    // A sender who left the group counts as an ordinary member.
    if (myRole === 'admin' && message.senderId !== me && (roles.get(message.senderId)?.role ?? 'member') === 'member') return;
  }
  if (message.senderId !== me) {
    throw new CirrusError(
      'FORBIDDEN',
      message.sessionType === SessionType.group
        ? "Only the sender, the group's owner, or an admin (for ordinary members' messages) may revoke this message"
        : 'Only the sender may revoke this message',
    );
  }
  const windowSeconds = config.revokeWindowSeconds();
  if (windowSeconds > 0 && Date.now() - message.sendTime > windowSeconds * 1000) {
    throw new CirrusError('REVOKE_WINDOW_PASSED', `Messages can be revoked by their sender within ${windowSeconds} s of sending`);
  }
}

/** Notifies the conversation of a change, unless a previous attempt at this version did (the stream archives it). */
async function announce(message: Message, kind: ChangeKind, by: string, force: boolean): Promise<void> {
  const version = message.version ?? 0;
  const clientMsgId = changeClientMsgId(message.conversationId, message.seq, version);
  // A retry after the first attempt stopped short (a crash, a queue error) finishes it; a
  // completed change is not announced twice.
  if (!force && (await messageIds.get(senderMsgKey(SYSTEM_SENDER, clientMsgId)))) return;
  // Queued before the notification, whose record marks the announcement complete: a retry
  // that finishes a failed announcement queues it again (same delivery id), so it is never lost.
  if (kind === 'revoke') {
    await notifyAfter('afterRevokeMessage', [message.conversationId, message.seq], { message, revokedBy: by, at: message.revoked?.at ?? Date.now() }, {
      userIds: [message.senderId, message.recvId, by],
      groupId: message.groupId,
      contentType: message.contentType,
    });
  }
  const base = { conversationId: message.conversationId, seq: message.seq, serverMsgId: message.serverMsgId, version };
  const opUserId = by;
  if (kind === 'revoke') await notifyConversation(message.conversationId, 'messageRevoked', { ...base, revokedBy: by }, opUserId, clientMsgId);
  else await notifyConversation(message.conversationId, 'messageDeleted', { ...base, deletedBy: by }, opUserId, clientMsgId);
}

/**
 * Revokes (or deletes for everyone) a message; returns the marker as stored. Changing a
 * message that is revoked or deleted already returns it as it is.
 */
export async function changeMessage(actor: Actor, ref: MessageRef, kind: ChangeKind): Promise<Message> {
  if (!parseConversationId(ref.conversationId)) throw new CirrusError('INVALID_ARGUMENT', `Not a conversation id: ${ref.conversationId}`);
  let message = await load(actor, ref);
  for (let attempt = 0; ; attempt++) {
    if (message.revoked || message.deleted) {
      await announce(toMessage(message), message.revoked ? 'revoke' : 'delete', (message.revoked ?? message.deleted)!.by, false);
      return toMessage(message);
    }
    await authorize(actor, message, kind);
    const mark = { by: actorName(actor), at: Date.now() };
    // The reactions go with the content.
    const changed = await messages.change(ref.conversationId, ref.seq, message.version ?? 0, { content: null, reactions: {}, [kind === 'revoke' ? 'revoked' : 'deleted']: mark });
    if (changed) {
      const marker = toMessage(changed);
      log.debug(kind === 'revoke' ? 'message revoked' : 'message deleted', { conversationId: ref.conversationId, seq: ref.seq, by: mark.by, version: marker.version });
      await announce(marker, kind, mark.by, true);
      return marker;
    }
    // Changed (or expired) meanwhile: look again.
    if (attempt >= 4) throw new CirrusError('INTERNAL', 'The message kept changing; retry');
    const again = await messages.get(ref.conversationId, ref.seq);
    if (!again) throw new CirrusError('MESSAGE_NOT_FOUND', `No message at seq ${ref.seq} of ${ref.conversationId}`);
    message = again;
  }
}

/** Content types an edit may switch between; any other type keeps its own. */
const textFamily: readonly number[] = [ContentType.text, ContentType.mention, ContentType.markdown];

/**
 * Edits the content of a message (its sender only, with a user token): validated as a
 * send, within the same content type (or the text family); returns the message as stored.
 * The history keeps the replaced content in `message_edits`.
 */
export async function editMessage(actor: Actor, ref: MessageRef & { contentType: number; content: unknown }): Promise<Message> {
  if (!parseConversationId(ref.conversationId)) throw new CirrusError('INVALID_ARGUMENT', `Not a conversation id: ${ref.conversationId}`);
  if (isAdmin(actor)) throw new CirrusError('FORBIDDEN', 'Only the sender may edit a message');
  let message = await load(actor, ref);
  for (let attempt = 0; ; attempt++) {
    if (message.senderId !== actor.userId) throw new CirrusError('FORBIDDEN', 'Only the sender may edit a message');
    if (message.revoked || message.deleted) throw new CirrusError('MESSAGE_NOT_EDITABLE', `The message was ${message.revoked ? 'revoked' : 'deleted'}`);
    if (ref.contentType !== message.contentType && !(textFamily.includes(ref.contentType) && textFamily.includes(message.contentType))) {
      throw new CirrusError('INVALID_ARGUMENT', `A message of content type ${message.contentType} cannot become ${ref.contentType}`);
    }
    const body = validateChatContent(ref.contentType, ref.content, { conversationId: message.conversationId, sessionType: message.sessionType });
    const fromVersion = message.version ?? 0;
    const at = Date.now();
    const changed = await messages.change(ref.conversationId, ref.seq, fromVersion, { contentType: body.contentType, content: body.content, edited: { at, version: fromVersion + 1 } });
    if (changed) {
      const edited = toMessage(changed);
      log.debug('message edited', { conversationId: ref.conversationId, seq: ref.seq, version: edited.version });
      const version = edited.version ?? 0;
      await notifyConversation(
        edited.conversationId,
        'messageEdited',
        { conversationId: edited.conversationId, seq: edited.seq, serverMsgId: edited.serverMsgId, editedBy: actor.userId, version },
        actor.userId,
        changeClientMsgId(edited.conversationId, edited.seq, version),
      );
      return edited;
    }
    if (attempt >= 4) throw new CirrusError('INTERNAL', 'The message kept changing; retry');
    const again = await messages.get(ref.conversationId, ref.seq);
    if (!again) throw new CirrusError('MESSAGE_NOT_FOUND', `No message at seq ${ref.seq} of ${ref.conversationId}`);
    message = again;
  }
}

/** Waits a little before looking again at a message others are changing at the same moment. */
const contention = (attempt: number) => new Promise((r) => setTimeout(r, Math.random() * Math.min(200, 10 * 2 ** attempt)));

/**
 * Rounds a reaction may lose to others on the same message before it gives up: each round one
 * of the contenders wins, so a burst of a couple of dozen reactions at once still settles.
 */
const MAX_REACTION_ATTEMPTS = 24;

/**
 * Adds or removes a user's reaction: the message's `reactions` map (emoji → user ids) is
 * rewritten under the same version guard as every change, so concurrent reactions retry
 * instead of overwriting each other. A real change goes to the history and puts a
 * `messageReactionChanged` notification into the conversation; a no-op sends nothing.
 */
export async function reactToMessage(userId: string, ref: MessageRef & { emoji: string; reacted: boolean }): Promise<Message> {
  if (!parseConversationId(ref.conversationId)) throw new CirrusError('INVALID_ARGUMENT', `Not a conversation id: ${ref.conversationId}`);
  let message = await load({ kind: 'user', userId, platformId: 0 }, ref);
  for (let attempt = 0; ; attempt++) {
    if (message.senderId === SYSTEM_SENDER || message.sessionType === SessionType.notification) throw new CirrusError('MESSAGE_NOT_EDITABLE', 'Notifications cannot be reacted to');
    if (message.revoked || message.deleted) throw new CirrusError('MESSAGE_NOT_EDITABLE', `The message was ${message.revoked ? 'revoked' : 'deleted'}`);
    const current = message.reactions ?? {};
    const users = current[ref.emoji] ?? [];
    if (users.includes(userId) === ref.reacted) return toMessage(message);
    const next: Record<string, string[]> = { ...current };
    if (ref.reacted) {
      if (users.length === 0 && Object.keys(current).length >= MAX_REACTION_EMOJI) {
        throw new CirrusError('TOO_MANY_REACTIONS', `A message can have at most ${MAX_REACTION_EMOJI} different emoji`);
      }
      next[ref.emoji] = [...users, userId];
    } else {
      const rest = users.filter((u) => u !== userId);
      if (rest.length > 0) next[ref.emoji] = rest;
      else delete next[ref.emoji];
    }
    const changed = await messages.change(ref.conversationId, ref.seq, message.version ?? 0, { reactions: next });
    if (changed) {
      const stored = toMessage(changed);
      const version = stored.version ?? 0;
      await notifyConversation(
        stored.conversationId,
        'messageReactionChanged',
        {
          conversationId: stored.conversationId,
          seq: stored.seq,
          serverMsgId: stored.serverMsgId,
          userId,
          emoji: ref.emoji,
          reacted: ref.reacted,
          counts: Object.fromEntries(Object.entries(next).map(([emoji, who]) => [emoji, who.length])),
          version,
        },
        userId,
        changeClientMsgId(stored.conversationId, stored.seq, version),
      );
      return stored;
    }
    if (attempt >= MAX_REACTION_ATTEMPTS) throw new CirrusError('INTERNAL', 'The message kept changing; retry');
    await contention(attempt);
    const again = await messages.get(ref.conversationId, ref.seq);
    if (!again) throw new CirrusError('MESSAGE_NOT_FOUND', `No message at seq ${ref.seq} of ${ref.conversationId}`);
    message = again;
  }
}
