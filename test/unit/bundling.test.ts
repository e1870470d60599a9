/**
 * The bundles leave out what their function does not use: the parts of the AWS SDK no
 * function uses (lib/bundling.ts, `unusedSdkAlias`), while the clients built from such a
 * bundle still work (built with the stack's esbuild settings, run in a fresh Node process,
 * sending real requests to a local HTTP server that answers as the services do); and the
 * protocol schemas the function's code never reaches (core/protocol/schema.ts); zod as zod/mini
 * only, never classic zod's chained API (about 70 KB more, and slower to build schemas at init),
 * with the English messages wherever it validates (core/protocol/zod-locale.ts); and the SSM and
 * Lambda clients, which no function carries (core/aws/signed-request.ts sends their one
 * GetParameter and Invoke), while such a bundle still reads a secret from Parameter Store; the
 * API Gateway Management client, which none carries either, and the SQS client, which only the
 * operator's dead-letter routes need (their posts and sends are signed the same way), while
 * such a bundle still posts to a connection and sends to a queue; and the authorizer,
 * `$connect`, `$disconnect` and push at most 300 KB each.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { esbuildOptions, projectRoot } from '../../lib/bundling';
import { actionRequests, actions } from '../../core/protocol/schema';
import { descriptionOf } from '../../core/protocol/describe';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { functionPolicy } from '../../core/iam';
import { functions, type FunctionKey } from '../../core/manifest';
import type { PushSettings } from '../../core/offline-push/types';
import { LocalSsm } from '../../local/aws/ssm';
import { LocalSqs } from '../../local/aws/sqs';
import { verifyServiceRequest } from '../../local/aws/sigv4';
import { clientConfig, mount } from '../local/mount';

/** Uses the clients the way the functions do: the Lambda client (which imports the event-stream module) and the S3 client. */
const entry = `
import { InvokeCommand, InvokeWithResponseStreamCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
const endpoint = process.env.TEST_ENDPOINT;
const config = { endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 };
const lambda = new LambdaClient(config);
const invoked = await lambda.send(new InvokeCommand({ FunctionName: 'f', InvocationType: 'Event', Payload: Buffer.from('{}') }));
const s3 = new S3Client({ ...config, forcePathStyle: true });
const head = await s3.send(new HeadObjectCommand({ Bucket: 'b', Key: 'k' }));
let streamError = '';
try {
  await lambda.send(new InvokeWithResponseStreamCommand({ FunctionName: 'f', Payload: Buffer.from('{}') }));
} catch (err) {
  streamError = String(err);
}
process.stdout.write(JSON.stringify({ status: invoked.StatusCode, length: head.ContentLength, streamError }));
`;

let server: Server;
let endpoint: string;
const requests: string[] = [];
let dir: string;
let metafile: Metafile;
let file: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => {
      if (req.url?.includes('/invocations')) {
        res.writeHead(202, { 'content-type': 'application/json' }).end();
      } else if (req.url?.includes('/response-streaming-invocations')) {
        res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' }).end();
      } else {
        res.writeHead(200, { 'content-length': '7', 'content-type': 'text/plain', etag: '"e"' }).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = mkdtempSync(join(tmpdir(), 'cirrus-bundling-'));
  file = join(dir, 'entry.mjs');
  const { entryPoints: _entry, ...options } = esbuildOptions('unused', file);
  const result = await build({ ...options, stdin: { contents: entry, resolveDir: projectRoot, loader: 'ts', sourcefile: 'entry.ts' }, metafile: true, logLevel: 'silent' });
  metafile = result.metafile;
}, 60_000);

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await new Promise((resolve) => server.close(resolve));
});

describe('the bundled AWS SDK', () => {
  it('should leave out the event-stream module of @smithy/core', () => {
    const inputs = Object.keys(metafile.inputs);
    expect(inputs.some((path) => path.includes('@smithy/core/dist-es/submodules/event-streams/'))).toBe(false);
    expect(inputs.some((path) => path.endsWith('core/aws/no-event-streams.ts'))).toBe(true);
  });

  it('should still build clients that send requests and read answers', async () => {
    // Asynchronously: the server answering it runs in this process.
    const res = await promisify(execFile)(process.execPath, [file], { env: { PATH: process.env.PATH, TEST_ENDPOINT: endpoint }, encoding: 'utf8', timeout: 30_000 });
    expect(res.stderr).toBe('');
    const out = JSON.parse(res.stdout);
    expect(out.status).toBe(202);
    expect(out.length).toBe(7);
    expect(requests.some((r) => r.startsWith('POST /2015-03-31/functions/f/invocations'))).toBe(true);
    expect(requests.some((r) => r.startsWith('HEAD /b/k'))).toBe(true);
    // An event-stream operation fails plainly instead of carrying the module.
    expect(out.streamError).toContain('Event streams are not bundled');
  });
});

