/**
 * SendMessage and SendMessageBatch without the SQS client (core/aws/sqs.ts), against the
 * local SQS: AWS JSON 1.0 requests the stand-in takes as it takes the client's, messages a
 * consumer receives with the same bodies, entries SQS refuses reported by Id, SQS's errors
 * with the client's names, throttling retried, a body whose MD5 SQS answers wrongly refused
 * (as the client refuses it), and each counted as one request.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalSqs } from '../../local/aws/sqs';
import { awsRequests } from '../../core/aws/accounting';
import { sendMessage, sendMessageBatch, sqsBody } from '../../core/aws/sqs';
import { sendBatch } from '../../core/services/queues';
import { clientConfig, mount, type Mounted } from './mount';

const saved = { ...process.env };
let sqs: LocalSqs;
let server: Mounted;
let client: SQSClient;
let url: string;

const receiveAll = async (queueUrl: string) => {
  const res = await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
  return (res.Messages ?? []).map((m) => m.Body);
};

beforeAll(async () => {
  sqs = new LocalSqs();
  server = await mount([sqs]);
  sqs.baseUrl = server.url;
  url = sqs.createQueue('jobs').url;
  client = new SQSClient(clientConfig(server.url));
  Object.assign(process.env, { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_ENDPOINT_URL_SQS: server.url });
});

afterAll(async () => {
  process.env = saved;
  client.destroy();
  await server.close();
  await sqs.close();
});

describe('sending to SQS without the client', () => {
  it('sends one message and a batch a consumer receives as sent, each counted as one request', async () => {
    const before = awsRequests.snapshot();
    const body = sqsBody({ text: 'héllo \u{1F600} \ufffe' });
    expect(await sendMessage(url, body)).toMatch(/^[0-9a-f-]{36}$/);
    const res = await sendMessageBatch(url, [
      { Id: '0', MessageBody: '{"n":0}' },
      { Id: '1', MessageBody: '{"n":1}' },
    ]);
    expect(res.Successful.map((s) => s.Id).sort()).toEqual(['0', '1']);
    expect(res.Failed).toEqual([]);
    expect(awsRequests.since(before)).toEqual({ SQS: { SendMessage: 1, SendMessageBatch: 1 } });
    expect((await receiveAll(url)).sort()).toEqual([body, '{"n":0}', '{"n":1}'].sort());
  });

  it('reports the entries SQS refuses by Id, sending the others', async () => {
    const res = await sendMessageBatch(url, [
      { Id: 'ok', MessageBody: 'fine' },
      { Id: 'bad', MessageBody: 'control \u0001 character' },
    ]);
    expect(res.Successful.map((s) => s.Id)).toEqual(['ok']);
    expect(res.Failed).toMatchObject([{ Id: 'bad', SenderFault: true, Code: 'InvalidMessageContents' }]);
    expect(await receiveAll(url)).toEqual(['fine']);
  });

  it("fails with SQS's errors, named as the client names them", async () => {
    const missing = url.replace(/jobs$/, 'none');
    await expect(sendMessage(missing, 'x')).rejects.toMatchObject({ name: 'QueueDoesNotExist', $fault: 'client', $metadata: { httpStatusCode: 400 } });
    await expect(sendMessageBatch(url, [])).rejects.toMatchObject({ name: 'EmptyBatchRequest' });
    await expect(sendMessageBatch(url, Array.from({ length: 11 }, (_, i) => ({ Id: String(i), MessageBody: 'x' })))).rejects.toMatchObject({ name: 'TooManyEntriesInBatchRequest' });
  });

  it('returns the owners of jobs that could not be queued (sendBatch), queueing the rest ten to a request', async () => {
    process.env.QUEUE_WEBHOOK_URL = url;
    const before = awsRequests.snapshot();
    const jobs = Array.from({ length: 12 }, (_, i) => ({ owner: `o${i}`, body: i === 11 ? 'bad \u0002' : { n: i } }));
    // A JSON string escapes the control character: every job is queued.
    expect(await sendBatch('webhook', jobs)).toEqual(new Set());
    expect(awsRequests.since(before)).toEqual({ SQS: { SendMessageBatch: 2 } });
    process.env.QUEUE_WEBHOOK_URL = url.replace(/jobs$/, 'none');
    expect(await sendBatch('webhook', jobs.slice(0, 3))).toEqual(new Set(['o0', 'o1', 'o2']));
  });
});

describe('sending to a throttling or corrupting SQS', () => {
  let flaky: Server;
  let answers: { status: number; headers?: Record<string, string>; body: unknown }[];
  let seen: { target?: string; contentType?: string; authorization?: string }[];

  beforeAll(async () => {
    flaky = createServer((req, res) => {
      seen.push({ target: req.headers['x-amz-target'] as string, contentType: req.headers['content-type'], authorization: req.headers.authorization });
      req.resume().on('end', () => {
        const answer = answers.shift() ?? { status: 500, body: { __type: 'com.amazonaws.sqs#InternalError', message: 'no more answers' } };
        res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.0', ...answer.headers }).end(JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
  });
  beforeEach(() => {
    answers = [];
    seen = [];
    process.env.AWS_ENDPOINT_URL_SQS = `http://127.0.0.1:${(flaky.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    process.env.AWS_ENDPOINT_URL_SQS = server.url;
    await new Promise((resolve) => flaky.close(resolve));
  });

  const md5 = (text: string) => createHash('md5').update(text).digest('hex');
  const throttled = { status: 400, headers: { 'x-amzn-query-error': 'RequestThrottled;Sender' }, body: { __type: 'com.amazonaws.sqs#RequestThrottled', message: 'Rate exceeded' } };

  it('retries throttling as the SDK does, counting one request', async () => {
    answers = [throttled, { status: 200, body: { MessageId: 'm-1', MD5OfMessageBody: md5('body') } }];
    const before = awsRequests.snapshot();
    expect(await sendMessage(url, 'body')).toBe('m-1');
    expect(seen).toHaveLength(2);
    expect(seen[0]).toMatchObject({ target: 'AmazonSQS.SendMessage', contentType: 'application/x-amz-json-1.0' });
    expect(seen[0].authorization).toMatch(/\/us-east-1\/sqs\/aws4_request/);
    expect(awsRequests.since(before)).toEqual({ SQS: { SendMessage: 1 } });
  });

  it('refuses an answer whose MD5 does not match the body sent', async () => {
    answers = [{ status: 200, body: { MessageId: 'm-2', MD5OfMessageBody: md5('other') } }];
    await expect(sendMessage(url, 'body')).rejects.toThrow(/Invalid MD5 checksum on message: m-2/);
    answers = [{ status: 200, body: { Successful: [{ Id: '0', MessageId: 'm-3', MD5OfMessageBody: md5('other') }], Failed: [] } }];
    await expect(sendMessageBatch(url, [{ Id: '0', MessageBody: 'body' }])).rejects.toThrow(/Invalid MD5 checksum on messages: m-3/);
  });
});
