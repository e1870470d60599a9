/**
 * Sync, sending and the local store through `CirrusClient`, against the fake gateway
 * answering from a small model of the server (conversations with messages, holes and
 * pending seqs; idempotent sendMsg).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { CirrusClient, IndexedDbStore, type CirrusClientOptions, type LocalStore, type Message } from '../../sdk/src/index';
import { FakeGateway, fakeToken, type FakeConnection } from './support/fake-gateway';
import { ManualTimers, settle } from './support/manual-timers';

interface ModelConversation {
  messages: Map<number, Message>;
  maxSeq: number;
  readSeq: number;
  holes: Set<number>;
  pending: Set<number>;
}

/** The server side of sync and send, as the protocol defines it. */
class Model {
  readonly conversations = new Map<string, ModelConversation>();
  readonly sends: string[] = [];
  /** Errors answered to the next sendMsg requests, in order. */
  readonly failSends: { code: number; reason: string; message: string; retryable: boolean }[] = [];
  /** Called before a pull is answered (to race pushes against it). */
  beforePull?: (data: { conversationId: string; fromSeq: number; toSeq: number }) => void;
  readonly pulls: string[] = [];
  /** The server's idempotency window: the sender's last this many clientMsgIds (unbounded when unset). */
  window?: number;
  /** The next sendMsg is stored, then the connection drops before its ack is sent. */
  loseNextAck = false;
  private readonly acks = new Map<string, unknown>();

  constructor(private readonly gw: FakeGateway) {
    gw.handlers.set('getNewestSeq', () => ({
      conversations: [...this.conversations].map(([conversationId, c]) => ({ conversationId, maxSeq: c.maxSeq, readSeq: c.readSeq, minSeq: 0, unread: c.maxSeq - c.readSeq })),
      serverTime: 1,
    }));
    gw.handlers.set('pullMsgs', (data) => {
      this.pulls.push(`${data.fromSeq}-${data.toSeq}`);
      this.beforePull?.(data);
      const c = this.conversation(data.conversationId);
      const toSeq = Math.min(data.toSeq, c.maxSeq, data.fromSeq + (data.limit ?? 100) - 1);
      const seqs = Array.from({ length: Math.max(0, toSeq - data.fromSeq + 1) }, (_, i) => data.fromSeq + i);
      return {
        conversationId: data.conversationId,
        fromSeq: data.fromSeq,
        toSeq,
        messages: seqs.filter((s) => c.messages.has(s)).map((s) => c.messages.get(s)),
        holes: seqs.filter((s) => c.holes.has(s)),
        pending: seqs.filter((s) => c.pending.has(s)),
      };
    });
    gw.handlers.set('markRead', (data) => {
      const c = this.conversation(data.conversationId);
      c.readSeq = Math.max(c.readSeq, data.seq);
      return { conversationId: data.conversationId, readSeq: c.readSeq, unread: c.maxSeq - c.readSeq };
    });
    gw.handlers.set('sendMsg', (data, conn) => {
      this.sends.push(data.clientMsgId);
      const error = this.failSends.shift();
      if (error) return { error };
      const ack = this.accept(data);
      if (this.loseNextAck) {
        this.loseNextAck = false;
        conn.socket.close(1011);
        return undefined;
      }
      return ack;
    });
  }

  /** A send of alice's (from this client or another device of hers): stored once per clientMsgId inside the window. */
  accept(data: { clientMsgId: string; recvId: string; content: unknown }): unknown {
    if (!this.acks.has(data.clientMsgId)) {
      const m = this.add(`si_alice_${data.recvId}`, { clientMsgId: data.clientMsgId, senderId: 'alice', recvId: data.recvId, content: data.content });
      this.acks.set(data.clientMsgId, { serverMsgId: m.serverMsgId, conversationId: m.conversationId, seq: m.seq, sendTime: m.sendTime });
      if (this.window !== undefined && this.acks.size > this.window) this.acks.delete(this.acks.keys().next().value!);
    }
    return this.acks.get(data.clientMsgId);
  }

