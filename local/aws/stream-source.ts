/**
 * Lambda's DynamoDB Streams event source mapping, locally, reading the streams of
 * DynamoDB Local (which implements the DynamoDB Streams API on its own endpoint, and keeps
 * stream records in its database file: they survive its restart with `-dbPath`).
 *
 * As Lambda does it:
 * - each shard is read in order, one batch in flight per shard (ParallelizationFactor 1);
 *   a child shard is read only once its parent is finished;
 * - only records whose `eventName` the filter names are delivered; the others are skipped
 *   (never invoked, as Lambda's filtering drops them);
 * - a batch is invoked once it holds `batchSize` records, or `maxBatchingWindowSeconds`
 *   after its first record, and never above the 6 MB invocation payload;
 * - `{ batchItemFailures }` makes the shard go on from the first failed record (an unknown
 *   or empty identifier fails the whole batch); a throw retries the batch, bisected when
 *   `bisectBatchOnError` (the halves are retried until one record is left);
 * - after `retryAttempts` failed retries, or when a record is older than
 *   `maxRecordAgeSeconds`, the records are discarded and the batch's metadata (as Lambda
 *   sends it to an on-failure destination) goes to `onFailure`;
 * - delivery is at least once.
 *
 * Each shard's checkpoint (the last sequence number done) is written to a state file with
 * fsync only after its batch succeeded, so a runtime SIGKILLed and restarted resumes at
 * the first record not acknowledged: never a loss, possibly a repeat.
 */
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { StateFile } from './state-file';

export type StreamEventName = 'INSERT' | 'MODIFY' | 'REMOVE';

export interface StreamSourceOptions {
  /** DynamoDB Local's endpoint (DynamoDB Streams is served on the same one). */
  readonly endpoint: string;
  readonly tableName: string;
  readonly region: string;
  readonly batchSize: number;
  readonly maxBatchingWindowSeconds: number;
  readonly eventNames: readonly StreamEventName[];
  readonly maxRecordAgeSeconds: number;
  readonly retryAttempts: number;
  readonly bisectBatchOnError: boolean;
  /** `lastReadAt`: when the batch's last record was read from the stream (ms), for its iterator age. */
  readonly invoke: (event: DynamoDBStreamEvent, info: { lastReadAt: number }) => Promise<unknown>;
  /** The on-failure destination: receives the metadata of discarded batches. */
  readonly onFailure: (metadata: Record<string, unknown>) => Promise<void>;
  /** The state file keeping the checkpoints; in memory (start from the oldest record) when absent. */
  readonly stateFile?: string;
  /** Milliseconds between polls of a shard with nothing new (Lambda: 4 polls a second). */
  readonly pollIntervalMs?: number;
  readonly log?: (line: string) => void;
}

export interface StreamSource {
  /** Resolves once every record written before the call has been handled (delivered or filtered out) and no batch is in flight. */
  idle(): Promise<void>;
  /** Stops polling and resolves once the batch in flight settled. */
  stop(): Promise<void>;
}

/** Lambda's invocation payload limit. */
export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** Records per GetRecords call, at most (DynamoDB Streams' limit). */
const GET_RECORDS_LIMIT = 1000;
const SHARD_REFRESH_MS = 5_000;

interface ShardState {
  checkpoint?: string;
  finished?: boolean;
}

interface SavedState {
  streamArn?: string;
  shards: Record<string, ShardState>;
}

interface ShardDescription {
  ShardId: string;
  ParentShardId?: string;
  SequenceNumberRange?: { StartingSequenceNumber?: string; EndingSequenceNumber?: string };
}

class StreamsError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(`${type}: ${message}`);
  }
}

/** DynamoDB Streams' JSON protocol (DynamoDB Local checks the shape of the signature, not its value). */
async function call<T>(endpoint: string, region: string, operation: string, body: object): Promise<T> {
  const date = new Date().toISOString().slice(0, 10).replaceAll('-', '');
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `DynamoDBStreams_20120810.${operation}`,
      authorization: `AWS4-HMAC-SHA256 Credential=local/${date}/${region}/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-target, Signature=0000`,
    },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as T & { __type?: string; message?: string; Message?: string };
  if (!res.ok) throw new StreamsError(String(json.__type ?? res.status).split('#').pop()!, json.message ?? json.Message ?? '');
  return json;
}

async function latestStreamArn(endpoint: string, region: string, tableName: string): Promise<string> {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': 'DynamoDB_20120810.DescribeTable',
      authorization: `AWS4-HMAC-SHA256 Credential=local/20200101/${region}/dynamodb/aws4_request, SignedHeaders=host, Signature=0000`,
    },
    body: JSON.stringify({ TableName: tableName }),
  });
  const json = (await res.json()) as { Table?: { LatestStreamArn?: string } };
  const arn = json.Table?.LatestStreamArn;
  if (!arn) throw new Error(`Table ${tableName} has no stream`);
  return arn;
}

