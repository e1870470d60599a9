/**
 * `beforeSendMessage`: the app backend's say on a message before Cirrus accepts it. Called
 * synchronously in the send path, after validation and the send-time rules and before a
 * seq is allocated, so a refusal stores nothing and leaves no hole.
 */
import * as z from 'zod/mini';
import type { MessageBody } from '../protocol/schema';
import { callBefore } from './before';

/** What the app backend is told about the message. */
export interface BeforeSendMessageData {
  senderId: string;
  senderPlatformId?: number;
  clientMsgId: string;
  conversationId: string;
  sessionType: number;
  recvId?: string;
  groupId?: string;
  contentType: number;
  content: unknown;
}

/** A modification: the new content, validated exactly as a client's content is. */
const Modify = z.strictObject({ content: z.unknown() });

/**
 * Returns the body to send: unchanged (allowed, not enabled, filtered out, or a failure
 * under the `open` policy) or the app's modification, validated by `validate`. Throws
 * REFUSED_BY_APP on a refusal, and APP_UNAVAILABLE on a failure under the `closed`
 * policy. An invalid modification counts as a failure of the backend: it is never stored.
 */
export async function beforeSendMessage(data: BeforeSendMessageData, body: MessageBody, validate: (contentType: number, content: unknown) => MessageBody): Promise<MessageBody> {
  const modified = await callBefore('beforeSendMessage', data, {
    involved: { userIds: [data.senderId, data.recvId], groupId: data.groupId, contentType: body.contentType },
    // Stable across the sender's retries of the same clientMsgId.
    idParts: [data.senderId, data.clientMsgId],
    modify: Modify,
    apply: (m) => validate(body.contentType, m.content),
    what: 'the message',
  });
  return modified ?? body;
}
