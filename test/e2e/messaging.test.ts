/**
 * The message path end to end, over real WebSockets and HTTP, against the local runtime
 * (DynamoDB Local, PGlite, the SQS stand-in with its pollers).
 */
import { describe, expect, it } from 'vitest';
import { Device, eventually, sleep, syncConversation } from '../support/cirrus';
import { admin, as, cirrus, device, text, useCirrus } from '../support/harness';
import { singleConversationId } from '../../core/domain/ids';
import { connections, connectionsFromPresence } from '../../core/store/connections';
import { ddb as documentClient } from '../../core/aws/dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { faults } from '../../core/faults';

/** The connection ids in the user item's `conns` map, which push reads. */
async function presenceOf(userId: string): Promise<string[]> {
  const res = await documentClient().send(new GetCommand({ TableName: cirrus.tableNames.users, Key: { userId } }));
  return connectionsFromPresence(userId, res.Item?.conns).map((c) => c.connectionId).sort();
}

useCirrus({ settings: { inlinePushMax: 10 } });

describe('one-to-one messages', () => {
  it('reaches the online recipient by push and the sender\'s other device, and an offline recipient by sync', async () => {
    await admin.register('alice', 'bob');
    const alicePhone = await device('alice', 1);
    const aliceWeb = await device('alice', 5);
    const bob = await device('bob', 5);

    const ack = await alicePhone.ok('sendMsg', { clientMsgId: 'c1', recvId: 'bob', ...text('hi bob') });

    expect(ack).toMatchObject({ conversationId: singleConversationId('alice', 'bob'), seq: 1 });
    expect(typeof ack.serverMsgId).toBe('string');
    const [pushed] = await bob.waitForPushes(1);
    expect(pushed).toMatchObject({ seq: 1, senderId: 'alice', recvId: 'bob', content: { text: 'hi bob' }, senderPlatformId: 1 });
    const [own] = await aliceWeb.waitForPushes(1);
    expect(own.serverMsgId).toBe(ack.serverMsgId);
    await sleep(300);
    expect(alicePhone.pushes).toHaveLength(0);

    await bob.close();
    await alicePhone.ok('sendMsg', { clientMsgId: 'c2', recvId: 'bob', ...text('are you there?') });
    await alicePhone.ok('sendMsg', { clientMsgId: 'c3', recvId: 'bob', ...text('call me') });

    const bobAgain = await device('bob', 5);
    const newest = await bobAgain.ok('getNewestSeq', {});
    const conv = newest.conversations.find((c: { conversationId: string }) => c.conversationId === ack.conversationId);
    expect(conv).toMatchObject({ maxSeq: 3, readSeq: 0, unread: 3 });
    const synced = await syncConversation(bobAgain, ack.conversationId, conv.maxSeq);
    expect(synced.messages.map((m) => m.content)).toEqual([{ text: 'hi bob' }, { text: 'are you there?' }, { text: 'call me' }]);
    expect(synced.holes).toEqual([]);
    expect(synced.pending).toEqual([]);

    const read = await bobAgain.ok('markRead', { conversationId: ack.conversationId, seq: 3 });
    expect(read).toMatchObject({ readSeq: 3, unread: 0 });
    // The sender's own messages are never unread for them.
    const aliceView = await eventually(async () => {
      const n = await aliceWeb.ok('getNewestSeq', {});
      const c = n.conversations.find((x: { conversationId: string }) => x.conversationId === ack.conversationId);
      return c?.readSeq === 3 && c;
    });
    expect(aliceView.unread).toBe(0);
  });

  it('answers a resent clientMsgId with the first ack and stores nothing new', async () => {
    await admin.register('carol', 'dave');
    const carol = await device('carol');
    const first = await carol.ok('sendMsg', { clientMsgId: 'same-id', recvId: 'dave', ...text('once') });

    const again = await carol.ok('sendMsg', { clientMsgId: 'same-id', recvId: 'dave', ...text('once') });
    const concurrent = await Promise.all([1, 2, 3].map(() => carol.ok('sendMsg', { clientMsgId: 'same-id', recvId: 'dave', ...text('once') })));

    expect(again).toEqual(first);
    for (const ack of concurrent) expect(ack).toEqual(first);
    const newest = await carol.ok('getNewestSeq', {});
    expect(newest.conversations.find((c: { conversationId: string }) => c.conversationId === first.conversationId).maxSeq).toBe(1);
    const synced = await syncConversation(carol, first.conversationId, 1);
    expect(synced.messages).toHaveLength(1);
  });
});

