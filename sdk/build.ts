/**
 * `npm run sdk:build`: the SDK as one ESM file for browsers and Node (`sdk/dist/index.js`,
 * no Node built-ins and no dependencies inside), its type declarations (`sdk/dist/index.d.ts`,
 * derived from the server's schemas; zod is needed only to read them), and its size.
 */
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const sdk = dirname(fileURLToPath(import.meta.url));
const root = join(sdk, '..');

export interface SdkBuild {
  bytes: number;
  minifiedBytes: number;
  gzippedBytes: number;
}

export async function buildSdk(options: { declarations?: boolean; log?: (line: string) => void; /** @default sdk/dist */ outDir?: string } = {}): Promise<SdkBuild> {
  const log = options.log ?? console.log;
  const dist = options.outDir ?? join(sdk, 'dist');
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(dist, { recursive: true });
  const common = {
    entryPoints: [join(sdk, 'src', 'index.ts')],
    bundle: true,
    format: 'esm' as const,
    // Neutral: no Node built-ins resolve, so a Node-only import fails the build instead of reaching browsers.
    platform: 'neutral' as const,
    target: 'es2022',
    mainFields: ['module', 'main'],
    logLevel: 'silent' as const,
  };
  await build({ ...common, outfile: join(dist, 'index.js'), sourcemap: true, legalComments: 'none' });
  const minified = await build({ ...common, minify: true, write: false, outfile: join(dist, 'index.min.js') });
  const readable = await build({ ...common, write: false, outfile: join(dist, 'index.js') });
  // The encrypted conversations (MLS) in their own file, `@cirrus-im/sdk/e2ee`: apps without them do not load ts-mls.
  await build({ ...common, entryPoints: [join(sdk, 'src', 'e2ee', 'index.ts')], outfile: join(dist, 'e2ee.js'), sourcemap: true, legalComments: 'none' });
  const code = minified.outputFiles[0].contents;
  const result = { bytes: readable.outputFiles[0].contents.length, minifiedBytes: code.length, gzippedBytes: gzipSync(code, { level: 9 }).length };
  if (options.declarations !== false) {
    execFileSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', join(sdk, 'tsconfig.json'), '--outDir', join(dist, 'types')], { cwd: root, stdio: 'inherit' });
    writeFileSync(join(dist, 'index.d.ts'), "export * from './types/sdk/src/index';\n");
    writeFileSync(join(dist, 'e2ee.d.ts'), "export * from './types/sdk/src/e2ee/index';\n");
  }
  const kb = (n: number) => `${(n / 1024).toFixed(1)} kB`;
  log(`${dist === join(sdk, 'dist') ? 'sdk/dist' : dist}/index.js: ${kb(result.bytes)}; minified ${kb(result.minifiedBytes)}, minified + gzipped ${kb(result.gzippedBytes)}`);
  return result;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await buildSdk();
