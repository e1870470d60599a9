/** HTTP routes: sending messages from the app backend, and the full history. */
import * as z from 'zod';
import { ClientMsgId, ConversationId, GroupId, MAX_CONTENT_BYTES, Message, MessageBody, SendableContentType, SendMsgResult, UserId } from '../../protocol/schema';
import type { HttpRouteSpec } from './types';

const Content = z
  .unknown()
  .describe(
    `Shape depends on contentType (validated as on the WebSocket \`sendMsg\`; at most ${MAX_CONTENT_BYTES} bytes as JSON): ` +
      MessageBody.options.map((o) => `${o.shape.contentType.value} ${o.shape.contentType.description?.split(' ')[1]} {${Object.entries(o.shape.content.shape as Record<string, z.ZodType>).map(([k, v]) => (v.isOptional() ? `${k}?` : k)).join(', ')}}`).join('; '),
  );

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
    }),
    response: SendMsgResult,
  },
  {
    operationId: 'getHistory',
    method: 'GET',
    path: '/conversations/{conversationId}/messages',
    summary: 'Page backwards through the full history of a conversation (from Aurora; beyond the offline TTL).',
    auth: 'user',
    permissions: 'A user token reads only conversations the user is in, and only their visible part (after what they cleared or what came before they joined; up to when they left).',
    params: z.strictObject({ conversationId: ConversationId }),
    query: z.strictObject({
      beforeSeq: z.coerce.number().int().min(1).optional().describe('Return messages with a lower seq (default: the newest)'),
      limit: z.coerce.number().int().min(1).max(200).optional().describe('Page size (default 50, at most 200)'),
    }),
    response: z.strictObject({
      messages: z.array(Message).describe('Newest first'),
      nextBeforeSeq: z.number().int().nullable().describe('Pass as beforeSeq for the next page; null at the start'),
    }),
  },
] as const satisfies readonly HttpRouteSpec[];
