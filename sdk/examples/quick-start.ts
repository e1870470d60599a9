/**
 * The quick start of sdk/README.md: with `npm start` running, `npm run sdk:quick-start`.
 * An app backend would do the first part (admin secret → users → tokens); each app then
 * needs only its token and the two URLs.
 *
 *   npm run sdk:quick-start                                    local runtime, secret from .cirrus/
 *   npm run sdk:quick-start -- --api <HttpApiUrl> --ws <WebSocketUrl> --secret <admin secret>
 */
import { readFileSync } from 'node:fs';
import { CirrusClient } from '@cirrus-im/sdk';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const apiUrl = arg('--api') ?? 'http://localhost:8080/api';
const wsUrl = arg('--ws') ?? apiUrl.replace(/^http/, 'ws').replace(/\/api$/, '/ws');
const secret = arg('--secret') ?? JSON.parse(readFileSync(`${arg('--data-dir') ?? '.cirrus'}/secrets.json`, 'utf8')).adminSecret;

// 1. Your app backend: admin token, register the users, issue a token per user and platform.
async function post(path: string, body: unknown, token?: string) {
  const res = await fetch(`${apiUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json();
}
const { token: admin } = await post('/auth/admin-token', { secret });
await post('/users/register', { users: [{ userId: 'alice', nickname: 'Alice' }, { userId: 'bob', nickname: 'Bob' }] }, admin);
const { token: aliceToken } = await post('/auth/user-token', { userId: 'alice', platformId: 5 }, admin);
const { token: bobToken } = await post('/auth/user-token', { userId: 'bob', platformId: 5 }, admin);

// 2. Each app: a client per signed-in user.
const alice = await CirrusClient.create({ wsUrl, apiUrl, token: aliceToken });
const bob = await CirrusClient.create({ wsUrl, apiUrl, token: bobToken });

const received = new Promise<void>((resolve) => {
  bob.on('recvNewMessage', ({ message, source }) => {
    if (message.senderId !== 'alice' || message.contentType !== 101) return;
    console.log(`bob received (${source}): ${(message.content as { text: string }).text}`);
    resolve();
  });
});
bob.on('totalUnreadMessageCountChanged', ({ total }) => console.log(`bob's unread: ${total}`));
alice.on('messageStatusChanged', ({ status, message }) => console.log(`alice's message: ${status}${message ? ` (seq ${message.seq})` : ''}`));

await Promise.all([alice.connect(), bob.connect()]);
console.log(`connected as ${alice.userId} and ${bob.userId}`);
await alice.sendText({ recvId: 'bob' }, 'Hello from the Cirrus SDK!');
await received;

const [conversation] = await bob.getConversations();
console.log(`bob's conversations: ${conversation.conversationId}, ${conversation.unread} unread`);
await bob.markRead(conversation.conversationId);
await Promise.all([alice.close(), bob.close()]);
