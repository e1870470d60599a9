/**
 * The handlers find a resource's name in the variable core/env-names.ts derives from its
 * manifest key, without bundling the manifest: every name the manifest gives the functions
 * (and the local runtime sets) must be that one.
 */
import { describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { functionEnvVar, queueEnvVar, tableEnvVar } from '../../core/env-names';
import { deadLetters, functions, queues, tables } from '../../core/manifest';
import { esbuildOptions } from '../../lib/bundling';

describe('the environment variable of each resource', () => {
  it.each(Object.entries(tables))('should follow the convention for table %s', (key, spec) => {
    expect(spec.envVar).toBe(tableEnvVar(key));
  });

  it.each(Object.entries(queues))('should follow the convention for queue %s', (key, spec) => {
    expect(spec.envVar).toBe(queueEnvVar(key));
  });

  it('should follow the convention for the dead-letter queue', () => {
    expect(deadLetters.envVar).toBe(queueEnvVar('deadLetters'));
  });

  it('should follow the convention for every function invoked asynchronously', () => {
    const invoked = Object.entries(functions).filter(([, spec]) => 'asyncInvoke' in spec && spec.asyncInvoke);
    expect(invoked.length).toBeGreaterThan(0);
    for (const [key, spec] of invoked) expect((spec as { asyncInvoke: { envVar: string } }).asyncInvoke.envVar, key).toBe(functionEnvVar(key));
  });
});

describe('the hot-path bundles', () => {
  it.each(['wsAuthorizer', 'wsConnect', 'wsDisconnect', 'wsMessage', 'push'] as const)('should not carry the manifest: %s', async (key) => {
    const result = await build({ ...esbuildOptions(functions[key].entry, `/tmp/env-names-${key}.mjs`), write: false, metafile: true, logLevel: 'silent' });
    expect(Object.keys(result.metafile.inputs).filter((path) => path.endsWith('core/manifest.ts'))).toEqual([]);
  }, 120_000);
});
