/**
 * What every Lambda handler of Cirrus is wrapped in: a middy handler with Powertools for AWS
 * Lambda's middlewares.
 *
 * - Logger (`injectLambdaContext`): the Lambda context (request id, cold start) on every line;
 *   the invocation's buffered lines (core/log.ts) dropped when it succeeds, written out when it
 *   throws (`flushBufferOnUncaughtError`, with the error) or logs an error.
 * - Metrics: the invocation's counts (core/metrics.ts) written as one EMF line when it ends,
 *   nothing when none were counted.
 * - Tracer (X-Ray), only when the deployment turns tracing on (`tracing: true`, compiled into
 *   the bundle as `CIRRUS_TRACING`): a subsegment for the handler with the cold start and the
 *   service as annotations, and the AWS SDK clients' calls as subsegments. Off, the Tracer is
 *   not in the bundle at all (the branch that imports it is removed when the bundle is built).
 *
 * The log context (function, correlation id) is set around the whole chain, so the middlewares'
 * own lines carry it too.
 */
import type { Context } from 'aws-lambda';
import middy from '@middy/core';
import type { MiddlewareObj } from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Logger } from '@aws-lambda-powertools/logger';
import { loggerFor, withLogContext } from '../log';
import { publishMetrics, withMetrics } from '../metrics';

export interface ObservedContext {
  /** The correlation id of the invocation's work, if the event carries or makes one. */
  correlationId?: string;
  [key: string]: unknown;
}

type Handler<E, R> = (event: E, context: Context) => Promise<R>;

/** Used when a handler is called without a Lambda context (tests): no `getRemainingTimeInMillis`, so no deadline. */
const noContext = (): Context =>
  ({
    functionName: '',
    functionVersion: '$LATEST',
    invokedFunctionArn: '',
    memoryLimitInMB: '0',
    awsRequestId: '',
    logGroupName: '',
    logStreamName: '',
    callbackWaitsForEmptyEventLoop: true,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  }) as unknown as Context;

/** Powertools' Logger middleware over the function's current Logger (made anew if `LOG_LEVEL` changes). */
function logging(fn: string): MiddlewareObj {
  let logger: Logger | undefined;
  let middleware: MiddlewareObj | undefined;
  const current = (): MiddlewareObj => {
    const now = loggerFor(fn);
    if (now !== logger || !middleware) {
      logger = now;
      middleware = injectLambdaContext(now, { flushBufferOnUncaughtError: true, resetKeys: true }) as MiddlewareObj;
    }
    return middleware;
  };
  return {
    before: (request) => current().before?.(request),
    after: (request) => current().after?.(request),
    onError: (request) => current().onError?.(request),
  };
}

/** The invocation's metrics, as one EMF line at its end (none if nothing was counted). */
function metrics(): MiddlewareObj {
  const publish = async () => publishMetrics();
  return { after: publish, onError: publish };
}

/** Powertools' Tracer middleware, loaded on the first invocation (only ever with tracing on). */
function tracing(): MiddlewareObj {
  let loaded: Promise<MiddlewareObj> | undefined;
  const load = () =>
    (loaded ??= Promise.all([import('@aws-lambda-powertools/tracer'), import('@aws-lambda-powertools/tracer/middleware'), import('../aws/tracing')]).then(
      ([{ Tracer }, { captureLambdaHandler }, { traceClients }]) => {
        const tracer = new Tracer({ serviceName: process.env.POWERTOOLS_SERVICE_NAME || 'cirrus' });
        traceClients((client) => tracer.captureAWSv3Client(client));
        // Responses may hold messages and tokens: not recorded.
        return captureLambdaHandler(tracer, { captureResponse: false }) as MiddlewareObj;
      },
    ));
  return {
    before: async (request) => (await load()).before?.(request),
    after: async (request) => (await load()).after?.(request),
    onError: async (request) => (await load()).onError?.(request),
  };
}

/**
 * The Lambda handler of the function `fn`: `handler` wrapped in middy with the Logger, Metrics
 * and (with tracing on) Tracer middlewares, run in the log context `contextOf` gives.
 */
export function observed<E, R>(fn: string, handler: Handler<E, R>, contextOf?: (event: E, context: Context) => ObservedContext): (event: E, context?: Context) => Promise<R> {
  // No early timeout: each handler keeps its own time budget from the context (the migrate
  // function's polls, the erasure's, notify's retries), and ends its work itself; middy's
  // default would abort it 5 ms before Lambda's limit, and at once on a context with no time left.
  const chain = middy(handler as Handler<unknown, unknown>, { timeoutEarlyInMillis: 0 });
  if (process.env.CIRRUS_TRACING === 'true') chain.use(tracing());
  chain.use(logging(fn)).use(metrics());
  return (event, context) => {
    const ctx = context ?? noContext();
    const logContext = { fn, ...contextOf?.(event, ctx) };
    return withLogContext(logContext, () =>
      withMetrics(fn, async () => {
        // Powertools' own lines (the uncaught error) carry the function and the correlation id too.
        loggerFor(fn).appendKeys({ fn, ...(logContext.correlationId ? { correlationId: logContext.correlationId } : {}) });
        return (await chain(event, ctx)) as R;
      }),
    );
  };
}
