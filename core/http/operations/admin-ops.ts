/** Operations: admin operations on messages. */
import { CirrusError } from '../../errors';
import { searchMessages } from '../../history/search';
import { createBatch, getBatch } from '../../services/batch';
import { sendBusinessNotification } from '../../services/business';
import { purgeMessages } from '../../services/purge';
import { searchCursorOf, searchPositionOf } from './search';
import type { adminOpsRoutes } from '../routes/admin-ops';
import type { Operations } from '../routes/types';

const DEFAULT_SEARCH_LIMIT = 20;

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
      after: searchPositionOf(query.cursor),
      limit: query.limit ?? DEFAULT_SEARCH_LIMIT,
    });
    return { messages: page.messages, nextCursor: searchCursorOf(page.next) };
  },
};
