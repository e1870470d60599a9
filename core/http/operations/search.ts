/** Operations: full-text search over the history a user may see. */
import { CirrusError } from '../../errors';
import { searchMessages, type SearchPosition, type VisibleRange } from '../../history/search';
import { conversations } from '../../store/conversations';
import { decodeCursor, encodeCursor } from '../paging';
import type { searchRoutes } from '../routes/search';
import type { Operations } from '../routes/types';

const DEFAULT_LIMIT = 20;

/** Where a search page starts: decoded from the previous page's nextCursor. */
export function searchPositionOf(cursor: string | undefined): SearchPosition | undefined {
  const key = decodeCursor(cursor);
  if (!key) return undefined;
  const { t, c, s } = key;
  if (!Number.isSafeInteger(t) || (t as number) < 0 || typeof c !== 'string' || !Number.isSafeInteger(s)) {
    throw new CirrusError('INVALID_ARGUMENT', 'The cursor is not one this API returned');
  }
  return { sendTime: t as number, conversationId: c, seq: s as number };
}

/** The nextCursor of a search page: where the next one starts. */
export function searchCursorOf(next: SearchPosition | null | undefined): string | null {
  return encodeCursor(next ? { t: next.sendTime, c: next.conversationId, s: next.seq } : undefined);
}

export const searchOperations: Operations<typeof searchRoutes> = {
  searchMessages: async ({ params, query }) => {
    const after = searchPositionOf(query.cursor);
    if (query.from !== undefined && query.to !== undefined && query.from > query.to) throw new CirrusError('INVALID_ARGUMENT', 'from must not be after to');
    // The user's visible range of every conversation: one Query.
    let visible: VisibleRange[] = (await conversations.ofUser(params.userId)).map((s) => ({
      conversationId: s.conversationId,
      minSeq: s.minSeq ?? 0,
      leftSeq: s.leftSeq,
      skip: s.deletedSeqs ? [...s.deletedSeqs] : undefined,
    }));
    if (query.conversationId !== undefined) {
      visible = visible.filter((v) => v.conversationId === query.conversationId);
      if (visible.length === 0) throw new CirrusError('CONVERSATION_NOT_FOUND', `No conversation ${query.conversationId} for ${params.userId}`);
    }
    const page = await searchMessages({
      visible,
      q: query.q,
      senderId: query.senderId,
      contentType: query.contentType,
      from: query.from,
      to: query.to,
      after,
      limit: query.limit ?? DEFAULT_LIMIT,
    });
    return { messages: page.messages, nextCursor: searchCursorOf(page.next) };
  },
};
