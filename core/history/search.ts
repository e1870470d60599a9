/**
 * Full-text search over the Aurora history, in one statement. The caller's visible ranges
 * (from DynamoDB `UserConversations`) travel as ONE jsonb parameter, joined with
 * `jsonb_to_recordset`, so a user only ever matches messages of conversations they are
 * in, above their `minSeq` and up to their `leftSeq`. Words are matched with the
 * `search_vector` generated column (migration 0002_search) and its GIN index. Admins
 * (moderation) search every conversation, with or without words.
 */
import type { SqlParameter } from '@aws-sdk/client-rds-data';
import type { Message } from '../protocol/schema';
import { byteCutPage, cutPage, execute, MESSAGE_COLUMNS, MESSAGE_RESPONSE_BYTES, PAGE_RESPONSE_BYTES, type Row } from './history';
import { json, long, str, timestamp } from './params';

/** A conversation the user may search: seqs in (minSeq, leftSeq]. */
export interface VisibleRange {
  conversationId: string;
  minSeq: number;
  /** Absent while the user is still a member. */
  leftSeq?: number;
  /** Messages the user deleted for themselves. */
  skip?: readonly number[];
}

/** Keyset position in the newest-first order: (sendTime, conversationId, seq). */
export interface SearchPosition {
  sendTime: number;
  conversationId: string;
  seq: number;
}

export interface SearchRequest {
  /** The conversations the reader may see; absent: every conversation (an admin). */
  visible?: readonly VisibleRange[];
  /** Web-search syntax (`websearch_to_tsquery`): words, "phrases", `or`, `-word`. Absent: every message (admins only). */
  q?: string;
  conversationId?: string;
  senderId?: string;
  contentType?: number;
  /** ms since the epoch, inclusive. */
  from?: number;
  /** ms since the epoch, inclusive. */
  to?: number;
  /** Return only messages after this one in the order (the previous page's last). */
  after?: SearchPosition;
  limit: number;
}

export async function searchMessages(req: SearchRequest): Promise<{ messages: Message[]; next: SearchPosition | null }> {
  if (req.visible && req.visible.length === 0) return { messages: [], next: null };
  const parameters: SqlParameter[] = [long('limit', req.limit + 1), long('pageBytes', PAGE_RESPONSE_BYTES)];
  const where: string[] = [];
  if (req.q !== undefined) {
    where.push(`search_vector @@ websearch_to_tsquery('simple', :q)`);
    parameters.push(str('q', req.q));
  }
  if (req.conversationId !== undefined) {
    where.push('conversation_id = :conversationId');
    parameters.push(str('conversationId', req.conversationId));
  }
  if (req.senderId !== undefined) {
    where.push('sender_id = :senderId');
    parameters.push(str('senderId', req.senderId));
  }
  if (req.contentType !== undefined) {
    where.push('content_type = :contentType');
    parameters.push(long('contentType', req.contentType));
  }
  if (req.from !== undefined) {
    where.push('send_time >= :fromTime');
    parameters.push(timestamp('fromTime', req.from));
  }
  if (req.to !== undefined) {
    where.push('send_time <= :toTime');
    parameters.push(timestamp('toTime', req.to));
  }
  if (req.after) {
    where.push('(send_time, conversation_id, seq) < (:afterTime, :afterConversationId, :afterSeq)');
    parameters.push(
      timestamp('afterTime', req.after.sendTime),
      str('afterConversationId', req.after.conversationId),
      long('afterSeq', req.after.seq),
    );
  }
  let from = 'messages';
  if (req.visible) {
    const visible = req.visible.map((v) => ({
      visible_conversation_id: v.conversationId,
      visible_min_seq: v.minSeq ?? 0,
      visible_max_seq: v.leftSeq ?? null,
      visible_skip: v.skip?.length ? v.skip : null,
    }));
    parameters.push(json('visible', visible));
    from = `jsonb_to_recordset(:visible) AS v(visible_conversation_id text, visible_min_seq bigint, visible_max_seq bigint, visible_skip jsonb)
       JOIN messages
         ON conversation_id = visible_conversation_id
        AND seq > visible_min_seq
        AND (visible_max_seq IS NULL OR seq <= visible_max_seq)
        AND (visible_skip IS NULL OR NOT visible_skip @> to_jsonb(seq))`;
  }
  // At most `limit` messages, fewer when they would not fit in one Data API response.
  const rows = (await execute(
    byteCutPage(
      `SELECT ${MESSAGE_COLUMNS}, ${MESSAGE_RESPONSE_BYTES} AS response_bytes, send_time AS sort_time
         FROM ${from}
        ${where.length > 0 ? `WHERE ${where.join('\n          AND ')}` : ''}
        ORDER BY send_time DESC, conversation_id DESC, seq DESC
        LIMIT :limit`,
      'sort_time DESC, conversation_id DESC, seq DESC',
    ),
    parameters,
  )) as unknown as Row[];
  const { messages, more } = cutPage(rows, req.limit);
  const last = messages[messages.length - 1];
  return { messages, next: more ? { sendTime: last.sendTime, conversationId: last.conversationId, seq: last.seq } : null };
}
