/**
 * The Aurora PostgreSQL history, through the RDS Data API (no VPC, no connection pool).
 * Off the hot path: archive jobs write here from SQS, and a paused cluster only delays
 * them (DatabaseResumingException makes the batch retry).
 */
import {
  BatchExecuteStatementCommand,
  BeginTransactionCommand,
  CommitTransactionCommand,
  ExecuteStatementCommand,
  RollbackTransactionCommand,
  type SqlParameter,
} from '@aws-sdk/client-rds-data';
import { rdsData } from '../aws/rds-data';
import { config } from '../config';
import type { Message } from '../protocol/schema';
import { migrations } from './migrations';
import { json, long, str, timestamp } from './params';

/**
 * One statement for new and changed messages: a row is inserted once, and replaced only
 * by a higher `version` (a revoke, delete or edit), so redelivered or out-of-order jobs
 * never roll a change back (a version-0 row that exists is left alone).
 */
const UPSERT_MESSAGE = `INSERT INTO messages
  (conversation_id, seq, server_msg_id, client_msg_id, session_type, sender_id, sender_platform_id, recv_id, group_id, content_type, content, send_time,
   version, revoked, deleted, edited, reactions)
  VALUES (:conversationId, :seq, :serverMsgId, :clientMsgId, :sessionType, :senderId, :senderPlatformId, :recvId, :groupId, :contentType, :content, :sendTime,
   :version, :revoked, :deleted, :edited, :reactions)
  ON CONFLICT (conversation_id, seq) DO UPDATE SET
    content_type = EXCLUDED.content_type, content = EXCLUDED.content, version = EXCLUDED.version,
    revoked = EXCLUDED.revoked, deleted = EXCLUDED.deleted, edited = EXCLUDED.edited, reactions = EXCLUDED.reactions
  WHERE messages.version < EXCLUDED.version`;

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
    json('content', m.content ?? null),
    timestamp('sendTime', m.sendTime),
    long('version', m.version ?? 0),
    json('revoked', m.revoked),
    json('deleted', m.deleted),
    json('edited', m.edited),
    json('reactions', m.reactions && Object.keys(m.reactions).length > 0 ? m.reactions : undefined),
  ];
}

/** The columns `fromRow` reads (unqualified: select them from `messages` without a clash). */
export const MESSAGE_COLUMNS = `conversation_id, seq, server_msg_id, client_msg_id, session_type, sender_id, sender_platform_id, recv_id, group_id,
              content_type, content::text AS content, (extract(epoch FROM send_time) * 1000)::bigint AS send_time_ms,
              version, revoked::text AS revoked, deleted::text AS deleted, edited::text AS edited, reactions::text AS reactions`;

/** The names `MESSAGE_COLUMNS` selects, to pass them on from a subquery. */
const MESSAGE_FIELDS = `conversation_id, seq, server_msg_id, client_msg_id, session_type, sender_id, sender_platform_id, recv_id, group_id,
              content_type, content, send_time_ms, version, revoked, deleted, edited, reactions`;

/**
 * What the rows of one page may weigh in a Data API response, estimated by
 * {@link MESSAGE_RESPONSE_BYTES}. AWS fails a response above 1 MiB
 * (`UnsupportedResultException`, which no retry gets past), so a page stops short of it:
 * the rest comes with the next page.
 */
export const PAGE_RESPONSE_BYTES = 768 * 1024;

/**
 * An upper bound of the bytes a message row adds to a Data API response: its text columns,
 * each byte counted four times (a quote or backslash escaped in `formattedRecords`, then
 * again in the JSON body around it, is four bytes; a character escaped as `\uXXXX` twice
 * is at most four per byte of its UTF-8), plus 512 for the column names and numbers.
 */
