import { describe, expect, it } from 'vitest';
import { conflicts, connectionsToKick, isLoginPolicy, LOGIN_POLICIES, platformClass, type LoginConnection } from '../../core/domain/login-policy';

/** One connection per platform id given, connected in that order (ids c1, c2, … by position). */
const conns = (...platformIds: number[]): LoginConnection[] => platformIds.map((platformId, i) => ({ connectionId: `c${i + 1}`, platformId, connectedAtMs: 1000 + i }));
const kicked = (policy: (typeof LOGIN_POLICIES)[number], existing: LoginConnection[], platformId: number) => {
  const fresh: LoginConnection = { connectionId: 'new', platformId, connectedAtMs: 5000 };
  return connectionsToKick(policy, fresh, [...existing, fresh]).map((c) => c.connectionId);
};

describe('platformClass', () => {
  it('groups platforms as OpenIM does', () => {
    expect([3, 4, 7].map(platformClass)).toEqual(['pc', 'pc', 'pc']);
    expect([1, 2, 11].map(platformClass)).toEqual(['mobile', 'mobile', 'mobile']);
    expect([8, 9].map(platformClass)).toEqual(['pad', 'pad']);
    expect([5, 6].map(platformClass)).toEqual(['web', 'web']);
    expect(platformClass(10)).toBe('admin');
  });

  it('puts an unknown platform id in a class of its own', () => {
    expect(platformClass(42)).toBe('platform:42');
    expect(conflicts('onePerClass', 42, 43)).toBe(false);
    expect(conflicts('onePerClass', 42, 42)).toBe(true);
  });
});

describe('isLoginPolicy', () => {
  it('accepts the four policies only', () => {
    for (const p of LOGIN_POLICIES) expect(isLoginPolicy(p)).toBe(true);
    expect(isLoginPolicy('one')).toBe(false);
    expect(isLoginPolicy(undefined)).toBe(false);
  });
});

describe('connectionsToKick', () => {
  // iOS, Android, Windows, macOS, Web, iPad, Admin
  const existing = conns(1, 2, 3, 4, 5, 9, 10);

  it('multiple: never kicks', () => {
    for (const p of [1, 2, 3, 5, 9, 10]) expect(kicked('multiple', existing, p)).toEqual([]);
  });

  it('onePerPlatform: kicks the connections on the same platform id only', () => {
    expect(kicked('onePerPlatform', existing, 1)).toEqual(['c1']);
    expect(kicked('onePerPlatform', existing, 4)).toEqual(['c4']);
    expect(kicked('onePerPlatform', existing, 7)).toEqual([]);
    expect(kicked('onePerPlatform', conns(5, 5, 6), 5)).toEqual(['c1', 'c2']);
  });

  it('onePerClass: kicks the connections of the same class', () => {
    expect(kicked('onePerClass', existing, 11)).toEqual(['c1', 'c2']); // HarmonyOS: mobile
    expect(kicked('onePerClass', existing, 7)).toEqual(['c3', 'c4']); // Linux: pc
    expect(kicked('onePerClass', existing, 6)).toEqual(['c5']); // MiniWeb: web
    expect(kicked('onePerClass', existing, 8)).toEqual(['c6']); // AndroidPad: pad
    expect(kicked('onePerClass', existing, 10)).toEqual(['c7']); // admin
  });

  it('pcUnlimited: PC connections never kick nor get kicked; a non-PC one kicks the other non-PC ones', () => {
    expect(kicked('pcUnlimited', existing, 3)).toEqual([]);
    expect(kicked('pcUnlimited', existing, 7)).toEqual([]);
    expect(kicked('pcUnlimited', existing, 5)).toEqual(['c1', 'c2', 'c5', 'c6', 'c7']);
    expect(kicked('pcUnlimited', conns(3, 4, 7), 1)).toEqual([]);
  });

  it('never kicks the new connection itself, even when listed', () => {
    const fresh: LoginConnection = { connectionId: 'new', platformId: 1 };
    expect(connectionsToKick('onePerPlatform', fresh, [fresh])).toEqual([]);
  });

  it('lets the newest connection win a race: a connection that opened later is not kicked', () => {
    const a: LoginConnection = { connectionId: 'a', platformId: 1, connectedAtMs: 1000 };
    const b: LoginConnection = { connectionId: 'b', platformId: 1, connectedAtMs: 1001 };
    expect(connectionsToKick('onePerPlatform', a, [a, b])).toEqual([]);
    expect(connectionsToKick('onePerPlatform', b, [a, b])).toEqual([a]);
    // The same millisecond: the connection id breaks the tie, so exactly one survives.
    const c: LoginConnection = { connectionId: 'c', platformId: 1, connectedAtMs: 1000 };
    expect(connectionsToKick('onePerPlatform', a, [a, c])).toEqual([]);
    expect(connectionsToKick('onePerPlatform', c, [a, c])).toEqual([a]);
  });

  it('treats a connection without an open time as older', () => {
    const old: LoginConnection = { connectionId: 'z', platformId: 2 };
    expect(connectionsToKick('onePerPlatform', { connectionId: 'a', platformId: 2, connectedAtMs: 1 }, [old])).toEqual([old]);
  });
});
