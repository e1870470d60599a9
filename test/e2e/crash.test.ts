/**
 * `npm start` killed with SIGKILL while messages flow, then started again on the same
 * state: every acknowledged message must still reach every member's sync and the
 * history, once, in seq order, as on AWS (where a crash of one function loses nothing
 * that was acknowledged), and every accepted batch send must finish (its pages are
 * asynchronous invocations, queued durably: a page the kill interrupted runs again after
 * the restart; pushes lost with the kill are fine, sync is the truth). The runtime runs as
 * a child process, as a user runs it, and is killed several times mid-stream; the Java
 * process of DynamoDB Local must die with it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, javaProcessesFor, startChildRuntime, type ChildRuntime } from '../support/child-runtime';
import { Admin, Device, eventually, sleep, syncConversation } from '../support/cirrus';
import type { Message } from '../../core/protocol/schema';

const dataDir = mkdtempSync(join(tmpdir(), 'cirrus-crash-'));
const start = (port: number) => startChildRuntime(port, dataDir, { logLevel: 'error', args: ['--no-web'] });
const KILLS = 3;
/** Acks to collect between two kills (the kill lands while more sends are in flight). */
const ACKS_PER_ROUND = 30;
/** Recipients of the batch send accepted just before each kill (two pages). */
const BATCH_RECIPIENTS = Array.from({ length: 120 }, (_, i) => `cr-r${String(i).padStart(3, '0')}`);

interface Sent {
  clientMsgId: string;
  conversation: 'direct' | 'group';
  text: string;
}

interface Ack {
  conversationId: string;
  seq: number;
  serverMsgId: string;
}

