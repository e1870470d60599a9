/**
 * Builds the web chat demo and the admin console (`admin/index.html`) with Vite into `web/dist` (or `outDir`): `npm run web:build`,
 * `npm start` when the build is missing, and the browser test.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export async function buildWeb(options: { outDir?: string; logLevel?: 'info' | 'warn' | 'error' | 'silent' } = {}): Promise<void> {
  const { build } = await import('vite');
  await build({ configFile: join(here, 'vite.config.ts'), logLevel: options.logLevel ?? 'info', build: { outDir: options.outDir ?? join(here, 'dist'), emptyOutDir: true } });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await buildWeb();
