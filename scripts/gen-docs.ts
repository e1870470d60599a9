/** `npm run docs`: writes docs/protocol.md, docs/openapi.json (and its compressed copy served by GET /openapi.json) from their sources, and the permissions table of docs/deploy.md. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderOpenApi, renderOpenApiModule, renderProtocol } from './docs';
import { withPermissions } from './permissions-doc';

const docs = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs');
writeFileSync(join(docs, 'protocol.md'), renderProtocol());
writeFileSync(join(docs, 'openapi.json'), renderOpenApi());
writeFileSync(join(docs, '..', 'core', 'http', 'openapi-document.ts'), renderOpenApiModule());
const deploy = join(docs, 'deploy.md');
writeFileSync(deploy, withPermissions(readFileSync(deploy, 'utf8')));
console.log('Wrote docs/protocol.md, docs/openapi.json, core/http/openapi-document.ts and the permissions of docs/deploy.md');