describe('a group of 50', () => {
  it('pushes one message exactly once to every online member; offline members sync it; unread follows markRead', async () => {
    const members = Array.from({ length: 50 }, (_, i) => `g50-${i}`);
    await admin.register(...members);
    await admin.createGroup('fifty', members[0], members.slice(1));
    const online = await Promise.all(members.slice(0, 30).map((m) => device(m)));

    const ack = await online[0].ok('sendMsg', { clientMsgId: 'hello-50', groupId: 'fifty', ...text('hello everyone') });

    const chat = (d: Device) => d.pushes.filter((p) => p.contentType === 101);
    await Promise.all(online.slice(1).map((d) => d.until(() => chat(d).length >= 1, 15_000, 'the chat push')));
    await sleep(500);
    for (const d of online.slice(1)) expect(chat(d).map((p) => p.serverMsgId)).toEqual([ack.serverMsgId]);
    expect(chat(online[0])).toHaveLength(0);

    const late = await Promise.all(members.slice(30).map((m) => device(m)));
    for (const d of late) {
      const newest = await d.ok('getNewestSeq', {});
      const conv = newest.conversations.find((c: { conversationId: string }) => c.conversationId === 'sg_fifty');
      // The groupCreated notification (seq 1) and the message.
      expect(conv).toMatchObject({ maxSeq: ack.seq, unread: 2 });
      const synced = await syncConversation(d, 'sg_fifty', conv.maxSeq);
      expect(synced.messages.map((m) => m.contentType)).toEqual([1501, 101]);
      expect(synced.messages[1].serverMsgId).toBe(ack.serverMsgId);
    }
    const reader = late[0];
    expect(await reader.ok('markRead', { conversationId: 'sg_fifty', seq: ack.seq })).toMatchObject({ readSeq: ack.seq, unread: 0 });
    const after = await reader.ok('getNewestSeq', {});
    expect(after.conversations.find((c: { conversationId: string }) => c.conversationId === 'sg_fifty')).toMatchObject({ readSeq: ack.seq, unread: 0 });
    const other = await late[1].ok('getNewestSeq', {});
    expect(other.conversations.find((c: { conversationId: string }) => c.conversationId === 'sg_fifty').unread).toBe(2);
  });
});

describe('concurrent senders', () => {
  it('gives 20 senders x 25 messages seqs 1..500 and every member the same 500 in the same order', async () => {
    const senders = Array.from({ length: 20 }, (_, i) => `conc-${i}`);
    await admin.register(...senders, 'conc-reader');
    await admin.createGroup('busy', senders[0], [...senders.slice(1), 'conc-reader']);
    const socks = await Promise.all(senders.map((s) => device(s)));

    const acks = await Promise.all(
      socks.map(async (d, i) => {
        const mine: number[] = [];
        for (let n = 0; n < 25; n++) {
          const ack = await d.ok('sendMsg', { clientMsgId: `m-${n}`, groupId: 'busy', ...text(`${senders[i]} #${n}`) });
          mine.push(ack.seq);
        }
        return mine;
      }),
    );

    // Seq 1 is the groupCreated notification; the 500 messages take 2..501 with no gap.
    const all = acks.flat().sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 500 }, (_, i) => i + 2));
    for (const mine of acks) expect(mine).toEqual([...mine].sort((a, b) => a - b));
    const reader = await device('conc-reader');
    const views = (await Promise.all([reader, socks[3], socks[17]].map((d) => syncConversation(d, 'sg_busy', 501)))).map((v) => ({
      ...v,
      messages: v.messages.filter((m) => m.contentType === 101),
    }));
    for (const view of views) {
      expect(view.messages.map((m) => m.seq)).toEqual(all);
      expect(view.messages.map((m) => m.serverMsgId)).toEqual(views[0].messages.map((m) => m.serverMsgId));
    }
    // Each sender's messages appear in the order they were sent.
    for (const s of senders) {
      const texts = views[0].messages.filter((m) => m.senderId === s).map((m) => (m.content as { text: string }).text);
      expect(texts).toEqual(Array.from({ length: 25 }, (_, n) => `${s} #${n}`));
    }
  }, 180_000);
});

