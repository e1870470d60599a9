/**
 * The figures the CloudWatch dashboard (lib/monitoring.ts) shows, as the local runtime sees
 * them, since it started: per function invocations, errors (the handler threw or timed out,
 * as Lambda's `Errors`), throttles and durations; API Gateway's WebSocket messages, connects,
 * integration and execution errors and the HTTP API's requests, 4xx and 5xx; DynamoDB requests
 * per table; the stream consumers' iterator age (the archive's lag); and the custom metrics the
 * functions print in CloudWatch's embedded metric format (EMF), parsed from their output as
 * CloudWatch Logs does. Queue depths and ages are read from the SQS stand-in when asked
 * (`GET /local/metrics`, the admin console's Metrics view).
 *
 * What the local runtime cannot show: Lambda and DynamoDB throttles (nothing local throttles:
 * no account concurrency, DynamoDB Local has no partitions), consumed capacity units (only with
 * request accounting's capacity metering) and Aurora's capacity (PGlite has none).
 */
import { format } from 'node:util';
import type { FunctionKey } from '../core/manifest';

/** Keeps the last durations of each function for its percentiles. */
const MAX_SAMPLES = 10_000;

export interface FunctionFigures {
  invocations: number;
  errors: number;
  throttles: number;
  /** Milliseconds. */
  durationAvg: number;
  durationP99: number;
  durationMax: number;
}

export interface CustomMetric {
  namespace: string;
  name: string;
  unit: string;
  /** Dimension name → value, of one of the EMF line's dimension sets (each is a metric of its own). */
  dimensions: Record<string, string>;
  /** Which function printed it. */
  function: string;
  count: number;
  sum: number;
  min: number;
  max: number;
}

interface FunctionState {
  invocations: number;
  errors: number;
  throttles: number;
  totalMs: number;
  maxMs: number;
  samples: number[];
}

interface State {
  since: number;
  functions: Map<string, FunctionState>;
  ws: { messagesIn: number; messagesOut: number; connects: number; integrationErrors: number; executionErrors: number; clientErrors: number };
  http: { requests: number; status4xx: number; status5xx: number };
  tables: Map<string, { reads: number; writes: number; throttles: number }>;
  streams: Map<string, { batches: number; lastAgeMs: number; maxAgeMs: number }>;
  custom: Map<string, CustomMetric>;
}

const fresh = (): State => ({
  since: Date.now(),
  functions: new Map(),
  ws: { messagesIn: 0, messagesOut: 0, connects: 0, integrationErrors: 0, executionErrors: 0, clientErrors: 0 },
  http: { requests: 0, status4xx: 0, status5xx: 0 },
  tables: new Map(),
  streams: new Map(),
  custom: new Map(),
});

let state = fresh();

const READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

function fnState(fn: string): FunctionState {
  let s = state.functions.get(fn);
  if (!s) state.functions.set(fn, (s = { invocations: 0, errors: 0, throttles: 0, totalMs: 0, maxMs: 0, samples: [] }));
  return s;
}

function tableState(table: string) {
  let t = state.tables.get(table);
  if (!t) state.tables.set(table, (t = { reads: 0, writes: 0, throttles: 0 }));
  return t;
}

/** The tables a DynamoDB request names (one, or each of a batch's or transaction's). */
function tablesOf(input: Record<string, unknown>): string[] {
  if (typeof input.TableName === 'string') return [input.TableName];
  if (input.RequestItems && typeof input.RequestItems === 'object') return Object.keys(input.RequestItems);
  if (Array.isArray(input.TransactItems)) {
    return (input.TransactItems as Record<string, { TableName?: string }>[]).map((item) => Object.values(item)[0]?.TableName).filter((t): t is string => typeof t === 'string');
  }
  return [];
}

const percentile = (sorted: readonly number[], p: number) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]);