export const MESSAGE_RESPONSE_BYTES = `(512 + 4 * (octet_length(conversation_id) + octet_length(server_msg_id) + octet_length(client_msg_id)
              + octet_length(sender_id) + coalesce(octet_length(recv_id), 0) + coalesce(octet_length(group_id), 0) + octet_length(content::text)
              + coalesce(octet_length(revoked::text), 0) + coalesce(octet_length(deleted::text), 0)
              + coalesce(octet_length(edited::text), 0) + coalesce(octet_length(reactions::text), 0)))`;

/**
 * A page of messages cut by count and by bytes: `candidates` selects `MESSAGE_COLUMNS`,
 * `MESSAGE_RESPONSE_BYTES AS response_bytes` and whatever `order` names, in that order, at
 * most one more row than the page; of those, the rows are kept in order while their
 * running size stays within `:pageBytes` (always the first), each with `candidates`, how
 * many the subquery found. Pass the result to {@link cutPage}.
 */
export function byteCutPage(candidates: string, order: string): string {
  return `SELECT ${MESSAGE_FIELDS}, candidates
       FROM (SELECT page.*, row_number() OVER w AS ordinal, sum(response_bytes) OVER w AS through_bytes, count(*) OVER () AS candidates
               FROM (${candidates}) page
             WINDOW w AS (ORDER BY ${order} ROWS UNBOUNDED PRECEDING)) sized
      WHERE through_bytes <= :pageBytes OR ordinal = 1
      ORDER BY ordinal`;
}

/** The page of rows `byteCutPage` returned, at most `limit`, and whether more remain after it. */
export function cutPage(rows: readonly Row[], limit: number): { messages: Message[]; more: boolean } {
  const messages = rows.slice(0, limit).map(fromRow);
  const found = rows.length > 0 ? Number((rows[0] as Row & { candidates: number }).candidates) : 0;
  return { messages, more: found > messages.length };
}

export interface Row {
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
  version: number | null;
  revoked: string | null;
  deleted: string | null;
  edited: string | null;
  reactions: string | null;
}

const parsed = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);

/** A `messages` row (selected with `MESSAGE_COLUMNS`) as a Message. */
export function fromRow(r: Row): Message {
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
    ...(Number(r.version ?? 0) > 0 ? { version: Number(r.version) } : {}),
    ...(r.revoked != null ? { revoked: parsed(r.revoked) } : {}),
    ...(r.deleted != null ? { deleted: parsed(r.deleted) } : {}),
    ...(r.edited != null ? { edited: parsed(r.edited) } : {}),
    ...(r.reactions != null ? { reactions: parsed(r.reactions) } : {}),
  };
}

export type Execute = (sql: string, parameters?: SqlParameter[]) => Promise<Record<string, unknown>[]>;

/** One statement, on its own (autocommit) or, with `transactionId`, inside that Data API transaction. */
export async function execute(sql: string, parameters: SqlParameter[] = [], transactionId?: string): Promise<Record<string, unknown>[]> {
  const res = await rdsData().send(new ExecuteStatementCommand({ ...config.db(), sql, parameters, formatRecordsAs: 'JSON', ...(transactionId ? { transactionId } : {}) }));
  return res.formattedRecords ? JSON.parse(res.formattedRecords) : [];
}

/**
 * Runs `fn`'s statements in one Data API transaction (READ COMMITTED, Aurora's default):
 * committed when it returns, rolled back when it throws (the error is `fn`'s). `fn` must
 * send every statement through the `execute` it is given: locally on PGlite, a single
 * connection, a statement outside the open transaction waits for it to end.
 */
export async function inTransaction<T>(fn: (execute: Execute) => Promise<T>): Promise<T> {
  const { transactionId } = await rdsData().send(new BeginTransactionCommand(config.db()));
  if (!transactionId) throw new Error('BeginTransaction returned no transactionId');
  const { resourceArn, secretArn } = config.db();
  let out: T;
  try {
    out = await fn((sql, parameters = []) => execute(sql, parameters, transactionId));
  } catch (err) {
    // The transaction may be gone already (a failed statement on AWS can end it); the error to report is fn's.
    await rdsData()
      .send(new RollbackTransactionCommand({ resourceArn, secretArn, transactionId }))
      .catch(() => {});
    throw err;
  }
  await rdsData().send(new CommitTransactionCommand({ resourceArn, secretArn, transactionId }));
  return out;
}