/** Whether a record's kind passes the filter (`{"eventName": [...]}`). */
export function passesFilter(record: { eventName?: string }, eventNames: readonly string[]): boolean {
  return record.eventName !== undefined && eventNames.includes(record.eventName);
}

/** Sequence numbers are decimal strings of up to 40 digits: compare them as numbers. */
const seqLess = (a: string, b: string) => (a.length !== b.length ? a.length < b.length : a < b);

/** Which records of a batch to retry after the function answered `result`: undefined = all done; 'all' = the whole batch. */
export function firstFailure(result: unknown, batch: readonly DynamoDBRecord[]): number | 'all' | undefined {
  if (result === null || typeof result !== 'object') return undefined;
  const failures = (result as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return undefined;
  if (!Array.isArray(failures)) return 'all';
  let first: number | undefined;
  for (const failure of failures as unknown[]) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || id === '') return 'all';
    const index = batch.findIndex((r) => r.dynamodb?.SequenceNumber === id);
    if (index < 0) return 'all';
    first = first === undefined ? index : Math.min(first, index);
  }
  return first;
}

export function startStreamSource(options: StreamSourceOptions): StreamSource {
  const { endpoint, region, tableName, batchSize } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) throw new Error(`batchSize must be 1..10000, not ${batchSize}`);
  const windowMs = Math.max(0, options.maxBatchingWindowSeconds) * 1000;
  const pollMs = options.pollIntervalMs ?? 250;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const notice = (text: string) => log(`[stream ${tableName}] ${text}`);

  const state: SavedState = { shards: {} };
  const file = options.stateFile ? new StateFile<SavedState>(options.stateFile, () => state) : undefined;
  if (file) Object.assign(state, file.load().state ?? {});
  const save = () => file?.saveNow();

  let stopped = false;
  let streamArn = '';
  let stopSleep: (() => void) | undefined;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (stopped) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        stopSleep = undefined;
        resolve();
      }
      stopSleep = done;
    });

  /** Rounds of polling completed (every open shard read up to its end); `idle()` waits for two more. */
  let rounds = 0;
  const roundWaiters: { round: number; resolve: () => void }[] = [];
  /** Records read but not yet done, all shards (buffered or in flight). */
  let pending = 0;
  /** What each shard's reader holds between polls. */
  /** When each buffered record was read from the stream. */
  const readAt = new WeakMap<DynamoDBRecord, number>();
  const readers: Record<string, { iterator?: string; buffer: DynamoDBRecord[]; closed: boolean; attempts: number; limit: number; firstBufferedAt?: number }> = {};

  const discard = async (shardId: string, batch: readonly DynamoDBRecord[], condition: string) => {
    const first = batch[0]?.dynamodb;
    const last = batch[batch.length - 1]?.dynamodb;
    const metadata = {
      requestContext: { requestId: crypto.randomUUID(), functionArn: `arn:aws:lambda:${region}:000000000000:function:local`, condition, approximateInvokeCount: options.retryAttempts + 1 },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: new Date().toISOString(),
      DDBStreamBatchInfo: {
        shardId,
        startSequenceNumber: first?.SequenceNumber,
        endSequenceNumber: last?.SequenceNumber,
        approximateArrivalOfFirstRecord: first?.ApproximateCreationDateTime ? new Date(first.ApproximateCreationDateTime * 1000).toISOString() : undefined,
        approximateArrivalOfLastRecord: last?.ApproximateCreationDateTime ? new Date(last.ApproximateCreationDateTime * 1000).toISOString() : undefined,
        batchSize: batch.length,
        streamArn,
      },
    };
    notice(`${batch.length} record(s) discarded (${condition}); metadata sent to the failure destination`);
    await options.onFailure(metadata);
  };

  /** Reads one shard to its end (or until stopped): returns true when the shard is finished. */
  const readShard = async (shard: ShardDescription): Promise<boolean> => {
    const shardState = (state.shards[shard.ShardId] ??= {});
    const reader = (readers[shard.ShardId] ??= { buffer: [], closed: false, attempts: 0, limit: batchSize });
    const newIterator = async () => {
      const from = shardState.checkpoint;
      const res = await call<{ ShardIterator?: string }>(endpoint, region, 'GetShardIterator', {
        StreamArn: streamArn,
        ShardId: shard.ShardId,
        ...(from ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: from } : { ShardIteratorType: 'TRIM_HORIZON' }),
      });
      return res.ShardIterator;
    };
    const advance = (seq: string | undefined, durable: boolean) => {
      if (!seq) return;
      shardState.checkpoint = seq;
      if (durable) save();
      else file?.changed();
    };

    for (;;) {
      if (stopped) return false;
      // Fill the buffer: everything there is now (a reader.closed shard's reader.iterator ends).
      if (!reader.closed) {
        reader.iterator ??= await newIterator();
        if (!reader.iterator) reader.closed = true;
        while (reader.iterator && !stopped) {
          const res: { Records?: DynamoDBRecord[]; NextShardIterator?: string } = await call<{ Records?: DynamoDBRecord[]; NextShardIterator?: string }>(endpoint, region, 'GetRecords', { ShardIterator: reader.iterator, Limit: GET_RECORDS_LIMIT }).catch(
            (err: unknown) => {
              if (err instanceof StreamsError && err.type === 'ExpiredIteratorException') return { NextShardIterator: undefined, expired: true };
              // DynamoDB Local answers this for an iterator taken at TRIM_HORIZON while the shard was
              // empty: take a new one at the next poll.
              if (err instanceof StreamsError && err.type === 'TrimmedDataAccessException') {
                if (shardState.checkpoint && reader.buffer.length === 0) {
                  // The checkpoint's record is past the 24-hour retention: go on from the oldest record left.
                  notice(`records after ${shardState.checkpoint} of ${shard.ShardId} have been trimmed; going on from the oldest one`);
                  delete shardState.checkpoint;
                }
                return { NextShardIterator: undefined, expired: true };
              }
              reader.iterator = undefined;
              throw err;
            },
          );
          if ((res as { expired?: boolean }).expired) {
            // Read again from the checkpoint, at the next poll.
            reader.iterator = undefined;
            pending -= reader.buffer.length;
            reader.buffer = [];
            reader.firstBufferedAt = undefined;
            return false;
          }
          const records = (res.Records ?? []).map((r) => ({ ...r, eventSourceARN: streamArn, awsRegion: region }));
          if (records.length > 0 && reader.firstBufferedAt === undefined) reader.firstBufferedAt = Date.now();
          for (const r of records) readAt.set(r, Date.now());
          reader.buffer.push(...records);
          pending += records.length;
          reader.iterator = res.NextShardIterator;
          if (!reader.iterator) reader.closed = true;
          if (records.length < GET_RECORDS_LIMIT) break;
        }
        if (!reader.iterator && !reader.closed) continue;
      }
      // Records filtered out at the front are done (never delivered).
      const skipFiltered = () => {
        let last: string | undefined;
        while (reader.buffer.length > 0 && !passesFilter(reader.buffer[0], options.eventNames)) {
          last = reader.buffer.shift()!.dynamodb?.SequenceNumber;
          pending -= 1;
        }
        advance(last, false);
      };
      skipFiltered();
      if (reader.buffer.length === 0) {
        reader.firstBufferedAt = undefined;
        if (reader.closed) return true;
        return false;
      }
      // The batch: up to `reader.limit` matching records from the front (filtered ones in between are skipped with it).
      const batch: DynamoDBRecord[] = [];
      let consumed = 0;
      let bytes = 0;
      for (const record of reader.buffer) {
        if (batch.length >= reader.limit) break;
        if (passesFilter(record, options.eventNames)) {
          const size = Buffer.byteLength(JSON.stringify(record)) + 1;
          if (batch.length > 0 && bytes + size > MAX_PAYLOAD_BYTES - 64) break;
          bytes += size;
          batch.push(record);
        }
        consumed += 1;
      }
      // Wait for a full batch or the window (a reader.closed shard has nothing more coming).
      const full = batch.length >= reader.limit || consumed < reader.buffer.length;
      if (!full && !reader.closed && reader.attempts === 0 && Date.now() - (reader.firstBufferedAt ?? Date.now()) < windowMs) return false;

      const consume = (count: number) => {
        const done = reader.buffer.splice(0, count);
        pending -= done.length;
        reader.firstBufferedAt = reader.buffer.length > 0 ? Date.now() : undefined;
        return done;
      };
      // Too old: discarded without an invocation.
      const now = Date.now() / 1000;
      const tooOld = batch.filter((r) => now - (r.dynamodb?.ApproximateCreationDateTime ?? now) > options.maxRecordAgeSeconds);
      if (tooOld.length > 0) {
        const upTo = reader.buffer.indexOf(tooOld[tooOld.length - 1]) + 1;
        await discard(shard.ShardId, tooOld, 'RecordAgeExceeded');
        advance(consume(upTo).at(-1)?.dynamodb?.SequenceNumber, true);
        continue;
      }

      let result: unknown;
      let threw: string | undefined;
      try {
        result = await options.invoke({ Records: batch }, { lastReadAt: readAt.get(batch[batch.length - 1]) ?? Date.now() });
      } catch (err) {
        threw = (err instanceof Error ? err.message : String(err)).split('\n')[0];
      }
      const failure = threw !== undefined ? 'all' : firstFailure(result, batch);
      if (failure === undefined) {
        // Done: the checkpoint moves past the batch, durably, before anything else is read.
        advance(consume(consumed).at(-1)?.dynamodb?.SequenceNumber, true);
        reader.attempts = 0;
        reader.limit = batchSize;
        continue;
      }
      if (failure !== 'all' && failure > 0) {
        // The records before the first failure are done.
        const upTo = reader.buffer.indexOf(batch[failure]);
        advance(consume(upTo).at(-1)?.dynamodb?.SequenceNumber, true);
      }
      reader.attempts += 1;
      if (reader.attempts > options.retryAttempts) {
        const failed = failure === 'all' ? batch : batch.slice(failure);
        const upTo = reader.buffer.indexOf(failed[failed.length - 1]) + 1;
        await discard(shard.ShardId, failed, 'RetryAttemptsExhausted');
        advance(consume(upTo).at(-1)?.dynamodb?.SequenceNumber, true);
        reader.attempts = 0;
        reader.limit = batchSize;
        continue;
      }
      if (threw !== undefined) {
        notice(`invocation failed (attempt ${reader.attempts}), the batch of ${batch.length} is retried${options.bisectBatchOnError && batch.length > 1 ? ' in halves' : ''}: ${threw}`);
        if (options.bisectBatchOnError && batch.length > 1) reader.limit = Math.ceil(batch.length / 2);
      } else if (failure === 'all') {
        notice('batchItemFailures names a record not in the batch; the whole batch is retried');
      }
      // Lambda backs off between retries of a stream batch.
      await sleep(Math.min(100 * 2 ** Math.min(reader.attempts, 6), 5_000));
    }
  };

  const listShards = async (): Promise<ShardDescription[]> => {
    const shards: ShardDescription[] = [];
    let start: string | undefined;
    do {
      const res: { StreamDescription?: { Shards?: ShardDescription[]; LastEvaluatedShardId?: string } } = await call(endpoint, region, 'DescribeStream', {
        StreamArn: streamArn,
        ...(start ? { ExclusiveStartShardId: start } : {}),
      });
      shards.push(...(res.StreamDescription?.Shards ?? []));
      start = res.StreamDescription?.LastEvaluatedShardId;
    } while (start);
    return shards;
  };

  const loop = (async () => {
    let shards: ShardDescription[] = [];
    let listedAt = 0;
    while (!stopped) {
      try {
        if (!streamArn) {
          streamArn = await latestStreamArn(endpoint, region, tableName);
          // Another stream (the table was recreated): the old checkpoints mean nothing.
          if (state.streamArn !== streamArn) {
            state.streamArn = streamArn;
            state.shards = {};
            save();
          }
        }
        if (Date.now() - listedAt > SHARD_REFRESH_MS) {
          shards = await listShards();
          listedAt = Date.now();
        }
        const known = new Set(shards.map((s) => s.ShardId));
        for (const shard of shards) {
          if (stopped) break;
          if (state.shards[shard.ShardId]?.finished) continue;
          // A child waits for its parent (unless the parent has been trimmed away).
          if (shard.ParentShardId && known.has(shard.ParentShardId) && !state.shards[shard.ParentShardId]?.finished) continue;
          const finished = await readShard(shard);
          if (finished) {
            state.shards[shard.ShardId] = { ...state.shards[shard.ShardId], finished: true };
            save();
            // Its children are listed now.
            listedAt = 0;
          }
        }
        if (pending === 0) {
          rounds += 1;
          for (const w of roundWaiters.splice(0)) {
            if (rounds >= w.round) w.resolve();
            else roundWaiters.push(w);
          }
        }
      } catch (err) {
        if (stopped) break;
        notice(`poll failed: ${(err as Error).message}`);
      }
      await sleep(pollMs);
    }
  })();

  return {
    idle() {
      // A round that started after this call has seen every record written before it.
      return new Promise((resolve) => roundWaiters.push({ round: rounds + 2, resolve }));
    },
    async stop() {
      stopped = true;
      stopSleep?.();
      await loop;
      for (const w of roundWaiters.splice(0)) w.resolve();
      file?.close();
    },
  };
}
