/** Reconnect delays: "full jitter" exponential backoff (AWS Architecture Blog), as a pure function. */

export interface BackoffOptions {
  /**
   * Upper bound of the first delay, doubled per failed attempt.
   * @default 500
   */
  minDelayMs: number;
  /**
   * Upper bound no delay exceeds.
   * @default 20000
   */
  maxDelayMs: number;
}

export const defaultBackoff: BackoffOptions = { minDelayMs: 500, maxDelayMs: 20_000 };

/**
 * The delay before reconnect attempt `attempt` (0 for the first retry): uniformly random in
 * `[0, min(maxDelayMs, minDelayMs * 2^attempt))`, so a fleet of clients dropped together
 * does not come back together.
 *
 * @example
 * backoffDelay(3, { minDelayMs: 500, maxDelayMs: 20_000 }, Math.random); // somewhere in [0, 4000)
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const cap = Math.min(options.maxDelayMs, options.minDelayMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * cap);
}
