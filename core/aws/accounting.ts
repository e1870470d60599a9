/**
 * Counts every AWS command the handlers send, per service and command, through an SDK
 * middleware. Tests and benchmarks read the counts to tell what one message costs; a
 * change that adds a request on the message path shows up as a failing assertion. The same
 * middleware runs the request check the local runtime installs (IAM, locally).
 */
import type { MiddlewareStack } from '@smithy/types';
import { traced } from './tracing';

export type RequestCounts = Record<string, Record<string, number>>;

const counts = new Map<string, Map<string, number>>();

function record(service: string, command: string): void {
  let byCommand = counts.get(service);
  if (!byCommand) counts.set(service, (byCommand = new Map()));
  byCommand.set(command, (byCommand.get(command) ?? 0) + 1);
}

/** `DynamoDBClient` → `DynamoDB`, `GetItemCommand` → `GetItem`. */
function serviceOf(clientName: string | undefined): string {
  return (clientName ?? 'Unknown').replace(/Client$/, '');
}

/** DynamoDB capacity units consumed, when metering is on (benchmarks only). */
const capacity = { read: 0, write: 0 };
/** Write units consumed on each global secondary index (`<table>/<index>`), when metering is on. */
const indexWrites = new Map<string, number>();
let meterCapacity = false;
const DYNAMO_READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);
const CONDITIONAL_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem']);

/** What one item read costs at the least (up to 4 KB): half a unit eventually consistent, one strongly. */
const readUnit = (consistent: unknown) => (consistent === true ? 1 : 0.5);

type Input = Record<string, unknown>;
type Output = Record<string, unknown>;

const count = (v: unknown) => (Array.isArray(v) ? v.length : 0);

/**
 * Read units AWS charges that DynamoDB Local reports as none: a key of a BatchGetItem with
 * no item (AWS charges every key read, found or not; keys left unprocessed were not read),
 * and a Query or Scan that found nothing (AWS charges the read all the same).
 */
export function unreportedReadUnits(command: string, input: Input, output: Output, reported: number): number {
  if (command === 'BatchGetItem') {
    const requested = (input.RequestItems ?? {}) as Record<string, { Keys?: unknown[]; ConsistentRead?: unknown }>;
    const responses = (output.Responses ?? {}) as Record<string, unknown>;
    const unprocessed = (output.UnprocessedKeys ?? {}) as Record<string, { Keys?: unknown[] }>;
    let units = 0;
    for (const [table, request] of Object.entries(requested)) {
      const missing = count(request.Keys) - count(responses[table]) - count(unprocessed[table]?.Keys);
      if (missing > 0) units += missing * readUnit(request.ConsistentRead);
    }
    return units;
  }
  if ((command === 'Query' || command === 'Scan') && reported === 0) return readUnit(input.ConsistentRead);
  return 0;
}

function unitsOf(consumed: unknown): number {
  const list = Array.isArray(consumed) ? consumed : consumed ? [consumed] : [];
  return list.reduce((n: number, c: { CapacityUnits?: number }) => n + (c?.CapacityUnits ?? 0), 0);
}

/** Adds the index write units of a write's ConsumedCapacity (asked for with INDEXES). */
function addIndexWrites(consumed: unknown): void {
  const list = (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) as { TableName?: string; GlobalSecondaryIndexes?: Record<string, { CapacityUnits?: number }> }[];
  for (const c of list) {
    for (const [index, used] of Object.entries(c.GlobalSecondaryIndexes ?? {})) {
      const key = `${c.TableName}/${index}`;
      indexWrites.set(key, (indexWrites.get(key) ?? 0) + (used.CapacityUnits ?? 0));
    }
  }
}

function addCapacity(command: string, input: Input, output: Output): void {
  const units = unitsOf(output.ConsumedCapacity);
  if (!DYNAMO_READS.has(command)) addIndexWrites(output.ConsumedCapacity);
  if (DYNAMO_READS.has(command)) capacity.read += units + unreportedReadUnits(command, input, output, units);
  else capacity.write += units;
}

