/**
 * GetParameter without the SSM client (core/aws/parameters.ts): signed with the SDK's SigV4
 * signer, sent to the local Parameter Store (which verifies the signature as AWS does), its
 * errors shaped as the SDK's, retried as the SDK's standard mode retries, and counted.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalSsm } from '../../local/aws/ssm';
import { awsRequests } from '../../core/aws/accounting';
import { getParameter } from '../../core/aws/parameters';
import { clientConfig, mount, type Mounted } from '../local/mount';

const saved = { ...process.env };
let ssm: LocalSsm;
let server: Mounted;

/** Points the module at `url`, signing as `accessKeyId`/`secret`. */
function useEndpoint(url: string, accessKeyId = 'local', secret = 'local'): void {
  process.env.AWS_ENDPOINT_URL_SSM = url;
  process.env.AWS_ACCESS_KEY_ID = accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = secret;
  process.env.AWS_SESSION_TOKEN = 'session-token';
}

beforeAll(async () => {
  process.env.AWS_REGION = 'us-east-1';
  ssm = new LocalSsm({ credentials: { local: 'local' } });
  server = await mount([ssm]);
  const client = new SSMClient(clientConfig(server.url));
  await client.send(new PutParameterCommand({ Name: '/cirrus/p/key', Value: 's3cret value', Type: 'SecureString' }));
  client.destroy();
});

beforeEach(() => useEndpoint(server.url));

afterAll(async () => {
  process.env = saved;
  await server.close();
});

describe('getParameter', () => {
  it('should read a SecureString decrypted, in a request Parameter Store verifies, counted as one GetParameter', async () => {
    const before = awsRequests.snapshot();
    const parameter = await getParameter('/cirrus/p/key', true);
    expect(parameter).toMatchObject({ Name: '/cirrus/p/key', Type: 'SecureString', Value: 's3cret value', Version: 1 });
    // Without decryption a SecureString is its ciphertext, as GetParameter answers.
    expect((await getParameter('/cirrus/p/key', false)).Value).not.toBe('s3cret value');
    expect(awsRequests.since(before)).toEqual({ SSM: { GetParameter: 2 } });
  });

  it("should fail with Parameter Store's error, shaped as the SDK's: a missing parameter, a bad signature", async () => {
    await expect(getParameter('/cirrus/p/none', true)).rejects.toMatchObject({ name: 'ParameterNotFound', $fault: 'client', $metadata: { httpStatusCode: 400 } });
    useEndpoint(server.url, 'local', 'wrong secret');
    await expect(getParameter('/cirrus/p/key', true)).rejects.toMatchObject({ name: 'InvalidSignatureException', $metadata: { httpStatusCode: 400 } });
    useEndpoint(server.url, 'unknown');
    await expect(getParameter('/cirrus/p/key', true)).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
  });
});

describe('getParameter against a throttling Parameter Store', () => {
  let flaky: Server;
  let answers: { status: number; body: unknown }[];
  let seen: { target?: string; authorization?: string; token?: string }[];

  beforeAll(async () => {
    flaky = createServer((req, res) => {
      seen.push({ target: req.headers['x-amz-target'] as string, authorization: req.headers.authorization, token: req.headers['x-amz-security-token'] as string });
      req.resume().on('end', () => {
        const answer = answers.shift() ?? { status: 500, body: { __type: 'InternalServerError', message: 'no more answers' } };
        res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': 'r-1' }).end(JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
  });
  beforeEach(() => {
    answers = [];
    seen = [];
    useEndpoint(`http://127.0.0.1:${(flaky.address() as AddressInfo).port}`);
  });
  afterEach(() => useEndpoint(server.url));
  afterAll(() => new Promise((resolve) => flaky.close(resolve)));

  it('should retry throttling and server errors, up to 3 attempts, with the same signed GetParameter', async () => {
    answers = [
      { status: 400, body: { __type: 'com.amazonaws.ssm#ThrottlingException', message: 'Rate exceeded' } },
      { status: 500, body: { __type: 'InternalServerError', message: 'oops' } },
      { status: 200, body: { Parameter: { Name: '/x', Type: 'SecureString', Value: 'v', Version: 3 } } },
    ];
    await expect(getParameter('/x', true)).resolves.toMatchObject({ Value: 'v', Version: 3 });
    expect(seen).toHaveLength(3);
    for (const request of seen) {
      expect(request.target).toBe('AmazonSSM.GetParameter');
      expect(request.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=local\/\d{8}\/us-east-1\/ssm\/aws4_request, SignedHeaders=.*x-amz-security-token.*, Signature=[0-9a-f]{64}$/);
      expect(request.token).toBe('session-token');
    }
  });

  it('should give up after 3 attempts with the last error, and not retry a refusal', async () => {
    answers = Array.from({ length: 3 }, () => ({ status: 400, body: { __type: 'ThrottlingException', message: 'Rate exceeded' } }));
    await expect(getParameter('/x', true)).rejects.toMatchObject({ name: 'ThrottlingException', message: 'Rate exceeded', $metadata: { httpStatusCode: 400, requestId: 'r-1', attempts: 3 } });
    expect(seen).toHaveLength(3);

    seen = [];
    answers = [{ status: 400, body: { __type: 'AccessDeniedException', Message: 'User: x is not authorized to perform: ssm:GetParameter' } }];
    await expect(getParameter('/x', true)).rejects.toMatchObject({ name: 'AccessDeniedException', message: expect.stringContaining('ssm:GetParameter') });
    expect(seen).toHaveLength(1);
  });
});
