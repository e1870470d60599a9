/**
 * One contract for every local store: the memory store, the IndexedDB store on
 * `fake-indexeddb` (the same IndexedDB API a browser has), and the key-value store on an
 * in-memory AsyncStorage (with and without its batch methods, with small chunks so ranges
 * cross them); then what only the key-value store promises: few writes, reopening, crashes.
 */
import { describe, expect, it } from 'vitest';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { MemoryStore } from '../../sdk/src/store/memory';
import { IndexedDbStore } from '../../sdk/src/store/indexeddb';
import { createKeyValueStore } from '../../sdk/src/store/keyvalue';
import type { LocalStore, OutgoingMessage, StoredConversation } from '../../sdk/src/store/store';
import { FakeAsyncStorage } from './support/async-storage';
import { mmkvStorage } from '../../sdk/examples/react-native/mmkv';

/** An in-memory MMKV: synchronous strings by key, as `react-native-mmkv` keeps them. */
class FakeMmkv {
  private readonly values = new Map<string, string>();
  getString = (key: string) => this.values.get(key);
  set = (key: string, value: string) => void this.values.set(key, value);
  delete = (key: string) => void this.values.delete(key);
  getAllKeys = () => [...this.values.keys()];
}
import type { Message } from '../../sdk/src/protocol';

const msg = (conversationId: string, seq: number, extra: Partial<Message> = {}): Message => ({
  serverMsgId: `s-${conversationId}-${seq}`,
  clientMsgId: `c-${conversationId}-${seq}`,
  conversationId,
  seq,
  sessionType: 1,
  senderId: 'alice',
  recvId: 'bob',
  contentType: 101,
  content: { text: `#${seq}` },
  sendTime: 1_000 + seq,
  ...extra,
});

const conversation = (conversationId: string, extra: Partial<StoredConversation> = {}): StoredConversation => ({
  conversationId,
  maxSeq: 0,
  readSeq: 0,
  minSeq: 0,
  syncedSeq: 0,
  pendingSeqs: [],
  unread: 0,
  ...extra,
});

const outgoing = (clientMsgId: string, createdAt: number, conversationId = 'si_alice_bob'): OutgoingMessage => ({
  clientMsgId,
  conversationId,
  senderId: 'alice',
  recvId: 'bob',
  contentType: 101,
  content: { text: clientMsgId },
  status: 'sending',
  createdAt,
});

let dbs = 0;
const adapters: [string, () => Promise<LocalStore>][] = [
  ['MemoryStore', async () => new MemoryStore()],
  ['IndexedDbStore', () => IndexedDbStore.open(`cirrus-test-${++dbs}`, { indexedDB: new IDBFactory(), IDBKeyRange })],
  ['KeyValueStore (AsyncStorage)', () => createKeyValueStore(new FakeAsyncStorage(), { chunkSize: 7 })],
  ['KeyValueStore (MMKV, the example adapter)', () => createKeyValueStore(mmkvStorage(new FakeMmkv()), { prefix: 'cirrus:alice:' })],
  ['KeyValueStore (getItem only, no cache)', () => createKeyValueStore(new FakeAsyncStorage({ multi: false }), { chunkSize: 4, cacheSize: 0 })],
];

