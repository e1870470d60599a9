/**
 * Sending notifications: events become messages from `system`, through the same send
 * path as chat (seq, offline store, push, archive). See core/protocol/notifications.ts.
 */
import { ADMIN_ACTOR, newId, parseConversationId, SYSTEM_SENDER } from '../domain/ids';
import { SessionType } from '../protocol/constants';
import { notificationTypes, type NotificationName, type NotificationPayload } from '../protocol/notifications';
import type { SendMsgResult } from '../protocol/schema';
import { sendMessage } from './send';

/**
 * To each user's notification conversation `n_<userId>`; `opUserId` has read their own. Two
 * writes each (the counter's claim, the message; see core/domain/claims.ts).
 */
export async function notifyUsers<N extends NotificationName>(userIds: readonly string[], name: N, payload: NotificationPayload<N>, opUserId?: string): Promise<SendMsgResult[]> {
  return Promise.all(
    [...new Set(userIds)].map((userId) =>
      sendMessage({
        sender: { userId: SYSTEM_SENDER },
        clientMsgId: newId(),
        recvId: userId,
        contentType: notificationTypes[name].contentType,
        content: payload,
        notification: true,
        readBy: opUserId === userId ? userId : undefined,
        // A fresh clientMsgId is never sent again: the claim on the counter is all it needs.
        windowed: true,
      }),
    ),
  );
}

/** To the group's conversation, in order with its chat; `opUserId` has read it. */
export async function notifyGroup<N extends NotificationName>(groupId: string, name: N, payload: NotificationPayload<N>, opUserId?: string): Promise<SendMsgResult> {
  return sendMessage({
    sender: { userId: SYSTEM_SENDER },
    clientMsgId: newId(),
    groupId,
    contentType: notificationTypes[name].contentType,
    content: payload,
    notification: true,
    readBy: opUserId === ADMIN_ACTOR ? undefined : opUserId,
  });
}

/**
 * Into any conversation, in order with its chat: a group's via `notifyGroup`, a 1:1
 * conversation `si_<a>_<b>` directly (both users see it), a notification conversation
 * `n_<userId>` to that user. `clientMsgId` makes a retry store nothing new.
 */
export async function notifyConversation<N extends NotificationName>(
  conversationId: string,
  name: N,
  payload: NotificationPayload<N>,
  opUserId?: string,
  clientMsgId: string = newId(),
): Promise<SendMsgResult> {
  const parsed = parseConversationId(conversationId);
  if (!parsed) throw new Error(`Not a conversation id: ${conversationId}`);
  const readBy = opUserId === ADMIN_ACTOR ? undefined : opUserId;
  const common = { sender: { userId: SYSTEM_SENDER }, clientMsgId, contentType: notificationTypes[name].contentType, content: payload, notification: true, readBy };
  switch (parsed.sessionType) {
    case SessionType.group:
      return sendMessage({ ...common, groupId: parsed.groupId });
    case SessionType.notification:
      return sendMessage({ ...common, recvId: parsed.userId, readBy: readBy === parsed.userId ? readBy : undefined });
    default:
      return sendMessage({ ...common, intoConversation: conversationId });
  }
}
