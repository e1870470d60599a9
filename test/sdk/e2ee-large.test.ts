/**
 * Encrypted conversations of large groups through the SDK against the local runtime: a group of
 * 71 devices, far past the ~36 whose Welcome (which carries the whole ratchet tree) fits in a
 * message's content. MLS messages too large to travel inline go as `message/mls` media objects
 * (accepted whatever the deployment's media types), referenced by key, size and SHA-256: every
 * Welcome and commit frame stays under the content limit, every device joins and reads, and a
 * Welcome object altered in the store is refused by the device it was for.
 */
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CirrusClient, type CirrusClientOptions, type Message } from '../../sdk/src/index';
import { E2ee, type DecryptedMessage } from '../../sdk/src/e2ee/index';
import { cipherSuite, createCommit, createGroup, emptyPskIndex, generateKeyPackage, joinGroup, newSignatureKeys, utf8 } from '../../sdk/src/e2ee/mls';
import { DeviceStorage } from '../support/kv-storage';
import { MAX_MLS_MESSAGE_BYTES } from '../../core/protocol/e2ee';
import { admin, cirrus, useCirrus } from '../support/harness';
import { eventually } from '../support/cirrus';

useCirrus({ settings: { multiLoginPolicy: 'multiple' } });


const clients: CirrusClient[] = [];
const devices: E2ee[] = [];
afterAll(async () => {
  for (const e of devices) e.close();
  await Promise.all(clients.map((c) => c.close()));
});

async function client(userId: string): Promise<CirrusClient> {
  const c = await CirrusClient.create({
    wsUrl: cirrus.wsUrl,
    apiUrl: cirrus.apiUrl,
    token: await admin.userToken(userId, 5),
    store: 'memory',
    WebSocket: WebSocket as unknown as CirrusClientOptions['WebSocket'],
    backoff: { minDelayMs: 50, maxDelayMs: 200 },
  });
  await c.connect();
  clients.push(c);
  return c;
}

async function open(c: CirrusClient, deviceId: string, storage = new DeviceStorage()): Promise<E2ee> {
  const e = await E2ee.open({ client: c, deviceId, storage, keyPackages: 1, lowWater: 1, autoReconcileMs: 0 });
  devices.push(e);
  return e;
}

const USERS = 7;
const PER_USER = 10; // the directory's most devices per user
const GROUP = 'big-team';
const conversationId = `sg_${GROUP}`;
/** The message content limit the frames must stay under (the MLS data limit, base64). */
const INLINE_LIMIT = Math.ceil(MAX_MLS_MESSAGE_BYTES / 3) * 4;

async function mlsFrames(c: CirrusClient): Promise<Message[]> {
  const res = await c.pullMessages({ conversationId, fromSeq: 1, toSeq: 1000 });
  return res.messages.filter((m) => m.contentType >= 150 && m.contentType <= 152);
}

const textsOf = (ms: DecryptedMessage[]) => ms.map((m) => (m.content as { text?: string }).text);

