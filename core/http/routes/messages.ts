/** HTTP routes: sending messages from the app backend, and revoking or deleting them (the full history: ./history.ts). */
import * as z from 'zod';
import { ClientMsgId, ConversationId, DeleteMsgRequest, GroupId, MAX_CONTENT_BYTES, Message, MessageBody, OfflinePush, RevokeMsgRequest, SendableContentType, SendMsgResult, Seq, UserId } from '../../protocol/schema';
import type { HttpRouteSpec } from './types';

const Content = z
  .unknown()
  .describe(
    `Shape depends on contentType (validated as on the WebSocket \`sendMsg\`; at most ${MAX_CONTENT_BYTES} bytes as JSON): ` +
      MessageBody.options.map((o) => `${o.shape.contentType.value} ${o.shape.contentType.description?.split(' ')[1]} {${Object.entries(o.shape.content.shape as Record<string, z.ZodType>).map(([k, v]) => (v.isOptional() ? `${k}?` : k)).join(', ')}}`).join('; '),
  );

const MessagePath = z.strictObject({ conversationId: ConversationId, seq: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).describe(Seq.description ?? 'seq') });

export const messageRoutes = [
  {
    operationId: 'sendMessage',
    method: 'POST',
    path: '/messages',
    summary: 'Send a message as a user (sendId) or as the system (asSystem), to a user (recvId) or a group (groupId). System messages to a user go to their notification conversation n_<userId>.',
    auth: 'admin',
    body: z.strictObject({
      sendId: UserId.optional().describe('Sender; required unless asSystem'),
      asSystem: z.boolean().optional().describe('Send as `system`'),
      recvId: UserId.optional(),
      groupId: GroupId.optional(),
      clientMsgId: ClientMsgId.optional().describe('For idempotent retries; generated when absent'),
      contentType: SendableContentType,
      content: Content,
      offlinePush: OfflinePush.optional(),
    }),
    response: SendMsgResult,
  },
  {
    operationId: 'revokeMessage',
    method: 'POST',
    path: '/conversations/{conversationId}/messages/{seq}/revoke',
    summary: `Revoke a message (as the WebSocket \`revokeMsg\`). ${RevokeMsgRequest.description}`,
    auth: 'user',
    permissions:
      "A user token acts as its user: the sender within the revoke window; in a group the owner (any message) or an admin (ordinary members' messages). An admin token may revoke any message.",
    params: MessagePath,
    response: Message.describe('The message as now stored (the marker)'),
  },
  {
    operationId: 'deleteMessage',
    method: 'DELETE',
    path: '/conversations/{conversationId}/messages/{seq}',
    summary: `Delete a message for everyone (as the WebSocket \`deleteMsg\`). ${DeleteMsgRequest.description}`,
    auth: 'user',
    permissions: 'A user token acts as its user: the sender only. An admin token may delete any message.',
    params: MessagePath,
    response: Message.describe('The message as now stored (the marker)'),
  },
] as const satisfies readonly HttpRouteSpec[];
