/**
 * Structured JSON logs, one object per line, written by Powertools for AWS Lambda's Logger
 * with the correlation id of the work in progress. The id is created where a message enters
 * Cirrus and travels with it through asynchronous invocations and SQS, so one filter on
 * `correlationId` shows a message's whole path.
 *
 * Each line starts with `level` and an RFC 3339 `timestamp`, the keys Lambda's JSON log format
 * reads to filter application logs by level, then `fn`, `correlationId` and `msg` (the keys the
 * runbook's queries use), `requestId` (the Lambda request id), `coldStart` on the lines of a
 * container's first invocation, and the line's own fields.
 *
 * Lines below the function's level are not thrown away inside an invocation: the Logger keeps
 * them in a buffer of the invocation (Powertools' log buffering, up to `BUFFER_BYTES`), written
 * out only when the invocation fails (an error logged, or an uncaught error: see
 * core/runtime/observe.ts) and dropped when it succeeds. Lines written once per message or frame
 * are `debug`: at the default level (`info`) a message that goes through writes nothing, one
 * that fails writes its path. Warnings and errors are always written, with the correlation id.
 *
 * `withLogContext` keeps the context (function, correlation id, ...) per asynchronous flow, so
 * the jobs of one SQS batch each log under their own id; the facade hands it to the Logger
 * with every line.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Console } from 'node:console';
import { LogFormatter, Logger, LogItem } from '@aws-lambda-powertools/logger';
import type { ConstructorOptions, LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** What one invocation's buffer holds at most; the oldest lines make way for newer ones. */
export const BUFFER_BYTES = 32 * 1024;

interface LogContext {
  fn: string;
  correlationId?: string;
  [key: string]: unknown;
}

const storage = new AsyncLocalStorage<LogContext>();

function errorFields(err: unknown): Record<string, unknown> {
  if (err instanceof Error) return { errorName: err.name, errorMessage: err.message, stack: err.stack };
  return { error: String(err) };
}

/** Cirrus's line: Lambda's two keys first, then the keys the runbook queries, then the fields. */
class CirrusLogFormatter extends LogFormatter {
  public formatAttributes(attributes: UnformattedAttributes, additional: LogAttributes): LogItem {
    const { fn, correlationId, error, ...rest } = additional as { fn?: string; correlationId?: string; error?: unknown } & LogAttributes;
    const context = attributes.lambdaContext;
    return new LogItem({
      attributes: {
        level: attributes.logLevel.toLowerCase(),
        timestamp: this.formatTimestamp(attributes.timestamp),
        fn,
        correlationId,
        msg: attributes.message,
        requestId: context?.awsRequestId,
        // Present on the lines of a container's first invocation only.
        coldStart: context?.coldStart || undefined,
        xrayTraceId: process.env.CIRRUS_TRACING === 'true' ? attributes.xRayTraceId : undefined,
        ...rest,
        ...(error !== undefined ? errorFields(error) : {}),
      },
    });
  }
}

/** The Logger's settings for a level: the lines below it are buffered per invocation (none at `debug`). */
export function loggerOptions(level: string, serviceName: string): ConstructorOptions {
  const buffered: Record<string, 'DEBUG' | 'INFO' | 'WARN' | undefined> = { info: 'DEBUG', warn: 'INFO', error: 'WARN' };
  const bufferAtVerbosity = buffered[level];
  return {
    serviceName,
    logLevel: level === 'silent' ? 'SILENT' : (level.toUpperCase() as 'DEBUG' | 'INFO' | 'WARN' | 'ERROR'),
    logFormatter: new CirrusLogFormatter(),
    ...(bufferAtVerbosity ? { logBufferOptions: { enabled: true, maxBytes: BUFFER_BYTES, bufferAtVerbosity, flushOnErrorLog: true } } : {}),
  };
}

/** The level of `LOG_LEVEL` (`info` if unset or unknown). */
function currentLevel(): string {
  const level = (process.env.LOG_LEVEL ?? 'info').toLowerCase();
  return ['debug', 'info', 'warn', 'error', 'silent'].includes(level) ? level : 'info';
}

/**
 * One Logger per function: a deployed bundle holds one function, the local runtime (one process
 * for all of them) one Logger each, so each has its own cold start. Made anew if `LOG_LEVEL`
 * changes (the local runtime's tests switch it).
 */
let loggers = new Map<string, Logger>();
let loggersLevel = '';

export function loggerFor(fn: string): Logger {
  const level = currentLevel();
  if (level !== loggersLevel) {
    loggers = new Map();
    loggersLevel = level;
  }
  let logger = loggers.get(fn);
  if (!logger) {
    logger = new Logger(loggerOptions(level, process.env.POWERTOOLS_SERVICE_NAME || 'cirrus'));
    // Every level on stdout, in the order written (the Logger writes warnings and errors to
    // stderr): Lambda sends both to the log group, the local runtime and its benchmark read stdout.
    (logger as unknown as { console: Console }).console = new Console({ stdout: process.stdout, stderr: process.stdout });
    loggers.set(fn, logger);
  }
  return logger;
}

const rank: Record<string, number> = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 };

/** The invocation's X-Ray trace id, which the Logger groups its buffer by (Lambda sets one on every invocation). */
function traceId(): string | undefined {
  const store = (globalThis as { awslambda?: { InvokeStore?: { getXRayTraceId?: () => string | undefined } } }).awslambda?.InvokeStore;
  return store?.getXRayTraceId?.() ?? process.env._X_AMZN_TRACE_ID;
}

function write(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
  // Below the level and outside an invocation (nothing to buffer it in): dropped, whatever level
  // Lambda's log controls give the Logger.
  if (rank[level] < rank[currentLevel()] && !traceId()) return;
  const ctx = storage.getStore();
  const { err, ...rest } = fields ?? {};
  const logger = loggerFor(ctx?.fn ?? 'unknown');
  logger[level](msg, { fn: 'unknown', ...ctx, ...rest, ...(err !== undefined ? errorFields(err) : {}) });
}

export const log = {
  debug: (msg: string, fields?: Record<string, unknown>) => write('debug', msg, fields),
  info: (msg: string, fields?: Record<string, unknown>) => write('info', msg, fields),
  warn: (msg: string, fields?: Record<string, unknown>) => write('warn', msg, fields),
  error: (msg: string, fields?: Record<string, unknown>) => write('error', msg, fields),
};

/** Runs `work` with a log context; nested calls inherit and extend it. */
export function withLogContext<T>(ctx: Partial<LogContext>, work: () => T): T {
  const parent = storage.getStore();
  return storage.run({ fn: 'unknown', ...parent, ...ctx } as LogContext, work);
}

export function correlationId(): string | undefined {
  return storage.getStore()?.correlationId;
}

