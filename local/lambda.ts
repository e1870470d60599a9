/**
 * Invokes the handler modules under `functions/` as Lambda would: the same module stays
 * loaded between invocations (a warm container), every call gets a context, and a call
 * that outlives the function's timeout fails.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { setContainerName } from '../core/aws/container';
import { functions, type FunctionKey } from '../core/manifest';
import { metering } from './metering';
import { localMetrics } from './metrics';

/** The function whose invocation the current code runs in (what an AWS request is signed as). */
const running = new AsyncLocalStorage<FunctionKey>();

/** The function running the current code, undefined outside any invocation (test code, the runtime itself). */
export function runningFunction(): FunctionKey | undefined {
  return running.getStore();
}

/** Runs code as a function's invocation would: its AWS requests are the function's, under its policy. */
export function runAsFunction<T>(key: FunctionKey, fn: () => T): T {
  return running.run(key, fn);
}

// Each function's caches are its own, as in its own containers on AWS.
setContainerName(() => running.getStore() ?? '');

type Handler = (event: unknown, context: unknown) => Promise<unknown>;
const loaded = new Map<FunctionKey, Promise<Handler>>();

function load(key: FunctionKey): Promise<Handler> {
  let handler = loaded.get(key);
  if (!handler) {
    handler = import(`../functions/${functions[key].entry}.ts`).then((mod: { handler: Handler }) => mod.handler);
    loaded.set(key, handler);
  }
  return handler;
}

export async function invoke<R = unknown>(key: FunctionKey, event: unknown): Promise<R> {
  const spec = functions[key];
  const handler = await load(key);
  const started = Date.now();
  const deadline = started + spec.timeoutSeconds * 1000;
  const context = {
    functionName: spec.name,
    functionVersion: '$LATEST',
    awsRequestId: randomUUID(),
    memoryLimitInMB: String(spec.memoryMb),
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    callbackWaitsForEmptyEventLoop: true,
  };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${spec.name} timed out after ${spec.timeoutSeconds} s`)), spec.timeoutSeconds * 1000);
  });
  const t0 = performance.now();
  let failed = true;
  try {
    const result = (await Promise.race([runAsFunction(key, () => handler(event, context)), timeout])) as R;
    failed = false;
    return result;
  } finally {
    clearTimeout(timer);
    const ms = performance.now() - t0;
    metering.invoked(key, ms);
    localMetrics.invoked(key, ms, failed);
  }
}
