/**
 * Contract tests of the local Lambda stand-in (asynchronous invocations), driven by the real
 * `@aws-sdk/client-lambda`: what Lambda accepts and refuses, its retries and on-failure
 * record, and an accepted event surviving a runtime that was killed before running it; and
 * Cirrus's own invocation (core/aws/lambda.ts), which sends Invoke without that client.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InvokeCommand, LambdaClient, LambdaServiceException } from '@aws-sdk/client-lambda';
import { LocalLambda, MAX_ASYNC_PAYLOAD_BYTES, type FailureRecord, type LocalLambdaFunction } from '../../local/aws/lambda';
import { clientConfig, mount, type Mounted } from './mount';
import { awsRequests } from '../../core/aws/accounting';
import { invokeAsync } from '../../core/aws/lambda';
import { functions } from '../../core/manifest';

let dir: string;
const opened: { lambda: LocalLambda; server: Mounted }[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cirrus-lambda-'));
});
afterEach(async () => {
  for (const { lambda, server } of opened.splice(0)) {
    await server.close();
    await lambda.close();
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Setup {
  lambda: LocalLambda;
  client: LambdaClient;
  runs: unknown[];
  failures: FailureRecord[];
}

async function setup(options: { run?: (event: unknown) => Promise<unknown>; maxEventAgeSeconds?: number; file?: string; start?: boolean; secret?: string } = {}): Promise<Setup> {
  const runs: unknown[] = [];
  const failures: FailureRecord[] = [];
  const fn: LocalLambdaFunction = {
    name: 'Push',
    arn: 'arn:aws:lambda:us-east-1:000000000000:function:Push',
    config: { retryAttempts: 2, maxEventAgeSeconds: options.maxEventAgeSeconds ?? 300 },
    run: async (event) => {
      runs.push(event);
      return options.run?.(event);
    },
  };
  const lambda = new LocalLambda({
    region: 'us-east-1',
    credentials: { local: 'local' },
    functions: [fn],
    file: options.file,
    retryDelaysMs: [20, 40],
    onFailure: async (_fn, record) => void failures.push(record),
  });
  if (options.start !== false) lambda.start();
  const server = await mount([lambda]);
  opened.push({ lambda, server });
  const client = new LambdaClient({ ...clientConfig(server.url), credentials: { accessKeyId: 'local', secretAccessKey: options.secret ?? 'local' }, maxAttempts: 1 });
  return { lambda, client, runs, failures };
}

const event = (FunctionName: string, payload: unknown, InvocationType: 'Event' | 'RequestResponse' = 'Event') =>
  new InvokeCommand({ FunctionName, InvocationType, Payload: Buffer.from(JSON.stringify(payload)) });

async function refusal(promise: Promise<unknown>): Promise<{ name: string; status?: number }> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LambdaServiceException);
  return { name: (err as LambdaServiceException).name, status: (err as LambdaServiceException).$metadata.httpStatusCode };
}

describe('the local Lambda', () => {
  it('accepts an asynchronous invocation (202) by name or ARN and runs the function with its payload', async () => {
    const { lambda, client, runs } = await setup();
    const res = await client.send(event('Push', { a: 1 }));
    expect(res.StatusCode).toBe(202);
    await client.send(event('arn:aws:lambda:us-east-1:000000000000:function:Push', { a: 2 }));
    await lambda.idle();
    expect(runs).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it('refuses a bad signature, an unknown function, a payload over 1 MB and a synchronous invocation, running nothing', async () => {
    const forged = await setup({ secret: 'not-local' });
    expect(await refusal(forged.client.send(event('Push', {})))).toEqual({ name: 'InvalidSignatureException', status: 403 });
    const { client, runs, lambda } = await setup();
    expect(await refusal(client.send(event('Nobody', {})))).toEqual({ name: 'ResourceNotFoundException', status: 404 });
    const big = { data: 'x'.repeat(MAX_ASYNC_PAYLOAD_BYTES) };
    expect(await refusal(client.send(event('Push', big)))).toEqual({ name: 'RequestTooLargeException', status: 413 });
    expect((await refusal(client.send(event('Push', {}, 'RequestResponse')))).status).toBe(400);
    // Just under the limit is accepted.
    expect((await client.send(event('Push', { data: 'x'.repeat(MAX_ASYNC_PAYLOAD_BYTES - 20) }))).StatusCode).toBe(202);
    await lambda.idle();
    expect(runs).toHaveLength(1);
    expect(forged.runs).toEqual([]);
  });

  it('retries a failed run twice, then sends Lambda\'s failure record to the on-failure destination', async () => {
    const { lambda, client, runs, failures } = await setup({
      run: async () => {
        throw new TypeError('push failed');
      },
    });
    await client.send(event('Push', { slice: 1 }));
    await lambda.idle();
    expect(runs).toHaveLength(3);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      version: '1.0',
      requestContext: { functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:Push:$LATEST', condition: 'RetriesExhausted', approximateInvokeCount: 3 },
      requestPayload: { slice: 1 },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorType: 'TypeError', errorMessage: 'push failed' },
    });
  });

  it('does not retry a run that succeeds the second time again, and gives up on an event older than its maximum age without running it', async () => {
    let calls = 0;
    const flaky = await setup({
      run: async () => {
        if (++calls === 1) throw new Error('once');
      },
    });
    await flaky.client.send(event('Push', {}));
    await flaky.lambda.idle();
    expect(flaky.runs).toHaveLength(2);
    expect(flaky.failures).toEqual([]);

    // Accepted, then left waiting longer than its maximum age (0 s) before Lambda gets to it.
    const old = await setup({ maxEventAgeSeconds: 0, start: false });
    await old.client.send(event('Push', { late: true }));
    await new Promise((r) => setTimeout(r, 20));
    old.lambda.start();
    await old.lambda.idle();
    expect(old.runs).toEqual([]);
    expect(old.failures.map((f) => f.requestContext.condition)).toEqual(['EventAgeExceeded']);
  });

  it('keeps an accepted event across a crash: a new runtime on the same file runs it', async () => {
    const file = join(dir, 'crash.json');
    // Never started (nor closed): as if killed right after its 202.
    const first = await setup({ file, start: false });
    expect((await first.client.send(event('Push', { kept: true }))).StatusCode).toBe(202);
    expect(first.lambda.pending).toBe(1);

    const second = await setup({ file });
    await second.lambda.idle();
    expect(second.runs).toEqual([{ kept: true }]);
    expect(first.runs).toEqual([]);
  });
});

describe("Cirrus's asynchronous invocation, sent without the Lambda client (core/aws/lambda.ts)", () => {
  const saved = { ...process.env };
  const envVar = (functions.push as { asyncInvoke?: { envVar: string } }).asyncInvoke!.envVar;
  afterEach(() => {
    process.env = { ...saved };
  });

  function pointAt(server: Mounted, functionName: string, secret = 'local'): void {
    Object.assign(process.env, { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: secret, AWS_SESSION_TOKEN: 't', AWS_ENDPOINT_URL_LAMBDA: server.url, [envVar]: functionName });
  }

  it('is accepted by Lambda (signed as the client signs it), by name or ARN, counted as one Invoke, and runs the function', async () => {
    const { lambda, runs } = await setup();
    const server = opened.at(-1)!.server;
    const before = awsRequests.snapshot();
    pointAt(server, 'Push');
    await invokeAsync('push', { a: 1 });
    pointAt(server, 'arn:aws:lambda:us-east-1:000000000000:function:Push');
    await invokeAsync('push', { a: 2, text: "it's (almost) *done*!" });
    await lambda.idle();
    expect(runs).toEqual([{ a: 1 }, { a: 2, text: "it's (almost) *done*!" }]);
    expect(awsRequests.since(before)).toEqual({ Lambda: { Invoke: 2 } });
  });

  it("fails with Lambda's error, shaped as the SDK's, running nothing: an unknown function, a bad signature", async () => {
    const { lambda, runs } = await setup();
    const server = opened.at(-1)!.server;
    pointAt(server, 'Nobody');
    await expect(invokeAsync('push', {})).rejects.toMatchObject({ name: 'ResourceNotFoundException', $fault: 'client', $metadata: { httpStatusCode: 404 } });
    pointAt(server, 'Push', 'not-local');
    await expect(invokeAsync('push', {})).rejects.toMatchObject({ name: 'InvalidSignatureException', $metadata: { httpStatusCode: 403 } });
    // Over Lambda's limit, refused before anything is sent.
    pointAt(server, 'Push');
    await expect(invokeAsync('push', { data: 'x'.repeat(MAX_ASYNC_PAYLOAD_BYTES) })).rejects.toThrow(/Lambda takes at most 1048576/);
    await lambda.idle();
    expect(runs).toEqual([]);
  });
});
