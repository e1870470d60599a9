/**
 * Each HTTP function's bundle holds the route modules (their schemas) of its own routes and
 * no other's, and none builds the OpenAPI document from the schemas of every route: the
 * schemas a function builds at init are most of its init time. Bundled with the stack's
 * esbuild settings (lib/bundling.ts).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { esbuildOptions, projectRoot } from '../../lib/bundling';
import { functions, httpFunctionOf, httpFunctions } from '../../core/manifest';

const routesDir = join(projectRoot, 'core', 'http', 'routes');

/** The functions serving each route module's routes. */
async function ownersOfModules(): Promise<Map<string, Set<string>>> {
  const owners = new Map<string, Set<string>>();
  for (const file of readdirSync(routesDir).filter((f) => f.endsWith('.ts') && f !== 'types.ts')) {
    const mod = (await import(join(routesDir, file))) as Record<string, unknown>;
    for (const value of Object.values(mod)) {
      if (!Array.isArray(value)) continue;
      for (const route of value as { operationId?: unknown }[]) {
        if (typeof route?.operationId === 'string') (owners.get(`core/http/routes/${file}`) ?? owners.set(`core/http/routes/${file}`, new Set()).get(`core/http/routes/${file}`)!).add(httpFunctionOf(route.operationId));
      }
    }
  }
  return owners;
}

async function bundledModules(entry: string): Promise<string[]> {
  const result = await build({ ...esbuildOptions(entry, join(projectRoot, 'out.mjs')), write: false, metafile: true, logLevel: 'silent' });
  return Object.keys(result.metafile.inputs);
}

describe('The HTTP functions\' bundles', () => {
  it('should each hold the route modules of its own routes only, each module serving one function', async () => {
    const owners = await ownersOfModules();
    for (const [file, fns] of owners) expect([...fns], file).toHaveLength(1);
    for (const key of httpFunctions) {
      const inputs = await bundledModules(functions[key].entry);
      const routeModules = inputs.filter((path) => path.startsWith('core/http/routes/') && path !== 'core/http/routes/types.ts').sort();
      const own = [...owners].filter(([, fns]) => fns.has(key)).map(([file]) => file).sort();
      expect(routeModules, key).toEqual(own);
      expect(inputs, key).not.toContain('core/http/openapi.ts');
      expect(inputs, key).not.toContain('core/http/routes.ts');
    }
  }, 120_000);
});
