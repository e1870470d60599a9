/**
 * Suite 3: a cold-start proxy. Each function is bundled exactly as the stack bundles it
 * (lib/bundling.ts: esbuild, ESM, minified, node24, the AWS SDK inside, the credential
 * provider reduced to the environment's), then imported in a fresh Node process, timing
 * module initialisation; the median of `runs` processes. Its composition comes from
 * esbuild's metafile: the bytes each package (or Cirrus's own code) puts in the bundle.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { esbuildOptions } from '../../lib/bundling';
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
  /** The packages putting the most bytes in the bundle (`cirrus`: functions/ and core/), largest first. */
  packages: { name: string; bytes: number }[];
}

/** How many packages `packages` lists per function. */
const TOP_PACKAGES = 8;

/** The package a bundled file belongs to, or `cirrus` for the project's own. */
export function packageOf(path: string): string {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)(?!.*node_modules\/)/.exec(path);
  return m ? m[1] : 'cirrus';
}

function originOf(path: string): string {
  const pkg = packageOf(path);
  if (pkg === 'cirrus') return 'cirrus';
  if (pkg.startsWith('@aws-sdk/') || pkg.startsWith('@smithy/') || pkg.startsWith('@aws-crypto/') || pkg === '@aws/lambda-invoke-store') return 'aws-sdk';
  if (pkg === 'zod') return 'zod';
  return 'other';
}

export async function runColdStart(runs: number): Promise<ColdStart[]> {
  const dir = mkdtempSync(join(tmpdir(), 'cirrus-cold-'));
  const out: ColdStart[] = [];
  try {
    for (const fn of Object.keys(functions) as FunctionKey[]) {
      const file = join(dir, `${fn}.mjs`);
      const result = await build({ ...esbuildOptions(functions[fn].entry, file), metafile: true, logLevel: 'silent' });
      const code = readFileSync(file);
      const composition: Record<string, number> = {};
      const byPackage: Record<string, number> = {};
      const output = Object.entries(result.metafile!.outputs).find(([name]) => name.endsWith('.mjs'))![1];
      for (const [path, input] of Object.entries(output.inputs)) {
        composition[originOf(path)] = (composition[originOf(path)] ?? 0) + input.bytesInOutput;
        byPackage[packageOf(path)] = (byPackage[packageOf(path)] ?? 0) + input.bytesInOutput;
      }
      const packages = Object.entries(byPackage)
        .map(([name, bytes]) => ({ name, bytes }))
        .sort((a, b) => b.bytes - a.bytes)
        .slice(0, TOP_PACKAGES);
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
      out.push({ fn, bytes: code.length, gzipBytes: gzipSync(code).length, initMs, medianInitMs: median(initMs), composition, packages });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
