/** HTTP routes: full-text search over the history a user may see. */
import * as z from 'zod/mini';
import { ConversationId, Message, UserId } from '../../protocol/schema';
import { NextCursor } from '../paging';
import type { HttpRouteSpec } from './types';

export const MAX_SEARCH_QUERY = 200;
const Ms = z.coerce.number().check(z.int(), z.gte(0), z.lte(Number.MAX_SAFE_INTEGER));

/**
 * Words to search for: 1-`max` characters once trimmed, without NUL characters (PostgreSQL
 * text cannot hold them: the query would fail with a 500).
 */
export const searchText = (max: number) =>
  z.string().check(z.trim(), z.minLength(1), z.maxLength(max), z.refine((s) => !s.includes('\u0000'), 'must not contain NUL characters'));

/** The filters and paging both searches take (a user's own, and the admins' over every conversation). */
export const searchPageFields = {
  contentType: z.optional(z.coerce.number().check(z.int(), z.gte(0))).check(z.describe('Only this content type (e.g. 101 text)')),
  from: z.optional(Ms).check(z.describe('Only messages sent at or after this time (ms since the epoch)')),
  to: z.optional(Ms).check(z.describe('Only messages sent at or before this time (ms since the epoch)')),
  limit: z.optional(z.coerce.number().check(z.int(), z.gte(1), z.lte(100))).check(z.describe('Page size (default 20, at most 100); a page of large messages holds fewer (a page stays within 1 MiB of history), and nextCursor goes on from there')),
  cursor: z.optional(z.string().check(z.maxLength(2048))).check(z.describe('nextCursor of the previous page')),
};

export const SearchPage = z.strictObject({
  messages: z.array(Message).check(z.describe('Newest first')),
  nextCursor: NextCursor,
});

export const searchRoutes = [
  {
    operationId: 'searchMessages',
    method: 'GET',
    path: '/users/{userId}/messages/search',
    summary:
      'Full-text search over the archived history the user may see: only conversations they are in, and in each only what they may still read ' +
      '(after what they cleared or what came before they joined; up to when they left). Newest first. Words match whole, case-insensitively, ' +
      'in text, mention, quote and markdown text, file names, descriptions (custom, location) and card nicknames.',
    auth: 'self',
    params: z.strictObject({ userId: UserId }),
    query: z.strictObject({
      q: searchText(MAX_SEARCH_QUERY).check(
        z.describe(`Words to find (1-${MAX_SEARCH_QUERY} characters), web-search syntax: all words must match; "a phrase", \`or\`, \`-word\` to exclude`),
      ),
      conversationId: z.optional(ConversationId).check(z.describe('Only this conversation (the user must be in it)')),
      senderId: z.optional(UserId).check(z.describe('Only messages from this sender')),
      ...searchPageFields,
    }),
    response: SearchPage,
  },
] as const satisfies readonly HttpRouteSpec[];
