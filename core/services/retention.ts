/**
 * The retention run (the `retention` function, on its schedule): purges the history of every
 * conversation past its retention, in batches, until none is left or the invocation's time is
 * nearly up; the next run continues. See core/history/retention.ts.
 */
import { config } from '../config';
import { historyRetention } from '../history/retention';
import { log } from '../log';

/** Conversations looked up per round, and messages deleted per transaction. */
export const RETENTION_CONVERSATIONS = 100;
export const RETENTION_BATCH = 1000;

export interface RetentionResult {
  /** History rows deleted. */
  purged: number;
  /** Conversations purged (a conversation purged in several batches counts once per batch). */
  batches: number;
  /** false: stopped for time; the next run continues. */
  done: boolean;
}

export async function runRetention(options: { now?: number; remainingMs: () => number }): Promise<RetentionResult> {
  const now = options.now ?? Date.now();
  const defaultDays = config.historyRetentionDays();
  const result: RetentionResult = { purged: 0, batches: 0, done: false };
  // Stop with room for one more batch within the invocation.
  const enough = () => options.remainingMs() < 20_000;
  for (;;) {
    const due = await historyRetention.due(now, defaultDays, RETENTION_CONVERSATIONS);
    if (due.length === 0) {
      result.done = true;
      break;
    }
    for (const { conversationId, cutoff } of due) {
      if (enough()) break;
      result.purged += await historyRetention.purgeBefore(conversationId, cutoff, RETENTION_BATCH);
      result.batches++;
    }
    if (enough()) break;
  }
  log.info('retention run', { ...result, historyRetentionDays: defaultDays ?? null });
  return result;
}