let running: ChildRuntime | undefined;
afterAll(async () => {
  if (running && running.child.exitCode === null && running.child.signalCode === null) {
    running.child.kill('SIGKILL');
    await running.exited;
  }
  for (const pid of javaProcessesFor(dataDir)) process.kill(Number(pid), 'SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

/** sendMsg until acknowledged, waiting out SEND_IN_PROGRESS (an earlier attempt whose write window is still open), as a client does. */
async function sendRetrying(device: Device, data: Record<string, unknown>): Promise<Ack> {
  for (let attempt = 0; ; attempt++) {
    const reply = await device.request('sendMsg', data);
    if (!reply.error) return reply.data;
    if (reply.error.reason !== 'SEND_IN_PROGRESS' || attempt >= 40) throw new Error(`sendMsg failed: ${JSON.stringify(reply.error)}`);
    await sleep(1_000);
  }
}

describe('the local runtime killed with SIGKILL while messages flow', () => {
  it('keeps every acknowledged message in every member’s sync and in the history, once and in seq order, and leaves no Java process behind', async () => {
    // Arrange
    const port = await freePort();
    const api = `http://127.0.0.1:${port}/api`;
    const ws = `ws://127.0.0.1:${port}/ws`;
    running = await start(port);
    const secret = /Admin secret: (\S+)/.exec(running.output())![1];
    const admin = () => new Admin(api, secret);
    await admin().register('cr-ann', 'cr-bob', 'cr-cat', ...BATCH_RECIPIENTS);
    const batches: string[] = [];
    await admin().createGroup('cr-group', 'cr-ann', ['cr-bob', 'cr-cat']);
    const members = { direct: ['cr-ann', 'cr-bob'], group: ['cr-ann', 'cr-bob', 'cr-cat'] } as const;
    // Who sends what: ann and bob write to each other, all three write in the group.
    const senders: { userId: string; conversation: 'direct' | 'group'; target: Record<string, string> }[] = [
      { userId: 'cr-ann', conversation: 'direct', target: { recvId: 'cr-bob' } },
      { userId: 'cr-bob', conversation: 'direct', target: { recvId: 'cr-ann' } },
      { userId: 'cr-ann', conversation: 'group', target: { groupId: 'cr-group' } },
      { userId: 'cr-bob', conversation: 'group', target: { groupId: 'cr-group' } },
      { userId: 'cr-cat', conversation: 'group', target: { groupId: 'cr-group' } },
    ];
    const sent = new Map<string, Sent & { sender: (typeof senders)[number] }>();
    const acks = new Map<string, Ack>();
    const unacked = new Set<string>();
    let counter = 0;
    const orphans: number[] = [];

    /** Every sender sends one message after another until the connection dies. */
    const stream = async () => {
      // As a client reconnects: the restarted runtime is busy with the pages the kill interrupted.
      const connect = (userId: string) => eventually(async () => Device.connect(ws, await admin().userToken(userId)).catch(() => undefined), 60_000, 500);
      const devices = await Promise.all(senders.map((s) => connect(s.userId)));
      const loops = senders.map(async (sender, i) => {
        for (;;) {
          const clientMsgId = `crash-${++counter}`;
          const text = `message ${counter} from ${sender.userId}`;
          sent.set(clientMsgId, { clientMsgId, conversation: sender.conversation, text, sender });
          unacked.add(clientMsgId);
          let reply;
          try {
            reply = await devices[i].request('sendMsg', { clientMsgId, ...sender.target, contentType: 101, content: { text } }, 5_000);
          } catch {
            return; // no reply: the runtime is gone
          }
          if (reply.error) return;
          acks.set(clientMsgId, reply.data);
          unacked.delete(clientMsgId);
        }
      });
      return { devices, loops };
    };

    // Act: kill the runtime mid-stream several times, restarting on the same state each time.
    for (let round = 0; round < KILLS; round++) {
      const before = acks.size;
      const { devices, loops } = await stream();
      await eventually(async () => acks.size >= before + ACKS_PER_ROUND, 60_000, 5);
      // A batch send accepted (its pages queued) right before the kill: they run while it lands.
      const batchId = `cr-batch-${round}`;
      const accepted = await admin().call('POST', '/messages/batch', { sendId: 'cr-ann', recvIds: BATCH_RECIPIENTS, contentType: 101, content: { text: `batch ${round}` }, batchId });
      expect(accepted.status).toBe(200);
      batches.push(batchId);
      running.child.kill('SIGKILL');
      await running.exited;
      await Promise.all(loops);
      for (const d of devices) d.socket.terminate();
      // The Java process of DynamoDB Local goes with the runtime that started it.
      orphans.push(await eventually(async () => javaProcessesFor(dataDir).length === 0 && 0, 15_000, 100).catch(() => javaProcessesFor(dataDir).length));
      running = await start(port);
    }
    // Of the sends that got no reply, every other one is sent again with the same clientMsgId
    // (as a client that reconnects does); the rest are abandoned by their sender. A 1:1
    // conversation recognizes a resend only among the sender's last sends there, so, as the
    // protocol asks (docs/protocol.md, "Idempotency") and the SDK does, the client first looks
    // for the message by clientMsgId in sync and sends it only when it is not stored; a group
    // message is sent again as it is (its idempotency record lasts).
    const resent = [...unacked].filter((_, i) => i % 2 === 0);
    const abandoned = [...unacked].filter((_, i) => i % 2 === 1);
    for (const clientMsgId of resent) {
      const s = sent.get(clientMsgId)!;
      const device = await Device.connect(ws, await admin().userToken(s.sender.userId));
      let found: Message | undefined;
      if (s.sender.conversation === 'direct') {
        const conversationId = 'si_cr-ann_cr-bob';
        const newest = await device.ok('getNewestSeq', {});
        const maxSeq = newest.conversations.find((c: { conversationId: string }) => c.conversationId === conversationId)?.maxSeq ?? 0;
        found = (await syncConversation(device, conversationId, maxSeq)).messages.find((m) => m.clientMsgId === clientMsgId && m.senderId === s.sender.userId);
      }
      const ack = found
        ? { serverMsgId: found.serverMsgId, conversationId: found.conversationId, seq: found.seq, sendTime: found.sendTime }
        : await sendRetrying(device, { clientMsgId, ...s.sender.target, contentType: 101, content: { text: s.text } });
      acks.set(clientMsgId, ack);
      await device.close();
    }

    // Assess: every batch accepted before a kill finishes after the restart, one message per recipient.
    for (const [round, batchId] of batches.entries()) {
      const done = await eventually(async () => {
        const progress = await admin().call('GET', `/messages/batch/${batchId}`);
        return progress.body.status === 'done' && progress.body;
      }, 120_000, 500);
      expect(done, batchId).toMatchObject({ recipients: BATCH_RECIPIENTS.length, sent: BATCH_RECIPIENTS.length, failed: 0, pagesDone: 2 });
      const device = await Device.connect(ws, await admin().userToken(BATCH_RECIPIENTS[round * 7]));
      const synced = await syncConversation(device, `si_cr-ann_${BATCH_RECIPIENTS[round * 7]}`, KILLS);
      await device.close();
      expect(synced.messages.filter((m) => (m.content as { text?: string }).text === `batch ${round}`)).toHaveLength(1);
    }

    // Assess: sync, on every member's device.
    const expected = new Map<string, Map<string, Ack>>();
    for (const [clientMsgId, ack] of acks) {
      if (!expected.has(ack.conversationId)) expected.set(ack.conversationId, new Map());
      expected.get(ack.conversationId)!.set(clientMsgId, ack);
    }
    expect(expected.size).toBe(2);
    const syncMissing: Record<string, string[]> = {};
    const report: Record<string, unknown> = { acked: acks.size, resent: resent.length, abandoned: abandoned.length };
    for (const [conversationId, expectedHere] of expected) {
      const kind = conversationId.startsWith('sg_') ? 'group' : 'direct';
      for (const userId of members[kind]) {
        const device = await Device.connect(ws, await admin().userToken(userId));
        // Messages sent before a kill may still be on their way; the sync settles within the settle time.
        const synced = await eventually(async () => {
          const newest = await device.ok('getNewestSeq', {});
          const maxSeq = newest.conversations.find((c: { conversationId: string }) => c.conversationId === conversationId)?.maxSeq ?? 0;
          const got = await syncConversation(device, conversationId, maxSeq);
          return got.pending.length === 0 && got;
        }, 120_000, 500);
        await device.close();
        const seqs = synced.messages.map((m) => m.seq);
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
        expect(new Set(seqs).size).toBe(seqs.length);
        const ids = synced.messages.map((m) => m.clientMsgId);
        expect(new Set(ids).size, `duplicates in ${userId}'s sync of ${conversationId}`).toBe(ids.length);
        const bySync = new Map(synced.messages.map((m) => [m.clientMsgId, m]));
        const missing = [...expectedHere.keys()].filter((id) => !bySync.has(id));
        report[`sync ${userId} ${kind} missing`] = missing.length;
        syncMissing[`${userId} ${conversationId}`] = missing;
        for (const [clientMsgId, ack] of expectedHere) if (bySync.has(clientMsgId)) expect(bySync.get(clientMsgId)!.seq).toBe(ack.seq);
        report[`sync ${userId} ${kind} unacked present`] = abandoned.filter((id) => bySync.has(id)).length;
      }
    }

    // Assess: the history (Aurora's), every acked message once, in seq order.
    const history = async (conversationId: string) => {
      const seqs: { seq: number; clientMsgId: string }[] = [];
      let beforeSeq: number | null = null;
      do {
        const res: { status: number; body: { messages: { seq: number; clientMsgId: string }[]; nextBeforeSeq: number | null } } = await admin().call('GET', `/conversations/${conversationId}/messages?limit=200${beforeSeq ? `&beforeSeq=${beforeSeq}` : ''}`);
        expect(res.status).toBe(200);
        seqs.push(...res.body.messages.map((m: { seq: number; clientMsgId: string }) => ({ seq: m.seq, clientMsgId: m.clientMsgId })));
        beforeSeq = res.body.nextBeforeSeq;
      } while (beforeSeq !== null);
      return seqs.reverse();
    };
    const histories = new Map<string, { seq: number; clientMsgId: string }[]>();
    for (const [conversationId, expectedHere] of expected) {
      let last: { seq: number; clientMsgId: string }[] = [];
      await eventually(async () => {
        last = await history(conversationId);
        const have = new Set(last.map((m) => m.clientMsgId));
        return [...expectedHere.keys()].every((id) => have.has(id));
      }, 120_000, 1_000).catch(() => undefined); // what is missing then is reported below
      histories.set(conversationId, last);
      const have = new Set(last.map((m) => m.clientMsgId));
      report[`history ${conversationId} missing`] = [...expectedHere.keys()].filter((id) => !have.has(id)).length;
      report[`history ${conversationId} unacked present`] = abandoned.filter((id) => have.has(id)).length;
    }
    console.log(`crash test: ${JSON.stringify(report)}`);
    expect(syncMissing, 'acked messages missing from each member’s sync').toEqual(Object.fromEntries(Object.keys(syncMissing).map((k) => [k, []])));
    for (const [conversationId, expectedHere] of expected) {
      const last = histories.get(conversationId)!;
      const have = new Set(last.map((m) => m.clientMsgId));
      expect([...expectedHere.keys()].filter((id) => !have.has(id)), `acked messages missing from the history of ${conversationId}`).toEqual([]);
      const seqs = last.map((m) => m.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(new Set(seqs).size).toBe(seqs.length);
      expect(new Set(last.map((m) => m.clientMsgId)).size).toBe(last.length);
      for (const m of last) if (expectedHere.has(m.clientMsgId)) expect(m.seq).toBe(expectedHere.get(m.clientMsgId)!.seq);
    }
    expect(orphans, 'DynamoDB Local processes left running after each kill').toEqual(Array(KILLS).fill(0));

    running.child.kill('SIGTERM');
    await running.exited;
    await sleep(0);
    expect(javaProcessesFor(dataDir)).toEqual([]);
  }, 900_000);
});
