/** `npm run sdk:routes`: writes sdk/src/http/routes.gen.ts from the HTTP route specs. */
import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderSdkRoutes } from './sdk-routes';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'sdk', 'src', 'http', 'routes.gen.ts');
writeFileSync(out, renderSdkRoutes());
console.log('Wrote sdk/src/http/routes.gen.ts');
