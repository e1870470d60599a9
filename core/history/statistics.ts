/**
 * Statistics over UTC days, counted in the Aurora history in three statements (run
 * together): messages per day by session and content type (one statement per
 * {@link BY_TYPE_DAYS} days, so that no answer nears the Data API's 1 MiB response
 * limit: a day may have a row for every session and content type); distinct senders and groups
 * per day and over the whole range (GROUPING SETS); users and groups created per day
 * (the directory mirrors, migration 0005_directory).
 *
 * A message is one `messages` row, counted on the day of its send time: a revoked,
 * deleted or edited message is still the one message sent (a change replaces the row in
 * place), under the content type it has now.
 */
import { SYSTEM_SENDER } from '../domain/ids';
import { execute } from './history';
import { str, timestamp } from './params';

export const DAY_MS = 86_400_000;

/**
 * Days per statement of the count by session and content type: a row is under 100 bytes in
 * a response, and 31 days of even 300 rows each stay within 1 MiB.
 */
export const BY_TYPE_DAYS = 31;

export interface DayStatistics {
  date: string;
  newUsers: number;
  activeUsers: number;
  messages: { total: number; single: number; group: number; notification: number };
  messagesByContentType: Record<string, number>;
  groupsCreated: number;
  activeGroups: number;
}

export interface RangeStatistics {
  totals: { newUsers: number; activeUsers: number; messages: number; groupsCreated: number; activeGroups: number };
  days: DayStatistics[];
}

/** `YYYY-MM-DD` of a UTC day as ms since the epoch at its start. */
export const dayStart = (date: string): number => Date.parse(`${date}T00:00:00.000Z`);
const dateOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

const DAY = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')`;
const IN_RANGE = (column: string) => `${column} >= (:since AT TIME ZONE 'UTC') AND ${column} < (:until AT TIME ZONE 'UTC')`;

/** Figures for the UTC days `from`..`to` (inclusive, `YYYY-MM-DD`, validated by the caller). */
export async function rangeStatistics(from: string, to: string): Promise<RangeStatistics> {
  const since = dayStart(from);
  const until = dayStart(to) + DAY_MS;
  const range = [timestamp('since', since), timestamp('until', until)];
  const chunks: (typeof range)[] = [];
  for (let start = since; start < until; start += BY_TYPE_DAYS * DAY_MS) {
    chunks.push([timestamp('since', start), timestamp('until', Math.min(until, start + BY_TYPE_DAYS * DAY_MS))]);
  }
  const [byTypeChunks, distinct, created] = await Promise.all([
    Promise.all(
      chunks.map((chunk) =>
        execute(
          `SELECT ${DAY('send_time')} AS day, session_type, content_type, count(*) AS n
             FROM messages
            WHERE ${IN_RANGE('send_time')}
            GROUP BY 1, 2, 3`,
          chunk,
        ),
      ),
    ),
    execute(
      `SELECT ${DAY('send_time')} AS day,
              count(DISTINCT sender_id) FILTER (WHERE sender_id <> :system) AS active_users,
              count(DISTINCT group_id) FILTER (WHERE sender_id <> :system) AS active_groups
         FROM messages
        WHERE ${IN_RANGE('send_time')}
        GROUP BY GROUPING SETS ((${DAY('send_time')}), ())`,
      [...range, str('system', SYSTEM_SENDER)],
    ),
    execute(
      `SELECT 'user' AS kind, ${DAY('created_at')} AS day, count(*) AS n FROM users WHERE ${IN_RANGE('created_at')} GROUP BY 2
       UNION ALL
       SELECT 'group' AS kind, ${DAY('created_at')} AS day, count(*) AS n FROM groups WHERE ${IN_RANGE('created_at')} GROUP BY 2`,
      range,
    ),
  ]);

  const days = new Map<string, DayStatistics>();
  for (let t = since; t < until; t += DAY_MS) {
    const date = dateOf(t);
    days.set(date, { date, newUsers: 0, activeUsers: 0, messages: { total: 0, single: 0, group: 0, notification: 0 }, messagesByContentType: {}, groupsCreated: 0, activeGroups: 0 });
  }
  const totals = { newUsers: 0, activeUsers: 0, messages: 0, groupsCreated: 0, activeGroups: 0 };

  for (const r of byTypeChunks.flat()) {
    const day = days.get(String(r.day));
    if (!day) continue;
    const n = Number(r.n);
    const sessionType = Number(r.session_type);
    day.messages.total += n;
    if (sessionType === 1) day.messages.single += n;
    else if (sessionType === 3) day.messages.group += n;
    else if (sessionType === 4) day.messages.notification += n;
    const type = String(Number(r.content_type));
    day.messagesByContentType[type] = (day.messagesByContentType[type] ?? 0) + n;
    totals.messages += n;
  }
  for (const r of distinct) {
    if (r.day === null || r.day === undefined) {
      totals.activeUsers = Number(r.active_users);
      totals.activeGroups = Number(r.active_groups);
      continue;
    }
    const day = days.get(String(r.day));
    if (!day) continue;
    day.activeUsers = Number(r.active_users);
    day.activeGroups = Number(r.active_groups);
  }
  for (const r of created) {
    const day = days.get(String(r.day));
    if (!day) continue;
    const n = Number(r.n);
    if (r.kind === 'user') {
      day.newUsers += n;
      totals.newUsers += n;
    } else {
      day.groupsCreated += n;
      totals.groupsCreated += n;
    }
  }
  return { totals, days: [...days.values()] };
}
