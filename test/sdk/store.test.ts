/**
 * One contract for every local store: the memory store, and the IndexedDB store on
 * `fake-indexeddb` (the same IndexedDB API a browser has).
 */
import { describe, expect, it } from 'vitest';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { MemoryStore } from '../../sdk/src/store/memory';
import { IndexedDbStore } from '../../sdk/src/store/indexeddb';
import type { LocalStore, OutgoingMessage, StoredConversation } from '../../sdk/src/store/store';
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
