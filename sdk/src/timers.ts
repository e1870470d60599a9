/**
 * Time as a port: every delay the SDK waits for (backoff, heartbeat, rotation, token
 * refresh, pending seqs) goes through `Timers`, so tests drive time by hand instead of
 * waiting on the machine's clock.
 */
export type TimerHandle = unknown;

export interface Timers {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /** ms since the epoch. */
  now(): number;
}

export const realTimers: Timers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
  now: () => Date.now(),
};
