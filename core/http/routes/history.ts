/** HTTP routes: the full history of a conversation, from Aurora (served by the httpHistory function). */
import * as z from 'zod/mini';
import { ConversationId, Message } from '../../protocol/schema';
import type { HttpRouteSpec } from './types';

export const historyRoutes = [
  {
    operationId: 'getHistory',
    method: 'GET',
    path: '/conversations/{conversationId}/messages',
    summary: 'Page backwards through the full history of a conversation (from Aurora; beyond the offline TTL).',
    auth: 'user',
    auditReads: true,
    permissions: 'A user token reads only conversations the user is in, and only their visible part (after what they cleared or what came before they joined; up to when they left).',
    params: z.strictObject({ conversationId: ConversationId }),
    query: z.strictObject({
      beforeSeq: z.optional(z.coerce.number().check(z.int(), z.gte(1))).check(z.describe('Return messages with a lower seq (default: the newest)')),
      limit: z.optional(z.coerce.number().check(z.int(), z.gte(1), z.lte(200))).check(z.describe('Page size (default 50, at most 200); a page of large messages holds fewer (a page stays within 1 MiB of history), and nextBeforeSeq goes on from there')),
    }),
    response: z.strictObject({
      messages: z.array(Message).check(z.describe('Newest first')),
      nextBeforeSeq: z.nullable(z.int()).check(z.describe('Pass as beforeSeq for the next page; null at the start')),
    }),
  },
] as const satisfies readonly HttpRouteSpec[];
