import { describe, expect, it } from 'vitest';
import { classifyMissing } from '../../core/domain/holes';

const base = { now: 100_000, settleMs: 30_000, expired: [] as number[] };

describe('classifyMissing', () => {
  it('reports nothing when every seq is present', () => {
    const r = classifyMissing({ ...base, fromSeq: 1, toSeq: 3, present: [1, 2, 3].map((seq) => ({ seq, sendTime: 99_000 })), counterAllocatedAt: 99_000 });
    expect(r).toEqual({ holes: [], pending: [] });
  });

  it('keeps a recent gap pending, even below later messages', () => {
    const r = classifyMissing({ ...base, fromSeq: 1, toSeq: 3, present: [{ seq: 1, sendTime: 95_000 }, { seq: 3, sendTime: 99_000 }], counterAllocatedAt: 99_000 });
    expect(r).toEqual({ holes: [], pending: [2] });
  });

  it('settles a gap below a message sent longer ago than the settle time', () => {
    const r = classifyMissing({ ...base, fromSeq: 1, toSeq: 4, present: [{ seq: 3, sendTime: 60_000 }, { seq: 4, sendTime: 99_000 }], counterAllocatedAt: 99_000 });
    expect(r).toEqual({ holes: [1, 2], pending: [] });
  });

  it('settles the newest seqs once the counter has been quiet for the settle time', () => {
    const r = classifyMissing({ ...base, fromSeq: 1, toSeq: 3, present: [{ seq: 1, sendTime: 50_000 }], counterAllocatedAt: 60_000 });
    expect(r).toEqual({ holes: [2, 3], pending: [] });
  });

  it('keeps the newest seq pending while its allocation is recent', () => {
    const r = classifyMissing({ ...base, fromSeq: 1, toSeq: 2, present: [{ seq: 1, sendTime: 50_000 }], counterAllocatedAt: 90_000 });
    expect(r).toEqual({ holes: [], pending: [2] });
  });

  it('counts expired messages, and everything below them, as settled', () => {
    const r = classifyMissing({ ...base, fromSeq: 1, toSeq: 4, present: [{ seq: 4, sendTime: 99_000 }], expired: [2], counterAllocatedAt: 99_000 });
    expect(r).toEqual({ holes: [1, 2], pending: [3] });
  });
});
