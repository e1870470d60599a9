/**
 * Physical deletes from the Aurora history: tombstone first (migration
 * 0006_purged_messages: a trigger then drops any later insert of the same conversation
 * and seq, e.g. a redelivered archive job), then the rows and their edits.
 *
 * All in one transaction that first takes the conversation's advisory lock exclusively
 * (migration 0007_purge_lock: the trigger takes it shared, until its insert commits). The
 * purge so waits for archive inserts of the conversation in flight, whose trigger passed
 * before the tombstone existed, and its DELETEs, later statements, see their rows; an
 * insert arriving meanwhile waits for the purge, then sees the tombstone.
 */
import { execute, inTransaction } from './history';
import { PURGE_LOCK_CLASS } from './migrations';
import { json, long, str, timestamp } from './params';

export const historyPurge = {
  /** Seqs of the conversation's archived messages sent before `before` (ms), oldest first, at most `limit`. */
  async seqsBefore(conversationId: string, before: number, limit: number): Promise<number[]> {
    const rows = await execute(
      `SELECT seq FROM messages WHERE conversation_id = :conversationId AND send_time < :before ORDER BY seq LIMIT :limit`,
      [str('conversationId', conversationId), timestamp('before', before), long('limit', limit)],
    );
    return rows.map((r) => Number(r.seq));
  },

  /** Purges the seqs for good; returns those whose rows were in the history. */
  async purge(conversationId: string, seqs: readonly number[]): Promise<number[]> {
    if (seqs.length === 0) return [];
    const params = [str('conversationId', conversationId), json('seqs', seqs)];
    return inTransaction(async (execute) => {
      await execute(`SELECT pg_advisory_xact_lock(${PURGE_LOCK_CLASS}, hashtext(:conversationId))::text AS locked`, [str('conversationId', conversationId)]);
      await execute(
        `INSERT INTO purged_messages (conversation_id, seq)
           SELECT :conversationId, (s.value)::bigint FROM jsonb_array_elements_text(:seqs) AS s
           ON CONFLICT (conversation_id, seq) DO NOTHING`,
        params,
      );
      await execute(`DELETE FROM message_edits WHERE conversation_id = :conversationId AND :seqs::jsonb @> to_jsonb(seq)`, params);
      const rows = await execute(`DELETE FROM messages WHERE conversation_id = :conversationId AND :seqs::jsonb @> to_jsonb(seq) RETURNING seq`, params);
      return rows.map((r) => Number(r.seq));
    });
  },
};
