/**
 * End-to-end encrypted conversations (MLS) through the SDK against the local runtime: two
 * users with two devices each through a 1:1 and a group conversation: create, messages, add,
 * concurrent commits (the first by seq wins, the other retries), a kick, a device change and
 * an encrypted media file. Then everything Cirrus stored (every DynamoDB table, the history in
 * PostgreSQL, the media bucket, the logs, the webhook bodies) is scanned for the plaintext, and
 * none is found; removed devices cannot read what was sent after their removal.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { CirrusClient, type CirrusClientOptions, type Message } from '../../sdk/src/index';
import { decryptMedia, E2ee, encryptMedia, type DecryptedMessage, type E2eeOptions } from '../../sdk/src/e2ee/index';
import { acceptAll, cipherSuite, decodeMessage, decodeState, emptyPskIndex, fromUtf8, processMessage } from '../../sdk/src/e2ee/mls';
import { DeviceStorage } from '../support/kv-storage';
import { admin, cirrus, useCirrus } from '../support/harness';
import { eventually } from '../support/cirrus';
import { ddb } from '../../core/aws/dynamodb';

// The webhook receiver: every body Cirrus POSTs to the app backend.
const hookBodies: string[] = [];
const hookServer = createServer((req: IncomingMessage, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    hookBodies.push(body);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
await new Promise<void>((r) => hookServer.listen(0, '127.0.0.1', r));
const hookUrl = `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}/hooks`;

// The logs: the functions write JSON lines to stdout.
const logLines: string[] = [];
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
  logLines.push(String(chunk));
  return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
}) as typeof process.stdout.write;

useCirrus({
  settings: {
    multiLoginPolicy: 'multiple',
    logLevel: 'debug',
    mediaAllowedTypes: ['application/octet-stream'],
    webhooks: { url: hookUrl, timeoutMs: 2000, callbacks: { afterSendMessage: { enabled: true } } },
  },
  streamOverrides: { messageArchive: { maxBatchingWindowSeconds: 0 } },
});

interface Dev {
  client: CirrusClient;
  e: E2ee;
  name: string;
}
const devs: Dev[] = [];
afterAll(async () => {
  process.stdout.write = write;
  for (const d of devs) d.e.close();
  await Promise.all(devs.map((d) => d.client.close()));
  await new Promise((r) => hookServer.close(r));
});


async function dev(userId: string, deviceId: string, autoReconcileMs = 0, options: Partial<E2eeOptions> = {}): Promise<Dev> {
  const client = await CirrusClient.create({
    wsUrl: cirrus.wsUrl,
    apiUrl: cirrus.apiUrl,
    token: await admin.userToken(userId, 5),
    store: 'memory',
    WebSocket: WebSocket as unknown as CirrusClientOptions['WebSocket'],
    backoff: { minDelayMs: 50, maxDelayMs: 200 },
  });
  await client.connect();
  const e = await E2ee.open({ client, deviceId, keyPackages: 4, lowWater: 2, autoReconcileMs, ...options });
  const d = { client, e, name: `${userId}/${deviceId}` };
  devs.push(d);
  return d;
}

const texts = (ms: DecryptedMessage[]) => ms.map((m) => (m.content as { text?: string }).text).filter(Boolean);

/** Every device's view after catching up: each must hold the expected texts. */
async function allRead(conversationId: string, devices: Dev[], expected: string[]): Promise<void> {
  for (const d of devices) {
    await eventually(async () => {
      await d.e.catchUp(conversationId);
      const got = texts(await d.e.getMessages(conversationId));
      return expected.every((t) => got.includes(t)) && got;
    }, 20_000, 200).catch((err) => {
      throw new Error(`${d.name} did not read ${expected.join(', ')}: ${(err as Error).message}`);
    });
  }
}

