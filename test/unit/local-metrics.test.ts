/**
 * The local runtime's dashboard figures (local/metrics.ts) from fixed inputs: EMF documents
 * parsed as CloudWatch reads them, DynamoDB requests counted per table (batches and
 * transactions name several), and the stream iterator age despite DynamoDB Local's record
 * times rounded down to the minute.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { localMetrics, parseEmf } from '../../local/metrics';

beforeEach(() => localMetrics.reset());

describe('parseEmf', () => {
  it('reads every metric of every directive, with its unit, once per dimension set, and array values', () => {
    const line = JSON.stringify({
      _aws: {
        Timestamp: 1,
        CloudWatchMetrics: [
          { Namespace: 'Cirrus', Dimensions: [['service', 'reason'], ['service']], Metrics: [{ Name: 'Refused', Unit: 'Count' }, { Name: 'Latency', Unit: 'Milliseconds' }] },
          { Namespace: 'Other', Dimensions: [], Metrics: [{ Name: 'Plain' }] },
        ],
      },
      service: 'wsMessage',
      reason: 'BLOCKED',
      Refused: 1,
      Latency: [12, 30],
      Plain: 5,
    });
    expect(parseEmf(line)).toEqual([
      { namespace: 'Cirrus', name: 'Refused', unit: 'Count', dimensions: { service: 'wsMessage', reason: 'BLOCKED' }, values: [1] },
      { namespace: 'Cirrus', name: 'Refused', unit: 'Count', dimensions: { service: 'wsMessage' }, values: [1] },
      { namespace: 'Cirrus', name: 'Latency', unit: 'Milliseconds', dimensions: { service: 'wsMessage', reason: 'BLOCKED' }, values: [12, 30] },
      { namespace: 'Cirrus', name: 'Latency', unit: 'Milliseconds', dimensions: { service: 'wsMessage' }, values: [12, 30] },
      { namespace: 'Other', name: 'Plain', unit: 'None', dimensions: {}, values: [5] },
    ]);
  });

  it('ignores log lines, broken JSON, directives without a namespace and metrics without a value', () => {
    expect(parseEmf('{"level":"info","msg":"message accepted"}')).toEqual([]);
    expect(parseEmf('{"_aws": {')).toEqual([]);
    expect(parseEmf(JSON.stringify({ _aws: { CloudWatchMetrics: [{ Metrics: [{ Name: 'X' }] }] }, X: 1 }))).toEqual([]);
    expect(parseEmf(JSON.stringify({ _aws: { CloudWatchMetrics: [{ Namespace: 'N', Metrics: [{ Name: 'X' }] }] }, X: 'one' }))).toEqual([]);
  });

  it('sums what a function printed, per metric, dimensions and function', () => {
    const emf = (v: number, service: string) => JSON.stringify({ _aws: { CloudWatchMetrics: [{ Namespace: 'N', Dimensions: [['service']], Metrics: [{ Name: 'M', Unit: 'Count' }] }] }, service, M: v });
    localMetrics.printed('http', `${emf(1, 'a')}\n{"msg":"x"}\n${emf(4, 'a')}\n`);
    localMetrics.printed('http', emf(2, 'b'));
    expect(localMetrics.snapshot().custom).toEqual([
      { namespace: 'N', name: 'M', unit: 'Count', dimensions: { service: 'a' }, function: 'http', count: 2, sum: 5, min: 1, max: 4 },
      { namespace: 'N', name: 'M', unit: 'Count', dimensions: { service: 'b' }, function: 'http', count: 1, sum: 2, min: 2, max: 2 },
    ]);
  });
});

describe('DynamoDB requests', () => {
  it('counts reads and writes per table, for batches and transactions each table they name', () => {
    localMetrics.request('DynamoDB', 'GetItem', { TableName: 'Users' });
    localMetrics.request('DynamoDB', 'BatchWriteItem', { RequestItems: { Users: [], Friends: [] } });
    localMetrics.request('DynamoDB', 'TransactWriteItems', { TransactItems: [{ Put: { TableName: 'Messages' } }, { Update: { TableName: 'Conversations' } }] });
    localMetrics.request('S3', 'PutObject', { Bucket: 'b' });
    expect(localMetrics.snapshot().tables).toEqual({
      Conversations: { reads: 0, writes: 1, throttles: 0 },
      Friends: { reads: 0, writes: 1, throttles: 0 },
      Messages: { reads: 0, writes: 1, throttles: 0 },
      Users: { reads: 1, writes: 1, throttles: 0 },
    });
  });
});

describe('stream iterator age', () => {
  it('counts from the reading when the record time is only the minute it was written in, and from the record time when older', () => {
    // 50 s into a minute.
    vi.useFakeTimers({ now: 1_000_000_020_000 + 50_000 });
    try {
      const now = Date.now();
      // Written in the minute starting 50 s ago, read 2 s ago: 2 s old, not 50.
      localMetrics.streamBatch('messageArchive', Math.floor((now - 50_000) / 60_000) * 60, now - 2000);
      expect(localMetrics.snapshot().streams.messageArchive).toEqual({ batches: 1, lastAgeMs: 2000, maxAgeMs: 2000 });
      // Ten minutes old when read (the runtime was down): its record time counts.
      localMetrics.streamBatch('messageArchive', (now - 600_000) / 1000, now - 1000);
      expect(localMetrics.snapshot().streams.messageArchive).toEqual({ batches: 2, lastAgeMs: 600_000, maxAgeMs: 600_000 });
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('functions', () => {
  it('counts invocations and errors, with average, p99 and max durations', () => {
    for (let i = 1; i <= 100; i++) localMetrics.invoked('http', i, i === 100);
    expect(localMetrics.snapshot().functions.http).toEqual({ invocations: 100, errors: 1, throttles: 0, durationAvg: 50.5, durationP99: 99, durationMax: 100 });
  });
});
