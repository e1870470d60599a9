/**
 * The Aurora PostgreSQL history, through the RDS Data API (no VPC, no connection pool).
 * Off the hot path: archive jobs write here from SQS, and a paused cluster only delays
 * them (DatabaseResumingException makes the batch retry).
 */
import { BatchExecuteStatementCommand, ExecuteStatementCommand, type SqlParameter } from '@aws-sdk/client-rds-data';
import { rdsData } from '../aws/rds-data';
import { config } from '../config';
import type { Message } from '../protocol/schema';
import { migrations } from './migrations';

const INSERT_MESSAGE = `INSERT INTO messages
  (conversation_id, seq, server_msg_id, client_msg_id, session_type, sender_id, sender_platform_id, recv_id, group_id, content_type, content, send_time)
  VALUES (:conversationId, :seq, :serverMsgId, :clientMsgId, :sessionType, :senderId, :senderPlatformId, :recvId, :groupId, :contentType, :content, :sendTime)
  ON CONFLICT (conversation_id, seq) DO NOTHING`;

const str = (name: string, value: string | undefined): SqlParameter => ({ name, value: value === undefined ? { isNull: true } : { stringValue: value } });
const long = (name: string, value: number | undefined): SqlParameter => ({ name, value: value === undefined ? { isNull: true } : { longValue: value } });

/** Data API TIMESTAMP literal (UTC): `YYYY-MM-DD HH:MM:SS.mmm`. */
export function toSqlTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

function messageParameters(m: Message): SqlParameter[] {
  return [
    str('conversationId', m.conversationId),
    long('seq', m.seq),
    str('serverMsgId', m.serverMsgId),
    str('clientMsgId', m.clientMsgId),
    long('sessionType', m.sessionType),
    str('senderId', m.senderId),
    long('senderPlatformId', m.senderPlatformId),
    str('recvId', m.recvId),
    str('groupId', m.groupId),
    long('contentType', m.contentType),
    { name: 'content', value: { stringValue: JSON.stringify(m.content ?? null) }, typeHint: 'JSON' },
    { name: 'sendTime', value: { stringValue: toSqlTimestamp(m.sendTime) }, typeHint: 'TIMESTAMP' },
  ];
}

interface Row {
  conversation_id: string;
  seq: number;
  server_msg_id: string;
  client_msg_id: string;
  session_type: number;
  sender_id: string;
  sender_platform_id: number | null;
  recv_id: string | null;
  group_id: string | null;
  content_type: number;
  content: string | unknown;
  send_time_ms: number;
}

function fromRow(r: Row): Message {
  return {
    serverMsgId: r.server_msg_id,
    clientMsgId: r.client_msg_id,
    conversationId: r.conversation_id,
    seq: Number(r.seq),
    sessionType: Number(r.session_type) as 1 | 3 | 4,
    senderId: r.sender_id,
    ...(r.sender_platform_id !== null ? { senderPlatformId: Number(r.sender_platform_id) } : {}),
    ...(r.recv_id !== null ? { recvId: r.recv_id } : {}),
    ...(r.group_id !== null ? { groupId: r.group_id } : {}),
    contentType: Number(r.content_type),
    content: typeof r.content === 'string' ? JSON.parse(r.content) : r.content,
    sendTime: Number(r.send_time_ms),
  };
}

async function execute(sql: string, parameters: SqlParameter[] = []): Promise<Record<string, unknown>[]> {
  const res = await rdsData().send(new ExecuteStatementCommand({ ...config.db(), sql, parameters, formatRecordsAs: 'JSON' }));
  return res.formattedRecords ? JSON.parse(res.formattedRecords) : [];
}

export const history = {
  /** Inserts messages; rows that exist already are left alone, so redelivery adds nothing. */
  async insertMessages(batch: readonly Message[]): Promise<void> {
    if (batch.length === 0) return;
    await rdsData().send(new BatchExecuteStatementCommand({ ...config.db(), sql: INSERT_MESSAGE, parameterSets: batch.map(messageParameters) }));
  },

  /** A page of a conversation's history, newest first, within (afterSeq, throughSeq]. */
  async page(
    conversationId: string,
    beforeSeq: number | undefined,
    limit: number,
    bounds: { afterSeq: number; throughSeq?: number } = { afterSeq: 0 },
  ): Promise<{ messages: Message[]; nextBeforeSeq: number | null }> {
    const upper = Math.min(beforeSeq ?? Number.MAX_SAFE_INTEGER, (bounds.throughSeq ?? Number.MAX_SAFE_INTEGER - 1) + 1);
    const rows = (await execute(
      `SELECT conversation_id, seq, server_msg_id, client_msg_id, session_type, sender_id, sender_platform_id, recv_id, group_id,
              content_type, content::text AS content, (extract(epoch FROM send_time) * 1000)::bigint AS send_time_ms
         FROM messages
        WHERE conversation_id = :conversationId AND seq < :beforeSeq AND seq > :afterSeq
        ORDER BY seq DESC
        LIMIT :limit`,
      [str('conversationId', conversationId), long('beforeSeq', upper), long('afterSeq', bounds.afterSeq), long('limit', limit + 1)],
    )) as unknown as Row[];
    const page = rows.slice(0, limit).map(fromRow);
    return { messages: page, nextBeforeSeq: rows.length > limit ? page[page.length - 1].seq : null };
  },

  /** Applies the migrations not yet applied, in order; returns the ids applied now. */
  async migrate(): Promise<string[]> {
    await execute(`CREATE TABLE IF NOT EXISTS schema_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set((await execute(`SELECT id FROM schema_migrations`)).map((r) => r.id as string));
    const applied: string[] = [];
    for (const migration of migrations) {
      if (done.has(migration.id)) continue;
      for (const sql of migration.statements) await execute(sql);
      await execute(`INSERT INTO schema_migrations (id) VALUES (:id) ON CONFLICT (id) DO NOTHING`, [str('id', migration.id)]);
      applied.push(migration.id);
    }
    return applied;
  },
};