/**
 * The metrics of one EMF document (`_aws.CloudWatchMetrics`: namespaces, dimension sets, metric
 * definitions; the values are the document's members of the same names, a number or an array of
 * numbers), or none when the line is not one.
 */
export function parseEmf(line: string): { namespace: string; name: string; unit: string; dimensions: Record<string, string>; values: number[] }[] {
  if (!line.includes('"_aws"')) return [];
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return [];
  }
  const aws = doc?._aws as { CloudWatchMetrics?: unknown } | undefined;
  if (!aws || !Array.isArray(aws.CloudWatchMetrics)) return [];
  const out: ReturnType<typeof parseEmf> = [];
  for (const directive of aws.CloudWatchMetrics as { Namespace?: unknown; Dimensions?: unknown; Metrics?: unknown }[]) {
    if (typeof directive?.Namespace !== 'string' || !Array.isArray(directive.Metrics)) continue;
    // Each dimension set is a metric of its own in CloudWatch (none: the metric without dimensions).
    const sets = Array.isArray(directive.Dimensions) && directive.Dimensions.length > 0 ? (directive.Dimensions as unknown[]).filter(Array.isArray) : [[]];
    for (const metric of directive.Metrics as { Name?: unknown; Unit?: unknown }[]) {
      if (typeof metric?.Name !== 'string') continue;
      const raw = doc[metric.Name];
      const values = (Array.isArray(raw) ? raw : [raw]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
      if (values.length === 0) continue;
      for (const set of sets as unknown[][]) {
        const dimensions: Record<string, string> = {};
        for (const d of set) if (typeof d === 'string' && doc[d] !== undefined) dimensions[d] = String(doc[d]);
        out.push({ namespace: directive.Namespace, name: metric.Name, unit: typeof metric.Unit === 'string' ? metric.Unit : 'None', dimensions, values });
      }
    }
  }
  return out;
}