  conversation(id: string): ModelConversation {
    let c = this.conversations.get(id);
    if (!c) this.conversations.set(id, (c = { messages: new Map(), maxSeq: 0, readSeq: 0, holes: new Set(), pending: new Set() }));
    return c;
  }

  /** Allocates the next seq of a conversation and stores a text message at it. */
  add(conversationId: string, extra: Partial<Message> = {}): Message {
    const c = this.conversation(conversationId);
    const seq = ++c.maxSeq;
    const m: Message = {
      serverMsgId: `s${seq}`,
      clientMsgId: `c${seq}`,
      conversationId,
      seq,
      sessionType: 1,
      senderId: 'bob',
      recvId: 'alice',
      contentType: 101,
      content: { text: `#${seq}` },
      sendTime: 1_000 + seq,
      ...extra,
    };
    c.messages.set(seq, m);
    return m;
  }

  /** Allocates a seq that holds no message (yet). */
  skip(conversationId: string, kind: 'holes' | 'pending'): number {
    const c = this.conversation(conversationId);
    c[kind].add(++c.maxSeq);
    return c.maxSeq;
  }

  push(conn: FakeConnection, m: Message): void {
    this.gw.send(conn, { push: 'newMsg', data: m });
  }
}

let gw: FakeGateway;
let model: Model;
let timers: ManualTimers;
const clients: CirrusClient[] = [];

beforeEach(async () => {
  gw = await FakeGateway.start();
  model = new Model(gw);
  timers = new ManualTimers();
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await gw.close();
});

