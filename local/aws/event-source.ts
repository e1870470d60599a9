/**
 * Lambda's SQS event source mapping, locally: polls a `LocalSqs` queue, invokes the
 * consumer with batches in the exact `SQSEvent` shape, and settles each batch the way
 * Lambda does with `ReportBatchItemFailures` on:
 *
 * - the invocation throws → nothing is deleted; the messages come back when their
 *   visibility timeout ends, and after `maxReceiveCount` receives the queue's redrive
 *   moves them to the dead-letter queue;
 * - it returns `{ batchItemFailures: [{ itemIdentifier }] }` → every other message is
 *   deleted; an identifier that is empty, missing or not in the batch fails the whole
 *   batch, as AWS documents;
 * - anything else (undefined, `{}`, an empty list) → the whole batch is deleted.
 *
 * It wakes on every send and whenever hidden messages become visible again, so there is
 * no polling latency. Not emulated: the 6 MB invocation payload cap on a batch, and the
 * gradual scale-up of pollers (this one runs up to `maxConcurrency` batches at once).
 */
import type { SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import type { LocalSqs, ReceivedMessage } from './sqs';

export interface EventSourceOptions {
  readonly sqs: LocalSqs;
  readonly queueName: string;
  readonly queueArn: string;
  readonly region: string;
  /** Messages per invocation, at most. */
  readonly batchSize: number;
  /** How long to wait for a batch to fill once a message is there; 0 invokes at once. */
  readonly maxBatchingWindowSeconds: number;
  /** Invocations in flight at once, at most (the mapping's MaximumConcurrency). */
  readonly maxConcurrency: number;
  /** Overrides the queue's visibility timeout for the receives of this mapping. */
  readonly visibilityTimeoutSeconds?: number;
  readonly invoke: (event: SQSEvent) => Promise<unknown>;
  /** Suppresses the one-line notice written when a batch fails. */
  readonly quiet?: boolean;
  /** Where notices go. @default stderr */
  readonly log?: (line: string) => void;
}

export interface EventSource {
  /** Stops polling and resolves once the invocations in flight have settled. */
  stop(): Promise<void>;
}

/** Each receive call returns up to 10 messages; larger batches take several. */
const MAX_PER_RECEIVE = 10;
/** Back-off after a receive fails (say, the queue was deleted), so a broken mapping does not spin. */
const RETRY_AFTER_ERROR_MS = 1000;

type Settlement = { kind: 'deleteAll' } | { kind: 'keep'; ids: Set<string> } | { kind: 'retryAll'; reason: string };

/**
 * What Lambda does with a batch given the handler's return value. Non-object returns
 * count as success here; AWS's docs only cover null/empty responses, so that case is a
 * guess on the lenient side.
 */
export function settle(result: unknown, batch: readonly { messageId: string }[]): Settlement {
  if (result === null || typeof result !== 'object') return { kind: 'deleteAll' };
  const failures = (result as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return { kind: 'deleteAll' };
  if (!Array.isArray(failures)) return { kind: 'retryAll', reason: 'batchItemFailures is not a list' };
  const inBatch = new Set(batch.map((m) => m.messageId));
  const ids = new Set<string>();
  for (const failure of failures as unknown[]) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || id === '') return { kind: 'retryAll', reason: 'a batchItemFailures entry has no itemIdentifier' };
    if (!inBatch.has(id)) return { kind: 'retryAll', reason: `batchItemFailures names ${id}, which is not in the batch` };
    ids.add(id);
  }
  return ids.size === 0 ? { kind: 'deleteAll' } : { kind: 'keep', ids };
}