describe.each(adapters)('%s', (_name, open) => {
  it('keeps conversations with their unread count and draft, and lists them', async () => {
    const store = await open();
    await store.putConversation(conversation('si_alice_bob', { maxSeq: 5, readSeq: 2, unread: 3, draft: { text: 'half a thought', updatedAt: 9 } }));
    await store.putConversation(conversation('sg_team'));

    const got = await store.getConversation('si_alice_bob');
    const all = await store.listConversations();

    expect(got).toMatchObject({ unread: 3, draft: { text: 'half a thought' } });
    expect(all.map((c) => c.conversationId).sort()).toEqual(['sg_team', 'si_alice_bob']);
    expect(await store.getConversation('n_nobody')).toBeUndefined();
  });

  it('stores each (conversationId, seq) once: a duplicate is not written again', async () => {
    const store = await open();

    const first = await store.putMessages([msg('si_alice_bob', 1), msg('si_alice_bob', 2)]);
    const again = await store.putMessages([msg('si_alice_bob', 2), msg('si_alice_bob', 3), msg('si_alice_bob', 3)]);

    expect(first.map((m) => m.seq)).toEqual([1, 2]);
    expect(again.map((m) => m.seq)).toEqual([3]);
    expect((await store.listMessages('si_alice_bob')).map((m) => m.seq)).toEqual([1, 2, 3]);
  });

  it('replaces a message only with a higher version (revoke, delete, edit)', async () => {
    const store = await open();
    await store.putMessages([msg('si_alice_bob', 1, { version: 1, edited: { at: 5, version: 1 } })]);

    const stale = await store.putMessages([msg('si_alice_bob', 1)]);
    const revoked = await store.putMessages([msg('si_alice_bob', 1, { version: 2, content: null, revoked: { by: 'alice', at: 6 } })]);

    expect(stale).toEqual([]);
    expect(revoked).toHaveLength(1);
    expect(await store.getMessage('si_alice_bob', 1)).toMatchObject({ version: 2, content: null, revoked: { by: 'alice' } });
  });

  it('lists the newest messages of a range in ascending order, per conversation', async () => {
    const store = await open();
    await store.putMessages([...Array.from({ length: 30 }, (_, i) => msg('sg_team', i + 1)), msg('sg_other', 4)]);

    const newest = await store.listMessages('sg_team', { limit: 5 });
    const before = await store.listMessages('sg_team', { beforeSeq: 10, limit: 3 });
    const after = await store.listMessages('sg_team', { afterSeq: 27 });

    expect(newest.map((m) => m.seq)).toEqual([26, 27, 28, 29, 30]);
    expect(before.map((m) => m.seq)).toEqual([7, 8, 9]);
    expect(after.map((m) => m.seq)).toEqual([28, 29, 30]);
    expect((await store.listMessages('sg_other')).map((m) => m.seq)).toEqual([4]);
  });

  it('keeps outgoing messages oldest first, per conversation, until deleted', async () => {
    const store = await open();
    await store.putOutgoing(outgoing('b', 2));
    await store.putOutgoing(outgoing('a', 1));
    await store.putOutgoing(outgoing('x', 3, 'sg_team'));
    await store.putOutgoing({ ...outgoing('a', 1), status: 'failed', error: { reason: 'BLOCKED', message: 'blocked' } });

    await store.deleteOutgoing('b');

    expect((await store.listOutgoing()).map((m) => `${m.clientMsgId}:${m.status}`)).toEqual(['a:failed', 'x:sending']);
    expect((await store.listOutgoing('sg_team')).map((m) => m.clientMsgId)).toEqual(['x']);
  });

  it('returns copies: changing what was read does not change the store', async () => {
    const store = await open();
    await store.putConversation(conversation('si_alice_bob', { unread: 1 }));
    const read = (await store.getConversation('si_alice_bob'))!;

    read.unread = 99;

    expect((await store.getConversation('si_alice_bob'))!.unread).toBe(1);
  });

  it('clears everything', async () => {
    const store = await open();
    await store.putConversation(conversation('si_alice_bob'));
    await store.putMessages([msg('si_alice_bob', 1)]);
    await store.putOutgoing(outgoing('a', 1));

    await store.clear();

    expect(await store.listConversations()).toEqual([]);
    expect(await store.listMessages('si_alice_bob')).toEqual([]);
    expect(await store.listOutgoing()).toEqual([]);
    await store.close();
  });
});

