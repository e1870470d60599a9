/** Operations: conversations. */
import {
  clearConversation,
  deleteConversation,
  getConversation,
  listConversations,
  readConversation,
  setConversation,
  totalUnread,
} from '../../services/conversations';
import type { conversationRoutes } from '../routes/conversations';
import type { Operations } from '../routes/types';

export const conversationOperations: Operations<typeof conversationRoutes> = {
  listConversations: ({ params, query }) => listConversations(params.userId, query.includeHidden === 'true'),
  getTotalUnread: async ({ params }) => ({ totalUnread: await totalUnread(params.userId) }),
  getConversation: async ({ params }) => ({ conversation: await getConversation(params.userId, params.conversationId) }),
  setConversation: async ({ params, body }) => ({ conversation: await setConversation(params.userId, params.conversationId, body) }),
  clearConversation: async ({ params }) => ({ conversation: await clearConversation(params.userId, params.conversationId) }),
  readConversation: async ({ params, body }) => ({ conversation: await readConversation(params.userId, params.conversationId, body?.seq) }),
  deleteConversation: async ({ params }) => ({ conversation: await deleteConversation(params.userId, params.conversationId) }),
};