export const history = {
  /**
   * Inserts messages, or replaces them with a newer version (revoked, deleted, edited);
   * rows at the same or a newer version are left alone, so redelivery changes nothing.
   */
  async insertMessages(batch: readonly Message[]): Promise<void> {
    if (batch.length === 0) return;
    await rdsData().send(new BatchExecuteStatementCommand({ ...config.db(), sql: UPSERT_MESSAGE, parameterSets: batch.map(messageParameters) }));
  },

  /** Keeps the content edits replaced; a redelivered job adds nothing. */
  async recordEdits(edits: readonly { conversationId: string; seq: number; version: number; contentType: number; content: unknown; replacedAt: number }[]): Promise<void> {
    if (edits.length === 0) return;
    await rdsData().send(
      new BatchExecuteStatementCommand({
        ...config.db(),
        sql: `INSERT INTO message_edits (conversation_id, seq, version, content_type, content, replaced_at)
                VALUES (:conversationId, :seq, :version, :contentType, :content, :replacedAt)
                ON CONFLICT (conversation_id, seq, version) DO NOTHING`,
        parameterSets: edits.map((e) => [
          str('conversationId', e.conversationId),
          long('seq', e.seq),
          long('version', e.version),
          long('contentType', e.contentType),
          json('content', e.content ?? null),
          timestamp('replacedAt', e.replacedAt),
        ]),
      }),
    );
  },

  /** The contents a message had before its edits, oldest first (version: the one each was). */
  async edits(conversationId: string, seq: number): Promise<{ version: number; contentType: number; content: unknown }[]> {
    const rows = await execute(
      `SELECT version, content_type, content::text AS content FROM message_edits WHERE conversation_id = :conversationId AND seq = :seq ORDER BY version`,
      [str('conversationId', conversationId), long('seq', seq)],
    );
    return rows.map((r) => ({ version: Number(r.version), contentType: Number(r.content_type), content: parsed(r.content) }));
  },

  /**
   * A page of a conversation's history, newest first, within (afterSeq, throughSeq]: at
   * most `limit` messages, fewer when they would not fit in one Data API response
   * ({@link PAGE_RESPONSE_BYTES}); `nextBeforeSeq` continues after the last.
   */
  async page(
    conversationId: string,
    beforeSeq: number | undefined,
    limit: number,
    bounds: { afterSeq: number; throughSeq?: number; skip?: readonly number[] } = { afterSeq: 0 },
  ): Promise<{ messages: Message[]; nextBeforeSeq: number | null }> {
    const upper = Math.min(beforeSeq ?? Number.MAX_SAFE_INTEGER, (bounds.throughSeq ?? Number.MAX_SAFE_INTEGER - 1) + 1);
    // `skip`: messages the reader deleted for themselves, as one jsonb array parameter.
    const rows = (await execute(
      byteCutPage(
        `SELECT ${MESSAGE_COLUMNS}, ${MESSAGE_RESPONSE_BYTES} AS response_bytes
           FROM messages
          WHERE conversation_id = :conversationId AND seq < :beforeSeq AND seq > :afterSeq
            AND NOT (:skip::jsonb @> to_jsonb(seq))
          ORDER BY seq DESC
          LIMIT :limit`,
        'seq DESC',
      ),
      [
        str('conversationId', conversationId),
        long('beforeSeq', upper),
        long('afterSeq', bounds.afterSeq),
        json('skip', bounds.skip ?? []),
        long('limit', limit + 1),
        long('pageBytes', PAGE_RESPONSE_BYTES),
      ],
    )) as unknown as Row[];
    const { messages, more } = cutPage(rows, limit);
    return { messages, nextBeforeSeq: more ? messages[messages.length - 1].seq : null };
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
