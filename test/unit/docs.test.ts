import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { brotliDecompressSync } from 'node:zlib';
import { renderOpenApi, renderProtocol } from '../../scripts/docs';
import { openApiDocument } from '../../core/http/openapi-document';
import { httpRoutes } from '../../core/http/routes';
import { errorCodes } from '../../core/errors';

describe('the contract documents', () => {
  it('docs/protocol.md matches the protocol schemas and error table (run `npm run docs`)', () => {
    expect(readFileSync('docs/protocol.md', 'utf8')).toBe(renderProtocol());
  });

  it('docs/openapi.json matches the HTTP routes (run `npm run docs`)', () => {
    expect(readFileSync('docs/openapi.json', 'utf8')).toBe(renderOpenApi());
  });

  it('serves at GET /openapi.json the document docs/openapi.json holds (run `npm run docs`)', () => {
    expect(JSON.parse(brotliDecompressSync(Buffer.from(openApiDocument, 'base64')).toString('utf8'))).toEqual(JSON.parse(renderOpenApi()));
  });

  it('documents every HTTP route and every error code', () => {
    const openapi = JSON.parse(renderOpenApi());
    for (const r of httpRoutes) expect(openapi.paths[r.path][r.method.toLowerCase()].operationId).toBe(r.operationId);
    const protocol = renderProtocol();
    for (const [reason, e] of Object.entries(errorCodes)) expect(protocol).toContain(`| ${e.code} | \`${reason}\``);
  });

  it('gives every error code a distinct number', () => {
    const codes = Object.values(errorCodes).map((e) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
  });
});
