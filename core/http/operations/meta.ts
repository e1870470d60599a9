/** Operations: health and the OpenAPI document. */
import { buildOpenApi } from '../openapi';
import type { metaRoutes } from '../routes/meta';
import type { Operations } from '../routes/types';

let openApi: Record<string, unknown> | undefined;

export const metaOperations: Operations<typeof metaRoutes> = {
  health: async () => ({ ok: true, serverTime: Date.now() }),
  getOpenApi: async () => (openApi ??= buildOpenApi()),
};
