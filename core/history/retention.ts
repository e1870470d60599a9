/**
 * Retention of the Aurora history (like OpenIM's `retainChatRecords`): messages sent more than
 * the deployment's `historyRetentionDays` ago, or their group's own number of days
 * (`group_retention`), are deleted with their edits (and so from search: the search vector is a
 * column of the row). The offline store (DynamoDB) keeps its own TTL.
 *
 * A conversation is purged oldest first, up to `through`, the highest seq of its first
 * `limit` messages older than the cut-off, in one transaction under the purge lock (as
 * core/history/purge.ts): `purged_through` keeps that seq, and the insert trigger (migration
 * 0009_retention) drops any later insert at or below it, so a stream record of a message
 * changed in the offline store afterwards cannot bring it back. Seq order follows send time to
 * within the seq settle time, so a message sent that close after the cut-off may go with it.
 * Running it again deletes only what became old since: idempotent.
 */
import { execute, inTransaction } from './history';
import { PURGE_LOCK_CLASS } from './migrations';
import { long, str, timestamp } from './params';

export const DAY_MS = 86_400_000;

/** Longest retention a deployment or a group may set: 100 years. */
export const MAX_RETENTION_DAYS = 36_500;

export interface DueConversation {
  conversationId: string;
  /** ms since the epoch: messages sent before it go. */
  cutoff: number;
}

export const historyRetention = {
  /** A group's own retention in days, or undefined (the deployment's applies). */
  async groupDays(groupId: string): Promise<number | undefined> {
    const rows = await execute(`SELECT days FROM group_retention WHERE group_id = :groupId`, [str('groupId', groupId)]);
    return rows.length ? Number(rows[0].days) : undefined;
  },

  /** Sets a group's own retention, or with null removes it. */
  async setGroupDays(groupId: string, days: number | null): Promise<void> {
    if (days === null) {
      await execute(`DELETE FROM group_retention WHERE group_id = :groupId`, [str('groupId', groupId)]);
      return;
    }
    await execute(
      `INSERT INTO group_retention (group_id, days) VALUES (:groupId, :days)
         ON CONFLICT (group_id) DO UPDATE SET days = EXCLUDED.days, updated_at = now()`,
      [str('groupId', groupId), long('days', days)],
    );
  },

  /**
   * Up to `limit` conversations holding messages older than their retention at `now`: those of
   * groups with their own retention, then (with a deployment retention) every other one.
   */
  async due(now: number, defaultDays: number | undefined, limit: number): Promise<DueConversation[]> {
    const out: DueConversation[] = [];
    const own = await execute(
      `SELECT r.group_id, r.days FROM group_retention r
         WHERE EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = 'sg_' || r.group_id AND m.send_time < :now::timestamptz - make_interval(days => r.days))
         ORDER BY r.group_id LIMIT :limit`,
      [timestamp('now', now), long('limit', limit)],
    );
    for (const r of own) out.push({ conversationId: `sg_${String(r.group_id)}`, cutoff: now - Number(r.days) * DAY_MS });
    if (defaultDays === undefined || out.length >= limit) return out;
    const cutoff = now - defaultDays * DAY_MS;
    const rest = await execute(
      `SELECT DISTINCT m.conversation_id FROM messages m
         WHERE m.send_time < :cutoff
           AND (m.group_id IS NULL OR NOT EXISTS (SELECT 1 FROM group_retention r WHERE r.group_id = m.group_id))
         LIMIT :limit`,
      [timestamp('cutoff', cutoff), long('limit', limit - out.length)],
    );
    for (const r of rest) out.push({ conversationId: String(r.conversation_id), cutoff });
    return out;
  },

  /** Deletes the conversation's first `limit` messages sent before `cutoff` (and their edits); returns how many rows went. */
  async purgeBefore(conversationId: string, cutoff: number, limit: number): Promise<number> {
    return inTransaction(async (execute) => {
      const c = str('conversationId', conversationId);
      await execute(`SELECT pg_advisory_xact_lock(${PURGE_LOCK_CLASS}, hashtext(:conversationId))::text AS locked`, [c]);
      const [top] = await execute(
        `SELECT max(seq) AS through FROM (SELECT seq FROM messages WHERE conversation_id = :conversationId AND send_time < :cutoff ORDER BY seq LIMIT :limit) s`,
        [c, timestamp('cutoff', cutoff), long('limit', limit)],
      );
      if (top?.through === null || top?.through === undefined) return 0;
      const through = long('through', Number(top.through));
      await execute(
        `INSERT INTO purged_through (conversation_id, seq) VALUES (:conversationId, :through)
           ON CONFLICT (conversation_id) DO UPDATE SET seq = GREATEST(purged_through.seq, EXCLUDED.seq), updated_at = now()`,
        [c, through],
      );
      // Tombstones of single purges at or below it are covered by purged_through now.
      await execute(`DELETE FROM purged_messages WHERE conversation_id = :conversationId AND seq <= :through`, [c, through]);
      await execute(`DELETE FROM message_edits WHERE conversation_id = :conversationId AND seq <= :through`, [c, through]);
      const [deleted] = await execute(`WITH d AS (DELETE FROM messages WHERE conversation_id = :conversationId AND seq <= :through RETURNING 1) SELECT count(*)::int AS n FROM d`, [c, through]);
      return Number(deleted?.n ?? 0);
    });
  },
};
