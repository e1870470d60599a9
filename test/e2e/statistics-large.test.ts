/**
 * GET /admin/statistics over a year in which every day has many content types: the count by
 * day, session and content type has more rows than one Data API response may carry (1 MiB,
 * enforced by the local Data API as by AWS), so it is read in parts and must still add up.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { admin, cirrus, useCirrus } from '../support/harness';
import { MAX_STATISTICS_DAYS } from '../../core/http/routes/admin-stats';

useCirrus();

const DAY = 86_400_000;
const TYPES = 45;
const today = Math.floor(Date.now() / DAY) * DAY;
const first = today - (MAX_STATISTICS_DAYS - 1) * DAY;
const dateOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

beforeAll(async () => {
  // One single-chat message of each of TYPES content types on every day of the range.
  await cirrus.dataApi.query(
    `INSERT INTO messages (conversation_id, seq, server_msg_id, client_msg_id, session_type, sender_id, recv_id, content_type, content, send_time)
       SELECT 'si_sl-a_sl-b', d * ${TYPES} + t + 1, 'sl-' || d || '-' || t, 'slc-' || d || '-' || t, 1, 'sl-a', 'sl-b', 1000 + t, '{"text":"x"}'::jsonb,
              to_timestamp(($1::bigint + d::bigint * ${DAY} + 3600000) / 1000.0)
         FROM generate_series(0, ${MAX_STATISTICS_DAYS - 1}) AS d, generate_series(0, ${TYPES - 1}) AS t`,
    [first],
  );
}, 120_000);

describe('statistics over a year of many content types a day', () => {
  it('counts every message of every day by content type', async () => {
    // Act
    const res = await admin.call('GET', `/admin/statistics?from=${dateOf(first)}&to=${dateOf(today)}`);

    // Assess
    expect(res.status).toBe(200);
    expect(res.body.totals.messages).toBe(MAX_STATISTICS_DAYS * TYPES);
    expect(res.body.days).toHaveLength(MAX_STATISTICS_DAYS);
    for (const day of res.body.days) {
      expect(day.messages).toEqual({ total: TYPES, single: TYPES, group: 0, notification: 0 });
      expect(Object.keys(day.messagesByContentType)).toHaveLength(TYPES);
    }
  });
});
