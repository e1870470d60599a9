import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  PurgeQueueCommand,
  QueueDoesNotExist,
  QueueNameExists,
  ReceiptHandleIsInvalid,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  BatchEntryIdsNotDistinct,
  EmptyBatchRequest,
  TooManyEntriesInBatchRequest,
} from '@aws-sdk/client-sqs';
import { LocalSqs } from '../../local/aws/sqs';
import { md5OfMessageAttributes, type SqsMessageAttribute } from '../../local/aws/sqs-md5';
import type { StandIn } from '../../local/aws/types';
import { clientConfig, mount, type Mounted } from './mount';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('md5OfMessageAttributes', () => {
  it('matches reference digests of the algorithm in the SQS developer guide', () => {
    // Prepare: digests published by other SQS implementations' test suites, computed against AWS.
    const cases: { attrs: Record<string, SqsMessageAttribute>; md5: string }[] = [
      { attrs: { SellerName: { DataType: 'String', StringValue: 'Example Store' } }, md5: 'cd28f3b68aeee4b2eac9c66f2f694b58' },
      { attrs: { timestamp: { DataType: 'Number', StringValue: '1493147359900' } }, md5: '235c5c510d26fb653d073faed50ae77c' },
      {
        attrs: { ordinal: { DataType: 'Number', StringValue: '1' }, category: { DataType: 'String', StringValue: 'test' } },
        md5: 'd21ae90c49061e927f57df5f5d72be1f',
      },
      {
        attrs: { test_attribute_name: { DataType: 'Binary', BinaryValue: Buffer.from('test_attribute_value').toString('base64') } },
        md5: '23f6bd27ea87aab7dfeadcc9aebee495',
      },
    ];

    // Act
    const digests = cases.map((c) => md5OfMessageAttributes(c.attrs));

    // Assess
    expect(digests).toEqual(cases.map((c) => c.md5));
  });
});

