/**
 * The SDK against the local runtime (the real handlers, DynamoDB Local, the SQS stand-in):
 * chat between two clients, catching up after being offline, a connection dropped in the
 * middle of a sync, pushes racing sync, and the README's quick start.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import WebSocket from 'ws';
import { CirrusClient, type CirrusClientOptions, type Message } from '../../sdk/src/index';
import { admin, cirrus, useCirrus } from '../support/harness';
import { eventually } from '../support/cirrus';

useCirrus();

const clients: CirrusClient[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
});

async function client(userId: string, platformId = 5, options: Partial<CirrusClientOptions> = {}): Promise<CirrusClient> {
  const c = await CirrusClient.create({
    wsUrl: cirrus.wsUrl,
    apiUrl: cirrus.apiUrl,
    token: await admin.userToken(userId, platformId),
    store: 'memory',
    WebSocket: WebSocket as unknown as CirrusClientOptions['WebSocket'],
    backoff: { minDelayMs: 50, maxDelayMs: 200 },
    ...options,
  });
  clients.push(c);
  return c;
}

/** Every message a client receives, in arrival order. */
function received(c: CirrusClient): Message[] {
  const out: Message[] = [];
  c.on('recvNewMessage', ({ message }) => out.push(message));
  return out;
}

const texts = (messages: { content: unknown }[]) => messages.map((m) => (m.content as { text: string }).text);
const range = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix} ${i + 1}`);

/** Waits until a client's store holds `count` messages of the conversation, and returns them. */
async function stored(c: CirrusClient, conversationId: string, count: number): Promise<Message[]> {
  return eventually(async () => {
    const all = await c.store.listMessages(conversationId, { limit: 10_000 });
    return all.length >= count && all;
  }, 30_000, 50);
}

describe('two clients chatting', () => {
  it('delivers each message once and in order, sending → sent, with unread counts and read positions', async () => {
    await admin.register('sdk-ann', 'sdk-ben');
    const ann = await client('sdk-ann');
    const ben = await client('sdk-ben');
    const benGot = received(ben);
    const statuses: string[] = [];
    ann.on('messageStatusChanged', (e) => statuses.push(e.status));
    const totals: number[] = [];
    ben.on('totalUnreadMessageCountChanged', (e) => totals.push(e.total));
    await Promise.all([ann.connect(), ben.connect()]);

    const sent = await Promise.all(['one', 'two', 'three'].map((t) => ann.sendText({ recvId: 'sdk-ben' }, t)));
    await eventually(async () => benGot.length >= 3);

    expect(sent.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(texts(benGot)).toEqual(['one', 'two', 'three']);
    expect(statuses).toEqual(['sending', 'sending', 'sending', 'sent', 'sent', 'sent']);
    const conversationId = sent[0].conversationId;
    expect(await ben.getConversation(conversationId)).toMatchObject({ maxSeq: 3, unread: 3 });
    expect(ben.getTotalUnread()).toBe(3);

    await ben.markRead(conversationId);

    expect(await ben.getConversation(conversationId)).toMatchObject({ readSeq: 3, unread: 0 });
    expect(totals.at(-1)).toBe(0);
    expect(texts(await ann.getMessages(conversationId))).toEqual(['one', 'two', 'three']);
    const reply = await ben.sendText({ recvId: 'sdk-ann' }, 'hi ann');
    expect(reply.seq).toBe(4);

    // Settings are the user's: another device of ben learns them on connect.
    await ben.api.setConversation({ params: { conversationId }, body: { pinned: true, recvOpt: 2 } });
    await eventually(async () => (await ben.getConversation(conversationId))?.pinned === true);
    const benTablet = await client('sdk-ben', 9);
    await benTablet.connect();
    await eventually(async () => (await benTablet.getConversation(conversationId))?.recvOpt === 2);
    expect((await benTablet.getConversations())[0]).toMatchObject({ conversationId, pinned: true });
    await ann.sendText({ recvId: 'sdk-ben' }, 'silently');
    await eventually(async () => (await benTablet.getConversation(conversationId))?.unread === 1);
    expect(benTablet.getTotalUnread()).toBe(0);
  });
});

describe('catching up', () => {
  it('brings a client that was offline while 200 messages came to exactly those 200, in order', async () => {
    await admin.register('sdk-cat', 'sdk-dan');
    const cat = await client('sdk-cat');
    const dan = await client('sdk-dan');
    await Promise.all([cat.connect(), dan.connect()]);
    await cat.sendText({ recvId: 'sdk-dan' }, 'before');
    await stored(dan, 'si_sdk-cat_sdk-dan', 1);
    dan.disconnect();
    const danGot = received(dan);
    const progress: number[] = [];
    dan.on('syncServerProgress', (e) => progress.push(e.messages));
    let bySync = 0;
    dan.on('recvNewMessage', (e) => (bySync += e.source === 'sync' ? 1 : 0));

    const sent = await Promise.all(range(200, 'offline').map((t) => cat.sendText({ recvId: 'sdk-dan' }, t)));
    expect(sent.map((m) => m.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 2));
    const finished = new Promise((resolve) => dan.once('syncServerFinish', resolve));
    await dan.connect();
    await finished;

    const all = await stored(dan, 'si_sdk-cat_sdk-dan', 201);
    expect(texts(all)).toEqual(['before', ...range(200, 'offline')]);
    expect(all.map((m) => m.seq)).toEqual(Array.from({ length: 201 }, (_, i) => i + 1));
    // Reported once each; a push may come before the pull reached older seqs, so compare by seq.
    expect(texts([...danGot].sort((a, b) => a.seq - b.seq))).toEqual(range(200, 'offline'));
    expect(progress.at(-1)).toBe(bySync);
    expect(await dan.getConversation('si_sdk-cat_sdk-dan')).toMatchObject({ maxSeq: 201, syncedSeq: 201, unread: 201, pendingSeqs: [] });
  });

  it('loses nothing when the connection drops in the middle of a sync', async () => {
    await admin.register('sdk-eve', 'sdk-fay');
    const eve = await client('sdk-eve');
    await eve.connect();
    await Promise.all(range(150, 'mid-sync').map((t) => eve.sendText({ recvId: 'sdk-fay' }, t)));
    const fay = await client('sdk-fay');
    const fayGot = received(fay);
    const states: string[] = [];
    fay.on('connectionStateChanged', (e) => states.push(`${e.newState}:${e.reason}`));
    let dropped = false;
    fay.on('recvNewMessage', () => {
      if (dropped || fayGot.length < 100) return;
      dropped = true;
      // What a network failure looks like to the client: the server side of the socket goes away.
      for (const live of cirrus.gateway.connections.values()) if (live.authorizer.userId === 'sdk-fay') live.socket.terminate();
    });

    await fay.connect();

    const all = await stored(fay, 'si_sdk-eve_sdk-fay', 150);
    await eventually(async () => fay.state === 'connected' && fayGot.length >= 150);
    expect(dropped).toBe(true);
    expect(states).toContain('connecting:transportClosed');
    expect(texts(all)).toEqual(range(150, 'mid-sync'));
    expect(fayGot.map((m) => m.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
  });

  it('stores each message once when pushes race the sync', async () => {
    await admin.register('sdk-gus', 'sdk-hal');
    const gus = await client('sdk-gus');
    await gus.connect();
    await Promise.all(range(120, 'early').map((t) => gus.sendText({ recvId: 'sdk-hal' }, t)));
    const hal = await client('sdk-hal');
    const halGot = received(hal);

    const started = new Promise((resolve) => hal.once('syncServerStart', resolve));
    await hal.connect();
    await started;
    // Sent while hal syncs: some arrive by push before the pull reaches them, some after.
    const late = Promise.all(range(30, 'late').map((t) => gus.sendText({ recvId: 'sdk-hal' }, t)));
    await late;

    const all = await stored(hal, 'si_sdk-gus_sdk-hal', 150);
    await eventually(async () => halGot.length >= 150);
    expect(all.map((m) => m.seq)).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
    expect(texts(all)).toEqual([...range(120, 'early'), ...range(30, 'late')]);
    expect(new Set(halGot.map((m) => m.seq)).size).toBe(halGot.length);
    expect(halGot).toHaveLength(150);
    expect(halGot.some((m) => m.seq > 120)).toBe(true);
  });
});

describe('rotation on the real gateway', () => {
  it('moves to a new socket under the one-per-platform policy without a kick event or a missed message', async () => {
    await admin.register('sdk-lou', 'sdk-max');
    const lou = await client('sdk-lou');
    // Rotating every second stands in for the 110 minutes before API Gateway's 2-hour cap.
    const max = await client('sdk-max', 5, { rotateAfterMs: 1_000 });
    const maxGot = received(max);
    const kicked: unknown[] = [];
    max.on('kickedOffline', (e) => kicked.push(e));
    let rotations = 0;
    max.on('syncServerStart', (e) => (rotations += e.reason === 'rotated' ? 1 : 0));
    await Promise.all([lou.connect(), max.connect()]);

    const sent: Message[] = [];
    for (let i = 0; rotations < 3; i++) sent.push(await lou.sendText({ recvId: 'sdk-max' }, `during rotation ${i + 1}`));

    await stored(max, sent[0].conversationId, sent.length);
    await eventually(async () => maxGot.length >= sent.length);
    expect(kicked).toEqual([]);
    expect(max.state).toBe('connected');
    expect(maxGot.map((m) => m.seq).sort((a, b) => a - b)).toEqual(sent.map((m) => m.seq));
    // The old sockets are gone: one connection per rotation at a time.
    await eventually(async () => [...cirrus.gateway.connections.values()].filter((c) => c.authorizer.userId === 'sdk-max').length === 1);
  });
});

describe('kicks and notifications from the real server', () => {
  it('reports a kick by another login of the same platform and does not reconnect', async () => {
    await admin.register('sdk-ivy');
    const first = await client('sdk-ivy', 1);
    const kicked: unknown[] = [];
    first.on('kickedOffline', (e) => kicked.push(e));
    await first.connect();

    const second = await client('sdk-ivy', 1);
    await second.connect();

    await eventually(async () => first.state === 'disconnected');
    expect(kicked).toEqual([{ reason: 'loggedInElsewhere', platformId: 1 }]);
    expect(second.state).toBe('connected');
  });

  it('raises friend and group events from notifications, and revokes through the marker', async () => {
    await admin.register('sdk-jo', 'sdk-kim');
    const jo = await client('sdk-jo');
    const kim = await client('sdk-kim');
    const events: string[] = [];
    kim.on('friendApplicationAdded', (e) => events.push(`request from ${e.payload.fromUserId}`));
    kim.on('joinedGroupAdded', (e) => events.push(`joined ${e.payload.groupId}`));
    const revoked: Message[] = [];
    kim.on('newRecvMessageRevoked', (e) => revoked.push(e.message));
    await Promise.all([jo.connect(), kim.connect()]);

    await jo.api.sendFriendRequest({ body: { toUserId: 'sdk-kim', message: 'hi' } });
    await jo.api.createGroup({ body: { groupId: 'sdk-club', name: 'Club', memberUserIds: ['sdk-kim'] } });
    const oops = await jo.sendText({ groupId: 'sdk-club' }, 'oops');
    await stored(kim, 'sg_sdk-club', 2);
    await jo.revokeMessage('sg_sdk-club', oops.seq);

    await eventually(async () => events.length >= 2 && revoked.length >= 1);
    expect(events.sort()).toEqual(['joined sdk-club', 'request from sdk-jo']);
    expect(revoked[0]).toMatchObject({ seq: oops.seq, content: null, revoked: { by: 'sdk-jo' } });
    expect(await kim.store.getMessage('sg_sdk-club', oops.seq)).toMatchObject({ content: null });
  });
});

describe('reactions, receipts and delete-for-me through the SDK', () => {
  it('raises reaction changes with the stored message, receipts live, and drops messages deleted on another device', async () => {
    await admin.register('sdk-rl', 'sdk-rm');
    const liv = await client('sdk-rl');
    const max = await client('sdk-rm');
    const livTablet = await client('sdk-rl', 9);
    const reactions: Message[] = [];
    liv.on('recvMessageReactionChanged', (e) => reactions.push(e.message));
    const receipts: { readSeq?: number; deliveredSeq?: number }[] = [];
    liv.on('readReceiptChanged', (e) => e.userId === 'sdk-rm' && receipts.push(e));
    const dropped: number[][] = [];
    livTablet.on('messagesDeletedForMe', (e) => dropped.push(e.seqs));
    await Promise.all([liv.connect(), max.connect(), livTablet.connect()]);

    const first = await liv.sendText({ recvId: 'sdk-rm' }, 'first');
    const second = await liv.sendText({ recvId: 'sdk-rm' }, 'second');
    const conversationId = first.conversationId;
    await stored(max, conversationId, 2);
    await stored(livTablet, conversationId, 2);

    await max.reactToMessage(conversationId, first.seq, '🎉');
    await eventually(async () => reactions.length >= 1);
    expect(reactions[0]).toMatchObject({ seq: first.seq, reactions: { '🎉': ['sdk-rm'] } });
    expect((await liv.store.getMessage(conversationId, first.seq))?.reactions).toEqual({ '🎉': ['sdk-rm'] });

    await max.markDelivered(conversationId, second.seq);
    await max.markRead(conversationId, first.seq);
    await eventually(async () => receipts.some((r) => r.readSeq === first.seq) && receipts.some((r) => r.deliveredSeq === second.seq));
    expect((await liv.getReadReceipts(conversationId, [first.seq, second.seq])).receipts.map((r) => r.readCount)).toEqual([1, 0]);

    await liv.deleteMessagesForMe(conversationId, [second.seq]);
    expect(await liv.store.getMessage(conversationId, second.seq)).toBeUndefined();
    await eventually(async () => dropped.length >= 1);
    expect(dropped[0]).toEqual([second.seq]);
    expect(await livTablet.store.getMessage(conversationId, second.seq)).toBeUndefined();
    expect(await max.store.getMessage(conversationId, second.seq)).toBeDefined();
  });
});

describe('the quick start of sdk/README.md', () => {
  it('runs against the local runtime and shows the message arriving', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['node_modules/tsx/dist/cli.mjs', 'sdk/examples/quick-start.ts', '--api', cirrus.apiUrl, '--ws', cirrus.wsUrl, '--secret', cirrus.adminSecret], {
      encoding: 'utf8',
      timeout: 60_000,
    });

    expect(stdout).toMatch(/connected as alice and bob/);
    expect(stdout).toMatch(/bob received \((push|sync)\): Hello from the Cirrus SDK!/);
    expect(stdout).toMatch(/alice's message: sent \(seq \d+\)/);
  }, 90_000);
});
