/**
 * `npm run first-message`: against a running Cirrus (by default the local one started by
 * `npm start`), register alice and bob, connect both over WebSocket, send a message from
 * alice and show bob receiving it. Every step prints the request it makes.
 *
 *   npm run first-message                                  local runtime, secret from .cirrus/
 *   npm run first-message -- --api <HttpApiUrl> --ws <WebSocketUrl> --secret <admin secret>
 */
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const arg = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const api = (arg('--api') ?? 'http://localhost:8080/api').replace(/\/$/, '');
const wsUrl = arg('--ws') ?? api.replace(/^http/, 'ws').replace(/\/api$/, '/ws');
/** The local admin secret: the SecureString parameter the local Parameter Store keeps in ssm.json. */
function localAdminSecret(): string {
  const parameters = JSON.parse(readFileSync(join(arg('--data-dir') ?? join(root, '.cirrus'), 'ssm.json'), 'utf8')) as { name: string; value: string }[];
  const found = parameters.find((p) => p.name === '/cirrus/local/admin-secret');
  if (!found) throw new Error('No local admin secret: start Cirrus with npm start first, or pass --secret');
  return found.value;
}
const secret = arg('--secret') ?? localAdminSecret();

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function post(path: string, body: unknown, token?: string): Promise<any> {
  console.log(`POST ${path} ${JSON.stringify(body)}`);
  const res = await fetch(`${api}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${path} answered ${res.status}: ${JSON.stringify(json)}`);
  return json;
}

function connect(userId: string, token: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${wsUrl}?token=${encodeURIComponent(token)}`);
    ws.onopen = () => {
      console.log(`${userId} connected to ${wsUrl}`);
      resolve(ws);
    };
    ws.onerror = () => reject(new Error(`${userId} could not connect to ${wsUrl}`));
  });
}

function nextFrame(ws: WebSocket, timeoutMs = 10_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no frame within 10 s')), timeoutMs);
    ws.onmessage = (e) => {
      clearTimeout(timer);
      resolve(JSON.parse(String(e.data)));
    };
  });
}

const { token: admin } = await post('/auth/admin-token', { secret });
const registered = await post('/users/register', { users: [{ userId: 'alice', nickname: 'Alice' }, { userId: 'bob', nickname: 'Bob' }] }, admin);
console.log('  →', JSON.stringify(registered.results.map((r: { userId: string; ok: boolean; error?: { reason: string } }) => `${r.userId}: ${r.ok ? 'registered' : r.error?.reason}`)));
const { token: aliceToken } = await post('/auth/user-token', { userId: 'alice', platformId: 5 }, admin);
const { token: bobToken } = await post('/auth/user-token', { userId: 'bob', platformId: 2 }, admin);
const alice = await connect('alice', aliceToken);
const bob = await connect('bob', bobToken);

const frame = { id: '1', action: 'sendMsg', data: { clientMsgId: `hello-${Date.now()}`, recvId: 'bob', contentType: 101, content: { text: 'Hello, Bob!' } } };
console.log(`alice sends ${JSON.stringify(frame)}`);
const pushed = nextFrame(bob);
const ack = nextFrame(alice);
alice.send(JSON.stringify(frame));
console.log(`alice gets the ack ${JSON.stringify(await ack)}`);
console.log(`bob gets the push ${JSON.stringify(await pushed)}`);

const sync = nextFrame(bob);
bob.send(JSON.stringify({ id: '2', action: 'getNewestSeq', data: {} }));
console.log(`bob's conversations ${JSON.stringify(await sync)}`);
alice.close();
bob.close();
console.log('\nDone: see docs/protocol.md for every action and docs/openapi.json for the HTTP API.');
