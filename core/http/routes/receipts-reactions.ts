/**
 * HTTP routes acting on messages as one user: receipts, reactions, edits and
 * delete-for-me. The same operations as the WebSocket actions of the same names; an admin
 * token acts as the user named in the path (an app backend acting for its user).
 */
import * as z from 'zod';
import {
  ConversationId,
  DeleteMsgsForMeRequest,
  DeleteMsgsForMeResult,
  EditMsgRequest,
  Emoji,
  GetMessageReadersRequest,
  GetMessageReadersResult,
  GetReadReceiptsRequest,
  GetReadReceiptsResult,
  MAX_CONTENT_BYTES,
  MAX_DELETE_FOR_ME,
  MAX_RECEIPT_SEQS,
  Message,
  ReactMsgRequest,
  Seq,
  UserId,
} from '../../protocol/schema';
import type { HttpRouteSpec } from './types';

const ConvPath = z.strictObject({ userId: UserId, conversationId: ConversationId });
const MessagePath = z.strictObject({
  userId: UserId,
  conversationId: ConversationId,
  seq: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).describe(Seq.description ?? 'seq'),
});

export const receiptReactionRoutes = [
  {
    operationId: 'getReadReceipts',
    method: 'GET',
    path: '/users/{userId}/conversations/{conversationId}/receipts',
    summary: `Read and delivery receipts (as the WebSocket \`getReadReceipts\`). ${GetReadReceiptsRequest.description}`,
    auth: 'self',
    params: ConvPath,
    query: z.strictObject({
      seqs: z
        .string()
        .regex(/^\d{1,16}(,\d{1,16}){0,99}$/, `comma-separated seqs, at most ${MAX_RECEIPT_SEQS}`)
        .optional()
        .describe(`Comma-separated seqs, e.g. \`12,13,14\` (at most ${MAX_RECEIPT_SEQS})`),
    }),
    response: GetReadReceiptsResult,
  },
  {
    operationId: 'getMessageReaders',
    method: 'GET',
    path: '/users/{userId}/conversations/{conversationId}/messages/{seq}/readers',
    summary: `${GetMessageReadersRequest.description} (As the WebSocket \`getMessageReaders\`.)`,
    auth: 'self',
    params: MessagePath,
    query: z.strictObject({
      status: GetMessageReadersRequest.shape.status,
      limit: z.coerce.number().int().min(1).max(500).optional().describe('Page size (default 100, at most 500)'),
      cursor: z.string().max(2048).optional().describe('cursor of the previous page'),
    }),
    response: GetMessageReadersResult,
  },
  {
    operationId: 'reactToMessage',
    method: 'PUT',
    path: '/users/{userId}/conversations/{conversationId}/messages/{seq}/reactions',
    summary: `React as the user (as the WebSocket \`reactMsg\`). ${ReactMsgRequest.description}`,
    auth: 'self',
    params: MessagePath,
    body: z.strictObject({ emoji: Emoji, reacted: ReactMsgRequest.shape.reacted }),
    response: Message.describe('The message as now stored, with its reactions'),
  },
  {
    operationId: 'editMessage',
    method: 'POST',
    path: '/users/{userId}/conversations/{conversationId}/messages/{seq}/edit',
    summary: `Edit the user's own message (as the WebSocket \`editMsg\`). ${EditMsgRequest.description}`,
    auth: 'self',
    permissions:
      'Only the sender edits: the user in the path must have sent the message (FORBIDDEN otherwise). An admin token edits as that user, for an app backend relaying its users\' edits; moderators revoke or delete instead.',
    params: MessagePath,
    body: z.strictObject({
      contentType: EditMsgRequest.shape.contentType,
      content: z.unknown().describe(`Validated as when sending; at most ${MAX_CONTENT_BYTES} bytes as JSON`),
    }),
    response: Message.describe('The message as now stored'),
  },
  {
    operationId: 'deleteMessagesForMe',
    method: 'POST',
    path: '/users/{userId}/conversations/{conversationId}/messages/delete-for-me',
    summary: `Delete messages for the user only (as the WebSocket \`deleteMsgsForMe\`). ${DeleteMsgsForMeRequest.description}`,
    auth: 'self',
    params: ConvPath,
    body: z.strictObject({ seqs: z.array(Seq).min(1).max(MAX_DELETE_FOR_ME).describe(`At most ${MAX_DELETE_FOR_ME} per call`) }),
    response: DeleteMsgsForMeResult,
  },
] as const satisfies readonly HttpRouteSpec[];