describe('KeyValueStore on AsyncStorage', () => {
  it('writes one small value per pushed message, not the store: a conversation key and the chunk of its seq', async () => {
    const storage = new FakeAsyncStorage();
    const store = await createKeyValueStore(storage, { prefix: 'cirrus:bob:', chunkSize: 20 });
    await store.putMessages(Array.from({ length: 200 }, (_, i) => msg('si_alice_bob', i + 1)));
    await store.putConversation(conversation('si_alice_bob', { maxSeq: 200, syncedSeq: 200 }));
    storage.writes.length = 0;

    await store.putMessages([msg('si_alice_bob', 201)]);
    await store.putConversation(conversation('si_alice_bob', { maxSeq: 201, syncedSeq: 201 }));

    expect(storage.writes.map((w) => w.key)).toEqual(['cirrus:bob:m:10:si_alice_bob', 'cirrus:bob:c:si_alice_bob']);
    const stored = [...storage.data.values()].reduce((n, v) => n + v.length, 0);
    expect(storage.writes[0].bytes).toBeLessThan(stored / 10);
    expect([...storage.data.keys()].every((k) => k.startsWith('cirrus:bob:'))).toBe(true);
  });

  it('reopens from the same storage with everything in it, and keeps users apart by prefix', async () => {
    const storage = new FakeAsyncStorage();
    const bob = await createKeyValueStore(storage, { prefix: 'cirrus:bob:' });
    const carol = await createKeyValueStore(storage, { prefix: 'cirrus:carol:' });
    await bob.putConversation(conversation('si_alice_bob', { maxSeq: 3, syncedSeq: 3, unread: 3 }));
    await bob.putMessages([1, 2, 3].map((seq) => msg('si_alice_bob', seq)));
    await bob.putOutgoing(outgoing('later', 5));
    await carol.putConversation(conversation('si_alice_carol'));
    await bob.close();

    const again = await createKeyValueStore(storage, { prefix: 'cirrus:bob:' });
    storage.reads = 0;

    expect((await again.listConversations()).map((c) => c.conversationId)).toEqual(['si_alice_bob']);
    expect((await again.listMessages('si_alice_bob')).map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(await again.getMessage('si_alice_bob', 4)).toBeUndefined();
    expect((await again.listOutgoing()).map((m) => m.clientMsgId)).toEqual(['later']);
    expect(storage.reads).toBeLessThanOrEqual(3);
    await again.clear();
    expect((await carol.listConversations()).map((c) => c.conversationId)).toEqual(['si_alice_carol']);
  });

  it.each([64, 0])('loses no message when pushes and pulls write the same chunk at once (cache of %i values)', async (cacheSize) => {
    const store = await createKeyValueStore(new FakeAsyncStorage({ multi: cacheSize > 0 }), { chunkSize: 50, cacheSize });

    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => store.putMessages([msg('sg_team', i + 1), msg('sg_team', 30 - i)])));

    expect(results.flat().length).toBe(30);
    expect((await store.listMessages('sg_team', { limit: 100 })).map((m) => m.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });

  it('reads each chunk once for a pull that looks up a hundred messages at once', async () => {
    const storage = new FakeAsyncStorage({ multi: false });
    const store = await createKeyValueStore(storage, { chunkSize: 20 });
    await store.putMessages(Array.from({ length: 100 }, (_, i) => msg('sg_team', i + 1)));
    const reopened = await createKeyValueStore(storage, { chunkSize: 20 });
    storage.reads = 0;

    const found = await Promise.all(Array.from({ length: 100 }, (_, i) => reopened.getMessage('sg_team', i + 1)));

    expect(found.map((m) => m?.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(storage.reads).toBe(6);
  });

  it('is consistent after the app is killed between any two writes: nothing half written, every key whole', async () => {
    for (let killAt = 0; killAt < 6; killAt++) {
      const storage = new FakeAsyncStorage();
      const store = await createKeyValueStore(storage, { chunkSize: 2 });
      storage.failAfterWrites = killAt;
      // A pull of seqs 1-5 (three chunks) then its conversation, as sync writes them.
      await store
        .putMessages([1, 2, 3, 4, 5].map((seq) => msg('si_alice_bob', seq)))
        .then(() => store.putConversation(conversation('si_alice_bob', { maxSeq: 5, syncedSeq: 5 })))
        .catch(() => undefined);

      storage.failAfterWrites = Infinity;
      const reopened = await createKeyValueStore(storage, { chunkSize: 2 });
      const c = await reopened.getConversation('si_alice_bob');
      const seqs = (await reopened.listMessages('si_alice_bob')).map((m) => m.seq);

      for (const value of storage.data.values()) expect(() => JSON.parse(value)).not.toThrow();
      // The conversation says synced only when every message below is stored; otherwise sync pulls again.
      if (c) expect(seqs).toEqual([1, 2, 3, 4, 5]);
      expect(c?.syncedSeq ?? 0).toBeLessThanOrEqual(seqs.length);
      // Pulling again stores the rest once.
      const again = await reopened.putMessages([1, 2, 3, 4, 5].map((seq) => msg('si_alice_bob', seq)));
      expect(again.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5].filter((s) => !seqs.includes(s)));
      expect((await reopened.listMessages('si_alice_bob')).map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    }
  });

  it('clears outgoing messages first, so a logout cut short never sends anything later', async () => {
    const storage = new FakeAsyncStorage({ multi: false });
    const store = await createKeyValueStore(storage);
    await store.putMessages([msg('si_alice_bob', 1)]);
    await store.putConversation(conversation('si_alice_bob'));
    await store.putOutgoing(outgoing('a', 1));
    await store.putOutgoing(outgoing('b', 2));
    storage.failAfterWrites = storage.writes.length + 2;

    await expect(store.clear()).rejects.toThrow(/killed/);

    storage.failAfterWrites = Infinity;
    expect(await (await createKeyValueStore(storage)).listOutgoing()).toEqual([]);
  });
});
