/**
 * The limits against abuse, as a deployment sets them (`limits` prop, LIMITS setting): how
 * fast one connection, one user and one HTTP caller may go, how often a connection may send
 * typing indicators, and when the archive function
 * throttles a user across every container. Checked the same way by the stack at synth, by
 * the local runtime at start and by the functions when they read the setting.
 */

/** A token bucket: `perSecond` tokens flow in, up to `burst` kept. 0 per second: no limit. */
export interface RateLimit {
  perSecond: number;
  burst: number;
}

export interface LimitSettings {
  /** Sends (sendMsg) and changes of messages (editMsg, revokeMsg, deleteMsg, reactMsg) over one WebSocket connection, held by the function's container. */
  connection: RateLimit;
  /** Sends by one user (sendMsg and changes of messages on any connection, POST /messages as the user), held by each container. */
  user: RateLimit;
  /**
   * Held across containers: a user who sends more than `messages` messages within `seconds`
   * (counted by the archive function on the Messages stream) is refused every send for
   * `throttleSeconds`. 0 messages: off.
   */
  window: { messages: number; seconds: number; throttleSeconds: number };
  /** HTTP API requests per caller: a user token's user, or the source address of a request without a token; admin tokens are not limited. */
  http: RateLimit;
  /** Typing indicators (the `typing` action) over one WebSocket connection, held by the function's container: they store nothing. */
  typing: RateLimit;
}

export const DEFAULT_LIMITS: LimitSettings = {
  connection: { perSecond: 5, burst: 20 },
  user: { perSecond: 10, burst: 40 },
  window: { messages: 300, seconds: 60, throttleSeconds: 60 },
  http: { perSecond: 20, burst: 100 },
  typing: { perSecond: 1, burst: 5 },
};

/** The partition prefix of the HTTP callers' shared counts in Sessions: no user id starts with a symbol. */
export const HTTP_CALLER_PARTITION = '#http|';

/** Longest slow mode a group may set: one day. */
export const MAX_SLOW_MODE_SECONDS = 86_400;

function rate(value: unknown, fallback: RateLimit, where: string): RateLimit {
  if (value === undefined) return { ...fallback };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${where} must be an object { perSecond, burst }`);
  const { perSecond = fallback.perSecond, burst = fallback.burst, ...rest } = value as Partial<RateLimit>;
  if (Object.keys(rest).length) throw new Error(`${where} has unknown fields: ${Object.keys(rest).join(', ')}`);
  if (typeof perSecond !== 'number' || !Number.isFinite(perSecond) || perSecond < 0 || perSecond > 100_000) throw new Error(`${where}.perSecond must be a number from 0 (no limit) to 100000; got ${String(perSecond)}`);
  if (typeof burst !== 'number' || !Number.isInteger(burst) || burst < 1 || burst > 1_000_000) throw new Error(`${where}.burst must be a whole number from 1 to 1000000; got ${String(burst)}`);
  return { perSecond, burst };
}

const whole = (value: unknown, min: number, max: number, where: string): number => {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw new Error(`${where} must be a whole number from ${min} to ${max}; got ${String(value)}`);
  return value;
};

/** The full settings from a partial object (missing fields take the defaults); throws on anything else. */
export function validateLimits(value: unknown, where = 'limits'): LimitSettings {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${where} must be an object`);
  const { connection, user, window, http, typing, ...rest } = value as Partial<Record<keyof LimitSettings, unknown>>;
  if (Object.keys(rest).length) throw new Error(`${where} has unknown fields: ${Object.keys(rest).join(', ')}`);
  let w = { ...DEFAULT_LIMITS.window };
  if (window !== undefined) {
    if (window === null || typeof window !== 'object' || Array.isArray(window)) throw new Error(`${where}.window must be an object { messages, seconds, throttleSeconds }`);
    const { messages = w.messages, seconds = w.seconds, throttleSeconds = w.throttleSeconds, ...more } = window as Partial<LimitSettings['window']>;
    if (Object.keys(more).length) throw new Error(`${where}.window has unknown fields: ${Object.keys(more).join(', ')}`);
    w = {
      messages: whole(messages, 0, 1_000_000, `${where}.window.messages`),
      seconds: whole(seconds, 1, 3600, `${where}.window.seconds`),
      throttleSeconds: whole(throttleSeconds, 1, 86_400, `${where}.window.throttleSeconds`),
    };
  }
  return {
    connection: rate(connection, DEFAULT_LIMITS.connection, `${where}.connection`),
    user: rate(user, DEFAULT_LIMITS.user, `${where}.user`),
    window: w,
    http: rate(http, DEFAULT_LIMITS.http, `${where}.http`),
    typing: rate(typing, DEFAULT_LIMITS.typing, `${where}.typing`),
  };
}