describe("the send function's bundle", () => {
  let code: string;
  beforeAll(async () => {
    const out = join(dir, 'ws-message.mjs');
    await build({ ...esbuildOptions('ws-message', out), logLevel: 'silent' });
    code = readFileSync(out, 'utf8');
  }, 60_000);

  it('should validate every action with its request schema', () => {
    expect(Object.keys(actionRequests)).toEqual(Object.keys(actions));
    for (const [name, spec] of Object.entries(actions)) expect(actionRequests[name as keyof typeof actions], name).toBe(spec.request);
  });

  it('should carry the request schemas it validates with', () => {
    expect(code).toContain(SendMsgDescription);
    expect(code).toContain(descriptionOf(actions.registerPushDevice.request)!.slice(0, 60));
  });

  it('should leave out the schemas of replies, pushes and device listings, which the server never parses', () => {
    // A description is a string literal in the bundle when the schema is bundled.
    const unused = {
      GetNewestSeqResult: 'Highest allocated seq the user may read',
      GetMessageReadersResult: 'Pass as cursor for the next page; null at the end',
      EventFrame: 'its token is revoked: do not reconnect with it',
      DeviceView: 'listings never return a usable token',
      PushConfigSchema: 'pass it as applicationServerKey',
      QuietHoursSchema: 'must be an IANA time zone',
    };
    for (const [schema, text] of Object.entries(unused)) expect(code.includes(text), `${schema} is bundled`).toBe(false);
  });
});

const SendMsgDescription = 'Send a message to a user or a group.';

