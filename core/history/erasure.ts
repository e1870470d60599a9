/**
 * Erasing a user from the history (core/services/erasure.ts; docs/operations.md "Compliance"):
 * every message they sent becomes a delete for everyone by `admin` (content JSON null, no
 * reactions, no edits kept), one version higher, so a stream record of an older version cannot
 * bring the content back, and the search vector (a generated column of the content) loses its
 * words; the directory mirror loses their nickname. Run by the archive function from an Outbox
 * item; running it again changes nothing more.
 */
import { BatchExecuteStatementCommand, type SqlParameter } from '@aws-sdk/client-rds-data';
import { rdsData } from '../aws/rds-data';
import { config } from '../config';
import { str, long } from './params';

/** One statement through BatchExecuteStatement, the one Data API action the archive function holds. */
const run = (sql: string, parameters: SqlParameter[]) => rdsData().send(new BatchExecuteStatementCommand({ ...config.db(), sql, parameterSets: [parameters] }));

export const historyErasure = {
  /** Erases what `userId` sent; `at` (ms) is the erasure's time, kept in the `deleted` marks. */
  async eraseSender(userId: string, at: number): Promise<void> {
    const u = str('userId', userId);
    await run(
      `DELETE FROM message_edits e USING messages m
         WHERE m.sender_id = :userId AND e.conversation_id = m.conversation_id AND e.seq = m.seq`,
      [u],
    );
    await run(
      `UPDATE messages SET content = 'null'::jsonb, reactions = NULL, edited = NULL, version = version + 1,
           deleted = jsonb_build_object('by', 'admin', 'at', :at)
         WHERE sender_id = :userId AND (content <> 'null'::jsonb OR (deleted IS NULL AND revoked IS NULL))`,
      [u, long('at', at)],
    );
    await run(`UPDATE users SET nickname = NULL WHERE user_id = :userId`, [u]);
  },
};
