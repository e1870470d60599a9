/**
 * Which missing seqs of a pulled range are settled holes, and which may still fill.
 *
 * A seq is allocated before its message is written, and a writer gives up
 * `settleMs / 2` after allocation. Allocation is linearizable, so if seq j > k holds a
 * message sent (sendTime >= j's allocation) more than `settleMs` ago, k was allocated
 * even earlier and its window has closed. The newest seq is bounded by the counter's
 * `allocatedAt` instead. Expired messages count as settled: they are old by definition.
 */
export interface PresentSeq {
  seq: number;
  sendTime: number;
}

export interface HoleInput {
  fromSeq: number;
  toSeq: number;
  /** Messages found in [fromSeq, toSeq], any order. */
  present: readonly PresentSeq[];
  /** Seqs in range whose messages exist but have expired. */
  expired: readonly number[];
  /** Time (ms) of the conversation's latest allocation. */
  counterAllocatedAt: number;
  now: number;
  settleMs: number;
}

export function classifyMissing(input: HoleInput): { holes: number[]; pending: number[] } {
  const cutoff = input.now - input.settleMs;
  const have = new Set(input.present.map((p) => p.seq));
  const expired = new Set(input.expired);
  // Every seq at or below `settledThrough` has had its write window close.
  let settledThrough = input.counterAllocatedAt < cutoff ? input.toSeq : 0;
  for (const p of input.present) if (p.sendTime < cutoff && p.seq - 1 > settledThrough) settledThrough = p.seq - 1;
  for (const seq of expired) if (seq > settledThrough) settledThrough = seq;
  const holes: number[] = [];
  const pending: number[] = [];
  for (let seq = input.fromSeq; seq <= input.toSeq; seq++) {
    if (have.has(seq)) continue;
    if (expired.has(seq) || seq <= settledThrough) holes.push(seq);
    else pending.push(seq);
  }
  return { holes, pending };
}
