/** HTTP routes: friends. */
import type { HttpRouteSpec } from './types';

export const friendRoutes = [] as const satisfies readonly HttpRouteSpec[];
