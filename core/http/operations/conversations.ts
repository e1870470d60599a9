/** Operations: conversations. */
import type { conversationRoutes } from '../routes/conversations';
import type { Operations } from '../routes/types';

export const conversationOperations: Operations<typeof conversationRoutes> = {};