describe('LocalSqs over the SQS JSON protocol', () => {
  let sqs: LocalSqs;
  let server: Mounted;
  let client: SQSClient;

  beforeAll(async () => {
    sqs = new LocalSqs();
    server = await mount([sqs]);
    sqs.baseUrl = server.url;
    client = new SQSClient(clientConfig(server.url));
  });

  afterAll(async () => {
    client.destroy();
    await server.close();
    await sqs.close();
  });

  async function newQueue(attributes: Record<string, string> = {}): Promise<{ name: string; url: string }> {
    const name = `q-${randomUUID().slice(0, 8)}`;
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    return { name, url: QueueUrl! };
  }

  it('creates a queue whose URL lives on the base URL and finds it again by name', async () => {
    // Prepare
    const { name, url } = await newQueue();

    // Act
    const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: name }));
    const { QueueUrls } = await client.send(new ListQueuesCommand({ QueueNamePrefix: name }));

    // Assess
    expect(url).toBe(`${server.url}/000000000000/${name}`);
    expect(QueueUrl).toBe(url);
    expect(QueueUrls).toEqual([url]);
  });

  it('fails CreateQueue for an existing name with different attributes, as AWS does', async () => {
    // Prepare
    const { name } = await newQueue({ VisibilityTimeout: '10' });

    // Act
    const same = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: '10' } }));
    const different = client.send(new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: '20' } }));

    // Assess
    expect(same.QueueUrl).toBe(sqs.queueUrl(name));
    await expect(different).rejects.toBeInstanceOf(QueueNameExists);
  });

  it('sends, receives and deletes a message, answering with the body MD5 the SDK verifies', async () => {
    // Prepare
    const { url } = await newQueue();

    // Act
    const sent = await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'hello ✓' }));
    const received = await client.send(new ReceiveMessageCommand({ QueueUrl: url, MessageSystemAttributeNames: ['All'] }));
    const message = received.Messages![0];
    await client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: message.ReceiptHandle! }));
    const after = await client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));

    // Assess
    expect(message.MessageId).toBe(sent.MessageId);
    expect(message.Body).toBe('hello ✓');
    expect(message.Attributes).toMatchObject({ ApproximateReceiveCount: '1', SenderId: 'local' });
    expect(Number(message.Attributes!.SentTimestamp)).toBeGreaterThan(Date.now() - 10_000);
    expect(after.Attributes).toMatchObject({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' });
  });

  it('has its checksums verified by the SDK: a wrong body MD5 makes SendMessage fail', async () => {
    // Prepare: a stand-in that corrupts the checksum of an otherwise correct answer.
    const { url } = await newQueue();
    const corrupting: StandIn = {
      async handle(req) {
        const res = await sqs.handle(req);
        return res && { ...res, body: res.body.replace(/"MD5OfMessageBody":"[0-9a-f]+"/, '"MD5OfMessageBody":"00000000000000000000000000000000"') };
      },
      close: async () => {},
    };
    const corruptServer = await mount([corrupting]);
    const corruptClient = new SQSClient(clientConfig(corruptServer.url));

    // Act
    const sending = corruptClient.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' }));

    // Assess
    await expect(sending).rejects.toThrow('InvalidChecksumError');
    corruptClient.destroy();
    await corruptServer.close();
  });

  it('returns message attributes with the MD5 computed by SQS\'s documented algorithm, filtered by MessageAttributeNames', async () => {
    // Prepare
    const { url } = await newQueue();
    const MessageAttributes = {
      ordinal: { DataType: 'Number', StringValue: '1' },
      category: { DataType: 'String', StringValue: 'test' },
    };

    // Act
    const sent = await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'with attributes', MessageAttributes }));
    const all = await client.send(new ReceiveMessageCommand({ QueueUrl: url, MessageAttributeNames: ['All'], VisibilityTimeout: 0 }));
    const some = await client.send(new ReceiveMessageCommand({ QueueUrl: url, MessageAttributeNames: ['category'], VisibilityTimeout: 0 }));
    const none = await client.send(new ReceiveMessageCommand({ QueueUrl: url }));

    // Assess
    expect(sent.MD5OfMessageAttributes).toBe('d21ae90c49061e927f57df5f5d72be1f');
    expect(all.Messages![0].MessageAttributes).toEqual(MessageAttributes);
    expect(all.Messages![0].MD5OfMessageAttributes).toBe('d21ae90c49061e927f57df5f5d72be1f');
    expect(some.Messages![0].MessageAttributes).toEqual({ category: MessageAttributes.category });
    expect(some.Messages![0].MD5OfMessageAttributes).toBe(md5OfMessageAttributes({ category: MessageAttributes.category }));
    expect(none.Messages![0].MessageAttributes).toBeUndefined();
    expect(none.Messages![0].MD5OfMessageAttributes).toBeUndefined();
  });

  it('round-trips binary message attributes as bytes', async () => {
    // Prepare
    const { url } = await newQueue();
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);

    // Act
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'b', MessageAttributes: { blob: { DataType: 'Binary', BinaryValue: bytes } } }));
    const { Messages } = await client.send(new ReceiveMessageCommand({ QueueUrl: url, MessageAttributeNames: ['All'] }));

    // Assess
    expect(Buffer.from(Messages![0].MessageAttributes!.blob.BinaryValue!)).toEqual(Buffer.from(bytes));
  });

  it('hides a received message for its visibility timeout, then redelivers it with an incremented ApproximateReceiveCount', async () => {
    // Prepare
    const { url } = await newQueue({ VisibilityTimeout: '1' });
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'again' }));

    // Act
    const first = await client.send(new ReceiveMessageCommand({ QueueUrl: url, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }));
    const whileHidden = await client.send(new ReceiveMessageCommand({ QueueUrl: url }));
    await sleep(1100);
    const second = await client.send(new ReceiveMessageCommand({ QueueUrl: url, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }));

    // Assess
    expect(first.Messages![0].Attributes).toEqual({ ApproximateReceiveCount: '1' });
    expect(whileHidden.Messages).toBeUndefined();
    expect(second.Messages![0].MessageId).toBe(first.Messages![0].MessageId);
    expect(second.Messages![0].Attributes).toEqual({ ApproximateReceiveCount: '2' });
    expect(second.Messages![0].ReceiptHandle).not.toBe(first.Messages![0].ReceiptHandle);
  });

  it('makes a message receivable at once when its visibility is changed to 0', async () => {
    // Prepare
    const { url } = await newQueue({ VisibilityTimeout: '60' });
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'release me' }));
    const first = await client.send(new ReceiveMessageCommand({ QueueUrl: url }));

    // Act
    await client.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: first.Messages![0].ReceiptHandle!, VisibilityTimeout: 0 }));
    const second = await client.send(new ReceiveMessageCommand({ QueueUrl: url }));

    // Assess
    expect(second.Messages![0].Body).toBe('release me');
  });

  it('moves a message to the dead-letter queue instead of receiving it more than maxReceiveCount times', async () => {
    // Prepare
    const dlq = await newQueue();
    const dlqArn = (await client.send(new GetQueueAttributesCommand({ QueueUrl: dlq.url, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
    const { url } = await newQueue({ RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 2 }) });
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'poison' }));

    // Act
    const receives = [];
    for (let i = 0; i < 3; i++) receives.push(await client.send(new ReceiveMessageCommand({ QueueUrl: url, VisibilityTimeout: 0 })));
    const fromDlq = await client.send(new ReceiveMessageCommand({ QueueUrl: dlq.url, MessageSystemAttributeNames: ['All'] }));

    // Assess
    expect(receives.map((r) => r.Messages?.length ?? 0)).toEqual([1, 1, 0]);
    expect(fromDlq.Messages![0].Body).toBe('poison');
    expect(fromDlq.Messages![0].MessageId).toBe(receives[0].Messages![0].MessageId);
    expect(fromDlq.Messages![0].Attributes!.DeadLetterQueueSourceArn).toBe(sqs.queueArn(url.split('/').pop()!));
  });

  it('answers a long poll as soon as a message is sent', async () => {
    // Prepare
    const { url } = await newQueue();
    const started = Date.now();

    // Act
    const polling = client.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 10 }));
    await sleep(200);
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'wake up' }));
    const { Messages } = await polling;

    // Assess
    expect(Messages![0].Body).toBe('wake up');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('answers a long poll with no messages once its wait time has passed', async () => {
    // Prepare
    const { url } = await newQueue();
    const started = Date.now();

    // Act
    const { Messages } = await client.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 1 }));

    // Assess
    expect(Messages).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('hides a message sent with DelaySeconds until the delay has passed', async () => {
    // Prepare
    const { url } = await newQueue();

    // Act
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'later', DelaySeconds: 1 }));
    const early = await client.send(new ReceiveMessageCommand({ QueueUrl: url }));
    const depthEarly = sqs.depth(url.split('/').pop()!);
    const late = await client.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 3 }));

    // Assess
    expect(early.Messages).toBeUndefined();
    expect(depthEarly).toEqual({ visible: 0, inFlight: 0, delayed: 1 });
    expect(late.Messages![0].Body).toBe('later');
  });

  it('sends a batch, reporting each entry as Successful or Failed', async () => {
    // Prepare
    const { url } = await newQueue();

    // Act
    const result = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: 'a', MessageBody: 'one' },
          { Id: 'b', MessageBody: 'bad \u0000 char' },
          { Id: 'c', MessageBody: 'three', DelaySeconds: 0 },
        ],
      }),
    );
    const { Messages } = await client.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));

    // Assess
    expect(result.Successful!.map((s) => s.Id)).toEqual(['a', 'c']);
    expect(result.Failed).toEqual([expect.objectContaining({ Id: 'b', SenderFault: true, Code: 'InvalidMessageContents' })]);
    expect(Messages!.map((m) => m.Body).sort()).toEqual(['one', 'three']);
  });

  it('rejects empty, oversized and ambiguous batches as a whole', async () => {
    // Prepare
    const { url } = await newQueue();
    const eleven = Array.from({ length: 11 }, (_, i) => ({ Id: `m${i}`, MessageBody: 'x' }));

    // Act
    const empty = client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: [] }));
    const tooMany = client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: eleven }));
    const duplicate = client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: [{ Id: 'x', MessageBody: '1' }, { Id: 'x', MessageBody: '2' }] }));

    // Assess
    await expect(empty).rejects.toBeInstanceOf(EmptyBatchRequest);
    await expect(tooMany).rejects.toBeInstanceOf(TooManyEntriesInBatchRequest);
    await expect(duplicate).rejects.toBeInstanceOf(BatchEntryIdsNotDistinct);
    expect(sqs.depth(url.split('/').pop()!).visible).toBe(0);
  });

  it('deletes a batch, reporting an invalid receipt handle as a Failed entry', async () => {
    // Prepare
    const { url } = await newQueue();
    await client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: [{ Id: '1', MessageBody: 'a' }, { Id: '2', MessageBody: 'b' }] }));
    const { Messages } = await client.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));

    // Act
    const result = await client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: [...Messages!.map((m, i) => ({ Id: `ok${i}`, ReceiptHandle: m.ReceiptHandle! })), { Id: 'bad', ReceiptHandle: 'not-a-handle' }],
      }),
    );

    // Assess
    expect(result.Successful!.map((s) => s.Id)).toEqual(['ok0', 'ok1']);
    expect(result.Failed).toEqual([expect.objectContaining({ Id: 'bad', Code: 'ReceiptHandleIsInvalid' })]);
    expect(sqs.depth(url.split('/').pop()!)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('fails operations on a missing queue with QueueDoesNotExist', async () => {
    // Prepare
    const missingUrl = `${server.url}/000000000000/no-such-queue`;

    // Act
    const sending = client.send(new SendMessageCommand({ QueueUrl: missingUrl, MessageBody: 'x' }));
    const resolving = client.send(new GetQueueUrlCommand({ QueueName: 'no-such-queue' }));

    // Assess
    await expect(sending).rejects.toBeInstanceOf(QueueDoesNotExist);
    await expect(resolving).rejects.toMatchObject({ name: 'QueueDoesNotExist', $metadata: { httpStatusCode: 400 } });
  });

  it('fails a delete with a malformed receipt handle with ReceiptHandleIsInvalid', async () => {
    // Prepare
    const { url } = await newQueue();

    // Act
    const deleting = client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: 'garbage' }));

    // Assess
    await expect(deleting).rejects.toBeInstanceOf(ReceiptHandleIsInvalid);
  });

  it('fails a receive of more than 10 messages with InvalidParameterValue', async () => {
    // Prepare
    const { url } = await newQueue();

    // Act
    const receiving = client.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 11 }));

    // Assess
    await expect(receiving).rejects.toMatchObject({ name: 'InvalidParameterValue' });
  });

  it('reports queue attributes and empties a queue on PurgeQueue', async () => {
    // Prepare
    const { url } = await newQueue({ VisibilityTimeout: '45' });
    await client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: [{ Id: '1', MessageBody: 'a' }, { Id: '2', MessageBody: 'b' }] }));
    await client.send(new ReceiveMessageCommand({ QueueUrl: url }));

    // Act
    const before = await client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
    await client.send(new PurgeQueueCommand({ QueueUrl: url }));
    const after = await client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));

    // Assess
    expect(before.Attributes).toMatchObject({ VisibilityTimeout: '45', ApproximateNumberOfMessages: '1', ApproximateNumberOfMessagesNotVisible: '1' });
    expect(after.Attributes).toEqual({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' });
  });

  it('tells in-process listeners about a send, and shows queue contents through depth and peek', async () => {
    // Prepare
    const { name, url } = await newQueue();
    let notified = 0;
    const unsubscribe = sqs.onMessage(name, () => notified++);

    // Act
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'seen' }));
    const [received] = sqs.receive(name, 1, 30);
    sqs.send(name, 'second');
    unsubscribe();
    sqs.send(name, 'unheard');

    // Assess
    expect(notified).toBe(2);
    expect(received.body).toBe('seen');
    expect(sqs.depth(name)).toEqual({ visible: 2, inFlight: 1, delayed: 0 });
    expect(sqs.peek(name).map((m) => [m.body, m.state, m.receiveCount])).toEqual([
      ['seen', 'inFlight', 1],
      ['second', 'visible', 0],
      ['unheard', 'visible', 0],
    ]);
  });
});

