/**
 * The local runtime runs every function's invocations concurrently in one process, as Lambda
 * does with AWS_LAMBDA_MAX_CONCURRENCY: each invocation in Lambda's InvokeStore, so Powertools'
 * log buffer stays the invocation's own.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { log } from '../../core/log';
import { observed } from '../../core/runtime/observe';
import { asInvocation } from '../../local/lambda';

let lines: string[] = [];
const write = process.stdout.write.bind(process.stdout);
const level = process.env.LOG_LEVEL;
beforeEach(() => {
  process.env.LOG_LEVEL = 'info';
  process.stdout.write = ((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter((l) => l.startsWith('{')));
    return true;
  }) as typeof process.stdout.write;
});
afterEach(() => {
  process.stdout.write = write;
  process.env.LOG_LEVEL = level;
});

it('keeps the buffers of concurrent invocations apart: the one that fails writes its own lines only, the one that succeeds none', async () => {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const slow = observed('localA', async () => {
    log.debug('a: before the wait');
    await held;
    log.debug('a: after the wait');
    return 'a done';
  });
  const failing = observed('localB', async () => {
    log.debug('b: step');
    throw new Error('b fails');
  });
  const a = asInvocation('request-a', () => slow({}));
  await expect(asInvocation('request-b', () => failing({}))).rejects.toThrow('b fails');
  release();
  expect(await a).toBe('a done');
  const out = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(out.map((e) => e.msg)).toEqual(['b: step', 'Uncaught error detected, flushing log buffer before exit']);
});
