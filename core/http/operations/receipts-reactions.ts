/** Operations: receipts, reactions, edits and delete-for-me, as the user in the path. */
import { deleteMessagesForMe } from '../../services/conversations';
import { editMessage, reactToMessage } from '../../services/message-changes';
import { getMessageReaders, getReadReceipts } from '../../services/receipts';
import type { receiptReactionRoutes } from '../routes/receipts-reactions';
import type { Operations } from '../routes/types';

export const receiptReactionOperations: Operations<typeof receiptReactionRoutes> = {
  getReadReceipts: ({ params, query }) =>
    getReadReceipts(params.userId, { conversationId: params.conversationId, seqs: query.seqs ? query.seqs.split(',').map(Number) : undefined }),
  getMessageReaders: ({ params, query }) =>
    getMessageReaders(params.userId, { conversationId: params.conversationId, seq: params.seq, status: query.status, limit: query.limit, cursor: query.cursor }),
  reactToMessage: ({ params, body }) => reactToMessage(params.userId, { conversationId: params.conversationId, seq: params.seq, emoji: body.emoji, reacted: body.reacted }),
  // platformId 0: an edit over HTTP comes from no device.
  editMessage: ({ params, body }) =>
    editMessage({ kind: 'user', userId: params.userId, platformId: 0 }, { conversationId: params.conversationId, seq: params.seq, contentType: body.contentType, content: body.content }),
  deleteMessagesForMe: ({ params, body }) => deleteMessagesForMe(params.userId, { conversationId: params.conversationId, seqs: body.seqs }),
};