describe('LocalSqs with a state file', () => {
  it('keeps queues, messages and receive counts across close and re-open, making in-flight messages visible again, and lets the queues be re-declared', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'cirrus-sqs-'));
    const file = join(dir, 'sqs.json');
    const first = new LocalSqs({ file });
    first.createQueue('Dlq');
    first.createQueue('Work', { visibilityTimeoutSeconds: 300, redrivePolicy: { deadLetterTargetArn: first.queueArn('Dlq'), maxReceiveCount: 3 } });
    first.send('Work', 'received once', { kind: { DataType: 'String', StringValue: 'a' } });
    first.receive('Work', 1);
    first.send('Work', 'never received');

    // Act
    await first.close();
    const second = new LocalSqs({ file });
    second.createQueue('Work', { visibilityTimeoutSeconds: 5 });
    const depth = second.depth('Work');
    const received = second.receive('Work', 10);
    const attributes = await second.handle({
      method: 'POST',
      path: '/',
      headers: { 'x-amz-target': 'AmazonSQS.GetQueueAttributes', 'content-type': 'application/x-amz-json-1.0' },
      body: JSON.stringify({ QueueUrl: second.queueUrl('Work'), AttributeNames: ['VisibilityTimeout', 'RedrivePolicy'] }),
    });
    await second.close();

    // Assess
    expect(second.listQueues()).toEqual(['Dlq', 'Work']);
    expect(depth).toEqual({ visible: 2, inFlight: 0, delayed: 0 });
    expect(received.map((m) => [m.body, m.attributes.ApproximateReceiveCount])).toEqual([
      ['received once', '2'],
      ['never received', '1'],
    ]);
    expect(received[0].messageAttributes).toEqual({ kind: { DataType: 'String', StringValue: 'a' } });
    // Re-declaring a queue at start updates its settings and keeps the ones it does not name.
    expect(JSON.parse(attributes!.body)).toEqual({
      Attributes: { VisibilityTimeout: '5', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: second.queueArn('Dlq'), maxReceiveCount: 3 }) },
    });
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('LocalSqs killed with SIGKILL', () => {
  /** Starts sqs-child.ts on `file` and resolves with its URL and a kill that waits for the exit. */
  async function startChild(file: string): Promise<{ url: string; kill: () => Promise<void> }> {
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'sqs-child.ts'), file], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d) => {
        out += d;
        const match = /listening (\S+)/.exec(out);
        if (match) resolve(match[1]);
      });
      child.once('exit', (code) => reject(new Error(`sqs-child exited (${code}): ${out}`)));
    });
    return {
      url,
      kill: async () => {
        child.kill('SIGKILL');
        await exited;
      },
    };
  }

  it('has every acknowledged SendMessage and SendMessageBatch on disk, and no acknowledged DeleteMessage undone, when killed right after the replies', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'cirrus-sqs-kill-'));
    const file = join(dir, 'sqs.json');
    const first = await startChild(file);
    const client = new SQSClient(clientConfig(first.url));
    const QueueUrl = `${first.url}/000000000000/Work`;
    const doomed = await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'to be deleted' }));
    const [received] = (await client.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 1 }))).Messages ?? [];
    expect(received.MessageId).toBe(doomed.MessageId);

    // Let any snapshot due for the changes so far be written, so only the burst below is at stake.
    await sleep(400);

    // Act: a burst of sends, a delete, and the kill as soon as the last reply is in.
    const singles = Array.from({ length: 30 }, (_, i) => client.send(new SendMessageCommand({ QueueUrl, MessageBody: `single ${i}` })));
    const batches = Array.from({ length: 3 }, (_, b) =>
      client.send(new SendMessageBatchCommand({ QueueUrl, Entries: Array.from({ length: 10 }, (_, i) => ({ Id: `e${i}`, MessageBody: `batch ${b}.${i}` })) })),
    );
    const deleted = client.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: received.ReceiptHandle! }));
    const acked = [...(await Promise.all(singles)).map((r) => r.MessageId!), ...(await Promise.all(batches)).flatMap((r) => r.Successful!.map((e) => e.MessageId!))];
    await deleted;
    await first.kill();
    client.destroy();

    // Assess
    const reopened = new LocalSqs({ file });
    const kept = reopened.peek('Work');
    await reopened.close();
    rmSync(dir, { recursive: true, force: true });
    expect(acked).toHaveLength(60);
    expect(kept.map((m) => m.messageId).sort()).toEqual([...acked].sort());
    expect(kept.every((m) => m.state === 'visible')).toBe(true);
  }, 60_000);

  it('ignores and removes a snapshot a killed process left half-written', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'cirrus-sqs-kill-'));
    const file = join(dir, 'sqs.json');
    const first = new LocalSqs({ file });
    first.createQueue('Work');
    first.send('Work', 'kept');
    await first.close();
    writeFileSync(`${file}.999999.tmp`, '{"version":1,"queu');

    // Act
    const second = new LocalSqs({ file });
    const bodies = second.peek('Work').map((m) => m.body);
    await second.close();

    // Assess
    expect(bodies).toEqual(['kept']);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('replays the journal over the snapshot once: a restart after a clean reopen keeps the same messages', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'cirrus-sqs-kill-'));
    const file = join(dir, 'sqs.json');
    const child = await startChild(file);
    const client = new SQSClient(clientConfig(child.url));
    const QueueUrl = `${child.url}/000000000000/Work`;
    for (let i = 0; i < 5; i++) await client.send(new SendMessageCommand({ QueueUrl, MessageBody: `m${i}` }));
    const [taken] = (await client.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 1 }))).Messages ?? [];
    await client.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: taken.ReceiptHandle! }));
    await child.kill();
    client.destroy();

    // Act
    const second = new LocalSqs({ file });
    const afterKill = second.peek('Work').map((m) => m.body);
    second.send('Work', 'after restart');
    await second.close();
    const third = new LocalSqs({ file });
    const afterReopen = third.peek('Work').map((m) => m.body);
    await third.close();
    rmSync(dir, { recursive: true, force: true });

    // Assess
    expect(afterKill).toEqual(['m1', 'm2', 'm3', 'm4']);
    expect(afterReopen).toEqual(['m1', 'm2', 'm3', 'm4', 'after restart']);
  }, 60_000);
});