describe("every function's bundle", () => {
  /** Each function's bundle, built as the stack builds it: the files it is made of. */
  const bundled = {} as Record<FunctionKey, string[]>;
  /** Each bundle's size in bytes. */
  const sizes = {} as Record<FunctionKey, number>;
  beforeAll(async () => {
    for (const key of Object.keys(functions) as FunctionKey[]) {
      const result = await build({ ...esbuildOptions(functions[key].entry, join(dir, `${key}.mjs`)), write: false, metafile: true, logLevel: 'silent' });
      bundled[key] = Object.keys(result.metafile.inputs);
      sizes[key] = result.outputFiles.find((f) => f.path.endsWith('.mjs'))!.contents.byteLength;
    }
  }, 300_000);

  it('should carry no classic zod', () => {
    for (const [fn, paths] of Object.entries(bundled)) expect(paths.filter((path) => path.includes('node_modules/zod/v4/classic/')), fn).toEqual([]);
  });

  it("should carry zod's English messages wherever it carries zod/mini", () => {
    const validating = Object.entries(bundled).filter(([, paths]) => paths.some((path) => path.includes('node_modules/zod/v4/mini/')));
    expect(validating.map(([fn]) => fn)).toContain('wsMessage');
    for (const [fn, paths] of validating) {
      expect(paths.some((path) => path.includes('node_modules/zod/v4/locales/en.js')), fn).toBe(true);
      expect(paths.some((path) => path.endsWith('core/protocol/zod-locale.ts')), fn).toBe(true);
    }
  });

  // Every function granted ssm:GetParameter (webhooks and every push provider on: the widest grants).
  const offlinePush: PushSettings = {
    apns: { keyId: 'K', teamId: 'T', bundleIds: ['b'], keyParameter: '/p/apns' },
    fcm: { projectId: 'p', serviceAccountParameter: '/p/fcm' },
    webpush: { subject: 'mailto:a@b.c', publicKey: 'k', privateKeyParameter: '/p/vapid' },
  };
  const readers = (Object.keys(functions) as FunctionKey[]).filter((key) =>
    functionPolicy(key, { webhooks: true, offlinePush }).some((s) => s.actions.includes('ssm:GetParameter')),
  );

  it('that reads secrets should be one of the functions that check tokens, sign webhooks and push', () => {
    expect(readers).toEqual(expect.arrayContaining(['wsAuthorizer', 'wsMessage', 'http', 'webhook']));
  });

  it('should leave out @aws-sdk/client-ssm', async () => {
    expect(readers.filter((key) => bundled[key].some((path) => path.includes('node_modules/@aws-sdk/client-ssm/')))).toEqual([]);
  });

  it('should leave out @aws-sdk/client-lambda, also from the functions that invoke others asynchronously', async () => {
    const invokers = (Object.keys(functions) as FunctionKey[]).filter((key) =>
      functionPolicy(key, { webhooks: true, offlinePush }).some((s) => s.actions.includes('lambda:InvokeFunction')),
    );
    expect(invokers).toEqual(expect.arrayContaining(['wsMessage', 'push', 'http']));
    expect(invokers.filter((key) => bundled[key].some((path) => path.includes('node_modules/@aws-sdk/client-lambda/')))).toEqual([]);
  });

  const carrying = (pkg: string) => (Object.keys(functions) as FunctionKey[]).filter((key) => bundled[key].some((path) => path.includes(`node_modules/${pkg}/`)));

  it('should leave out @aws-sdk/client-apigatewaymanagementapi, also from the functions that post to connections', () => {
    const posters = (Object.keys(functions) as FunctionKey[]).filter((key) =>
      functionPolicy(key, { webhooks: true, offlinePush }).some((s) => s.actions.includes('execute-api:ManageConnections')),
    );
    expect(posters).toEqual(expect.arrayContaining(['wsConnect', 'wsMessage', 'push', 'http', 'batchPages']));
    expect(carrying('@aws-sdk/client-apigatewaymanagementapi')).toEqual([]);
  });

  it('should leave out @aws-sdk/client-sqs but where the operator redrives dead letters (http)', () => {
    const senders = (Object.keys(functions) as FunctionKey[]).filter((key) =>
      functionPolicy(key, { webhooks: true, offlinePush }).some((s) => s.actions.includes('sqs:SendMessage')),
    );
    expect(senders).toEqual(expect.arrayContaining(['wsConnect', 'wsDisconnect', 'wsMessage', 'archive', 'notify']));
    expect(carrying('@aws-sdk/client-sqs')).toEqual(['http']);
  });

  it('should be at most 300 KB for the authorizer, $connect, $disconnect and push', () => {
    const hot = ['wsAuthorizer', 'wsConnect', 'wsDisconnect', 'push'] as const;
    expect(hot.filter((key) => sizes[key] > 300 * 1024).map((key) => `${key} ${Math.round(sizes[key] / 1024)} KB`)).toEqual([]);
  });

  it('should post to a connection and send to SQS, signed with the environment\'s credentials, when bundled', async () => {
    // Prepare: the local SQS, and an @connections endpoint that verifies SigV4 as API Gateway does.
    const sqs = new LocalSqs();
    const mounted = await mount([sqs]);
    sqs.baseUrl = mounted.url;
    const queue = sqs.createQueue('bundled').url;
    const posted: { path: string; body: string; signed: boolean }[] = [];
    const connections = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
        const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : v]));
        let signed = true;
        try {
          verifyServiceRequest({ method: req.method ?? '', target: req.url ?? '/', headers, body: Buffer.concat(chunks) }, { AKIDLOCAL: 'local-secret' }, 'us-east-1', 'execute-api');
        } catch {
          signed = false;
        }
        posted.push({ path: req.url ?? '', body: Buffer.concat(chunks).toString('utf8'), signed });
        if (req.url?.endsWith('gone%3D')) return void res.writeHead(410, { 'x-amzn-errortype': 'GoneException', 'content-type': 'application/json' }).end('{"message":null}');
        res.writeHead(200, { 'content-type': 'application/json' }).end();
      });
    });
    await new Promise<void>((resolve) => connections.listen(0, '127.0.0.1', resolve));
    const out = join(dir, 'poster.mjs');
    const { entryPoints: _entry, ...options } = esbuildOptions('unused', out);
    const poster = `
import { postToConnection } from './core/aws/management';
import { sendMessageBatch } from './core/aws/sqs';
const endpoint = process.env.CONNECTIONS_ENDPOINT;
await postToConnection(endpoint, 'live=', Buffer.from('{"push":"x"}'));
let gone = '';
try { await postToConnection(endpoint, 'gone=', Buffer.from('{}')); } catch (err) { gone = err.name + ' ' + err.$metadata.httpStatusCode; }
const sent = await sendMessageBatch(process.env.QUEUE, [{ Id: 'a', MessageBody: '{"job":1}' }]);
process.stdout.write(JSON.stringify({ gone, sent: sent.Successful.map((s) => s.Id) }));
`;
    const result = await build({ ...options, stdin: { contents: poster, resolveDir: projectRoot, loader: 'ts', sourcefile: 'poster.ts' }, metafile: true, logLevel: 'silent' });
    expect(Object.keys(result.metafile.inputs).filter((path) => /@aws-sdk\/client-(sqs|apigatewaymanagementapi)\//.test(path))).toEqual([]);

    try {
      // Act: in a fresh process with a Lambda environment.
      const env = {
        PATH: process.env.PATH,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'AKIDLOCAL',
        AWS_SECRET_ACCESS_KEY: 'local-secret',
        AWS_ENDPOINT_URL_SQS: mounted.url,
        QUEUE: queue,
        CONNECTIONS_ENDPOINT: `http://127.0.0.1:${(connections.address() as AddressInfo).port}/prod`,
      };
      const res = await promisify(execFile)(process.execPath, [out], { env, encoding: 'utf8', timeout: 30_000 });

      // Assess
      expect(res.stderr).toBe('');
      expect(JSON.parse(res.stdout)).toEqual({ gone: 'GoneException 410', sent: ['a'] });
      expect(posted).toEqual([
        { path: '/prod/@connections/live%3D', body: '{"push":"x"}', signed: true },
        { path: '/prod/@connections/gone%3D', body: '{}', signed: true },
      ]);
      expect(sqs.peek('bundled').map((m) => m.body)).toEqual(['{"job":1}']);
    } finally {
      await mounted.close();
      await sqs.close();
      await new Promise((resolve) => connections.close(resolve));
    }
  }, 60_000);

  it('should read a SecureString from Parameter Store, signed with the environment\'s credentials, when bundled', async () => {
    // Prepare: the local Parameter Store, which verifies SigV4 as AWS does.
    const ssm = new LocalSsm({ credentials: { AKIDLOCAL: 'local-secret' } });
    const mounted = await mount([ssm]);
    const admin = new SSMClient({ ...clientConfig(mounted.url), credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' } });
    await admin.send(new PutParameterCommand({ Name: '/cirrus/b/key', Value: 'bundled s3cret', Type: 'SecureString' }));
    admin.destroy();
    const out = join(dir, 'secrets.mjs');
    const { entryPoints: _entry, ...options } = esbuildOptions('unused', out);
    const reader = `
import { secretValue } from './core/auth/secrets';
const value = await secretValue('/cirrus/b/key');
let missing = '';
try { await secretValue('/cirrus/b/none'); } catch (err) { missing = err.name + ' ' + err.$metadata.httpStatusCode; }
process.stdout.write(JSON.stringify({ value, missing }));
`;
    const result = await build({ ...options, stdin: { contents: reader, resolveDir: projectRoot, loader: 'ts', sourcefile: 'reader.ts' }, metafile: true, logLevel: 'silent' });
    expect(Object.keys(result.metafile.inputs).some((path) => path.includes('@aws-sdk/client-ssm'))).toBe(false);

    try {
      // Act: in a fresh process with a Lambda environment.
      const env = { PATH: process.env.PATH, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIDLOCAL', AWS_SECRET_ACCESS_KEY: 'local-secret', AWS_SESSION_TOKEN: 'token', AWS_ENDPOINT_URL_SSM: mounted.url };
      const res = await promisify(execFile)(process.execPath, [out], { env, encoding: 'utf8', timeout: 30_000 });

      // Assess
      expect(res.stderr).toBe('');
      expect(JSON.parse(res.stdout)).toEqual({ value: 'bundled s3cret', missing: 'ParameterNotFound 400' });
    } finally {
      await mounted.close();
    }
  }, 60_000);
});
