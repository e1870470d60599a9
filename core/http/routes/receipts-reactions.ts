/**
 * HTTP routes acting on messages as one user: receipts, reactions, edits and
 * delete-for-me. The same operations as the WebSocket actions of the same names; an admin
 * token acts as the user named in the path (an app backend acting for its user).
 */
import * as z from 'zod/mini';
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
import { descriptionOf } from '../../protocol/describe';
import type { HttpRouteSpec } from './types';

const ConvPath = z.strictObject({ userId: UserId, conversationId: ConversationId });
const MessagePath = z.strictObject({
  userId: UserId,
  conversationId: ConversationId,
  seq: z.coerce.number().check(z.int(), z.gte(1), z.lte(Number.MAX_SAFE_INTEGER), z.describe(descriptionOf(Seq) ?? 'seq')),
});

export const receiptReactionRoutes = [
  {
    operationId: 'getReadReceipts',
    method: 'GET',
    path: '/users/{userId}/conversations/{conversationId}/receipts',
    summary: `Read and delivery receipts (as the WebSocket \`getReadReceipts\`). ${descriptionOf(GetReadReceiptsRequest)}`,
    auth: 'self',
    params: ConvPath,
    query: z.strictObject({
      seqs: z.optional(z.string().check(z.regex(/^\d{1,16}(,\d{1,16}){0,99}$/, `comma-separated seqs, at most ${MAX_RECEIPT_SEQS}`))).check(z.describe(`Comma-separated seqs, e.g. \`12,13,14\` (at most ${MAX_RECEIPT_SEQS})`)),
    }),
    response: GetReadReceiptsResult,
  },
  {
    operationId: 'getMessageReaders',
    method: 'GET',
    path: '/users/{userId}/conversations/{conversationId}/messages/{seq}/readers',
    summary: `${descriptionOf(GetMessageReadersRequest)} (As the WebSocket \`getMessageReaders\`.)`,
    auth: 'self',
    params: MessagePath,
    query: z.strictObject({
      status: GetMessageReadersRequest.shape.status,
      limit: z.optional(z.coerce.number().check(z.int(), z.gte(1), z.lte(500))).check(z.describe('Page size (default 100, at most 500)')),
      cursor: z.optional(z.string().check(z.maxLength(2048))).check(z.describe('cursor of the previous page')),
    }),
    response: GetMessageReadersResult,
  },
  {
    operationId: 'reactToMessage',
    method: 'PUT',
    path: '/users/{userId}/conversations/{conversationId}/messages/{seq}/reactions',
    summary: `React as the user (as the WebSocket \`reactMsg\`). ${descriptionOf(ReactMsgRequest)}`,
    auth: 'self',
    params: MessagePath,
    body: z.strictObject({ emoji: Emoji, reacted: ReactMsgRequest.shape.reacted }),
    response: Message.check(z.describe('The message as now stored, with its reactions')),
  },
  {
    operationId: 'editMessage',
    method: 'POST',
    path: '/users/{userId}/conversations/{conversationId}/messages/{seq}/edit',
    summary: `Edit the user's own message (as the WebSocket \`editMsg\`). ${descriptionOf(EditMsgRequest)}`,
    auth: 'self',
    permissions:
      'Only the sender edits: the user in the path must have sent the message (FORBIDDEN otherwise). An admin token edits as that user, for an app backend relaying its users\' edits; moderators revoke or delete instead.',
    params: MessagePath,
    body: z.strictObject({
      contentType: EditMsgRequest.shape.contentType,
      content: z.unknown().check(z.describe(`Validated as when sending; at most ${MAX_CONTENT_BYTES} bytes as JSON`)),
    }),
    response: Message.check(z.describe('The message as now stored')),
  },
  {
    operationId: 'deleteMessagesForMe',
    method: 'POST',
    path: '/users/{userId}/conversations/{conversationId}/messages/delete-for-me',
    summary: `Delete messages for the user only (as the WebSocket \`deleteMsgsForMe\`). ${descriptionOf(DeleteMsgsForMeRequest)}`,
    auth: 'self',
    params: ConvPath,
    body: z.strictObject({ seqs: z.array(Seq).check(z.minLength(1), z.maxLength(MAX_DELETE_FOR_ME), z.describe(`At most ${MAX_DELETE_FOR_ME} per call`)) }),
    response: DeleteMsgsForMeResult,
  },
] as const satisfies readonly HttpRouteSpec[];

