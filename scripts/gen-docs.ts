/** `npm run docs`: writes docs/protocol.md and docs/openapi.json from their sources. */
import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderOpenApi, renderProtocol } from './docs';

const docs = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs');
writeFileSync(join(docs, 'protocol.md'), renderProtocol());
writeFileSync(join(docs, 'openapi.json'), renderOpenApi());
console.log('Wrote docs/protocol.md and docs/openapi.json');