/** Holds each device's next commit until every device of `devices` has made one, then lets them through in this order. */
function raceCommits(devices: Dev[]): Promise<void> {
  let arrived = 0;
  let releaseAll!: () => void;
  const all = new Promise<void>((r) => (releaseAll = r));
  let order = Promise.resolve();
  const done: Promise<void>[] = [];
  devices.forEach((d) => {
    const original = d.client.sendMessage.bind(d.client);
    let used = false;
    let finished!: () => void;
    done.push(new Promise((r) => (finished = r)));
    d.client.sendMessage = (async (input: Parameters<CirrusClient['sendMessage']>[0]) => {
      if (used || input.contentType !== 151) return original(input);
      used = true;
      if (++arrived === devices.length) releaseAll();
      await all;
      const mine = order.then(() => original(input));
      order = mine.then(() => undefined, () => undefined);
      try {
        return await mine;
      } finally {
        finished();
      }
    }) as CirrusClient['sendMessage'];
  });
  return Promise.all(done).then(() => undefined);
}

const SECRETS = {
  single1: 'P1 the eagle lands at midnight',
  single2: 'P2 bring the blue umbrella',
  group1: 'P3 group plans for the harbour',
  group2: 'P4 bob says the vault code is 7361',
  group3: 'P5 after rotating keys concurrently',
  afterKick: 'P6 bob must never read this',
  afterDeviceChange: 'P7 only the new phone may read this',
  media: 'P8 secret picture bytes: gold under the floor',
  beforeCrash: 'P9 written before the committer crashed',
  afterCrash: 'P10 read by the devices a crashed commit added',
  history: 'P11 shared with the new device as history',
  rotated: 'P12 sent after the keys rotated',
  beforeRotation: 'P13 sent on the epoch before the rotation',
  strandedRejoined: 'P14 read by a device added again after its Welcome never came',
};

