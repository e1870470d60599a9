/**
 * Structured JSON logs, one object per line, with the correlation id of the work in
 * progress. The id is created where a message enters Cirrus and travels with it through
 * SQS, so one filter on `correlationId` shows a message's whole path.
 *
 * Each line has `level` and an RFC 3339 `timestamp`, the keys Lambda's JSON log format reads
 * to filter application logs by level: a line without a valid timestamp would be taken as
 * INFO, and dropped where the function's application log level is WARN. Lines written once
 * per message or frame are `debug`, off at the default level (`info`); warnings and errors
 * are always written, with the correlation id.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const order: Record<LogLevel | 'silent', number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

interface LogContext {
  fn: string;
  correlationId?: string;
  [key: string]: unknown;
}

const storage = new AsyncLocalStorage<LogContext>();

function threshold(): number {
  const level = (process.env.LOG_LEVEL ?? 'info') as LogLevel | 'silent';
  return order[level] ?? order.info;
}

function errorFields(err: unknown): Record<string, unknown> {
  if (err instanceof Error) return { errorName: err.name, errorMessage: err.message, stack: err.stack };
  return { error: String(err) };
}

function write(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
  if (order[level] < threshold()) return;
  const ctx = storage.getStore();
  const { err, ...rest } = fields ?? {};
  const line = { level, timestamp: new Date().toISOString(), ...ctx, msg, ...rest, ...(err !== undefined ? errorFields(err) : {}) };
  process.stdout.write(JSON.stringify(line) + '\n');
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