describe('encrypted conversation of a large group', () => {
  let owner: CirrusClient;
  let first: E2ee;
  const all: E2ee[] = [];

  it(`adds ${USERS * PER_USER} devices: every Welcome and commit frame stays under the content limit, every device joins and reads`, async () => {
    const userIds = Array.from({ length: USERS }, (_, i) => `big-u${i}`);
    await admin.register(...userIds);
    expect((await admin.call('POST', '/groups', { groupId: GROUP, name: 'Big', ownerUserId: userIds[0], memberUserIds: userIds.slice(1), encrypted: true })).status).toBe(200);
    for (const u of userIds) {
      const c = await client(u);
      if (u === userIds[0]) owner = c;
      for (let d = 0; d < PER_USER; d++) all.push(await open(c, `d${d}`));
    }
    first = all[0]!;
    await first.createGroup(GROUP);
    expect((await first.members(conversationId)).length).toBe(USERS * PER_USER);

    const frames = await mlsFrames(owner);
    const welcomes = frames.filter((m) => m.contentType === 152);
    expect(welcomes.length).toBe(Math.ceil((USERS * PER_USER - 1) / 10));
    for (const m of frames) expect(JSON.stringify(m.content).length).toBeLessThan(INLINE_LIMIT);
    // The later Welcomes carry a tree too large to travel inline: they are media objects of type message/mls.
    const objects = welcomes.map((m) => (m.content as { object?: { objectKey: string; size: number } }).object).filter((o) => o !== undefined);
    expect(objects.length).toBeGreaterThan(0);
    for (const o of objects) {
      expect(o.size).toBeGreaterThan(MAX_MLS_MESSAGE_BYTES);
      expect(cirrus.s3.headObject(cirrus.mediaBucket, o.objectKey)?.contentType).toBe('message/mls');
    }

    for (const e of all) await eventually(async () => (await e.catchUp(conversationId), await e.isMember(conversationId)), 60_000, 200);
    const last = all.at(-1)!;
    await first.sendText(conversationId, 'hello everyone');
    await last.sendText(conversationId, 'hello from the last device');
    for (const e of [first, last, all[35]!]) {
      await eventually(async () => {
        await e.catchUp(conversationId);
        const got = textsOf(await e.getMessages(conversationId));
        return got.includes('hello everyone') && got.includes('hello from the last device');
      }, 30_000, 200);
    }
  }, 600_000);

  it('a device rotating its keys in the large group: every device moves to the new epoch and reads on', async () => {
    const rotator = all[40]!;
    const epoch = (await rotator.epoch(conversationId))!;
    await rotator.rotateKeys(conversationId);
    expect(await rotator.epoch(conversationId)).toBe(epoch + 1);
    for (const m of await mlsFrames(owner)) expect(JSON.stringify(m.content).length).toBeLessThan(INLINE_LIMIT);
    await rotator.sendText(conversationId, 'after the rotation');
    for (const e of [first, all.at(-1)!, all[13]!]) {
      await eventually(async () => {
        await e.catchUp(conversationId);
        return (await e.epoch(conversationId)) === epoch + 1 && textsOf(await e.getMessages(conversationId)).includes('after the rotation');
      }, 30_000, 200);
    }
  }, 300_000);

  it('a Welcome object altered in the media store is refused by the device it was for', async () => {
    await admin.register('big-late');
    const c = await client('big-late');
    const storage = new DeviceStorage();
    const late = await open(c, 'phone', storage);
    late.close(); // away while it is added
    await owner.api.addGroupMembers({ params: { groupId: GROUP }, body: { userIds: ['big-late'] } });
    expect((await first.reconcile(conversationId)).added).toBe(1);
    const welcome = (await mlsFrames(owner)).filter((m) => m.contentType === 152).at(-1)!;
    const ref = (welcome.content as { object?: { objectKey: string } }).object;
    expect(ref).toBeDefined();
    const stored = await (await fetch((await owner.media.downloadUrl(ref!.objectKey)).url)).arrayBuffer();
    const altered = Buffer.from(stored);
    altered[altered.length - 20] ^= 0x01;
    cirrus.s3.overwriteObjectBody(cirrus.mediaBucket, ref!.objectKey, altered);

    const back = await open(c, 'phone', storage);
    const refused: string[] = [];
    back.on('undecryptable', (u) => refused.push(u.reason));
    await back.catchUp(conversationId);
    expect(await back.isMember(conversationId)).toBe(false);
    expect(refused.some((r) => /SHA-256/.test(r))).toBe(true);
  }, 300_000);
});

describe('the ratchet tree is bound to the Welcome (ts-mls)', () => {
  it('a tree handed to joinGroup that differs from the group info tree hash is refused', async () => {
    const cs = await cipherSuite();
    const alice = await generateKeyPackage('t-alice', 'd', await newSignatureKeys());
    const bob = await generateKeyPackage('t-bob', 'd', await newSignatureKeys());
    const carol = await generateKeyPackage('t-carol', 'd', await newSignatureKeys());
    const state = await createGroup(utf8('sg_t'), alice.publicPackage, alice.privatePackage, [], cs);
    const res = await createCommit({ state, cipherSuite: cs }, { extraProposals: [bob, carol].map((k) => ({ proposalType: 'add' as const, add: { keyPackage: k.publicPackage } })) });
    // The genuine tree joins; a tree without carol (as a store could substitute) is refused.
    const joined = await joinGroup(res.welcome!, bob.publicPackage, bob.privatePackage, emptyPskIndex, cs, res.newState.ratchetTree);
    expect(joined.groupContext.epoch).toBe(1n);
    const forged = [...res.newState.ratchetTree];
    forged[4] = undefined;
    await expect(joinGroup(res.welcome!, bob.publicPackage, bob.privatePackage, emptyPskIndex, cs, forged)).rejects.toThrow();
  });
});
