/**
 * Lambda's Invoke API, locally, for asynchronous invocations (InvocationType `Event`), the
 * way Cirrus's functions invoke each other: spoken to over Lambda's REST-JSON protocol (by the
 * functions' own signed request, core/aws/lambda.ts, and by `@aws-sdk/client-lambda` in its
 * tests), signed with SigV4 and checked.
 *
 * What it emulates, because Cirrus's correctness depends on it: an accepted event (202) is
 * queued durably (a journal fsynced before the answer, so it survives a SIGKILL of the
 * runtime, and an event whose run the kill interrupted runs again after the restart); a
 * run that throws or times out is retried twice, after Lambda's delays (1 and 2 minutes;
 * settable for tests), unless the function's configuration asks for fewer; an event older
 * than its maximum age, or out of retries, goes to the on-failure destination as Lambda's
 * failure record; payloads over Lambda's 1 MB limit are refused (413). Not emulated:
 * synchronous invocations (nothing in Cirrus makes one), throttling, and the occasional
 * duplicate delivery Lambda allows (retries already make the handlers idempotent).
 */
import { randomUUID } from 'node:crypto';
import { StateFile } from './state-file';
import { restJsonError } from './responses';
import { sha256Hex, SigV4Error, uriEncode, verifyRequest, type Credentials } from './sigv4';
import type { StandIn, StandInRequest, StandInResponse } from './types';

/** Lambda's limit on an asynchronous invocation's payload. */
export const MAX_ASYNC_PAYLOAD_BYTES = 1_048_576;
/** Lambda's delays before the second and the third attempt of a failed asynchronous event. */
export const LAMBDA_RETRY_DELAYS_MS = [60_000, 120_000] as const;

export interface AsyncInvokeConfig {
  readonly retryAttempts: number;
  readonly maxEventAgeSeconds: number;
}

export interface LocalLambdaFunction {
  /** The function's name (what FunctionName gives, or the last part of its ARN). */
  readonly name: string;
  readonly arn: string;
  readonly config: AsyncInvokeConfig;
  /** Runs the handler; a rejection is a failed attempt. */
  readonly run: (event: unknown) => Promise<unknown>;
}

export interface LocalLambdaOptions {
  readonly region: string;
  readonly credentials: Credentials;
  readonly functions: readonly LocalLambdaFunction[];
  /** Hands a failure record to the on-failure destination (the shared dead-letter queue). */
  readonly onFailure: (fn: LocalLambdaFunction, record: FailureRecord) => Promise<void>;
  /** JSON file holding queued events across restarts; in memory only when absent. */
  readonly file?: string;
  /** @default LAMBDA_RETRY_DELAYS_MS */
  readonly retryDelaysMs?: readonly number[];
  /** Runs in flight per function, at most. @default 10 */
  readonly maxConcurrency?: number;
  readonly log?: (line: string) => void;
}

/** What Lambda sends to an on-failure destination. */
export interface FailureRecord {
  version: '1.0';
  timestamp: string;
  requestContext: { requestId: string; functionArn: string; condition: 'RetriesExhausted' | 'EventAgeExceeded'; approximateInvokeCount: number };
  requestPayload: unknown;
  responseContext: { statusCode: number; executedVersion: '$LATEST'; functionError?: 'Unhandled' };
  responsePayload?: { errorType: string; errorMessage: string };
}

interface QueuedEvent {
  id: string;
  fn: string;
  payload: string;
  receivedAt: number;
  /** Runs started so far. */
  attempts: number;
  /** Epoch ms from which the next attempt may start. */
  nextAt: number;
  lastError?: { errorType: string; errorMessage: string };
}

interface SavedState {
  version: 1;
  events: QueuedEvent[];
}

type JournalEntry = { op: 'queued'; event: QueuedEvent } | { op: 'attempted'; id: string; attempts: number; nextAt: number; lastError?: QueuedEvent['lastError'] } | { op: 'done'; id: string };

const INVOCATIONS_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

