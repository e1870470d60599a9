/** Operations: statistics and the user search of the admin console. */
import { CirrusError } from '../../errors';
import { directory } from '../../history/directory';
import { DAY_MS, dayStart, rangeStatistics } from '../../history/statistics';
import { connections } from '../../store/connections';
import { users } from '../../store/users';
import { decodeCursor, encodeCursor } from '../paging';
import { MAX_STATISTICS_DAYS, type adminStatsRoutes } from '../routes/admin-stats';
import type { Operations } from '../routes/types';

const DEFAULT_LIMIT = 20;

export const adminStatsOperations: Operations<typeof adminStatsRoutes> = {
  getStatistics: async ({ query }) => {
    const { from, to } = query as { from: string; to: string };
    if (from > to) throw new CirrusError('INVALID_ARGUMENT', `from (${from}) must not be after to (${to})`);
    const days = (dayStart(to) - dayStart(from)) / DAY_MS + 1;
    if (days > MAX_STATISTICS_DAYS) throw new CirrusError('INVALID_ARGUMENT', `The range covers ${days} days; at most ${MAX_STATISTICS_DAYS} are allowed`);
    const generatedAt = Date.now();
    const [stats, online] = await Promise.all([rangeStatistics(from, to), connections.countLive()]);
    return { from, to, ...stats, online, generatedAt };
  },

  searchUsers: async ({ query }) => {
    const key = decodeCursor(query.cursor);
    if (key && typeof key.u !== 'string') throw new CirrusError('INVALID_ARGUMENT', 'The cursor is not one this API returned');
    const after = key?.u as string | undefined;
    const limit = query.limit ?? DEFAULT_LIMIT;
    const page = await directory.searchUsers(query.q, limit, after);
    // Current profiles (ban included) from DynamoDB, in the mirror's order.
    const found = new Map((await users.getMany(page.userIds)).map((u) => [u.userId, u]));
    const list = page.userIds.flatMap((id) => (found.has(id) ? [found.get(id)!] : []));
    return { users: list, nextCursor: encodeCursor(page.more ? { u: page.userIds[page.userIds.length - 1] } : undefined) };
  },
};
