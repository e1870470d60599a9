/**
 * Invokes the handler modules under `functions/` as Lambda would: the same module stays
 * loaded between invocations (a warm container), every call gets a context, and a call
 * that outlives the function's timeout fails.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes, randomUUID } from 'node:crypto';
import { InvokeStore, InvokeStoreBase } from '@aws/lambda-invoke-store';
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

// Lambda's Node.js runtime keeps each invocation's request id and X-Ray trace id in its
// InvokeStore; with invocations running concurrently in one process (AWS_LAMBDA_MAX_CONCURRENCY,
// as here, where every function shares the process) it keeps them per asynchronous flow, and
// Powertools keeps its per-invocation state there: the log buffer, the metrics, the keys.
// Containers start on demand, so each function's first invocation is its cold start.
process.env.AWS_LAMBDA_MAX_CONCURRENCY ??= '1000';
process.env.AWS_LAMBDA_INITIALIZATION_TYPE ??= 'on-demand';
const invokeStore = await InvokeStore.getInstanceAsync(true);

/** A trace header as Lambda gives each invocation, traced or not (`Sampled=0`: not traced). */
const traceHeader = () => `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=0`;

/** Runs `work` as one invocation in Lambda's InvokeStore: its own request id and trace id. */
export function asInvocation<T>(requestId: string, work: () => T): T {
  return invokeStore.run({ [InvokeStoreBase.PROTECTED_KEYS.REQUEST_ID]: requestId, [InvokeStoreBase.PROTECTED_KEYS.X_RAY_TRACE_ID]: traceHeader() }, work);
}

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
    const result = (await Promise.race([asInvocation(context.awsRequestId, () => runAsFunction(key, () => handler(event, context))), timeout])) as R;
    failed = false;
    return result;
  } finally {
    clearTimeout(timer);
    const ms = performance.now() - t0;
    metering.invoked(key, ms);
    localMetrics.invoked(key, ms, failed);
  }
}
