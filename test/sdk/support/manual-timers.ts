/**
 * Virtual time for the SDK's `Timers` port: nothing fires until the test advances the
 * clock, so timing assertions never depend on the machine's speed.
 */
import type { Timers } from '../../../sdk/src/timers';

interface Entry {
  id: number;
  at: number;
  fn: () => void;
}

export class ManualTimers implements Timers {
  private current: number;
  private nextId = 0;
  private readonly entries = new Map<number, Entry>();

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): number {
    const id = ++this.nextId;
    this.entries.set(id, { id, at: this.current + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.entries.delete(handle as number);
  }

  /** Delays of the timers now pending, from now, soonest first. */
  pendingDelays(): number[] {
    return [...this.entries.values()].map((e) => e.at - this.current).sort((a, b) => a - b);
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order, letting promises settle in between. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      const due = [...this.entries.values()].filter((e) => e.at <= target).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.entries.delete(due.id);
      this.current = due.at;
      due.fn();
      await settle();
    }
    this.current = target;
    await settle();
  }
}

/** Lets pending promise callbacks and already-arrived I/O run (a few macrotask turns, not a wait on time). */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
}