describe('pushes to gone connections', () => {
  it('deletes the gone connection of the recipient, never the sender\'s', async () => {
    await admin.register('erin', 'frank');
    const erin = await device('erin');
    const frank = await device('frank');
    // A connection that closed without $disconnect: recorded in both places, as a connect does.
    await connections.put({ userId: 'frank', connectionId: 'stale-frank=', platformId: 1, sessionId: 'x', connectedAt: 0, expiresAt: Math.floor(Date.now() / 1000) + 3600 });
    const idsOf = async (userId: string) => (await connections.ofUser(userId)).map((c) => c.connectionId);
    expect(await presenceOf('frank')).toContain('stale-frank=');

    await erin.ok('sendMsg', { clientMsgId: 'to-frank', recvId: 'frank', ...text('ping') });

    await frank.waitForPushes(1);
    await eventually(async () => !(await idsOf('frank')).includes('stale-frank='));
    expect(await idsOf('frank')).toHaveLength(1);
    expect(await presenceOf('frank')).toEqual(await idsOf('frank'));
    expect(await idsOf('erin')).toHaveLength(1);
    expect(await presenceOf('erin')).toEqual(await idsOf('erin'));
  });
  it('keeps the record of a connection still in $connect (API Gateway answers 410 until it is established)', async () => {
    await admin.register('gia', 'hugo');
    const gia = await device('gia');
    const now = Date.now();
    const item = (connectionId: string, openedAt: number) => ({
      userId: 'hugo', connectionId, platformId: 1, sessionId: 'x', connectedAt: Math.floor(openedAt / 1000), connectedAtMs: openedAt, expiresAt: Math.floor(now / 1000) + 3600,
    });
    await connections.put(item('connecting-hugo=', now));
    await connections.put(item('long-gone-hugo=', now - 120_000));
    const idsOf = async () => (await connections.ofUser('hugo')).map((c) => c.connectionId);

    await gia.ok('sendMsg', { clientMsgId: 'to-hugo', recvId: 'hugo', ...text('ping') });

    await eventually(async () => !(await idsOf()).includes('long-gone-hugo='));
    expect(await idsOf()).toEqual(['connecting-hugo=']);
    expect(await presenceOf('hugo')).toEqual(['connecting-hugo=']);
  });
});

describe('history', () => {
  it('archives every message into the Aurora schema and serves it over HTTP, newest first', async () => {
    await admin.register('gina', 'hank');
    const gina = await device('gina');
    const acks = [];
    for (let i = 0; i < 5; i++) acks.push(await gina.ok('sendMsg', { clientMsgId: `h${i}`, recvId: 'hank', ...text(`h${i}`) }));
    const conversationId = acks[0].conversationId;

    const rows = await eventually(async () => {
      const r = await cirrus.dataApi.query(`SELECT seq, sender_id, content::text AS content FROM messages WHERE conversation_id = '${conversationId}' ORDER BY seq`);
      return r.length === 5 && r;
    });
    expect(rows.map((r: { seq: unknown }) => Number(r.seq))).toEqual([1, 2, 3, 4, 5]);

    const page1 = await admin.call('GET', `/conversations/${conversationId}/messages?limit=3`);
    expect(page1.status).toBe(200);
    expect(page1.body.messages.map((m: { seq: number }) => m.seq)).toEqual([5, 4, 3]);
    expect(page1.body.messages[0]).toMatchObject({ senderId: 'gina', recvId: 'hank', content: { text: 'h4' }, serverMsgId: acks[4].serverMsgId, sendTime: acks[4].sendTime });
    const page2 = await admin.call('GET', `/conversations/${conversationId}/messages?limit=3&beforeSeq=${page1.body.nextBeforeSeq}`);
    expect(page2.body.messages.map((m: { seq: number }) => m.seq)).toEqual([2, 1]);
    expect(page2.body.nextBeforeSeq).toBeNull();
  });
});