export class LocalLambda implements StandIn {
  private readonly events = new Map<string, QueuedEvent>();
  private readonly running = new Map<string, number>();
  private readonly active = new Set<string>();
  private readonly byName = new Map<string, LocalLambdaFunction>();
  private readonly state: StateFile<SavedState, JournalEntry> | undefined;
  private readonly idleWaiters: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private started = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: LocalLambdaOptions) {
    for (const fn of options.functions) this.byName.set(fn.name, fn);
    if (options.file) {
      this.state = new StateFile<SavedState, JournalEntry>(options.file, () => ({ version: 1, events: [...this.events.values()] }));
      const { state, journal } = this.state.load();
      for (const event of state?.events ?? []) this.events.set(event.id, event);
      for (const entry of journal) {
        if (entry.op === 'queued') this.events.set(entry.event.id, entry.event);
        else if (entry.op === 'done') this.events.delete(entry.id);
        else {
          const event = this.events.get(entry.id);
          if (event) Object.assign(event, { attempts: entry.attempts, nextAt: entry.nextAt, lastError: entry.lastError });
        }
      }
      this.state.saveNow();
    }
  }

  /** Starts running events, the ones a restart found queued first (runs a kill interrupted run again, as a retry would). */
  start(): void {
    this.started = true;
    this.schedule(0);
  }

  /** Events queued, waiting for a retry or running. */
  get pending(): number {
    return this.events.size;
  }

  /** Resolves once no event is queued or running (events still to be retried count as queued). */
  idle(): Promise<void> {
    if (this.events.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async handle(req: StandInRequest): Promise<StandInResponse | undefined> {
    const match = INVOCATIONS_PATH.exec(req.path);
    if (!match || req.method !== 'POST') return undefined;
    try {
      // Lambda signs as any non-S3 service: the path is encoded once more (an ARN's `%3A` is
      // signed as `%253A`) and the payload hash is computed, not sent.
      const [sentPath, query] = (req.target ?? req.path).split('?');
      const canonicalTarget = sentPath.split('/').map(uriEncode).join('/') + (query !== undefined ? `?${query}` : '');
      verifyRequest(
        { method: req.method, target: canonicalTarget, headers: { 'x-amz-content-sha256': sha256Hex(req.bytes ?? Buffer.from(req.body)), ...req.headers }, body: req.bytes ?? Buffer.from(req.body) },
        this.options.credentials,
        this.options.region,
        Date.now(),
        'lambda',
      );
    } catch (err) {
      if (err instanceof SigV4Error) return restJsonError(403, err.code === 'InvalidAccessKeyId' ? 'UnrecognizedClientException' : 'InvalidSignatureException', err.message);
      throw err;
    }
    // A name, or a (partial) ARN possibly ending in a qualifier (`:$LATEST`).
    const parts = decodeURIComponent(match[1]).split(':');
    const functionIndex = parts.indexOf('function');
    const name = functionIndex >= 0 ? parts[functionIndex + 1] : parts[0];
    const fn = this.byName.get(name);
    if (!fn) return restJsonError(404, 'ResourceNotFoundException', `Function not found: arn:aws:lambda:${this.options.region}:000000000000:function:${name}`);
    const type = req.headers['x-amz-invocation-type'] ?? 'RequestResponse';
    if (type !== 'Event') return restJsonError(400, 'InvalidParameterValueException', `The local Lambda runs asynchronous invocations only (InvocationType Event), not ${type}`);
    const bytes = req.bytes ?? Buffer.from(req.body);
    if (bytes.length > MAX_ASYNC_PAYLOAD_BYTES) {
      return restJsonError(413, 'RequestTooLargeException', `Request must be smaller than ${MAX_ASYNC_PAYLOAD_BYTES} bytes for the InvokeFunction operation`);
    }
    const payload = bytes.toString('utf8');
    try {
      JSON.parse(payload === '' ? '{}' : payload);
    } catch {
      return restJsonError(400, 'InvalidRequestContentException', 'Could not parse request body into json');
    }
    if (this.closed) return restJsonError(503, 'ServiceException', 'The local Lambda is stopping');
    const event: QueuedEvent = { id: randomUUID(), fn: fn.name, payload, receivedAt: Date.now(), attempts: 0, nextAt: Date.now() };
    this.events.set(event.id, event);
    this.record({ op: 'queued', event });
    // Accepted only once on disk: a kill after the 202 cannot lose the event.
    await this.state?.durable();
    this.schedule(0);
    return { status: 202, headers: { 'content-type': 'application/json', 'x-amzn-requestid': event.id }, body: '' };
  }

  /** Stops starting runs and waits for those in flight; the queued events stay on disk for the next start. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.allSettled([...this.inFlight]);
    this.state?.saveNow();
    this.state?.close();
  }

  private record(entry: JournalEntry): void {
    if (this.closed) return;
    this.state?.record(entry);
    this.state?.changed();
  }

  private schedule(delayMs: number): void {
    if (this.closed || !this.started) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.dispatch();
    }, Math.max(0, delayMs));
  }

  private dispatch(): void {
    if (this.closed) return;
    const now = Date.now();
    const max = this.options.maxConcurrency ?? 10;
    let next = Infinity;
    for (const event of this.events.values()) {
      if (this.active.has(event.id)) continue;
      if (event.nextAt > now) {
        next = Math.min(next, event.nextAt);
        continue;
      }
      if ((this.running.get(event.fn) ?? 0) >= max) continue;
      const run = this.attempt(event);
      this.inFlight.add(run);
      void run.finally(() => this.inFlight.delete(run));
    }
    if (next !== Infinity) this.schedule(next - now);
  }

  private async attempt(event: QueuedEvent): Promise<void> {
    const fn = this.byName.get(event.fn);
    this.active.add(event.id);
    this.running.set(event.fn, (this.running.get(event.fn) ?? 0) + 1);
    try {
      if (!fn) return this.finish(event);
      if (Date.now() - event.receivedAt > fn.config.maxEventAgeSeconds * 1000) return await this.fail(fn, event, 'EventAgeExceeded');
      event.attempts += 1;
      this.record({ op: 'attempted', id: event.id, attempts: event.attempts, nextAt: event.nextAt, lastError: event.lastError });
      try {
        await fn.run(JSON.parse(event.payload === '' ? '{}' : event.payload));
        this.finish(event);
      } catch (err) {
        if (this.closed) return;
        event.lastError = { errorType: (err as Error)?.name ?? 'Error', errorMessage: (err as Error)?.message ?? String(err) };
        if (event.attempts > fn.config.retryAttempts) return await this.fail(fn, event, 'RetriesExhausted');
        const delays = this.options.retryDelaysMs ?? LAMBDA_RETRY_DELAYS_MS;
        event.nextAt = Date.now() + (delays[Math.min(event.attempts - 1, delays.length - 1)] ?? 0);
        this.record({ op: 'attempted', id: event.id, attempts: event.attempts, nextAt: event.nextAt, lastError: event.lastError });
        this.options.log?.(`${fn.name}: asynchronous invocation failed (attempt ${event.attempts}), retried in ${event.nextAt - Date.now()} ms: ${event.lastError.errorMessage}`);
      }
    } finally {
      this.active.delete(event.id);
      this.running.set(event.fn, (this.running.get(event.fn) ?? 1) - 1);
      this.schedule(0);
      if (this.events.size === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  private async fail(fn: LocalLambdaFunction, event: QueuedEvent, condition: FailureRecord['requestContext']['condition']): Promise<void> {
    const record: FailureRecord = {
      version: '1.0',
      timestamp: new Date().toISOString(),
      requestContext: { requestId: event.id, functionArn: `${fn.arn}:$LATEST`, condition, approximateInvokeCount: event.attempts },
      requestPayload: JSON.parse(event.payload === '' ? '{}' : event.payload),
      responseContext: { statusCode: 200, executedVersion: '$LATEST', ...(event.lastError ? { functionError: 'Unhandled' as const } : {}) },
      ...(event.lastError ? { responsePayload: event.lastError } : {}),
    };
    this.options.log?.(`${fn.name}: asynchronous invocation sent to the on-failure destination (${condition} after ${event.attempts} attempt(s))`);
    try {
      await this.options.onFailure(fn, record);
    } catch (err) {
      // As on AWS: a destination that cannot take the record loses it.
      this.options.log?.(`${fn.name}: on-failure destination refused the record: ${(err as Error).message}`);
    }
    this.finish(event);
  }

  private finish(event: QueuedEvent): void {
    this.events.delete(event.id);
    this.record({ op: 'done', id: event.id });
  }
}
