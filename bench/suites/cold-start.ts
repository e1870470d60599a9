/**
 * Suite 3: a cold-start proxy. Each function is bundled exactly as the stack bundles it
 * (esbuild, ESM, minified, node24, the AWS SDK inside), then imported in a fresh Node
 * process, timing module initialisation; the median of `runs` processes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { functions, type FunctionKey } from '../../core/manifest';
import { median } from '../support';

export interface ColdStart {
  fn: FunctionKey;
  bytes: number;
  gzipBytes: number;
  initMs: number[];
  medianInitMs: number;
  /** Minified bytes in the bundle by origin: Cirrus's code, zod, the AWS SDK and Smithy, others. */
  composition: Record<string, number>;
}

function originOf(path: string): string {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (!m) return 'cirrus';
  const pkg = m[1];
  if (pkg.startsWith('@aws-sdk/') || pkg.startsWith('@smithy/') || pkg.startsWith('@aws-crypto/') || pkg === '@aws/lambda-invoke-store') return 'aws-sdk';
  if (pkg === 'zod') return 'zod';
  return 'other';
}

const banner = "import { createRequire as cirrusCreateRequire } from 'node:module'; const require = cirrusCreateRequire(import.meta.url);";

export async function runColdStart(runs: number): Promise<ColdStart[]> {
  const dir = mkdtempSync(join(tmpdir(), 'cirrus-cold-'));
  const out: ColdStart[] = [];
  try {
    for (const fn of Object.keys(functions) as FunctionKey[]) {
      const file = join(dir, `${fn}.mjs`);
      const result = await build({
        metafile: true,
        entryPoints: [join(process.cwd(), 'functions', `${functions[fn].entry}.ts`)],
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node24',
        minify: true,
        mainFields: ['module', 'main'],
        banner: { js: banner },
        outfile: file,
        logLevel: 'silent',
      });
      const code = readFileSync(file);
      const composition: Record<string, number> = {};
      for (const [path, input] of Object.entries(result.metafile!.outputs[Object.keys(result.metafile!.outputs).find((o) => o.endsWith('.mjs'))!].inputs)) {
        const origin = originOf(path);
        composition[origin] = (composition[origin] ?? 0) + input.bytesInOutput;
      }
      const initMs: number[] = [];
      for (let i = 0; i < runs; i++) {
        const res = spawnSync(
          process.execPath,
          ['--input-type=module', '-e', `const t = performance.now(); await import(${JSON.stringify(`file://${file}`)}); process.stdout.write(String(performance.now() - t));`],
          { env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', LOG_LEVEL: 'silent' }, encoding: 'utf8' },
        );
        if (res.status !== 0) throw new Error(`${fn}: ${res.stderr}`);
        initMs.push(Number(res.stdout));
      }
      out.push({ fn, bytes: code.length, gzipBytes: gzipSync(code).length, initMs, medianInitMs: median(initMs), composition });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
