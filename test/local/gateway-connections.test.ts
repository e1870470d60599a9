/**
 * API Gateway's `@connections` API as Cirrus calls it without the SDK client
 * (core/aws/management.ts), against the local gateway's endpoint: requests signed for
 * `execute-api` on the stage's path (the signature verified as AWS verifies it), the frame
 * delivered as the text a live WebSocket receives, the connection id encoded in the path as
 * the SDK encodes it, and API Gateway's errors with the names Cirrus branches on (410
 * GoneException, 413 PayloadTooLargeException, 429 LimitExceededException), never retried by
 * the sender itself; push retries throttling (core/services/push.ts).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalGateway } from '../../local/gateway';
import { SigV4Error, verifyServiceRequest } from '../../local/aws/sigv4';
import { awsRequests } from '../../core/aws/accounting';
import { deleteConnection, postToConnection } from '../../core/aws/management';
import { pushEventTo } from '../../core/services/push';
import type { ConnectionItem } from '../../core/store/connections';

const saved = { ...process.env };
const STAGE = 'dev';
let gateway: LocalGateway;
let server: Server;
let base: string;
let endpoint: string;
/** What reached the endpoint: method and path as sent, and whether the signature held. */
let seen: { method: string; target: string; signed: boolean }[] = [];
/** Answers to give instead of the gateway's, first in first out (a throttling API Gateway). */
let scripted: { status: number; headers: Record<string, string>; body: string }[] = [];
const wss = new WebSocketServer({ noServer: true });

const read = (req: IncomingMessage) =>
  new Promise<Buffer>((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks)));
  });

/** A live connection under `id`: a real WebSocket, its server side held by the gateway. */
async function connect(id: string): Promise<{ client: WebSocket; frames: string[]; closed: Promise<number> }> {
  const client = new WebSocket(`${base.replace('http', 'ws')}/ws`);
  const frames: string[] = [];
  client.on('message', (data) => frames.push(data.toString()));
  const closed = new Promise<number>((resolve) => client.on('close', (code) => resolve(code)));
  const socket = await new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
  await new Promise((resolve) => (client.readyState === WebSocket.OPEN ? resolve(undefined) : client.once('open', resolve)));
  gateway.connections.set(id, { socket, connectedAt: Date.now(), lastActiveAt: Date.now(), sourceIp: '127.0.0.1', userAgent: 'test', authorizer: {} });
  return { client, frames, closed };
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
};

