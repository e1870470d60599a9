/**
 * Counts every AWS command the handlers send, per service and command, through an SDK
 * middleware. Tests and benchmarks read the counts to tell what one message costs; a
 * change that adds a request on the message path shows up as a failing assertion.
 */
import type { MiddlewareStack } from '@smithy/types';

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
let meterCapacity = false;
const DYNAMO_READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);

function addCapacity(command: string, consumed: unknown): void {
  const list = Array.isArray(consumed) ? consumed : consumed ? [consumed] : [];
  const units = list.reduce((n: number, c: { CapacityUnits?: number }) => n + (c?.CapacityUnits ?? 0), 0);
  if (DYNAMO_READS.has(command)) capacity.read += units;
  else capacity.write += units;
}

/** Adds the counting middleware to a client; returns the client. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function countRequests<C extends { middlewareStack: MiddlewareStack<any, any> }>(client: C): C {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const service = serviceOf(context.clientName);
      const command = String(context.commandName ?? 'Unknown').replace(/Command$/, '');
      record(service, command);
      if (!meterCapacity || service !== 'DynamoDB') return next(args);
      (args.input as Record<string, unknown>).ReturnConsumedCapacity ??= 'TOTAL';
      const result = await next(args);
      addCapacity(command, (result.output as { ConsumedCapacity?: unknown }).ConsumedCapacity);
      return result;
    },
    { step: 'initialize', name: 'cirrusRequestCounter', override: true },
  );
  return client;
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
   * Asks DynamoDB for the capacity each request consumed (ReturnConsumedCapacity TOTAL)
   * and sums it, reads and writes apart. Off unless a benchmark turns it on.
   */
  meterCapacity(on: boolean): void {
    meterCapacity = on;
  },
  capacity(): { read: number; write: number } {
    return { ...capacity };
  },
};