/**
 * A check of each request before it is sent: what IAM decides on AWS. Nothing is
 * installed on AWS; the local runtime installs one that evaluates the calling function's
 * policy (local/iam.ts) and throws AWS's access-denied error for a request it does not allow.
 */
export type RequestCheck = (service: string, command: string, input: Record<string, unknown>) => void;

let requestCheck: RequestCheck | undefined;

/** Installs (or, with undefined, removes) the check every client's requests go through. */
export function setRequestCheck(check: RequestCheck | undefined): void {
  requestCheck = check;
}

/**
 * Checks a request signed without an SDK command (a presigned POST upload, which allows a
 * PutObject) as if that command were sent.
 */
export function checkRequest(service: string, command: string, input: Record<string, unknown>): void {
  requestCheck?.(service, command, input);
}

/**
 * Counts and checks a request sent without an SDK client (Parameter Store's GetParameter,
 * core/aws/parameters.ts) as the middleware below does an SDK command's.
 */
export function sentRequest(service: string, command: string, input: Record<string, unknown>): void {
  record(service, command);
  requestCheck?.(service, command, input);
}

const commandOf = (context: { commandName?: string }) => String(context.commandName ?? 'Unknown').replace(/Command$/, '');

/**
 * Adds the request check alone, for a client whose requests are signed but not sent
 * (the presigner: a URL signed for an action the role may not take is refused by S3).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function checkRequests<C extends { middlewareStack: MiddlewareStack<any, any> }>(client: C): C {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      requestCheck?.(serviceOf(context.clientName), commandOf(context), args.input as Record<string, unknown>);
      return next(args);
    },
    { step: 'initialize', name: 'cirrusRequestCheck', override: true },
  );
  return client;
}

/** Adds the counting middleware (and the request check) to a client; returns the client. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function countRequests<C extends { middlewareStack: MiddlewareStack<any, any> }>(client: C): C {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const service = serviceOf(context.clientName);
      const command = commandOf(context);
      record(service, command);
      requestCheck?.(service, command, args.input as Record<string, unknown>);
      if (!meterCapacity || service !== 'DynamoDB') return next(args);
      const input = args.input as Input;
      // INDEXES: the same total, with the part each global secondary index consumed.
      input.ReturnConsumedCapacity ??= 'INDEXES';
      let result;
      try {
        result = await next(args);
      } catch (err) {
        // A write whose condition fails still costs at least one write unit on AWS (more for a
        // larger item); DynamoDB Local's error reports nothing.
        if (CONDITIONAL_WRITES.has(command) && (err as Error).name === 'ConditionalCheckFailedException') capacity.write += 1;
        throw err;
      }
      addCapacity(command, input, result.output as Output);
      return result;
    },
    { step: 'initialize', name: 'cirrusRequestCounter', override: true },
  );
  return traced(client);
}

export const awsRequests = {
  /** A copy of the counts so far. */
  snapshot(): RequestCounts {
    const out: RequestCounts = {};
    for (const [service, byCommand] of counts) out[service] = Object.fromEntries(byCommand);
    return out;
  },
  /** Requests per service since `before` (a snapshot), omitting services with none. */
  since(before: RequestCounts): RequestCounts {
    const now = this.snapshot();
    const out: RequestCounts = {};
    for (const [service, byCommand] of Object.entries(now)) {
      for (const [command, n] of Object.entries(byCommand)) {
        const delta = n - (before[service]?.[command] ?? 0);
        if (delta > 0) (out[service] ??= {})[command] = delta;
      }
    }
    return out;
  },
  reset(): void {
    counts.clear();
  },
  /**
   * Asks DynamoDB for the capacity each request consumed (ReturnConsumedCapacity INDEXES)
   * and sums it, reads and writes apart, and the writes of each index. Off unless a benchmark turns it on.
   */
  meterCapacity(on: boolean): void {
    meterCapacity = on;
  },
  capacity(): { read: number; write: number } {
    return { ...capacity };
  },
  /** Write units consumed on each global secondary index so far, keyed `<table name>/<index name>`. */
  indexWrites(): Record<string, number> {
    return Object.fromEntries(indexWrites);
  },
};
