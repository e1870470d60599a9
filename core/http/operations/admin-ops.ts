/** Operations: admin operations on messages. */
import { CirrusError } from '../../errors';
import { searchMessages, type SearchPosition } from '../../history/search';
import { createBatch, getBatch } from '../../services/batch';
import { sendBusinessNotification } from '../../services/business';
import { purgeMessages } from '../../services/purge';
import { decodeCursor, encodeCursor } from '../paging';
import type { adminOpsRoutes } from '../routes/admin-ops';
import type { Operations } from '../routes/types';

const DEFAULT_SEARCH_LIMIT = 20;

function positionOf(cursor: string | undefined): SearchPosition | undefined {
  const key = decodeCursor(cursor);
  if (!key) return undefined;
  const { t, c, s } = key;
  if (!Number.isSafeInteger(t) || (t as number) < 0 || typeof c !== 'string' || !Number.isSafeInteger(s)) {
    throw new CirrusError('INVALID_ARGUMENT', 'The cursor is not one this API returned');
  }
  return { sendTime: t as number, conversationId: c, seq: s as number };
}

export const adminOpsOperations: Operations<typeof adminOpsRoutes> = {
  batchSendMessages: ({ body }) => createBatch(body),
  getMessageBatch: ({ params }) => getBatch(params.batchId),
  sendBusinessNotification: ({ body }) => sendBusinessNotification(body),
  purgeMessages: ({ params, body }) => purgeMessages(params.conversationId, body),
  searchAllMessages: async ({ query }) => {
    if (query.from !== undefined && query.to !== undefined && query.from > query.to) throw new CirrusError('INVALID_ARGUMENT', 'from must not be after to');
    const page = await searchMessages({
      q: query.q,
      conversationId: query.conversationId,
      senderId: query.senderId,
      contentType: query.contentType,
      from: query.from,
      to: query.to,
      after: positionOf(query.cursor),
      limit: query.limit ?? DEFAULT_SEARCH_LIMIT,
    });
    return { messages: page.messages, nextCursor: encodeCursor(page.next ? { t: page.next.sendTime, c: page.next.conversationId, s: page.next.seq } : undefined) };
  },
};
