/**
 * The HTTP side of the SDK against a local HTTP server: typed route methods (path
 * parameters, the signed-in user for `self` routes, query, body, errors), the token probe,
 * and the presigned media upload (fields first, then the file) and download URL.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CirrusClient } from '../../sdk/src/index';
import { fakeToken } from './support/fake-gateway';

interface Seen {
  method: string;
  url: string;
  authorization?: string;
  contentType?: string;
  body: string;
}

let server: Server;
let base: string;
let seen: Seen[];
let answer: (req: Seen) => { status: number; body: unknown };

beforeEach(async () => {
  seen = [];
  answer = () => ({ status: 200, body: {} });
  server = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const entry: Seen = { method: req.method!, url: req.url!, authorization: req.headers.authorization, contentType: req.headers['content-type'], body: Buffer.concat(chunks).toString('latin1') };
    seen.push(entry);
    const out = answer(entry);
    res.writeHead(out.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(out.body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

const token = fakeToken('alice', Date.now() + 3_600_000);
const client = () => CirrusClient.create({ wsUrl: 'ws://127.0.0.1:1/ws', apiUrl: `${base}/api`, token, store: 'memory', WebSocket: class {} as never });

describe('client.api', () => {
  it('fills the signed-in user into self routes, encodes path parameters and the query, and sends the token', async () => {
    answer = () => ({ status: 200, body: { friends: [], nextCursor: null } });
    const c = await client();

    const friends = await c.api.listFriends({ query: { limit: 10 } });
    await c.api.getUser({ params: { userId: 'b@b.com' } });
    await c.api.revokeMessage({ params: { conversationId: 'si_alice_bob', seq: 7 } });

    expect(friends).toEqual({ friends: [], nextCursor: null });
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual(['GET /api/users/alice/friends?limit=10', 'GET /api/users/b%40b.com', 'POST /api/conversations/si_alice_bob/messages/7/revoke']);
    expect(seen[0].authorization).toBe(`Bearer ${token}`);
  });

  it('sends a JSON body and rejects with the Cirrus error of the answer', async () => {
    answer = () => ({ status: 403, body: { error: { code: 1302, reason: 'BLOCKED', message: 'blocked', retryable: false } } });
    const c = await client();

    const call = c.api.sendFriendRequest({ body: { toUserId: 'bob', message: 'hi' } });

    await expect(call).rejects.toMatchObject({ reason: 'BLOCKED', code: 1302, status: 403, retryable: false });
    expect(JSON.parse(seen[0].body)).toEqual({ toUserId: 'bob', message: 'hi' });
    expect(seen[0].contentType).toBe('application/json');
  });

  it('calls fetch as a plain function, as browsers require of theirs', async () => {
    // A browser's fetch throws "Illegal invocation" when called as a method of another object.
    const receivers: unknown[] = [];
    const fetchImpl = function (this: unknown, url: string, init: { method: string; headers: Record<string, string> }) {
      receivers.push(this);
      return fetch(url, init);
    };
    const c = await CirrusClient.create({ wsUrl: 'ws://127.0.0.1:1/ws', apiUrl: `${base}/api`, token, store: 'memory', WebSocket: class {} as never, fetch: fetchImpl });

    await c.api.getUser({ params: { userId: 'bob' } });

    expect(receivers).toEqual([undefined]);
  });

  it('refuses to call without apiUrl', async () => {
    const c = await CirrusClient.create({ wsUrl: 'ws://127.0.0.1:1/ws', token, store: 'memory', WebSocket: class {} as never });
    expect(() => c.api).toThrow(/apiUrl/);
  });
});

describe('client.media', () => {
  it('uploads with the presigned POST, every field before the file, and returns the reference for a message', async () => {
    answer = (req) =>
      req.url === '/api/media/uploads'
        ? { status: 200, body: { url: `${base}/bucket`, fields: { key: 'u/alice/k1', policy: 'p', 'x-amz-signature': 's' }, objectKey: 'u/alice/k1', expiresAt: 1 } }
        : { status: 204, body: '' };
    const c = await client();
    const file = new Blob([new Uint8Array([1, 2, 3, 4])], { type: 'image/png' });

    const ref = await c.media.upload(file, { fileName: 'cat.png' });

    expect(ref).toEqual({ objectKey: 'u/alice/k1', mimeType: 'image/png', size: 4 });
    expect(JSON.parse(seen[0].body)).toEqual({ fileName: 'cat.png', contentType: 'image/png', size: 4 });
    const upload = seen[1];
    expect(upload.url).toBe('/bucket');
    expect(upload.authorization).toBeUndefined();
    const names = [...upload.body.matchAll(/form-data; name="([^"]+)"/g)].map((m) => m[1]);
    expect(names).toEqual(['key', 'policy', 'x-amz-signature', 'file']);
    expect(upload.body).toContain('filename="cat.png"');
  });

  it('fails the upload when the storage refuses it', async () => {
    answer = (req) => (req.url === '/api/media/uploads' ? { status: 200, body: { url: `${base}/bucket`, fields: {}, objectKey: 'k', expiresAt: 1 } } : { status: 403, body: 'denied' });
    const c = await client();

    await expect(c.media.upload(new Blob(['x']))).rejects.toMatchObject({ reason: 'HTTP_FAILED', status: 403 });
  });

  it('asks for a download URL by object key', async () => {
    answer = () => ({ status: 200, body: { url: 'https://cdn.example/k1', expiresAt: 5 } });
    const c = await client();

    const got = await c.media.downloadUrl('u/alice/k 1');

    expect(got).toEqual({ url: 'https://cdn.example/k1', expiresAt: 5 });
    expect(seen[0].url).toBe('/api/media/download-url?objectKey=u%2Falice%2Fk%201');
  });
});
