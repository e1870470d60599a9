/** The pure parts of the claims on the counter (core/domain/claims.ts). */
import { describe, expect, it } from 'vitest';
import { CLAIM_WINDOW, claimHash, claimSenders, claimsOnCounter, claimsToDrop, counterMembers, ownSeqOnCounter } from '../../core/domain/claims';

describe('claims on the counter', () => {
  it('hash a clientMsgId to 8 stable base64url characters', () => {
    expect(claimHash('abc')).toMatch(/^[A-Za-z0-9_-]{8}$/);
    expect(claimHash('abc')).toBe(claimHash('abc'));
    expect(claimHash('abc')).not.toBe(claimHash('abd'));
  });

  it('drop the oldest entries so that one more makes CLAIM_WINDOW', () => {
    const full = Object.fromEntries(Array.from({ length: CLAIM_WINDOW }, (_, i) => [`h${i}`, 10 + i]));
    expect(claimsToDrop(full)).toEqual(['h0']);
    const over = { ...full, x: 1, y: 2 };
    expect(claimsToDrop(over)).toEqual(['x', 'y', 'h0']);
    expect(claimsToDrop({ a: 3 })).toEqual([]);
    expect(claimsToDrop(undefined)).toEqual([]);
  });

  it("read a user's own position as the highest seq of their claims", () => {
    expect(ownSeqOnCounter({ 'c#u': { a: 4, b: 9, c: 7 }, 'c#v': { d: 12 } }, 'u')).toBe(9);
    expect(ownSeqOnCounter({ maxSeq: 3 }, 'u')).toBe(0);
    expect(ownSeqOnCounter(undefined, 'u')).toBe(0);
  });

  it('apply to 1:1 and notification conversations only', () => {
    expect(claimsOnCounter('si_a_b')).toBe(true);
    expect(claimsOnCounter('n_a')).toBe(true);
    expect(claimsOnCounter('sg_g')).toBe(false);
    expect(counterMembers('si_a_b')).toEqual(['a', 'b']);
    expect(counterMembers('si_a_a')).toEqual(['a']);
    expect(claimSenders('n_a')).toEqual(['system']);
  });
});
