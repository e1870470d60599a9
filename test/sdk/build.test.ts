/** `npm run sdk:build`: one ESM bundle with nothing Node-only in it, declarations, and its size. */
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { buildSdk } from '../../sdk/build';

describe('the SDK build', () => {
  it('bundles the SDK for browsers with no Node built-ins, no ws, no zod, and reports its size', async () => {
    const lines: string[] = [];

    const size = await buildSdk({ log: (l) => lines.push(l) });

    const bundle = readFileSync('sdk/dist/index.js', 'utf8');
    expect(bundle).not.toMatch(/\bfrom\s*["'](node:|ws["']|fs["']|zod["'])/);
    expect(bundle).not.toMatch(/\bimport\s*\(\s*["']/);
    expect(bundle).not.toMatch(/\brequire\s*\(/);
    expect(bundle).not.toMatch(/\bBuffer\.|\bprocess\./);
    expect(bundle).toMatch(/CirrusClient = class/);
    expect(lines.join('\n')).toMatch(/minified \+ gzipped \d+\.\d kB/);
    expect(size.gzippedBytes).toBeGreaterThan(0);
    expect(size.gzippedBytes).toBeLessThan(40 * 1024);
    expect(existsSync('sdk/dist/index.d.ts')).toBe(true);
    expect(readFileSync('sdk/dist/types/sdk/src/client.d.ts', 'utf8')).toContain('export declare class CirrusClient');
  }, 120_000);

  it('type-checks the SDK sources with browser globals only (no Node types)', () => {
    const run = spawnSync('node_modules/.bin/tsc', ['-p', 'sdk/tsconfig.browser.json'], { encoding: 'utf8' });

    expect(run.error).toBeUndefined();
    expect(typeof run.status).toBe('number');
    // The server files its types come from may use Node; the SDK's own files may not.
    const sdkErrors = `${run.stdout}${run.stderr}`.split('\n').filter((line) => line.startsWith('sdk/'));
    expect(sdkErrors).toEqual([]);
    expect(run.stdout).not.toMatch(/^sdk\//m);
  }, 120_000);

  it('runs as plain ESM in Node: the bundle imports without a bundler', async () => {
    const sdk = await import('../../sdk/dist/index.js' as string);
    expect(typeof sdk.CirrusClient.create).toBe('function');
    expect(sdk.backoffDelay(2, { minDelayMs: 100, maxDelayMs: 1000 }, () => 0.5)).toBe(200);
  });

  it('builds the encrypted conversations apart, with MLS inside and nothing Node-only, importable as plain ESM', async () => {
    const bundle = readFileSync('sdk/dist/e2ee.js', 'utf8');
    expect(bundle).not.toMatch(/\bfrom\s*["'](node:|ws["']|fs["']|zod["'])/);
    expect(bundle).not.toMatch(/\brequire\s*\(/);
    // The main bundle does not carry MLS.
    expect(readFileSync('sdk/dist/index.js', 'utf8')).not.toMatch(/mls_key_package/);
    expect(bundle).toMatch(/mls_key_package/);
    const e2ee = await import('../../sdk/dist/e2ee.js' as string);
    expect(typeof e2ee.E2ee.open).toBe('function');
    const enc = await e2ee.encryptMedia(new TextEncoder().encode('x'));
    expect(new TextDecoder().decode(await e2ee.decryptMedia(enc.data, enc.key, enc.iv))).toBe('x');
    expect(existsSync('sdk/dist/e2ee.d.ts')).toBe(true);
  });
});
