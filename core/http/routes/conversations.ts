/** HTTP routes: conversations. */
import type { HttpRouteSpec } from './types';

export const conversationRoutes = [] as const satisfies readonly HttpRouteSpec[];