beforeAll(async () => {
  gateway = new LocalGateway({ apiId: 'api1', stage: STAGE, region: 'us-east-1', httpPrefix: '/api', log: () => {}, credentials: { local: 'local' } });
  server = createServer((req, res) => {
    void (async () => {
      const body = await read(req);
      const target = req.url ?? '/';
      const headers: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(',') : v;
      let signed = true;
      try {
        verifyServiceRequest({ method: req.method ?? 'GET', target, headers, body }, { local: 'local' }, 'us-east-1', 'execute-api');
      } catch (err) {
        if (!(err instanceof SigV4Error)) throw err;
        signed = false;
      }
      seen.push({ method: req.method ?? 'GET', target, signed });
      const answer = scripted.shift();
      if (answer) return void res.writeHead(answer.status, answer.headers).end(answer.body);
      // The stage is the first segment of the callback URL's path, as on AWS.
      const path = new URL(target, 'http://x').pathname.slice(`/${STAGE}`.length);
      await gateway.handleConnections(req, res, path, body);
    })();
  });
  server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  endpoint = `${base}/${STAGE}`;
  Object.assign(process.env, { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', CONNECTIONS_ENDPOINT: endpoint });
  delete process.env.AWS_SESSION_TOKEN;
});

beforeEach(() => {
  seen = [];
  scripted = [];
});

afterAll(async () => {
  process.env = saved;
  wss.close();
  await new Promise((resolve) => server.close(resolve));
});

describe('PostToConnection without the SDK client', () => {
  it('delivers the frame to the live connection, signed for execute-api on the stage path, the id encoded as the SDK encodes it, counted as one PostToConnection', async () => {
    const id = 'Ab+c/d_e-f01234=';
    const { frames, client } = await connect(id);
    const before = awsRequests.snapshot();
    const text = JSON.stringify({ push: 'newMsg', data: { content: { text: 'héllo ✓ \u{1F600}' } } });
    await postToConnection(endpoint, id, Buffer.from(text));
    await until(() => frames.length === 1);
    expect(frames).toEqual([text]);
    expect(seen).toEqual([{ method: 'POST', target: `/${STAGE}/@connections/Ab%2Bc%2Fd_e-f01234%3D`, signed: true }]);
    expect(awsRequests.since(before)).toEqual({ ApiGatewayManagementApi: { PostToConnection: 1 } });
    client.close();
  });

  it('fails with GoneException (410) for a closed or unknown connection, sent once', async () => {
    const { client, closed } = await connect('gone-000000000=');
    client.close();
    await closed;
    await until(() => gateway.connections.get('gone-000000000=')!.socket.readyState !== WebSocket.OPEN);
    await expect(postToConnection(endpoint, 'gone-000000000=', Buffer.from('{}'))).rejects.toMatchObject({ name: 'GoneException', $fault: 'client', $metadata: { httpStatusCode: 410 } });
    await expect(postToConnection(endpoint, 'never-00000000=', Buffer.from('{}'))).rejects.toMatchObject({ name: 'GoneException', $metadata: { httpStatusCode: 410 } });
    expect(seen).toHaveLength(2);
  });

  it('fails with PayloadTooLargeException (413) for a frame over 128 KB, delivering nothing, sent once', async () => {
    const { frames, client } = await connect('big-0000000000=');
    await expect(postToConnection(endpoint, 'big-0000000000=', Buffer.alloc(128 * 1024 + 1, 'x'))).rejects.toMatchObject({ name: 'PayloadTooLargeException', $metadata: { httpStatusCode: 413 } });
    await postToConnection(endpoint, 'big-0000000000=', Buffer.alloc(128 * 1024, 'y'));
    await until(() => frames.length === 1);
    expect(frames.map((f) => f.length)).toEqual([128 * 1024]);
    expect(seen).toHaveLength(2);
    client.close();
  });

  it("names the error from API Gateway's x-amzn-ErrorType header even when the body holds no JSON", async () => {
    scripted = [{ status: 410, headers: { 'x-amzn-ErrorType': 'GoneException', 'content-type': 'text/plain' }, body: '' }];
    await expect(postToConnection(endpoint, 'x-000000000000=', Buffer.from('{}'))).rejects.toMatchObject({ name: 'GoneException', $metadata: { httpStatusCode: 410 } });
    scripted = [{ status: 403, headers: { 'x-amzn-ErrorType': 'ForbiddenException', 'content-type': 'application/json' }, body: '{"message":"Forbidden"}' }];
    await expect(postToConnection(endpoint, 'x-000000000000=', Buffer.from('{}'))).rejects.toMatchObject({ name: 'ForbiddenException', message: 'Forbidden', $metadata: { httpStatusCode: 403 } });
  });
});

describe("the local gateway's @connections endpoint", () => {
  it('refuses, as API Gateway does, a request without a signature, with an unknown key or a bad signature, delivering nothing', async () => {
    const { frames, client } = await connect('sig-00000000000=');
    const unsigned = await fetch(`${endpoint}/@connections/sig-00000000000%3D`, { method: 'POST', body: '{}' });
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    process.env.AWS_SECRET_ACCESS_KEY = 'wrong';
    await expect(postToConnection(endpoint, 'sig-00000000000=', Buffer.from('{}'))).rejects.toMatchObject({ name: 'InvalidSignatureException', $metadata: { httpStatusCode: 403 } });
    process.env.AWS_ACCESS_KEY_ID = 'unknown';
    await expect(postToConnection(endpoint, 'sig-00000000000=', Buffer.from('{}'))).rejects.toMatchObject({ name: 'UnrecognizedClientException', $metadata: { httpStatusCode: 403 } });
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' });
    await new Promise((r) => setTimeout(r, 50));
    expect(frames).toEqual([]);
    client.close();
  });
});

describe('a push to a throttling API Gateway', () => {
  const conn: ConnectionItem = { userId: 'u1', connectionId: 'thr-00000000000=', platformId: 1, sessionId: 's', connectedAt: 0, connectedAtMs: 0, expiresAt: 0 };
  const throttled = { status: 429, headers: { 'x-amzn-ErrorType': 'LimitExceededException', 'content-type': 'application/json' }, body: '{"message":"Rate exceeded"}' };

  it('is retried by push after LimitExceededException (429), the sender itself making one attempt each', async () => {
    const { frames, client } = await connect(conn.connectionId);
    await expect(postToConnection(endpoint, conn.connectionId, Buffer.from('{}'))).resolves.toBeUndefined();
    await until(() => frames.length === 1);
    seen = [];
    scripted = [throttled, throttled];
    await expect(postToConnection(endpoint, conn.connectionId, Buffer.from('{}'))).rejects.toMatchObject({ name: 'LimitExceededException', $metadata: { httpStatusCode: 429 } });
    expect(seen).toHaveLength(1);
    const outcome = await pushEventTo(conn, { event: 'typing', conversationId: 'si_a_b', userId: 'u2' } as never);
    expect(outcome).toMatchObject({ delivered: 1, failed: 0, gone: 0 });
    expect(seen.map((s) => s.signed)).toEqual([true, true, true]);
    await until(() => frames.length === 2);
    client.close();
  });

  it('gives up after three retries, counting the connection as failed, not gone', async () => {
    scripted = [throttled, throttled, throttled, throttled];
    const outcome = await pushEventTo(conn, { event: 'typing', conversationId: 'si_a_b', userId: 'u2' } as never);
    expect(outcome).toMatchObject({ delivered: 0, failed: 1, gone: 0 });
    expect(seen).toHaveLength(4);
  });
});

describe('DeleteConnection without the SDK client', () => {
  it('closes the connection (the client sees 1000), then fails with GoneException', async () => {
    const { closed } = await connect('del-00000000000=');
    const before = awsRequests.snapshot();
    await deleteConnection(endpoint, 'del-00000000000=');
    expect(await closed).toBe(1000);
    await until(() => gateway.connections.get('del-00000000000=')!.socket.readyState !== WebSocket.OPEN);
    await expect(deleteConnection(endpoint, 'del-00000000000=')).rejects.toMatchObject({ name: 'GoneException', $metadata: { httpStatusCode: 410 } });
    expect(seen.map(({ method, signed }) => ({ method, signed }))).toEqual([
      { method: 'DELETE', signed: true },
      { method: 'DELETE', signed: true },
    ]);
    expect(awsRequests.since(before)).toEqual({ ApiGatewayManagementApi: { DeleteConnection: 2 } });
  });
});
