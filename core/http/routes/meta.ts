/** HTTP routes: health and the API's own description. */
import * as z from 'zod/mini';
import type { HttpRouteSpec } from './types';

export const metaRoutes = [
  {
    operationId: 'health',
    method: 'GET',
    path: '/health',
    summary: 'Liveness check.',
    auth: 'none',
    response: z.strictObject({ ok: z.literal(true), serverTime: z.int() }),
  },
  {
    operationId: 'getOpenApi',
    method: 'GET',
    path: '/openapi.json',
    summary: 'This API as an OpenAPI 3.1 document.',
    auth: 'none',
    response: z.record(z.string(), z.unknown()),
  },
] as const satisfies readonly HttpRouteSpec[];