describe('encrypted conversations', () => {
  const control = 'C0 plaintext control message, visible to the scan';
  let single = '';
  let group = '';
  let a1: Dev, a2: Dev, b1: Dev, b2: Dev, b3: Dev;
  const kickedCiphertexts: Message[] = [];

  it('creates a 1:1 conversation with every device of both users, and they all read its messages', async () => {
    await admin.register('e2-alice', 'e2-bob');
    await admin.call('POST', '/friends/import', { userId: 'e2-alice', friendUserIds: ['e2-bob'] });
    [a1, a2, b1, b2] = await Promise.all([dev('e2-alice', 'a1'), dev('e2-alice', 'a2'), dev('e2-bob', 'b1'), dev('e2-bob', 'b2')]);

    single = await a1.e.createSingle('e2-bob');
    expect((await a1.e.members(single)).map((m) => `${m.userId}/${m.deviceId}`).sort()).toEqual(['e2-alice/a1', 'e2-alice/a2', 'e2-bob/b1', 'e2-bob/b2']);
    await a1.e.sendText(single, SECRETS.single1);
    await allRead(single, [a2, b1, b2], [SECRETS.single1]);
    await b1.e.sendText(single, SECRETS.single2);
    await allRead(single, [a1, a2, b2], [SECRETS.single1, SECRETS.single2]);

    // The key fingerprints each device's group holds are those the devices show, and the safety numbers agree.
    const seen = await b2.e.members(single);
    expect(seen.find((m) => m.deviceId === 'a1')?.fingerprint).toBe(await a1.e.fingerprint());
    const numbers = await Promise.all([a1, a2, b1, b2].map((d) => d.e.safetyNumber(single)));
    expect(new Set(numbers).size).toBe(1);
    expect(numbers[0]).toMatch(/^(\d{5} ){11}\d{5}$/);
    // A plaintext message in another conversation, which the scan below must find (so it can find anything).
    await admin.register('e2-erin');
    await admin.call('POST', '/friends/import', { userId: 'e2-alice', friendUserIds: ['e2-erin'] });
    await a1.client.sendText({ recvId: 'e2-erin' }, control);
  });

  it('marks the encrypted 1:1 conversation on the server: plaintext is refused from either side, the listing shows it', async () => {
    const refusal = (p: Promise<unknown>) => p.then(() => 'accepted', (err: { reason?: string; code?: number }) => `${err.reason} ${err.code}`);
    // Over WebSocket (the windowed 1:1 send), from each side.
    expect(await refusal(b1.client.sendText({ recvId: 'e2-alice' }, 'plain from bob'))).toBe('ENCRYPTED_CONVERSATION 1311');
    expect(await refusal(a2.client.sendText({ recvId: 'e2-bob' }, 'plain from alice'))).toBe('ENCRYPTED_CONVERSATION 1311');
    // Over HTTP (the durable send).
    const http = await admin.call('POST', '/messages', { sendId: 'e2-bob', recvId: 'e2-alice', contentType: 101, content: { text: 'plain over http' } });
    expect(http.status).toBe(400);
    expect(http.body.error).toMatchObject({ code: 1311, reason: 'ENCRYPTED_CONVERSATION' });
    const listed = await a1.client.api.listConversations({ params: { userId: 'e2-alice' }, query: {} });
    const flags = Object.fromEntries(listed.conversations.map((c) => [c.conversationId, c.encrypted ?? false]));
    expect(flags).toMatchObject({ [single]: true, 'si_e2-alice_e2-erin': false, 'n_e2-alice': false });
    // The SDK's local conversation list shows it too.
    const local = Object.fromEntries((await a1.client.getConversations()).map((c) => [c.conversationId, c.encrypted ?? false]));
    expect(local).toMatchObject({ [single]: true, 'si_e2-alice_e2-erin': false });
    // Still an ordinary 1:1 for MLS messages: both sides read on.
    await b2.e.sendText(single, SECRETS.single2 + ' again');
    await allRead(single, [a1], [SECRETS.single2 + ' again']);
  });

  it('creates a group conversation, adds a member with their devices, and orders concurrent commits by seq', async () => {
    const groupId = 'e2-team';
    expect((await admin.call('POST', '/groups', { groupId, name: 'Team', ownerUserId: 'e2-alice', memberUserIds: [], encrypted: true })).status).toBe(200);
    group = await a1.e.createGroup(groupId);
    await a2.e.catchUp(group);
    expect(await a2.e.isMember(group)).toBe(true);
    await a1.e.sendText(group, SECRETS.group1);

    await a1.client.api.addGroupMembers({ params: { groupId }, body: { userIds: ['e2-bob'] } });
    expect(await a2.e.reconcile(group)).toEqual({ added: 2, removed: 0 });
    await b1.e.sendText(group, SECRETS.group2);
    await allRead(group, [a1, a2, b2], [SECRETS.group2]);

    // Two devices commit on the same epoch: a2's gets the earlier seq and wins; b1's is void for everyone and b1 retries.
    const epoch = (await a1.e.epoch(group))!;
    const raced = raceCommits([a2, b1]);
    await Promise.all([a2.e.rotateKeys(group), b1.e.rotateKeys(group), raced]);
    const pulled = await a1.client.pullMessages({ conversationId: group, fromSeq: 1, toSeq: 100 });
    const handshakes = pulled.messages.filter((m) => m.contentType === 151).map((m) => (m.content as { epoch: number }).epoch);
    expect(handshakes.filter((e) => e === epoch)).toHaveLength(2);
    expect(handshakes.filter((e) => e === epoch + 1)).toHaveLength(1);
    for (const d of [a1, a2, b1, b2]) await d.e.catchUp(group);
    expect(await Promise.all([a1, a2, b1, b2].map((d) => d.e.epoch(group)))).toEqual([epoch + 2, epoch + 2, epoch + 2, epoch + 2]);
    expect(new Set(await Promise.all([a1, a2, b1, b2].map((d) => d.e.safetyNumber(group)))).size).toBe(1);
    await b2.e.sendText(group, SECRETS.group3);
    await allRead(group, [a1, a2, b1], [SECRETS.group3]);
  });

  it('removes a kicked member\'s devices: they cannot decrypt what follows, even given the ciphertext', async () => {
    await a1.client.api.removeGroupMembers({ params: { groupId: 'e2-team' }, body: { userIds: ['e2-bob'] } });
    expect(await a1.e.reconcile(group)).toEqual({ added: 0, removed: 2 });
    const sent = await a1.e.sendText(group, SECRETS.afterKick);
    await allRead(group, [a2], [SECRETS.afterKick]);
    // The server no longer gives bob the conversation past his removal; were its ciphertext leaked, bob's devices still could not read it.
    const leaked = (await a1.client.pullMessages({ conversationId: group, fromSeq: sent.seq, toSeq: sent.seq })).messages;
    expect(leaked).toHaveLength(1);
    kickedCiphertexts.push(...leaked);
    for (const d of [b1, b2]) {
      const failures: string[] = [];
      const off = d.e.on('undecryptable', (u) => failures.push(u.reason));
      await (d.e as unknown as { handle(m: Message): Promise<void> }).handle(leaked[0]!);
      off();
      expect(failures, d.name).toHaveLength(1);
      expect(texts(await d.e.getMessages(group)), d.name).not.toContain(SECRETS.afterKick);
    }
  });

  it('follows a device change: the logged-out device is removed and cannot read on, the new one joins', async () => {
    await b2.e.logout();
    b3 = await dev('e2-bob', 'b3');
    expect(await a1.e.reconcile(single)).toEqual({ added: 1, removed: 1 });
    await a1.e.sendText(single, SECRETS.afterDeviceChange);
    await allRead(single, [a2, b1, b3], [SECRETS.afterDeviceChange]);
    // b2 still holds a token and reads the conversation's ciphertext: it processes its own removal and reads nothing after it.
    const removed: string[] = [];
    const failures: number[] = [];
    b2.e.on('removed', (r) => removed.push(r.conversationId));
    b2.e.on('undecryptable', (u) => failures.push(u.seq));
    await b2.e.catchUp(single);
    expect(removed).toEqual([single]);
    expect(failures.length).toBeGreaterThanOrEqual(1);
    expect(texts(await b2.e.getMessages(single))).not.toContain(SECRETS.afterDeviceChange);
    // b3 joined after the earlier messages: it cannot read them (no history for new devices).
    expect(texts(await b3.e.getMessages(single))).not.toContain(SECRETS.single1);
  });

  it('sends a media file encrypted: the media store holds ciphertext, the key travels in the MLS message', async () => {
    const plain = new TextEncoder().encode(SECRETS.media);
    const enc = await encryptMedia(plain);
    const up = await a1.client.media.upload(new Blob([enc.data as Uint8Array<ArrayBuffer>]), { fileName: 'photo.bin', contentType: 'application/octet-stream' });
    await a1.e.send(single, { contentType: 102, content: { source: up, key: enc.key, iv: enc.iv } } as never);
    const got = await eventually(async () => {
      await b3.e.catchUp(single);
      return (await b3.e.getMessages(single)).find((m) => m.contentType === 102);
    });
    const content = got.content as { source: { objectKey: string }; key: string; iv: string };
    const { url } = await b3.client.media.downloadUrl(content.source.objectKey);
    const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
    expect(new TextDecoder().decode(await decryptMedia(bytes, content.key, content.iv))).toBe(SECRETS.media);
  });

  it("follows the group by itself: a member's device adds invited members' devices and removes kicked ones on their notifications", async () => {
    await admin.register('e2-carol', 'e2-dave');
    const [c1, d1] = await Promise.all([dev('e2-carol', 'c1', 300), dev('e2-dave', 'd1')]);
    expect((await admin.call('POST', '/groups', { groupId: 'e2-auto', name: 'Auto', ownerUserId: 'e2-carol', memberUserIds: [], encrypted: true })).status).toBe(200);
    const conversationId = await c1.e.createGroup('e2-auto');
    await c1.client.api.addGroupMembers({ params: { groupId: 'e2-auto' }, body: { userIds: ['e2-dave'] } });
    await eventually(async () => {
      await d1.e.catchUp(conversationId);
      return d1.e.isMember(conversationId);
    }, 20_000, 200);
    await c1.client.api.removeGroupMembers({ params: { groupId: 'e2-auto' }, body: { userIds: ['e2-dave'] } });
    await eventually(async () => (await c1.e.members(conversationId)).every((m) => m.userId === 'e2-carol') || undefined, 20_000, 200);
  });

  it('recovers a commit whose Welcome was never sent: the committer crashes between the two, and on restart the added devices join', async () => {
    await admin.register('e2-frank', 'e2-gina');
    await admin.call('POST', '/friends/import', { userId: 'e2-frank', friendUserIds: ['e2-gina'] });
    const storage = new DeviceStorage();
    const welcomeTimeoutMs = 1500;
    const [f1, g1] = await Promise.all([dev('e2-frank', 'f1', 0, { storage }), dev('e2-gina', 'g1')]);
    const conversationId = await f1.e.createSingle('e2-gina');
    await f1.e.sendText(conversationId, SECRETS.beforeCrash);
    await allRead(conversationId, [g1], [SECRETS.beforeCrash]);

    /** Starts f1 again on its storage, as the app would after a crash. */
    const restart = async (): Promise<Dev> => {
      const client = await CirrusClient.create({ wsUrl: cirrus.wsUrl, apiUrl: cirrus.apiUrl, token: await admin.userToken('e2-frank', 5), store: 'memory', WebSocket: WebSocket as unknown as CirrusClientOptions['WebSocket'] });
      await client.connect();
      const d = { client, e: await E2ee.open({ client, deviceId: 'f1', keyPackages: 4, lowWater: 2, autoReconcileMs: 0, storage }), name: 'e2-frank/f1 again' };
      devs.push(d);
      return d;
    };
    const crash = async (d: Dev) => {
      d.e.close();
      await d.client.close();
    };
    const handshakes = async (d: Dev) => (await d.client.pullMessages({ conversationId, fromSeq: 1, toSeq: 200 })).messages.filter((m) => m.contentType === 151 || m.contentType === 152);

    // 1. The commit is stored, then the device dies before its Welcome.
    const g2 = await dev('e2-gina', 'g2');
    const original = f1.client.sendMessage.bind(f1.client);
    f1.client.sendMessage = (async (input: Parameters<CirrusClient['sendMessage']>[0]) => {
      if (input.contentType === 152) throw new Error('crashed before the Welcome');
      return original(input);
    }) as CirrusClient['sendMessage'];
    await expect(f1.e.reconcile(conversationId)).rejects.toThrow('crashed before the Welcome');
    await crash(f1);
    await g2.e.catchUp(conversationId);
    expect(await g2.e.isMember(conversationId)).toBe(false);
    const f1b = await restart();
    await eventually(async () => {
      await g2.e.catchUp(conversationId);
      return g2.e.isMember(conversationId);
    }, 20_000, 200);

    // 2. The commit is stored but its ack never arrives (the device dies while waiting): on restart it finds its commit at its seq.
    // g3 follows the group by itself (autoReconcileMs), with a short Welcome timeout (see 3.).
    const g3 = await dev('e2-gina', 'g3', 300, { welcomeTimeoutMs });
    const original2 = f1b.client.sendMessage.bind(f1b.client);
    f1b.client.sendMessage = (async (input: Parameters<CirrusClient['sendMessage']>[0]) => {
      const sent = await original2(input);
      if (input.contentType === 151) throw new Error('crashed before the ack of the commit');
      return sent;
    }) as CirrusClient['sendMessage'];
    const commitsBefore = (await handshakes(g1)).filter((m) => m.contentType === 151).length;
    await expect(f1b.e.reconcile(conversationId)).rejects.toThrow('crashed before the ack of the commit');
    await crash(f1b);
    const f1c = await restart();
    await eventually(async () => {
      await g3.e.catchUp(conversationId);
      return g3.e.isMember(conversationId);
    }, 20_000, 200);
    // One commit per crash, never sent twice; every device is on the same epoch and reads on.
    expect((await handshakes(g1)).filter((m) => m.contentType === 151).length).toBe(commitsBefore + 1);
    await f1c.e.sendText(conversationId, SECRETS.afterCrash);
    await allRead(conversationId, [g1, g2, g3], [SECRETS.afterCrash]);
    const epochs = await Promise.all([f1c, g1, g2, g3].map((d) => d.e.epoch(conversationId)));
    expect(new Set(epochs).size).toBe(1);
    // The new devices read nothing from before they joined (no history sharing by default).
    for (const d of [g2, g3]) expect(texts(await d.e.getMessages(conversationId)), d.name).not.toContain(SECRETS.beforeCrash);

    // 3. The committer dies before its Welcome and never comes back: once the Welcome is overdue, g3, which saw the commit,
    // removes the stranded device and adds it again with a fresh key package, by itself.
    const g4 = await dev('e2-gina', 'g4');
    const original3 = f1c.client.sendMessage.bind(f1c.client);
    f1c.client.sendMessage = (async (input: Parameters<CirrusClient['sendMessage']>[0]) => {
      if (input.contentType === 152) throw new Error('crashed for good');
      return original3(input);
    }) as CirrusClient['sendMessage'];
    await expect(f1c.e.reconcile(conversationId)).rejects.toThrow('crashed for good');
    await crash(f1c);
    const rejoined = new Promise<void>((r) => g4.e.on('joined', () => r()));
    await g1.e.catchUp(conversationId);
    expect((await g1.e.members(conversationId)).map((m) => m.deviceId)).toContain('g4');
    await eventually(async () => {
      await g4.e.catchUp(conversationId);
      return g4.e.isMember(conversationId);
    }, 30_000, 200);
    await rejoined;
    // Removed and added again: two commits after f1's.
    const commits = (await handshakes(g1)).filter((m) => m.contentType === 151);
    const last = commits.slice(-2).map((m) => m.senderId);
    expect(last).toEqual(['e2-gina', 'e2-gina']);
    await g1.e.sendText(conversationId, SECRETS.strandedRejoined);
    await allRead(conversationId, [g2, g3, g4], [SECRETS.strandedRejoined]);
    expect(new Set(await Promise.all([g1, g2, g3, g4].map((d) => d.e.epoch(conversationId)))).size).toBe(1);
  });

  it('shares history with a new device only when the app enables it', async () => {
    await admin.register('e2-hank', 'e2-ivy');
    await admin.call('POST', '/friends/import', { userId: 'e2-hank', friendUserIds: ['e2-ivy'] });
    const sharing = { shareHistory: 50 };
    const [h1, i1] = await Promise.all([dev('e2-hank', 'h1', 0, sharing), dev('e2-ivy', 'i1', 0, sharing)]);
    const conversationId = await h1.e.createSingle('e2-ivy');
    await h1.e.sendText(conversationId, SECRETS.history);
    await i1.e.sendText(conversationId, 'a reply before the new device');
    await allRead(conversationId, [h1, i1], [SECRETS.history, 'a reply before the new device']);

    // With the option: h1 adds ivy's new device i2; ivy's i1 reads its Welcome and sends it the history inside the group.
    const i2 = await dev('e2-ivy', 'i2', 0, sharing);
    expect(await h1.e.reconcile(conversationId)).toEqual({ added: 1, removed: 0 });
    await i1.e.catchUp(conversationId);
    await allRead(conversationId, [i2], [SECRETS.history, 'a reply before the new device']);
    const shared = (await i2.e.getMessages(conversationId)).find((m) => (m.content as { text?: string }).text === SECRETS.history)!;
    expect(shared).toMatchObject({ senderId: 'e2-hank', sharedBy: 'e2-ivy/i1' });
    // The members who had it read nothing twice.
    expect(texts(await i1.e.getMessages(conversationId)).filter((t) => t === SECRETS.history)).toHaveLength(1);

    // Without it (a device of an app that leaves it off): the shared history is not taken; new messages are read.
    const i3 = await dev('e2-ivy', 'i3');
    expect(await h1.e.reconcile(conversationId)).toEqual({ added: 1, removed: 0 });
    await i1.e.catchUp(conversationId);
    await h1.e.sendText(conversationId, 'after i3 joined');
    await allRead(conversationId, [i3], ['after i3 joined']);
    expect(texts(await i3.e.getMessages(conversationId))).not.toContain(SECRETS.history);
  });

  it('rotates keys after the configured interval: the old epoch\'s keys cannot read what follows', async () => {
    await admin.register('e2-jack', 'e2-kim');
    await admin.call('POST', '/friends/import', { userId: 'e2-jack', friendUserIds: ['e2-kim'] });
    const rotateAfterMs = 4000;
    const storage = new DeviceStorage();
    const [j1, k1] = await Promise.all([dev('e2-jack', 'j1', 0, { rotateAfterMs }), dev('e2-kim', 'k1', 0, { storage })]);
    const conversationId = await j1.e.createSingle('e2-kim');
    await allRead(conversationId, [k1], []);
    const epoch = (await j1.e.epoch(conversationId))!;
    // Within the interval a send does not rotate.
    await j1.e.sendText(conversationId, 'within the interval');
    await allRead(conversationId, [k1], ['within the interval']);
    expect(await j1.e.epoch(conversationId)).toBe(epoch);
    // k1's keys of this epoch, kept aside.
    const oldState = JSON.parse(storage.m.get(`e2ee:e2-kim:k1:g:${conversationId}`)!).state as string;

    await new Promise((r) => setTimeout(r, rotateAfterMs + 500));
    const onOldEpoch = await j1.e.sendText(conversationId, SECRETS.beforeRotation);
    await eventually(async () => ((await j1.e.epoch(conversationId)) === epoch + 1) || undefined, 20_000, 200);
    const rotated = await j1.e.sendText(conversationId, SECRETS.rotated);
    await allRead(conversationId, [k1], [SECRETS.beforeRotation, SECRETS.rotated]);
    expect(await k1.e.epoch(conversationId)).toBe(epoch + 1);

    const pulled = (await k1.client.pullMessages({ conversationId, fromSeq: onOldEpoch.seq, toSeq: rotated.seq })).messages;
    const open = async (seq: number) => {
      const m = pulled.find((x) => x.seq === seq)!;
      const decoded = decodeMessage((m.content as { data: string }).data);
      const res = await processMessage(decoded as never, decodeState(oldState), emptyPskIndex, acceptAll, await cipherSuite());
      return res.kind === 'applicationMessage' ? JSON.parse(fromUtf8(res.message)).content.text : undefined;
    };
    // The kept keys read the message of their epoch (so the check below can fail), not the one after the rotation.
    expect(await open(onOldEpoch.seq)).toBe(SECRETS.beforeRotation);
    await expect(open(rotated.seq)).rejects.toThrow();
  });

  it('leaves no plaintext anywhere Cirrus stores anything: DynamoDB, the history, media, logs, webhooks', async () => {
    await cirrus.streams.idle();
    await cirrus.lambda.idle();
    // The afterSendMessage callbacks of the encrypted messages (and of the control message) reached the app backend.
    await eventually(async () => hookBodies.some((b) => b.includes(control)) && hookBodies.filter((b) => b.includes('"contentType":150')).length >= 7, 30_000, 200);
    await eventually(async () => (await cirrus.dataApi.query(`SELECT 1 FROM messages WHERE content_type = 150`)).length >= 7, 30_000, 200);

    const places: Record<string, string[]> = { dynamodb: [], history: [], media: [], logs: logLines, webhooks: hookBodies };
    for (const table of Object.values(cirrus.tableNames)) {
      let start: Record<string, unknown> | undefined;
      do {
        const page = await ddb().send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
        for (const item of page.Items ?? []) places.dynamodb.push(JSON.stringify(item));
        start = page.LastEvaluatedKey;
      } while (start);
    }
    const historyTables = await cirrus.dataApi.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`);
    expect(historyTables.length).toBeGreaterThan(0);
    for (const { table_name } of historyTables) {
      for (const row of await cirrus.dataApi.query<{ r: string }>(`SELECT t::text AS r FROM "${table_name}" t`)) places.history.push(row.r);
    }
    places.media = cirrus.s3.objectBodies(cirrus.mediaBucket).map((b) => b.toString('latin1'));
    expect(places.media.length).toBeGreaterThan(0);

    // The scan finds plaintext where there is some: the control message is in the store, the history, the webhooks.
    for (const place of ['dynamodb', 'history', 'webhooks']) expect(places[place]!.some((s) => s.includes(control)), place).toBe(true);
    // And none of the encrypted conversations' plaintext, nor a telling piece of it, anywhere.
    for (const [place, haystack] of Object.entries(places)) {
      const all = haystack.join('\n');
      for (const secret of Object.values(SECRETS)) {
        expect(all.includes(secret), `${place} holds "${secret}"`).toBe(false);
        expect(all.includes(secret.slice(3, 20)), `${place} holds part of "${secret}"`).toBe(false);
      }
    }
    expect(kickedCiphertexts).toHaveLength(1);
  });
});
