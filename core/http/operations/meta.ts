/** Operations: health and the OpenAPI document. */
import { brotliDecompressSync } from 'node:zlib';
import { openApiDocument } from '../openapi-document';
import type { metaRoutes } from '../routes/meta';
import type { Operations } from '../routes/types';

let openApi: Record<string, unknown> | undefined;

export const metaOperations: Operations<typeof metaRoutes> = {
  health: async () => ({ ok: true, serverTime: Date.now() }),
  // Generated with docs/openapi.json (`npm run docs`): building it here would take the schemas of every route.
  getOpenApi: async () => (openApi ??= JSON.parse(brotliDecompressSync(Buffer.from(openApiDocument, 'base64')).toString('utf8')) as Record<string, unknown>),
};
