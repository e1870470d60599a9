/** HTTP routes: sending messages from the app backend, and revoking or deleting them (the full history: ./history.ts). */
import * as z from 'zod/mini';
import { ClientMsgId, ConversationId, DeleteMsgRequest, GroupId, MAX_CONTENT_BYTES, Message, MessageBody, OfflinePush, RevokeMsgRequest, SendableContentType, SendMsgResult, Seq, UserId } from '../../protocol/schema';
import { descriptionOf, isOptional } from '../../protocol/describe';
import type { HttpRouteSpec } from './types';

const Content = z.unknown().check(z.describe(`Shape depends on contentType (validated as on the WebSocket \`sendMsg\`; at most ${MAX_CONTENT_BYTES} bytes as JSON): ` +
      MessageBody.def.options.map((o) => `${o.shape.contentType.def.values[0]} ${descriptionOf(o.shape.contentType)?.split(' ')[1]} {${Object.entries(o.shape.content.shape as Record<string, z.ZodMiniType>).map(([k, v]) => (isOptional(v) ? `${k}?` : k)).join(', ')}}`).join('; ')));

const MessagePath = z.strictObject({ conversationId: ConversationId, seq: z.coerce.number().check(
  z.int(),
  z.gte(1),
  z.lte(Number.MAX_SAFE_INTEGER),
  z.describe(descriptionOf(Seq) ?? 'seq'),
) });

export const messageRoutes = [
  {
    operationId: 'sendMessage',
    method: 'POST',
    path: '/messages',
    summary: 'Send a message as a user (sendId) or as the system (asSystem), to a user (recvId) or a group (groupId). System messages to a user go to their notification conversation n_<userId>.',
    auth: 'admin',
    body: z.strictObject({
      sendId: z.optional(UserId).check(z.describe('Sender; required unless asSystem')),
      asSystem: z.optional(z.boolean()).check(z.describe('Send as `system`')),
      recvId: z.optional(UserId),
      groupId: z.optional(GroupId),
      clientMsgId: z.optional(ClientMsgId).check(z.describe('For idempotent retries; generated when absent')),
      contentType: SendableContentType,
      content: Content,
      offlinePush: z.optional(OfflinePush),
    }),
    response: SendMsgResult,
  },
  {
    operationId: 'revokeMessage',
    method: 'POST',
    path: '/conversations/{conversationId}/messages/{seq}/revoke',
    summary: `Revoke a message (as the WebSocket \`revokeMsg\`). ${descriptionOf(RevokeMsgRequest)}`,
    auth: 'user',
    permissions:
      "A user token acts as its user: the sender within the revoke window; in a group the owner (any message) or an admin (ordinary members' messages). An admin token may revoke any message.",
    params: MessagePath,
    response: Message.check(z.describe('The message as now stored (the marker)')),
  },
  {
    operationId: 'deleteMessage',
    method: 'DELETE',
    path: '/conversations/{conversationId}/messages/{seq}',
    summary: `Delete a message for everyone (as the WebSocket \`deleteMsg\`). ${descriptionOf(DeleteMsgRequest)}`,
    auth: 'user',
    permissions: 'A user token acts as its user: the sender only. An admin token may delete any message.',
    params: MessagePath,
    response: Message.check(z.describe('The message as now stored (the marker)')),
  },
] as const satisfies readonly HttpRouteSpec[];