async function client(options: Partial<CirrusClientOptions> = {}): Promise<CirrusClient> {
  const c = await CirrusClient.create({
    wsUrl: gw.url,
    token: fakeToken('alice', timers.now() + 24 * 3_600_000),
    store: 'memory',
    WebSocket: WebSocket as unknown as CirrusClientOptions['WebSocket'],
    timers,
    random: () => 0,
    ...options,
  });
  clients.push(c);
  return c;
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 3_000; i++) {
    if (await check()) return;
    await settle(1);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const CONV = 'si_alice_bob';
const seqsOf = (messages: readonly object[]) => messages.map((m) => (m as { seq?: number }).seq);

describe('sync', () => {
  it('pulls what is missing in pages of 100 on connect, with progress, and reads offline afterwards', async () => {
    for (let i = 0; i < 230; i++) model.add(CONV);
    const c = await client();
    const progress: string[] = [];
    c.on('syncServerProgress', (e) => progress.push(`${e.done}/${e.total}:${e.messages}`));
    let finished = false;
    c.on('syncServerFinish', () => (finished = true));

    await c.connect();
    await until(() => finished, 'the sync');
    c.disconnect();

    expect(model.pulls).toEqual(['1-230', '101-230', '201-230']);
    expect(progress).toEqual(['0/1:0', '1/1:230']);
    expect(seqsOf(await c.getMessages(CONV, { limit: 1_000 }))).toEqual(Array.from({ length: 230 }, (_, i) => i + 1));
    expect(await c.getConversation(CONV)).toMatchObject({ maxSeq: 230, syncedSeq: 230, unread: 230 });
    expect((await c.getConversations()).map((x) => x.conversationId)).toEqual([CONV]);
  });

  it('pulls only from the last synced seq on the next connect', async () => {
    for (let i = 0; i < 5; i++) model.add(CONV);
    const c = await client();
    let finishes = 0;
    c.on('syncServerFinish', () => finishes++);
    await c.connect();
    await until(() => finishes === 1, 'the first sync');
    gw.open[0].socket.close(1001);
    for (let i = 0; i < 3; i++) model.add(CONV);
    await until(() => c.state === 'connecting', 'the close');

    await timers.advance(1);
    await until(() => finishes === 2, 'the second sync');

    expect(model.pulls).toEqual(['1-5', '6-8']);
  });

  it('skips holes, and asks again for pending seqs until their message appears', async () => {
    model.add(CONV);
    model.skip(CONV, 'holes');
    const late = model.skip(CONV, 'pending');
    model.add(CONV);
    const c = await client({ pendingRetryMs: 5_000 });
    const got: number[] = [];
    c.on('recvNewMessage', (e) => got.push(e.message.seq));
    let finishes = 0;
    c.on('syncServerFinish', () => finishes++);
    await c.connect();
    await until(() => finishes === 1, 'the sync');
    expect(got).toEqual([1, 4]);
    expect(await c.getConversation(CONV)).toMatchObject({ syncedSeq: 4, pendingSeqs: [late] });

    // The sender finished its write: the seq now holds the message.
    const conv = model.conversation(CONV);
    conv.pending.delete(late);
    conv.messages.set(late, { ...conv.messages.get(1)!, seq: late, serverMsgId: 'late', content: { text: 'late' } });
    await timers.advance(4_999);
    expect(finishes).toBe(1);
    await timers.advance(1);
    await until(() => finishes === 2, 'the retry');

    expect(got).toEqual([1, 4, late]);
    expect(seqsOf(await c.getMessages(CONV))).toEqual([1, late, 4]);
    expect(await c.getConversation(CONV)).toMatchObject({ pendingSeqs: [] });
  });

  it('stores a message once when its push races the pull that covers it', async () => {
    for (let i = 0; i < 3; i++) model.add(CONV);
    const c = await client();
    const got: number[] = [];
    c.on('recvNewMessage', (e) => got.push(e.message.seq));
    model.beforePull = () => {
      model.beforePull = undefined;
      // Delivered by push while the pull of the same range is answered.
      model.push(gw.open[0], model.conversation(CONV).messages.get(2)!);
      model.push(gw.open[0], model.add(CONV));
    };
    let finished = false;
    c.on('syncServerFinish', () => (finished = true));

    await c.connect();
    await until(() => finished && got.length >= 4, 'sync and pushes');
    await settle();

    expect([...got].sort()).toEqual([1, 2, 3, 4]);
    expect(seqsOf(await c.getMessages(CONV))).toEqual([1, 2, 3, 4]);
  });

  it('pulls the gap below a push that skips seqs', async () => {
    const c = await client();
    let finished = false;
    c.on('syncServerFinish', () => (finished = true));
    await c.connect();
    await until(() => finished, 'the sync');
    model.add(CONV);
    model.add(CONV);
    const third = model.add(CONV);

    model.push(gw.open[0], third);
    await until(async () => (await c.getMessages(CONV)).length === 3, 'the gap filled');

    expect(model.pulls).toEqual(['1-3']);
    expect(await c.getConversation(CONV)).toMatchObject({ syncedSeq: 3, maxSeq: 3 });
  });

  it('keeps the unread count and total, and moves the read position', async () => {
    model.add(CONV);
    model.add(CONV);
    model.add('si_alice_carol', { senderId: 'carol' });
    const c = await client();
    const totals: number[] = [];
    c.on('totalUnreadMessageCountChanged', (e) => totals.push(e.total));
    await c.connect();
    await until(() => c.getTotalUnread() === 3, 'the unread total');

    await c.markRead(CONV);
    model.push(gw.open[0], model.add(CONV, { senderId: 'alice' }));
    await until(async () => (await c.getConversation(CONV))?.maxSeq === 3, 'the own message');

    expect(c.getTotalUnread()).toBe(1);
    expect(totals.at(-1)).toBe(1);
    expect(await c.getConversation(CONV)).toMatchObject({ readSeq: 3, unread: 0 });
  });
});

describe('sending', () => {
  it('shows the message as sending at once, then sent with its seq', async () => {
    const c = await client();
    await c.connect();
    const statuses: string[] = [];
    c.on('messageStatusChanged', (e) => statuses.push(e.status));

    const sending = c.sendText({ recvId: 'bob' }, 'hi');
    await until(() => statuses.length === 1, 'sending');
    const shown = await c.getMessages(CONV);
    const sent = await sending;

    expect(shown).toMatchObject([{ status: 'sending', content: { text: 'hi' } }]);
    expect(sent).toMatchObject({ seq: 1, conversationId: CONV, senderId: 'alice' });
    expect(statuses).toEqual(['sending', 'sent']);
    expect(await c.getMessages(CONV)).toMatchObject([{ status: 'sent', seq: 1 }]);
  });

  it('retries a retryable failure with the same clientMsgId, keeping the order of the conversation', async () => {
    model.failSends.push({ code: 1500, reason: 'INTERNAL', message: 'boom', retryable: true });
    const c = await client({ backoff: { minDelayMs: 1_000, maxDelayMs: 1_000 }, random: () => 0.5 });
    await c.connect();

    const first = c.sendText({ recvId: 'bob' }, 'first');
    const second = c.sendText({ recvId: 'bob' }, 'second');
    // The retry waits a full-jitter delay: 0.5 of min(1000, 1000 * 2^1).
    await until(() => timers.pendingDelays().includes(500), 'the retry scheduled');
    await timers.advance(499);
    expect(model.sends).toHaveLength(1);
    await timers.advance(1);
    const [a, b] = await Promise.all([first, second]);

    expect(model.sends).toEqual([a.clientMsgId, a.clientMsgId, b.clientMsgId]);
    expect([a.seq, b.seq]).toEqual([1, 2]);
  });

  it('marks a refused message failed, and resends it with the same clientMsgId', async () => {
    model.failSends.push({ code: 1302, reason: 'BLOCKED', message: 'blocked', retryable: false });
    const c = await client();
    await c.connect();
    const failures: string[] = [];
    c.on('messageStatusChanged', (e) => e.status === 'failed' && failures.push(e.error!.reason));

    await expect(c.sendText({ recvId: 'bob' }, 'hello?')).rejects.toMatchObject({ reason: 'BLOCKED' });
    const [failed] = await c.getMessages(CONV);
    const resent = await c.resendMessage(failed.clientMsgId);

    expect(failures).toEqual(['BLOCKED']);
    expect(failed).toMatchObject({ status: 'failed', error: { reason: 'BLOCKED' } });
    expect(resent.clientMsgId).toBe(failed.clientMsgId);
    expect(model.sends).toEqual([failed.clientMsgId, failed.clientMsgId]);
    expect(await c.getMessages(CONV)).toMatchObject([{ status: 'sent', seq: 1 }]);
  });

  it('acknowledges from sync a message whose ack was lost, without sending it again, though other devices sent past the window meanwhile', async () => {
    model.window = 8;
    const c = await client({ backoff: { minDelayMs: 1_000, maxDelayMs: 1_000 }, random: () => 0.5 });
    await c.connect();
    model.add(CONV, { senderId: 'bob' });
    await c.sync();
    const statuses: string[] = [];
    c.on('messageStatusChanged', (e) => statuses.push(e.status));

    model.loseNextAck = true;
    const sending = c.sendText({ recvId: 'bob' }, 'ack lost');
    await until(() => c.state === 'connecting', 'the connection dropped');
    // Alice's other devices send nine messages: the first is out of the server's window.
    for (let i = 0; i < 9; i++) model.accept({ clientMsgId: `other-${i}`, recvId: 'bob', content: { text: `other ${i}` } });
    await timers.advance(500);
    const sent = await sending;

    expect(model.sends.filter((id) => id === sent.clientMsgId)).toHaveLength(1);
    expect(sent).toMatchObject({ seq: 2, content: { text: 'ack lost' } });
    expect(model.conversation(CONV).maxSeq).toBe(11);
    expect(statuses).toEqual(['sending', 'sent']);
    expect(await c.store.listOutgoing()).toEqual([]);
  });

  it('sends a message again after a lost attempt that was not stored, looking it up in sync first', async () => {
    const c = await client({ backoff: { minDelayMs: 1_000, maxDelayMs: 1_000 }, random: () => 0.5 });
    await c.connect();
    // The attempt dies before the server stores anything.
    gw.handlers.set('sendMsg', (_data, conn) => {
      model.sends.push('lost');
      gw.handlers.delete('sendMsg');
      conn.socket.close(1011);
      return undefined;
    });
    const sending = c.sendText({ recvId: 'bob' }, 'again');
    await until(() => c.state === 'connecting', 'the connection dropped');
    const handlers = new Model(gw);
    await timers.advance(500);
    const sent = await sending;

    expect(handlers.sends).toEqual([sent.clientMsgId]);
    expect(sent).toMatchObject({ seq: 1 });
  });

  it('after a long time offline, acknowledges from sync what the previous session sent without an ack', async () => {
    model.window = 8;
    const indexedDB = new IDBFactory();
    const first = await client({ store: await IndexedDbStore.open('offline-resume', { indexedDB, IDBKeyRange }) });
    await first.connect();
    model.loseNextAck = true;
    const sending = first.sendText({ recvId: 'bob' }, 'sent before closing');
    await until(() => first.state === 'connecting', 'the connection dropped');
    await first.close();
    await expect(sending).rejects.toMatchObject({ reason: 'DISCONNECTED' });
    const store = await IndexedDbStore.open('offline-resume', { indexedDB, IDBKeyRange });
    const [outgoing] = await store.listOutgoing();
    // Weeks of other devices' messages later:
    for (let i = 0; i < 50; i++) model.accept({ clientMsgId: `later-${i}`, recvId: 'bob', content: { text: `later ${i}` } });

    const next = await client({ store });
    const sent = new Promise((resolve) => next.on('messageStatusChanged', (e) => e.status === 'sent' && resolve(e.message)));
    await next.connect();

    expect(await sent).toMatchObject({ clientMsgId: outgoing.clientMsgId, seq: 1 });
    expect(model.sends.filter((id) => id === outgoing.clientMsgId)).toHaveLength(1);
    expect(model.conversation(CONV).maxSeq).toBe(51);
    expect(await store.listOutgoing()).toEqual([]);
  });

  it('sends what was queued offline once connected, in order', async () => {
    const store = await IndexedDbStore.open('offline-outbox', { indexedDB: new IDBFactory(), IDBKeyRange });
    const c = await client({ store });
    const queued = [c.sendText({ recvId: 'bob' }, 'a'), c.sendText({ recvId: 'bob' }, 'b')];
    await until(async () => (await store.listOutgoing()).length === 2, 'both stored');
    expect(model.sends).toEqual([]);

    await c.connect();
    const sent = await Promise.all(queued);

    expect(sent.map((m) => (m.content as { text: string }).text)).toEqual(['a', 'b']);
    expect(await store.listOutgoing()).toEqual([]);
  });
});

describe('the local store across restarts', () => {
  it('reads conversations, messages and drafts offline from IndexedDB after the app restarts', async () => {
    const indexedDB = new IDBFactory();
    const open = (): Promise<LocalStore> => IndexedDbStore.open('cirrus-alice', { indexedDB, IDBKeyRange });
    for (let i = 0; i < 3; i++) model.add(CONV);
    const first = await client({ store: await open() });
    let finished = false;
    first.on('syncServerFinish', () => (finished = true));
    await first.connect();
    await until(() => finished, 'the sync');
    await first.setDraft(CONV, 'to be continued');
    await first.close();

    const again = await client({ store: await open() });

    expect(again.state).toBe('disconnected');
    expect(again.getTotalUnread()).toBe(3);
    expect(await again.getConversations()).toMatchObject([{ conversationId: CONV, unread: 3, draft: { text: 'to be continued' } }]);
    expect(seqsOf(await again.getMessages(CONV))).toEqual([1, 2, 3]);
  });
});

describe('events of the server', () => {
  it('reports business notifications', async () => {
    const c = await client();
    const got: unknown[] = [];
    c.on('businessNotification', (e) => got.push(e));
    let finished = false;
    c.on('syncServerFinish', () => (finished = true));
    await c.connect();
    await until(() => finished, 'the sync');
    gw.send(gw.open[0], { push: 'businessNotification', data: { key: 'order.shipped', data: '{"id":1}', sendTime: 5 } });
    await until(() => got.length === 1, 'the event');
    expect(got).toEqual([{ key: 'order.shipped', data: '{"id":1}', sendTime: 5 }]);
  });

  it('reports typing and profile changes, and applies conversation settings (a silent conversation leaves the total unread; a cleared part is hidden)', async () => {
    model.add(CONV);
    model.add(CONV);
    const c = await client();
    const typing: unknown[] = [];
    const profile: unknown[] = [];
    c.on('typingStatusChanged', (e) => typing.push(e));
    c.on('selfInfoUpdated', (e) => profile.push(e));
    let finished = false;
    c.on('syncServerFinish', () => (finished = true));
    await c.connect();
    await until(() => finished, 'the sync');
    expect(c.getTotalUnread()).toBe(2);
    const conn = gw.open[0];

    gw.send(conn, { push: 'typing', data: { conversationId: CONV, userId: 'bob', typing: true } });
    gw.send(conn, { push: 'userInfoUpdated', data: { userId: 'alice', changes: { nickname: 'Al' } } });
    gw.send(conn, { push: 'conversationChanged', data: { conversationId: CONV, changes: { pinned: true, recvOpt: 2, minSeq: 1 } } });
    await until(async () => (await c.getConversation(CONV))?.pinned === true, 'the settings');

    expect(typing).toEqual([{ conversationId: CONV, userId: 'bob', typing: true }]);
    expect(profile).toEqual([{ userId: 'alice', changes: { nickname: 'Al' } }]);
    expect(await c.getConversation(CONV)).toMatchObject({ pinned: true, recvOpt: 2, minSeq: 1, unread: 1 });
    expect(c.getTotalUnread()).toBe(0);
    expect(seqsOf(await c.getMessages(CONV))).toEqual([2]);
  });

  it('raises group events from notifications, joinedGroupDeleted only when the user is the one removed', async () => {
    const group = 'sg_club';
    const note = (contentType: number, content: unknown) => model.add(group, { senderId: 'system', sessionType: 3, groupId: 'club', recvId: undefined, contentType, content });
    note(1501, { opUserId: 'bob', groupId: 'club', name: 'Club', ownerUserId: 'bob', memberUserIds: ['alice', 'carol'] });
    note(1507, { opUserId: 'bob', groupId: 'club', userIds: ['carol'] });
    note(1507, { opUserId: 'bob', groupId: 'club', userIds: ['alice'] });
    const c = await client();
    const events: string[] = [];
    for (const name of ['joinedGroupAdded', 'joinedGroupDeleted', 'groupMemberDeleted'] as const) {
      c.on(name, (e) => events.push(`${name}:${e.message.seq}`));
    }
    let finished = false;
    c.on('syncServerFinish', () => (finished = true));

    await c.connect();
    await until(() => finished, 'the sync');

    expect(events).toEqual(['joinedGroupAdded:1', 'groupMemberDeleted:2', 'groupMemberDeleted:3', 'joinedGroupDeleted:3']);
  });

  it('reports a revoke by its marker once the changed seq is pulled', async () => {
    const original = model.add(CONV, { content: { text: 'oops' } });
    const c = await client();
    let finished = 0;
    c.on('syncServerFinish', () => finished++);
    const revoked: Message[] = [];
    c.on('newRecvMessageRevoked', (e) => revoked.push(e.message));
    await c.connect();
    await until(() => finished === 1, 'the sync');

    const marker = { ...original, content: null, version: 1, revoked: { by: 'bob', at: 5 } };
    model.conversation(CONV).messages.set(original.seq, marker);
    model.push(gw.open[0], model.add(CONV, { senderId: 'system', contentType: 2101, content: { conversationId: CONV, seq: original.seq, serverMsgId: original.serverMsgId, revokedBy: 'bob', version: 1 } }));
    await until(() => revoked.length === 1, 'the revoke');

    expect(revoked[0]).toMatchObject({ seq: 1, content: null, revoked: { by: 'bob' } });
    expect(await c.store.getMessage(CONV, 1)).toMatchObject({ content: null, version: 1 });
  });
});

describe('connection listeners', () => {
  it('reports connecting, connectSuccess and connectionStateChanged in order', async () => {
    const c = await client();
    const events: string[] = [];
    c.on('connecting', (e) => events.push(`connecting:${e.reason}`));
    c.on('connectSuccess', () => events.push('connectSuccess'));
    c.on('connectionStateChanged', (e) => events.push(`${e.oldState}>${e.newState}`));

    await c.connect();

    expect(events).toEqual(['disconnected>connecting', 'connecting:connectCalled', 'connecting>connected', 'connectSuccess']);
  });

  it('reports userTokenExpired and rejects connect() when the token expired and no new one comes', async () => {
    const c = await client({ token: fakeToken('alice', timers.now() - 1), refreshToken: async () => undefined });
    const expired: unknown[] = [];
    c.on('userTokenExpired', (e) => expired.push(e));

    await expect(c.connect()).rejects.toMatchObject({ reason: 'DISCONNECTED' });

    expect(expired).toHaveLength(1);
    expect(c.state).toBe('disconnected');
    expect(gw.connections).toHaveLength(0);
  });

  it('reports kickedOffline and keeps unsent messages for the next session', async () => {
    const c = await client();
    const kicked: unknown[] = [];
    c.on('kickedOffline', (e) => kicked.push(e));
    await c.connect();
    gw.handlers.delete('sendMsg');
    const sending = c.sendText({ recvId: 'bob' }, 'never acked');
    await gw.until(() => gw.open[0]?.requests.some((r) => r.action === 'sendMsg'), 'the send');

    gw.kick(gw.open[0], 'forcedLogout');
    await until(() => c.state === 'disconnected', 'disconnected');
    await c.close();

    await expect(sending).rejects.toMatchObject({ reason: 'DISCONNECTED' });
    expect(kicked).toEqual([{ reason: 'forcedLogout', platformId: 5 }]);
    expect(await c.store.listOutgoing()).toMatchObject([{ status: 'sending', content: { text: 'never acked' } }]);
  });
});

describe('app state', () => {
  it('tells each new connection, reconnect or rotation, that the app is in the background; an active app sends nothing', async () => {
    gw.handlers.set('setAppBackground', (data) => ({ background: data.background }));
    const c = await client();
    const told = (conn: FakeConnection) => conn.requests.filter((r) => r.action === 'setAppBackground').map((r) => (r.data as { background: boolean }).background);
    await c.connect();
    await settle(5);
    // Active is the server's default for a new connection: nothing to say.
    expect(told(gw.connections[0])).toEqual([]);
    await c.setAppState('background');
    expect(told(gw.connections[0])).toEqual([true]);

    // A dropped connection: the next one is told at once.
    gw.connections[0].socket.terminate();
    await until(() => c.state === 'connecting', 'the connection dropped');
    await timers.advance(500);
    await gw.until(() => gw.connections.length === 2 && gw.connections[1].requests.some((r) => r.action === 'setAppBackground'), 'the reconnect told');
    expect(told(gw.connections[1])).toEqual([true]);

    // The rotation before API Gateway's 2-hour cap opens a new connection too.
    await timers.advance(110 * 60_000);
    await gw.until(() => gw.connections.length === 3 && gw.connections[2].requests.some((r) => r.action === 'setAppBackground'), 'the rotation told');
    expect(told(gw.connections[2])).toEqual([true]);

    await c.setAppState('active');
    await until(() => told(gw.connections[2]).length === 2, 'active sent');
    expect(told(gw.connections[2])).toEqual([true, false]);
  });
});
