/** The online index's shard choice and receive-option rule (core/store/group-online.ts). */
import { describe, expect, it } from 'vitest';
import { shardOf, shardsFor, stricter } from '../../core/store/group-online';

describe('the group online index', () => {
  it('uses 1 shard below 2,000 members, 8 up to 20,000 and 64 above', () => {
    expect([199, 1_999, 2_000, 19_999, 20_000, 100_000].map(shardsFor)).toEqual([1, 1, 8, 8, 64, 64]);
  });

  it('spreads users evenly over the shards, each always to the same one', () => {
    const counts = new Array(64).fill(0);
    for (let i = 0; i < 64_000; i++) counts[shardOf(`user-${i}`, 64)]++;
    expect(Math.min(...counts)).toBeGreaterThan(800);
    expect(Math.max(...counts)).toBeLessThan(1200);
    expect(shardOf('alice', 8)).toBe(shardOf('alice', 8));
    expect(shardOf('alice', 1)).toBe(0);
  });

  it('keeps the stricter receive option: do not receive, then silently, then receive', () => {
    expect(stricter(0, 0)).toBe(0);
    expect(stricter(undefined, 2)).toBe(2);
    expect(stricter(2, 0)).toBe(2);
    expect(stricter(2, 1)).toBe(1);
    expect(stricter(1, undefined)).toBe(1);
  });
});
