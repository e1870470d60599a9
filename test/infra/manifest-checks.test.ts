import { describe, expect, it } from 'vitest';
import { functions, queues, type FunctionSpec, type QueueSpec, type TableAction } from '../../core/manifest';
import { assertConsumerVisibilityTimeouts, longestSeqAllocation } from '../../lib/manifest-checks';

const fn = (name: string, timeoutSeconds: number, conversations?: readonly TableAction[]): FunctionSpec => ({
  name,
  entry: name,
  description: name,
  memoryMb: 512,
  timeoutSeconds,
  tables: conversations ? { conversations } : {},
  sendsTo: [],
  secrets: [],
  postsToConnections: false,
  history: false,
  media: false,
  webhooks: false,
});

const queue = (visibilityTimeoutSeconds: number, consumer: string): QueueSpec =>
  ({
    name: 'Work',
    envVar: 'QUEUE_WORK_URL',
    consumer,
    batchSize: 10,
    maxBatchingWindowSeconds: 0,
    visibilityTimeoutSeconds,
    maxReceiveCount: 5,
    maxConcurrency: 10,
    description: 'work',
  }) as QueueSpec;

describe('When checking queue visibility timeouts', () => {
  it('should accept a visibility timeout of six times the consumer timeout', () => {
    expect(() => assertConsumerVisibilityTimeouts({ work: queue(180, 'worker') }, { worker: fn('Worker', 30) })).not.toThrow();
  });

  it('should reject a shorter one, naming the queue, the consumer and the required value', () => {
    expect(() => assertConsumerVisibilityTimeouts({ work: queue(60, 'worker') }, { worker: fn('Worker', 30) })).toThrow(
      "The Work queue's visibility timeout (60 s) must be at least 6 times the timeout of its consumer Worker (30 s), that is 180 s",
    );
  });

  it('should reject a queue whose consumer is not in the manifest', () => {
    expect(() => assertConsumerVisibilityTimeouts({ work: queue(180, 'nobody') }, {})).toThrow(/consumer "nobody"/);
  });

  it("should accept the manifest's queues and consumers", () => {
    expect(() => assertConsumerVisibilityTimeouts(queues, functions)).not.toThrow();
  });
});

describe('When finding the longest seq allocation', () => {
  it('should pick the slowest function that may write the conversations table', () => {
    const specs = { a: fn('A', 10, ['GetItem', 'UpdateItem']), b: fn('B', 15, ['UpdateItem']), c: fn('C', 60, ['GetItem', 'Query']), d: fn('D', 90) };
    expect(longestSeqAllocation(specs).name).toBe('B');
  });

  it('should reject a manifest where no function can allocate seqs', () => {
    expect(() => longestSeqAllocation({ c: fn('C', 60, ['GetItem', 'Query']) })).toThrow(/No function/);
  });

  it('should find the send paths of the manifest', () => {
    const slowest = longestSeqAllocation(functions);
    expect(slowest.timeoutSeconds).toBe(Math.max(functions.wsMessage.timeoutSeconds, functions.http.timeoutSeconds));
  });
});