/** One SQS message as Lambda hands it to a function. */
export function toRecord(m: ReceivedMessage, queueArn: string, region: string): SQSRecord {
  const messageAttributes: SQSMessageAttributes = {};
  for (const [name, attr] of Object.entries(m.messageAttributes)) {
    messageAttributes[name] = {
      ...(attr.StringValue !== undefined ? { stringValue: attr.StringValue } : {}),
      ...(attr.BinaryValue !== undefined ? { binaryValue: attr.BinaryValue } : {}),
      stringListValues: [],
      binaryListValues: [],
      dataType: attr.DataType,
    };
  }
  const { ApproximateReceiveCount, SentTimestamp, SenderId, ApproximateFirstReceiveTimestamp, AWSTraceHeader, DeadLetterQueueSourceArn } = m.attributes;
  return {
    messageId: m.messageId,
    receiptHandle: m.receiptHandle,
    body: m.body,
    attributes: {
      ApproximateReceiveCount,
      ...(AWSTraceHeader ? { AWSTraceHeader } : {}),
      SentTimestamp,
      SenderId,
      ApproximateFirstReceiveTimestamp,
      ...(DeadLetterQueueSourceArn ? { DeadLetterQueueSourceArn } : {}),
    },
    messageAttributes,
    md5OfBody: m.md5OfBody,
    ...(m.md5OfMessageAttributes ? { md5OfMessageAttributes: m.md5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

export function startEventSource(options: EventSourceOptions): EventSource {
  const { sqs, queueName, batchSize, maxConcurrency } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize must be a positive integer, not ${batchSize}`);
  if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1) throw new Error(`maxConcurrency must be a positive integer, not ${maxConcurrency}`);
  const windowMs = Math.max(0, options.maxBatchingWindowSeconds) * 1000;
  const log = options.quiet ? () => {} : (options.log ?? ((line: string) => process.stderr.write(`${line}\n`)));
  const notice = (text: string) => log(`[event-source ${queueName}] ${text}`);

  let stopped = false;
  const inFlight = new Set<Promise<void>>();

  // One loop sleeps at a time; a wake-up that arrives while it is busy is remembered.
  let pendingWake = false;
  let wakeSleeper: (() => void) | undefined;
  const wake = () => {
    pendingWake = true;
    wakeSleeper?.();
  };
  const sleep = (ms?: number) =>
    new Promise<void>((resolve) => {
      if (pendingWake || stopped) {
        pendingWake = false;
        return resolve();
      }
      const done = () => {
        if (timer) clearTimeout(timer);
        wakeSleeper = undefined;
        pendingWake = false;
        resolve();
      };
      const timer = ms === undefined ? undefined : setTimeout(done, ms);
      wakeSleeper = done;
    });
  const unsubscribe = sqs.onMessage(queueName, wake);

  const receive = (count: number): ReceivedMessage[] => {
    const out: ReceivedMessage[] = [];
    while (out.length < count) {
      const got = sqs.receive(queueName, Math.min(MAX_PER_RECEIVE, count - out.length), options.visibilityTimeoutSeconds);
      out.push(...got);
      if (got.length === 0) break;
    }
    return out;
  };

  /** Messages held for a batch that will not be invoked go straight back to the queue. */
  const release = (batch: readonly ReceivedMessage[]) => {
    for (const m of batch) {
      try {
        sqs.changeVisibility(queueName, m.receiptHandle, 0);
      } catch {
        // Already visible again or gone: nothing to give back.
      }
    }
  };

  const dispatch = (batch: ReceivedMessage[]) => {
    const event: SQSEvent = { Records: batch.map((m) => toRecord(m, options.queueArn, options.region)) };
    const run = (async () => {
      let result: unknown;
      try {
        result = await options.invoke(event);
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        notice(`invocation failed, ${batch.length} message(s) return after their visibility timeout: ${reason.split('\n')[0]}`);
        return;
      }
      const settlement = settle(result, batch);
      if (settlement.kind === 'retryAll') {
        notice(`${settlement.reason}; the whole batch of ${batch.length} is retried`);
        return;
      }
      for (const m of batch) {
        if (settlement.kind === 'keep' && settlement.ids.has(m.messageId)) continue;
        try {
          sqs.delete(queueName, m.receiptHandle);
        } catch (err) {
          notice(`could not delete ${m.messageId}: ${(err as Error).message}`);
        }
      }
    })().finally(() => {
      inFlight.delete(run);
      wake();
    });
    inFlight.add(run);
  };

  const loop = (async () => {
    while (!stopped) {
      if (inFlight.size >= maxConcurrency) {
        await sleep();
        continue;
      }
      let batch: ReceivedMessage[];
      try {
        batch = receive(batchSize);
        if (batch.length === 0) {
          await sleep();
          continue;
        }
        // As Lambda: once something is there, keep polling until the batch is full or the window closes.
        const deadline = Date.now() + windowMs;
        while (!stopped && batch.length < batchSize && Date.now() < deadline) {
          await sleep(deadline - Date.now());
          batch.push(...receive(batchSize - batch.length));
        }
      } catch (err) {
        notice(`receive failed: ${(err as Error).message}`);
        await sleep(RETRY_AFTER_ERROR_MS);
        continue;
      }
      if (stopped) {
        release(batch);
        break;
      }
      dispatch(batch);
    }
  })();

  return {
    async stop() {
      stopped = true;
      unsubscribe();
      wake();
      await loop;
      await Promise.all([...inFlight]);
    },
  };
}
