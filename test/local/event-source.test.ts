import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { LocalSqs } from '../../local/aws/sqs';
import { settle, startEventSource, type EventSourceOptions } from '../../local/aws/event-source';
import { md5Hex } from '../../local/aws/sqs-md5';
import { clientConfig, mount, type Mounted } from './mount';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(condition: () => boolean, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

describe('settle', () => {
  it('deletes the whole batch unless the response names failures', () => {
    // Prepare
    const batch = [{ messageId: 'a' }, { messageId: 'b' }];

    // Act
    const results = [undefined, null, {}, { batchItemFailures: [] }, { batchItemFailures: null }].map((r) => settle(r, batch).kind);

    // Assess
    expect(results).toEqual(['deleteAll', 'deleteAll', 'deleteAll', 'deleteAll', 'deleteAll']);
  });

  it('keeps only the named messages, and retries everything when a name is empty, missing or foreign', () => {
    // Prepare
    const batch = [{ messageId: 'a' }, { messageId: 'b' }];

    // Act
    const partial = settle({ batchItemFailures: [{ itemIdentifier: 'b' }] }, batch);
    const invalid = [
      { batchItemFailures: [{ itemIdentifier: '' }] },
      { batchItemFailures: [{ itemIdentifer: 'a' }] },
      { batchItemFailures: [{ itemIdentifier: 'zzz' }] },
      { batchItemFailures: 'a' },
    ].map((r) => settle(r, batch).kind);

    // Assess
    expect(partial).toEqual({ kind: 'keep', ids: new Set(['b']) });
    expect(invalid).toEqual(['retryAll', 'retryAll', 'retryAll', 'retryAll']);
  });
});

describe('startEventSource', () => {
  let sqs: LocalSqs;
  let server: Mounted;
  let client: SQSClient;
  const sources: { stop(): Promise<void> }[] = [];

  beforeAll(async () => {
    sqs = new LocalSqs();
    server = await mount([sqs]);
    sqs.baseUrl = server.url;
    client = new SQSClient(clientConfig(server.url));
  });

  afterAll(async () => {
    await Promise.all(sources.map((s) => s.stop()));
    client.destroy();
    await server.close();
    await sqs.close();
  });

  function newQueue(visibilityTimeoutSeconds = 1, maxReceiveCount?: number): { name: string; url: string; arn: string; dlq?: string } {
    const name = `es-${randomUUID().slice(0, 8)}`;
    if (maxReceiveCount === undefined) return { name, ...sqs.createQueue(name, { visibilityTimeoutSeconds }) };
    const dlq = `${name}-dlq`;
    const { arn: deadLetterTargetArn } = sqs.createQueue(dlq);
    return { name, dlq, ...sqs.createQueue(name, { visibilityTimeoutSeconds, redrivePolicy: { deadLetterTargetArn, maxReceiveCount } }) };
  }

  function start(queue: { name: string; arn: string }, invoke: (event: SQSEvent) => Promise<unknown>, overrides: Partial<EventSourceOptions> = {}) {
    const source = startEventSource({
      sqs,
      queueName: queue.name,
      queueArn: queue.arn,
      region: 'us-east-1',
      batchSize: 10,
      maxBatchingWindowSeconds: 0,
      maxConcurrency: 5,
      quiet: true,
      invoke,
      ...overrides,
    });
    sources.push(source);
    return source;
  }

  async function sendAll(url: string, bodies: string[]): Promise<void> {
    for (let i = 0; i < bodies.length; i += 10) {
      const Entries = bodies.slice(i, i + 10).map((MessageBody, j) => ({ Id: `m${i + j}`, MessageBody }));
      await client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries }));
    }
  }

  it('invokes with at most batchSize records, each in the shape Lambda gives an SQS consumer', async () => {
    // Prepare
    const queue = newQueue();
    const events: SQSEvent[] = [];
    start(queue, async (event) => void events.push(event), { batchSize: 2 });

    // Act
    await client.send(
      new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'm0', MessageAttributes: { kind: { DataType: 'String', StringValue: 'chat' } } }),
    );
    await sendAll(queue.url, ['m1', 'm2', 'm3', 'm4']);
    await waitFor(() => sqs.depth(queue.name).visible + sqs.depth(queue.name).inFlight === 0 && events.flatMap((e) => e.Records).length === 5);

    // Assess
    const records = events.flatMap((e) => e.Records);
    expect(events.every((e) => e.Records.length >= 1 && e.Records.length <= 2)).toBe(true);
    expect(records.map((r) => r.body).sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    const first = records.find((r) => r.body === 'm0')!;
    expect(Object.keys(first)).toEqual([
      'messageId',
      'receiptHandle',
      'body',
      'attributes',
      'messageAttributes',
      'md5OfBody',
      'md5OfMessageAttributes',
      'eventSource',
      'eventSourceARN',
      'awsRegion',
    ]);
    expect(first).toMatchObject<Partial<SQSRecord>>({
      md5OfBody: md5Hex('m0'),
      eventSource: 'aws:sqs',
      eventSourceARN: queue.arn,
      awsRegion: 'us-east-1',
      messageAttributes: { kind: { stringValue: 'chat', stringListValues: [], binaryListValues: [], dataType: 'String' } },
    });
    expect(Object.keys(first.attributes)).toEqual(['ApproximateReceiveCount', 'SentTimestamp', 'SenderId', 'ApproximateFirstReceiveTimestamp']);
    expect(first.attributes.ApproximateReceiveCount).toBe('1');
    expect(records.find((r) => r.body === 'm1')!.messageAttributes).toEqual({});
  });

  it('invokes as soon as a message arrives when the batching window is 0', async () => {
    // Prepare
    const queue = newQueue();
    let invokedAt = 0;
    start(queue, async () => void (invokedAt = Date.now()));

    // Act
    const sentAt = Date.now();
    await client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'now' }));
    await waitFor(() => invokedAt > 0);

    // Assess
    expect(invokedAt - sentAt).toBeLessThan(300);
  });

  it('waits up to the batching window to fill a batch, then invokes once with what arrived', async () => {
    // Prepare
    const queue = newQueue(5);
    const events: { at: number; bodies: string[] }[] = [];
    start(queue, async (event) => void events.push({ at: Date.now(), bodies: event.Records.map((r) => r.body) }), { maxBatchingWindowSeconds: 1 });

    // Act
    const sentAt = Date.now();
    await client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'first' }));
    await sleep(300);
    await client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'second' }));
    await waitFor(() => events.length > 0);
    await sleep(200);

    // Assess
    expect(events.map((e) => e.bodies)).toEqual([['first', 'second']]);
    expect(events[0].at - sentAt).toBeGreaterThanOrEqual(950);
    expect(events[0].at - sentAt).toBeLessThan(1500);
  });

  it('invokes at once when a batch fills before the batching window closes', async () => {
    // Prepare
    const queue = newQueue(5);
    const events: { at: number; size: number }[] = [];
    start(queue, async (event) => void events.push({ at: Date.now(), size: event.Records.length }), { batchSize: 3, maxBatchingWindowSeconds: 5 });

    // Act
    const sentAt = Date.now();
    await sendAll(queue.url, ['a', 'b', 'c']);
    await waitFor(() => events.length > 0);

    // Assess
    expect(events[0].size).toBe(3);
    expect(events[0].at - sentAt).toBeLessThan(1000);
  });

  it('redelivers only the messages reported in batchItemFailures', async () => {
    // Prepare
    const queue = newQueue(1);
    const seen: { body: string; count: string }[] = [];
    start(queue, async (event) => {
      for (const r of event.Records) seen.push({ body: r.body, count: r.attributes.ApproximateReceiveCount });
      const failures = event.Records.filter((r) => r.body.startsWith('fail') && r.attributes.ApproximateReceiveCount === '1');
      return { batchItemFailures: failures.map((r) => ({ itemIdentifier: r.messageId })) };
    });

    // Act
    await sendAll(queue.url, ['ok-1', 'fail-1', 'ok-2', 'fail-2']);
    await waitFor(() => seen.length === 6);
    await sleep(1200);

    // Assess
    expect(seen.filter((s) => s.count === '1').map((s) => s.body).sort()).toEqual(['fail-1', 'fail-2', 'ok-1', 'ok-2']);
    expect(seen.filter((s) => s.count === '2').map((s) => s.body).sort()).toEqual(['fail-1', 'fail-2']);
    expect(seen).toHaveLength(6);
    expect(sqs.depth(queue.name)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('redelivers the whole batch after the visibility timeout when the invocation throws', async () => {
    // Prepare
    const queue = newQueue(1);
    const attempts: { at: number; bodies: string[]; counts: string[] }[] = [];
    start(queue, async (event) => {
      attempts.push({ at: Date.now(), bodies: event.Records.map((r) => r.body).sort(), counts: event.Records.map((r) => r.attributes.ApproximateReceiveCount) });
      if (attempts.length === 1) throw new Error('database down');
    });

    // Act
    await sendAll(queue.url, ['x', 'y']);
    await waitFor(() => attempts.length === 2);

    // Assess
    expect(attempts.map((a) => a.bodies)).toEqual([['x', 'y'], ['x', 'y']]);
    expect(attempts[1].counts).toEqual(['2', '2']);
    expect(attempts[1].at - attempts[0].at).toBeGreaterThanOrEqual(950);
    await waitFor(() => sqs.depth(queue.name).inFlight === 0);
    expect(sqs.depth(queue.name)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('retries the whole batch when batchItemFailures names a message that is not in it', async () => {
    // Prepare
    const queue = newQueue(1);
    const attempts: string[][] = [];
    start(queue, async (event) => {
      attempts.push(event.Records.map((r) => r.body).sort());
      return attempts.length === 1 ? { batchItemFailures: [{ itemIdentifier: 'not-a-message-id' }] } : {};
    });

    // Act
    await sendAll(queue.url, ['p', 'q']);
    await waitFor(() => attempts.length === 2);

    // Assess
    expect(attempts).toEqual([
      ['p', 'q'],
      ['p', 'q'],
    ]);
  });

  it('never has more than maxConcurrency invocations in flight', async () => {
    // Prepare
    const queue = newQueue(30);
    let current = 0;
    let peak = 0;
    let done = 0;
    start(
      queue,
      async () => {
        current++;
        peak = Math.max(peak, current);
        await sleep(150);
        current--;
        done++;
      },
      { batchSize: 1, maxConcurrency: 2 },
    );

    // Act
    await sendAll(queue.url, ['1', '2', '3', '4', '5', '6']);
    await waitFor(() => done === 6);

    // Assess
    expect(peak).toBe(2);
  });

  it('moves a message that always fails to the dead-letter queue after maxReceiveCount attempts', async () => {
    // Prepare
    const queue = newQueue(1, 2);
    let attempts = 0;
    start(queue, async () => {
      attempts++;
      throw new Error('poison');
    });

    // Act
    await client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'poison pill' }));
    await waitFor(() => sqs.peek(queue.dlq!).length === 1);

    // Assess
    expect(attempts).toBe(2);
    expect(sqs.peek(queue.dlq!).map((m) => m.body)).toEqual(['poison pill']);
    expect(sqs.depth(queue.name)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('writes one line naming the queue when an invocation fails', async () => {
    // Prepare
    const queue = newQueue(30);
    const lines: string[] = [];
    start(
      queue,
      async () => {
        throw new Error('boom\n    at somewhere');
      },
      { quiet: false, log: (line) => lines.push(line) },
    );

    // Act
    sqs.send(queue.name, 'x');
    await waitFor(() => lines.length > 0);

    // Assess
    expect(lines).toEqual([`[event-source ${queue.name}] invocation failed, 1 message(s) return after their visibility timeout: boom`]);
  });

  it('waits for invocations in flight when stopped, and settles their batch', async () => {
    // Prepare
    const queue = newQueue(30);
    let finished = false;
    const source = start(queue, async () => {
      await sleep(300);
      finished = true;
    });
    sqs.send(queue.name, 'slow');
    await waitFor(() => sqs.depth(queue.name).inFlight === 1);

    // Act
    await source.stop();

    // Assess
    expect(finished).toBe(true);
    expect(sqs.depth(queue.name)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });
});
