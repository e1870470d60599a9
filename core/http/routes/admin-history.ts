/** HTTP routes: admin operations over the history of messages, physical deletes and the moderation search (served by the httpHistory function). */
import * as z from 'zod/mini';
import { ConversationId, Seq, UserId } from '../../protocol/schema';
import { MAX_SEARCH_QUERY, SearchPage, searchPageFields, searchText } from './search';
import type { HttpRouteSpec } from './types';

/** Kept in step with core/services/purge.ts (checked by the routes' tests). */
export const MAX_PURGE = 1000;

export const adminHistoryRoutes = [
  {
    operationId: 'purgeMessages',
    method: 'POST',
    path: '/admin/conversations/{conversationId}/messages/purge',
    summary:
      'Delete messages for good, from the offline store and the history (with their edits); members see holes where they were, and no later job brings them back. ' +
      `Give seqs, or before to purge what was sent before that time, oldest first, at most ${MAX_PURGE} messages per call (call again while purged is ${MAX_PURGE}).`,
    auth: 'admin',
    params: z.strictObject({ conversationId: ConversationId }),
    body: z.strictObject({
      seqs: z.optional(z.array(Seq).check(z.minLength(1), z.maxLength(MAX_PURGE))).check(z.describe(`These messages (1-${MAX_PURGE} seqs); exactly one of seqs and before`)),
      before: z.optional(z.int().check(z.gte(0), z.lte(Number.MAX_SAFE_INTEGER))).check(z.describe('Messages sent before this time (ms since the epoch)')),
    }),
    response: z.strictObject({ purged: z.int().check(z.describe('Messages removed')) }),
  },
  {
    operationId: 'searchAllMessages',
    method: 'GET',
    path: '/admin/messages/search',
    summary:
      'Moderation search over the archived history of every conversation, newest first; without q every message matching the filters. ' +
      'Words match as in searchMessages (web-search syntax).',
    auth: 'admin',
    auditReads: true,
    query: z.strictObject({
      q: z.optional(searchText(MAX_SEARCH_QUERY)).check(z.describe(`Words to find (1-${MAX_SEARCH_QUERY} characters)`)),
      conversationId: z.optional(ConversationId).check(z.describe('Only this conversation')),
      senderId: z.optional(UserId).check(z.describe('Only messages from this sender (`system` for notifications)')),
      ...searchPageFields,
    }),
    response: SearchPage,
  },
] as const satisfies readonly HttpRouteSpec[];
