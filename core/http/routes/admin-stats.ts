/** HTTP routes: statistics and the user search of the admin console. */
import * as z from 'zod';
import { NextCursor } from '../paging';
import { searchText } from './search';
import type { HttpRouteSpec } from './types';
import { Profile } from '../profile';

export const MAX_STATISTICS_DAYS = 366;
export const MAX_USER_SEARCH_QUERY = 64;
const FIRST_DAY = '1970-01-01';
const LAST_DAY = '9998-12-31';

const Day = (what: string) =>
  z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, `${what} must be a date YYYY-MM-DD`)
    .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().slice(0, 10) === d, `${what} is not a calendar date`)
    .refine((d) => d >= FIRST_DAY && d <= LAST_DAY, `${what} must be between ${FIRST_DAY} and ${LAST_DAY}`)
    .describe(`${what === 'from' ? 'First' : 'Last'} UTC day of the range, YYYY-MM-DD (inclusive)`);

const Count = z.number().int().min(0);

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
        activeUsers: Count.describe('Distinct senders over the whole range'),
        messages: Count,
        groupsCreated: Count,
        activeGroups: Count.describe('Distinct groups in which a user (not `system`) sent a message, over the whole range'),
      }),
      days: z
        .array(
          z.strictObject({
            date: z.string().describe('YYYY-MM-DD (UTC)'),
            newUsers: Count,
            activeUsers: Count,
            messages: z.strictObject({ total: Count, single: Count, group: Count, notification: Count }),
            messagesByContentType: z.record(z.string(), Count).describe('Messages by content type (e.g. "101": text); types with none are left out'),
            groupsCreated: Count,
            activeGroups: Count,
          }),
        )
        .describe('One entry per day of the range, ascending, days without activity included'),
      online: z.strictObject({ connections: Count.describe('Live WebSocket connections now'), users: Count.describe('Distinct users with a live connection now') }),
      generatedAt: z.number().int().describe('When the figures were read (ms since the epoch)'),
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
      q: searchText(MAX_USER_SEARCH_QUERY).describe(`Start of a user id, or part of a nickname (1-${MAX_USER_SEARCH_QUERY} characters)`),
      limit: z.coerce.number().int().min(1).max(100).optional().describe('Page size (default 20, at most 100)'),
      cursor: z.string().max(2048).optional().describe('nextCursor of the previous page'),
    }),
    response: z.strictObject({ users: z.array(Profile), nextCursor: NextCursor }),
  },
] as const satisfies readonly HttpRouteSpec[];
