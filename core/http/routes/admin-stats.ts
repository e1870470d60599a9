/** HTTP routes: statistics and the user search of the admin console. */
import * as z from 'zod/mini';
import { NextCursor } from '../paging';
import { searchText } from './search';
import type { HttpRouteSpec } from './types';
import { Profile } from '../profile';

export const MAX_STATISTICS_DAYS = 366;
export const MAX_USER_SEARCH_QUERY = 64;
const FIRST_DAY = '1970-01-01';
const LAST_DAY = '9998-12-31';

const Day = (what: string) =>
  z.string().check(
    z.regex(/^\d{4}-\d{2}-\d{2}$/, `${what} must be a date YYYY-MM-DD`),
    z.refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().slice(0, 10) === d, `${what} is not a calendar date`),
    z.refine((d) => d >= FIRST_DAY && d <= LAST_DAY, `${what} must be between ${FIRST_DAY} and ${LAST_DAY}`),
    z.describe(`${what === 'from' ? 'First' : 'Last'} UTC day of the range, YYYY-MM-DD (inclusive)`),
  );

const Count = z.int().check(z.gte(0));

export const adminStatsRoutes = [
  {
    operationId: 'getStatistics',
    method: 'GET',
    path: '/admin/statistics',
    summary:
      `Activity per UTC day over a range of at most ${MAX_STATISTICS_DAYS} days, counted in the history: users registered, distinct senders ` +
      '(the system sender left out), messages (by session type and by content type; a revoked, deleted or edited message still counts once, ' +
      'on the day it was sent, under its current content type), groups created, distinct groups with a message; plus the live connections and ' +
      'connected users now. Messages reach the history through the archive queue, so the last seconds may be missing.',
    auth: 'admin',
    query: z.strictObject({ from: Day('from'), to: Day('to') }),
    response: z.strictObject({
      from: z.string(),
      to: z.string(),
      totals: z.strictObject({
        newUsers: Count,
        activeUsers: Count.check(z.describe('Distinct senders over the whole range')),
        messages: Count,
        groupsCreated: Count,
        activeGroups: Count.check(z.describe('Distinct groups in which a user (not `system`) sent a message, over the whole range')),
      }),
      days: z.array(
          z.strictObject({
            date: z.string().check(z.describe('YYYY-MM-DD (UTC)')),
            newUsers: Count,
            activeUsers: Count,
            messages: z.strictObject({ total: Count, single: Count, group: Count, notification: Count }),
            messagesByContentType: z.record(z.string(), Count).check(z.describe('Messages by content type (e.g. "101": text); types with none are left out')),
            groupsCreated: Count,
            activeGroups: Count,
          }),
        ).check(z.describe('One entry per day of the range, ascending, days without activity included')),
      online: z.strictObject({ connections: Count.check(z.describe('Live WebSocket connections now')), users: Count.check(z.describe('Distinct users with a live connection now')) }),
      generatedAt: z.int().check(z.describe('When the figures were read (ms since the epoch)')),
    }),
  },
  {
    operationId: 'searchUsers',
    method: 'GET',
    path: '/admin/users/search',
    summary:
      'Find users whose user id starts with q or whose nickname contains q, case-insensitively, in user id order. The profiles are read ' +
      'from the Users table, so they (and bans) are current; a user registered seconds ago may not be found yet.',
    auth: 'admin',
    query: z.strictObject({
      q: searchText(MAX_USER_SEARCH_QUERY).check(z.describe(`Start of a user id, or part of a nickname (1-${MAX_USER_SEARCH_QUERY} characters)`)),
      limit: z.optional(z.coerce.number().check(z.int(), z.gte(1), z.lte(100))).check(z.describe('Page size (default 20, at most 100)')),
      cursor: z.optional(z.string().check(z.maxLength(2048))).check(z.describe('nextCursor of the previous page')),
    }),
    response: z.strictObject({ users: z.array(Profile), nextCursor: NextCursor }),
  },
] as const satisfies readonly HttpRouteSpec[];