describe('messages sent over HTTP', () => {
  it('sends as a user and as the system; system messages land in the notification conversation', async () => {
    await admin.register('ivan', 'judy');
    const judy = await device('judy');

    const asUser = await admin.call('POST', '/messages', { sendId: 'ivan', recvId: 'judy', ...text('from the backend') });
    const asSystem = await admin.call('POST', '/messages', { asSystem: true, recvId: 'judy', contentType: 110, content: { data: '{"kind":"welcome"}' } });

    expect(asUser.status).toBe(200);
    expect(asUser.body.conversationId).toBe(singleConversationId('ivan', 'judy'));
    expect(asSystem.status).toBe(200);
    expect(asSystem.body).toMatchObject({ conversationId: 'n_judy', seq: 1 });
    const pushes = await judy.waitForPushes(2);
    expect(pushes.map((p) => p.senderId).sort()).toEqual(['ivan', 'system']);
    const newest = await judy.ok('getNewestSeq', {});
    expect(newest.conversations.map((c: { conversationId: string }) => c.conversationId).sort()).toEqual(['n_judy', singleConversationId('ivan', 'judy')].sort());
  });
});

/** Captures the JSON lines the handlers write to stdout at `level`, as Lambda would forward them. */
async function capturingLogs<T>(level: string, work: (entries: () => Record<string, any>[]) => Promise<T>): Promise<T> {
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.env.LOG_LEVEL = level;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  try {
    return await work(() =>
      lines
        .flatMap((l) => l.split('\n'))
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l)),
    );
  } finally {
    process.stdout.write = write;
    process.env.LOG_LEVEL = 'silent';
  }
}

