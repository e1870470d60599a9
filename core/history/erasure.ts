/**
 * Erasing a user from the history (core/services/erasure.ts; docs/operations.md "Compliance"):
 * every message they sent, every message of their own notification conversation, and the
 * notifications of the friend requests they sent (in the given notification conversations of
 * the others, which carry their message) become a delete for everyone by `admin` (content JSON null, no
 * reactions, no edits kept), one version higher, so a stream record of an older version cannot
 * bring the content back, and the search vector (a generated column of the content) loses its
 * words; the directory mirror loses their nickname. Run by the archive function from an Outbox
 * item; running it again changes nothing more.
 */
import { BatchExecuteStatementCommand, type SqlParameter } from '@aws-sdk/client-rds-data';
import { rdsData } from '../aws/rds-data';
import { config } from '../config';
import { json, long, str } from './params';
import { notificationConversationId } from '../domain/ids';

/** One statement through BatchExecuteStatement, the one Data API action the archive function holds. */
const run = (sql: string, parameters: SqlParameter[]) => rdsData().send(new BatchExecuteStatementCommand({ ...config.db(), sql, parameterSets: [parameters] }));

export const historyErasure = {
  /** Erases what `userId` wrote; `at` (ms) is the erasure's time, kept in the `deleted` marks. */
  async eraseUser(userId: string, notificationConversations: readonly string[], at: number): Promise<void> {
    const u = str('userId', userId);
    const own = str('own', notificationConversationId(userId));
    const others = json('others', notificationConversations);
    const theirs = `(m.sender_id = :userId OR m.conversation_id = :own
         OR (m.conversation_id IN (SELECT jsonb_array_elements_text(:others)) AND m.content->>'fromUserId' = :userId))`;
    await run(
      `DELETE FROM message_edits e USING messages m
         WHERE ${theirs} AND e.conversation_id = m.conversation_id AND e.seq = m.seq`,
      [u, own, others],
    );
    await run(
      `UPDATE messages m SET content = 'null'::jsonb, reactions = NULL, edited = NULL, version = version + 1,
           deleted = jsonb_build_object('by', 'admin', 'at', :at)
         WHERE ${theirs} AND (m.content <> 'null'::jsonb OR (m.deleted IS NULL AND m.revoked IS NULL))`,
      [u, own, others, long('at', at)],
    );
    await run(`UPDATE users SET nickname = NULL WHERE user_id = :userId`, [u]);
  },
};