export const localMetrics = {
  reset(): void {
    state = fresh();
  },
  invoked(fn: FunctionKey, ms: number, failed: boolean): void {
    const s = fnState(fn);
    s.invocations++;
    if (failed) s.errors++;
    s.totalMs += ms;
    s.maxMs = Math.max(s.maxMs, ms);
    if (s.samples.length >= MAX_SAMPLES) s.samples.shift();
    s.samples.push(ms);
  },
  wsReceived(): void {
    state.ws.messagesIn++;
  },
  wsSent(): void {
    state.ws.messagesOut++;
  },
  connected(): void {
    state.ws.connects++;
  },
  /** A route's function failed (threw, timed out): API Gateway's IntegrationError. */
  wsIntegrationError(): void {
    state.ws.integrationErrors++;
  },
  /** A $connect refused by the authorizer or the function: a client error (4xx). */
  wsClientError(): void {
    state.ws.clientErrors++;
  },
  httpAnswered(status: number): void {
    state.http.requests++;
    if (status >= 500) state.http.status5xx++;
    else if (status >= 400) state.http.status4xx++;
  },
  /** Every AWS request a function sends (seen by the local IAM check): DynamoDB's per table. */
  request(service: string, command: string, input: Record<string, unknown>): void {
    if (service !== 'DynamoDB') return;
    for (const table of tablesOf(input)) {
      const t = tableState(table);
      if (READS.has(command)) t.reads++;
      else if (WRITES.has(command)) t.writes++;
    }
  },
  /**
   * A stream batch delivered to its consumer: Lambda's IteratorAge, the age of its last record.
   * DynamoDB Local rounds a record's creation time down to the minute (AWS to the second): a
   * record read less than a minute after that time was written when the stream was last polled
   * without it, so its age counts from its reading (to within the 250 ms poll); an older one
   * from its creation time.
   */
  streamBatch(consumer: string, lastRecordCreatedSeconds: number | undefined, lastReadAt: number): void {
    let s = state.streams.get(consumer);
    if (!s) state.streams.set(consumer, (s = { batches: 0, lastAgeMs: 0, maxAgeMs: 0 }));
    s.batches++;
    const createdMs = lastRecordCreatedSeconds === undefined ? lastReadAt : lastRecordCreatedSeconds * 1000;
    const since = lastReadAt - createdMs < 60_000 ? Math.max(createdMs, lastReadAt) : createdMs;
    const age = Math.max(0, Date.now() - since);
    s.lastAgeMs = age;
    s.maxAgeMs = Math.max(s.maxAgeMs, age);
  },
  /** What a function printed: each EMF document's metrics are recorded, under the function. */
  printed(fn: string, text: string): void {
    for (const line of text.split('\n')) {
      for (const m of parseEmf(line)) {
        const dims = Object.entries(m.dimensions)
          .map(([k, v]) => `${k}=${v}`)
          .join(',');
        const key = `${m.namespace}|${m.name}|${dims}|${fn}`;
        let c = state.custom.get(key);
        if (!c) state.custom.set(key, (c = { namespace: m.namespace, name: m.name, unit: m.unit, dimensions: m.dimensions, function: fn, count: 0, sum: 0, min: Infinity, max: -Infinity }));
        for (const v of m.values) {
          c.count++;
          c.sum += v;
          c.min = Math.min(c.min, v);
          c.max = Math.max(c.max, v);
        }
      }
    }
  },
  snapshot() {
    const functions: Record<string, FunctionFigures> = {};
    for (const [fn, s] of [...state.functions].sort(([a], [b]) => a.localeCompare(b))) {
      const sorted = [...s.samples].sort((a, b) => a - b);
      functions[fn] = {
        invocations: s.invocations,
        errors: s.errors,
        throttles: s.throttles,
        durationAvg: s.invocations ? s.totalMs / s.invocations : 0,
        durationP99: percentile(sorted, 99),
        durationMax: s.maxMs,
      };
    }
    return {
      since: state.since,
      functions,
      webSocket: { ...state.ws, messages: state.ws.messagesIn + state.ws.messagesOut },
      http: { ...state.http },
      tables: Object.fromEntries([...state.tables].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, { ...v }])),
      streams: Object.fromEntries([...state.streams].map(([k, v]) => [k, { ...v }])),
      custom: [...state.custom.values()].map((c) => ({ ...c })),
    };
  },
};

let restore: (() => void) | undefined;

/**
 * Reads what the functions print (they share the process's stdout, as on Lambda they share
 * their log stream with CloudWatch) for EMF documents, attributing each to the function whose
 * invocation printed it: writes to stdout (a Console of its own, as Powertools builds on Lambda)
 * and the global console's log and info (which a test runner may take over). Returns the undo.
 */
export function captureEmf(runningFunction: () => string | undefined): () => void {
  restore?.();
  const originalWrite = process.stdout.write;
  const originalLog = console.log;
  const originalInfo = console.info;
  // While the global console writes, its stdout write is the same line: counted once.
  let inConsole = false;
  const seen = (text: string) => {
    const fn = runningFunction();
    if (fn && text.includes('"_aws"')) localMetrics.printed(fn, text);
  };
  const write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
    if (!inConsole && (typeof chunk === 'string' || Buffer.isBuffer(chunk))) seen(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
    return (originalWrite as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  };
  const wrapConsole = (original: (...args: unknown[]) => void) =>
    function (this: Console, ...args: unknown[]): void {
      seen(format(...args));
      inConsole = true;
      try {
        original.apply(this, args);
      } finally {
        inConsole = false;
      }
    };
  const log = wrapConsole(originalLog);
  const info = wrapConsole(originalInfo);
  process.stdout.write = write as typeof process.stdout.write;
  console.log = log;
  console.info = info;
  const undo = () => {
    if (process.stdout.write === write) process.stdout.write = originalWrite;
    if (console.log === log) console.log = originalLog;
    if (console.info === info) console.info = originalInfo;
    if (restore === undo) restore = undefined;
  };
  restore = undo;
  return undo;
}
