/** Operations: friends. */
import type { friendRoutes } from '../routes/friends';
import type { Operations } from '../routes/types';

export const friendOperations: Operations<typeof friendRoutes> = {};
