/** HTTP routes: a user's conversation list and their own settings of each conversation. */
import * as z from 'zod/mini';
import { ConversationId, GroupId, Message, UserId } from '../../protocol/schema';
import { RecvOpt } from '../profile';
import type { HttpRouteSpec } from './types';

export const ConversationView = z.strictObject({
  conversationId: ConversationId,
  sessionType: z.union([z.literal(1), z.literal(3), z.literal(4)]).check(z.describe('1 single, 3 group, 4 notification')),
  peerUserId: z.optional(UserId).check(z.describe('The other user of a 1:1 conversation')),
  groupId: z.optional(GroupId),
  maxSeq: z.int().check(z.describe('Newest seq the user may see')),
  readSeq: z.int(),
  minSeq: z.int().check(z.describe('Seqs at or below are hidden from the user (cleared, or before they joined)')),
  unread: z.int().check(z.describe('maxSeq - max(readSeq, minSeq)')),
  pinned: z.boolean(),
  recvOpt: RecvOpt,
  hidden: z.boolean().check(z.describe('Hidden from the list until its next message')),
  encrypted: z.optional(z.literal(true)).check(z.describe('End-to-end encrypted (MLS): an encrypted group, or a 1:1 conversation since its first MLS message (content type 150-152); its members may send only content types 150, 151 and 152 (ENCRYPTED_CONVERSATION otherwise); never unset')),
  lastMessage: z.nullable(Message),
  lastActivity: z.int().check(z.describe('sendTime of lastMessage, else when the conversation began (ms)')),
});

const Path = z.strictObject({ userId: UserId });
const ConvPath = z.strictObject({ userId: UserId, conversationId: ConversationId });
const One = z.strictObject({ conversation: ConversationView });

export const conversationRoutes = [
  {
    operationId: 'listConversations',
    method: 'GET',
    path: '/users/{userId}/conversations',
    summary: 'The conversation list: pinned first, then by latest activity, each with its unread count and last message; plus the total unread.',
    auth: 'self',
    params: Path,
    query: z.strictObject({ includeHidden: z.optional(z.enum(['true', 'false'])).check(z.describe('Include hidden and deleted conversations')) }),
    response: z.strictObject({
      conversations: z.array(ConversationView),
      totalUnread: z.int().check(z.describe("Sum of unread over conversations received normally: recvOpt 0 and the user's globalRecvOpt 0 (the stricter wins)")),
    }),
  },
  {
    operationId: 'getTotalUnread',
    method: 'GET',
    path: '/users/{userId}/unread',
    summary: "Total unread count over conversations received normally, recvOpt 0 and the user's globalRecvOpt 0 (the app badge).",
    auth: 'self',
    params: Path,
    response: z.strictObject({ totalUnread: z.int() }),
  },
  {
    operationId: 'getConversation',
    method: 'GET',
    path: '/users/{userId}/conversations/{conversationId}',
    summary: 'One conversation of the user, hidden or not.',
    auth: 'self',
    params: ConvPath,
    response: One,
  },
  {
    operationId: 'setConversation',
    method: 'PUT',
    path: '/users/{userId}/conversations/{conversationId}',
    summary: "Pin, set the receive option, hide or show a conversation, for this user; their live devices get a conversationChanged event.",
    auth: 'self',
    params: ConvPath,
    body: z.strictObject({ pinned: z.optional(z.boolean()), recvOpt: z.optional(RecvOpt), hidden: z.optional(z.boolean()) }),
    response: One,
  },
  {
    operationId: 'clearConversation',
    method: 'POST',
    path: '/users/{userId}/conversations/{conversationId}/clear',
    summary: 'Clear the history for this user only: messages so far are no longer returned to them (minSeq moves to maxSeq).',
    auth: 'self',
    params: ConvPath,
    response: One,
  },
  {
    operationId: 'readConversation',
    method: 'POST',
    path: '/users/{userId}/conversations/{conversationId}/read',
    summary: 'Mark read up to seq (default: everything); the read position never moves back.',
    auth: 'self',
    params: ConvPath,
    body: z.strictObject({ seq: z.optional(z.int().check(z.gte(0))) }),
    response: One,
  },
  {
    operationId: 'deleteConversation',
    method: 'DELETE',
    path: '/users/{userId}/conversations/{conversationId}',
    summary: 'Delete from the list for this user: hidden and cleared; a new message brings it back without the old ones.',
    auth: 'self',
    params: ConvPath,
    response: One,
  },
] as const satisfies readonly HttpRouteSpec[];
