/**
 * What the local runtime saw that AWS would bill and the request accounting cannot count:
 * Lambda invocations with their durations, and API Gateway WebSocket messages (billed per
 * 32 KB unit, in both directions: frames from clients, route responses, and
 * @connections posts). Benchmarks read it through snapshots, as with `awsRequests`.
 */
import type { FunctionKey } from '../core/manifest';

/** API Gateway bills WebSocket messages in 32 KB increments. */
const UNIT = 32 * 1024;
const units = (bytes: number) => Math.max(1, Math.ceil(bytes / UNIT));

export interface MeterSnapshot {
  invocations: Partial<Record<FunctionKey, { count: number; totalMs: number }>>;
  /** Billed WebSocket message units: received from clients, and sent (route responses + posts). */
  wsIn: number;
  wsOut: number;
  connects: number;
}

let state: MeterSnapshot = { invocations: {}, wsIn: 0, wsOut: 0, connects: 0 };
/** Individual durations per function (ms), for percentiles; capped so long runs stay small. */
const durations = new Map<FunctionKey, number[]>();
const MAX_SAMPLES = 100_000;

export const metering = {
  invoked(fn: FunctionKey, ms: number): void {
    const entry = (state.invocations[fn] ??= { count: 0, totalMs: 0 });
    entry.count++;
    entry.totalMs += ms;
    let list = durations.get(fn);
    if (!list) durations.set(fn, (list = []));
    if (list.length < MAX_SAMPLES) list.push(ms);
  },
  received(bytes: number): void {
    state.wsIn += units(bytes);
  },
  sent(bytes: number): void {
    state.wsOut += units(bytes);
  },
  connected(): void {
    state.connects++;
  },
  snapshot(): MeterSnapshot {
    return structuredClone(state);
  },
  since(before: MeterSnapshot): MeterSnapshot {
    const now = this.snapshot();
    const invocations: MeterSnapshot['invocations'] = {};
    for (const [fn, v] of Object.entries(now.invocations) as [FunctionKey, { count: number; totalMs: number }][]) {
      const b = before.invocations[fn] ?? { count: 0, totalMs: 0 };
      if (v.count > b.count) invocations[fn] = { count: v.count - b.count, totalMs: v.totalMs - b.totalMs };
    }
    return { invocations, wsIn: now.wsIn - before.wsIn, wsOut: now.wsOut - before.wsOut, connects: now.connects - before.connects };
  },
  durations(fn: FunctionKey): readonly number[] {
    return durations.get(fn) ?? [];
  },
  reset(): void {
    state = { invocations: {}, wsIn: 0, wsOut: 0, connects: 0 };
    durations.clear();
  },
};
