/** The limits' settings and the token buckets each container keeps (core/domain/limits.ts, core/services/limits.ts). */
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, validateLimits } from '../../core/domain/limits';
import { take } from '../../core/services/limits';

describe('validateLimits', () => {
  it('fills what is left out with the defaults', () => {
    expect(validateLimits({})).toEqual(DEFAULT_LIMITS);
    expect(validateLimits({ http: { burst: 7 }, window: { throttleSeconds: 5 } })).toEqual({ ...DEFAULT_LIMITS, http: { perSecond: DEFAULT_LIMITS.http.perSecond, burst: 7 }, window: { ...DEFAULT_LIMITS.window, throttleSeconds: 5 } });
  });

  it.each([
    [[], /^limits must be an object$/],
    [{ user: { perSecond: 'fast' } }, /^limits.user.perSecond must be a number/],
    [{ user: { rate: 1 } }, /^limits.user has unknown fields: rate$/],
    [{ window: { messages: -1 } }, /^limits.window.messages must be a whole number from 0 to 1000000; got -1$/],
    [{ window: { throttleSeconds: 86_401 } }, /^limits.window.throttleSeconds must be/],
  ])('refuses %j with a sentence naming the field', (value, message) => {
    expect(() => validateLimits(value)).toThrow(message);
  });
});

describe('take', () => {
  const limit = { perSecond: 2, burst: 3 };

  it('gives the burst at once, then one token per 1/perSecond, and says how long to wait', () => {
    const t0 = 1_000_000;
    expect([0, 1, 2].map(() => take([{ key: 'unit-a', limit }], t0))).toEqual([0, 0, 0]);
    expect(take([{ key: 'unit-a', limit }], t0)).toBe(500);
    expect(take([{ key: 'unit-a', limit }], t0 + 200)).toBe(300);
    expect(take([{ key: 'unit-a', limit }], t0 + 500)).toBe(0);
    expect(take([{ key: 'unit-a', limit }], t0 + 500)).toBe(500);
  });

  it('takes from every bucket or from none: a refusal by one leaves the others as they were', () => {
    const t0 = 2_000_000;
    const small = { perSecond: 1, burst: 1 };
    expect(take([{ key: 'unit-conn', limit: small }, { key: 'unit-user', limit }], t0)).toBe(0);
    // The connection is empty: refused, and the user's bucket keeps its 2 tokens.
    expect(take([{ key: 'unit-conn', limit: small }, { key: 'unit-user', limit }], t0)).toBe(1000);
    expect(take([{ key: 'unit-user', limit }], t0)).toBe(0);
    expect(take([{ key: 'unit-user', limit }], t0)).toBe(0);
    expect(take([{ key: 'unit-user', limit }], t0)).toBe(500);
  });

  it('ignores a bucket whose rate is 0 (that limit is off)', () => {
    const off = { perSecond: 0, burst: 1 };
    for (let i = 0; i < 10; i += 1) expect(take([{ key: 'unit-off', limit: off }], 3_000_000)).toBe(0);
  });
});