describe('logs', () => {
  it('at the default level, write nothing for a message that goes through, and every error with its correlation id', async () => {
    await admin.register('lena', 'luke');
    const lena = await device('lena');
    const luke = await device('luke');
    await capturingLogs('info', async (entries) => {
      const ack = await lena.ok('sendMsg', { clientMsgId: 'quiet', recvId: 'luke', ...text('no log line') });
      await luke.waitForPushes(1);
      await eventually(async () => (await cirrus.dataApi.query(`SELECT count(*)::int AS n FROM messages WHERE conversation_id = '${ack.conversationId}'`))[0].n === 1);
      await sleep(300);
      expect(entries().filter((e) => e.conversationId === ack.conversationId)).toEqual([]);

      faults.crash('send.afterWrite');
      try {
        const failed = await lena.request('sendMsg', { clientMsgId: 'crashed', recvId: 'luke', ...text('crashed') });
        expect(failed.error?.reason).toBe('INTERNAL');
      } finally {
        faults.clear();
      }
      const errors = entries().filter((e) => e.level === 'error');
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ fn: 'wsMessage', msg: 'action failed', action: 'sendMsg', errorMessage: 'Injected fault at send.afterWrite' });
      expect(errors[0].correlationId).toMatch(/.{8,}/);
      // Lambda's JSON log format reads these two keys to filter lines by level.
      expect(errors[0].timestamp).toBe(new Date(errors[0].timestamp).toISOString());
    });
  });

  it("at the default level, write the debug lines of an invocation that fails, before its error, and none of the others'", async () => {
    await admin.register('lola', 'lars');
    const lola = await device('lola');
    const lars = await device('lars');
    await capturingLogs('info', async (entries) => {
      await lola.ok('sendMsg', { clientMsgId: 'fine', recvId: 'lars', ...text('goes through') });
      faults.crash('send.afterPush');
      try {
        const failed = await lola.request('sendMsg', { clientMsgId: 'fails late', recvId: 'lars', ...text('pushed, then crashed') });
        expect(failed.error?.reason).toBe('INTERNAL');
      } finally {
        faults.clear();
      }
      await lars.waitForPushes(2);
      const sent = entries().filter((e) => e.fn === 'wsMessage');
      // The failed send's path, kept in its invocation's buffer at debug, then its error; nothing of the one that went through.
      expect(sent.map((e) => [e.level, e.msg])).toEqual([
        ['debug', 'message pushed'],
        ['error', 'action failed'],
      ]);
      expect(sent[0].correlationId).toBe(sent[1].correlationId);
      expect(sent[0].requestId).toBe(sent[1].requestId);
    });
  });

  it('write no metric line for a message that goes through, and one counting a refused message by its reason', async () => {
    await admin.register('mona', 'milo');
    const mona = await device('mona');
    const milo = await device('milo');
    await capturingLogs('info', async (entries) => {
      const ack = await mona.ok('sendMsg', { clientMsgId: 'counted not', recvId: 'milo', ...text('fine') });
      await milo.waitForPushes(1);
      await eventually(async () => (await cirrus.dataApi.query(`SELECT count(*)::int AS n FROM messages WHERE conversation_id = '${ack.conversationId}'`))[0].n === 1);
      await sleep(300);
      expect(entries().filter((e) => '_aws' in e)).toEqual([]);

      const refused = await mona.request('sendMsg', { clientMsgId: 'refused', recvId: 'milo', contentType: 'not a number', content: { text: 'x' } });
      expect(refused.error?.reason).toBe('INVALID_ARGUMENT');
      const metrics = entries().filter((e) => '_aws' in e);
      expect(metrics).toHaveLength(1);
      expect(metrics[0]).toMatchObject({ _aws: { CloudWatchMetrics: [{ Namespace: 'Cirrus', Dimensions: [['service'], ['service', 'reason']] }] }, reason: 'INVALID_ARGUMENT', MessagesRefused: 1 });
    });
  });

  it('at debug, are JSON lines that carry one correlation id through send and push; the archive logs its stream batches', async () => {
    await admin.register('lara', 'liam');
    const lara = await device('lara');
    const liam = await device('liam');
    await capturingLogs('debug', async (lines) => {
      const ack = await lara.ok('sendMsg', { clientMsgId: 'traced', recvId: 'liam', ...text('trace me') });
      await liam.waitForPushes(1);
      const entries = () => lines().filter((e) => e.conversationId === ack.conversationId && e.seq === ack.seq);
      await eventually(async () => (await cirrus.dataApi.query(`SELECT 1 FROM messages WHERE conversation_id = '${ack.conversationId}' AND seq = ${ack.seq}`)).length === 1);
      await eventually(async () => lines().some((e) => e.fn === 'archive' && e.msg === 'batch archived'));
      const byFn = Object.fromEntries(entries().map((e) => [`${e.fn}:${e.msg}`, e.correlationId]));
      // The sending function pushes itself: no delivery step. The archive reads the Messages
      // stream, whose records carry no correlation id: its lines are per batch.
      expect(Object.keys(byFn).sort()).toEqual(['wsMessage:message accepted', 'wsMessage:message pushed']);
      expect(new Set(Object.values(byFn)).size).toBe(1);
      expect(Object.values(byFn)[0]).toMatch(/.{8,}/);
      expect(lines().filter((e) => e.fn === 'wsMessage' || e.fn === 'archive').every((e) => e.level === 'debug')).toBe(true);
    });
  });
});
