/**
 * Reactions, delete-for-me and edits over HTTP: what every device sees (push, sync,
 * history, search), the idempotence of each, and the refusals.
 */
import { describe, expect, it } from 'vitest';
import { eventually, sleep, syncConversation, type Device } from '../support/cirrus';
import { admin, as, device, text, useCirrus } from '../support/harness';
import { groupConversationId, singleConversationId } from '../../core/domain/ids';
import { conversations } from '../../core/store/conversations';

useCirrus();

const REACTION = 2104;
const DELETED_FOR_ME = 2105;
const EDITED = 2103;

const noticesOf = (d: Device, contentType: number) => d.pushes.filter((p) => p.contentType === contentType);

async function historyOf(userId: string, conversationId: string) {
  const res = await as(userId, 'GET', `/conversations/${conversationId}/messages?limit=200`);
  if (res.status !== 200) throw new Error(JSON.stringify(res.body));
  return res.body.messages as Record<string, any>[];
}

describe('reactions', () => {
  it('adds and removes per-user emoji with counts, notifies every device once per change, and reaches sync and the history', async () => {
    await admin.register('re-a', 're-b', 're-c');
    await admin.createGroup('re-g', 're-a', ['re-b', 're-c']);
    const conversationId = groupConversationId('re-g');
    const a = await device('re-a');
    const b = await device('re-b');
    const c = await device('re-c');
    const sent = await a.ok('sendMsg', { clientMsgId: 'm1', groupId: 're-g', ...text('party tonight') });
    const ref = { conversationId, seq: sent.seq };

    const first = await b.ok('reactMsg', { ...ref, emoji: '👍', reacted: true });
    expect(first).toMatchObject({ seq: sent.seq, content: { text: 'party tonight' }, reactions: { '👍': ['re-b'] }, version: 1 });
    await c.ok('reactMsg', { ...ref, emoji: '👍', reacted: true });
    const third = await c.ok('reactMsg', { ...ref, emoji: ':party:', reacted: true });
    expect(third.reactions).toEqual({ '👍': ['re-b', 're-c'], ':party:': ['re-c'] });

    // Idempotent: adding again or removing what is not there changes nothing and sends nothing.
    expect(await b.ok('reactMsg', { ...ref, emoji: '👍', reacted: true })).toEqual(third);
    expect(await a.ok('reactMsg', { ...ref, emoji: '❤️', reacted: false })).toEqual(third);
    const removed = await c.ok('reactMsg', { ...ref, emoji: '👍', reacted: false });
    expect(removed.reactions).toEqual({ '👍': ['re-b'], ':party:': ['re-c'] });

    for (const d of [a, b, c]) {
      const notices = await eventually(async () => noticesOf(d, REACTION).length >= 4 && noticesOf(d, REACTION));
      expect(notices.map((n) => n.content)).toEqual([
        expect.objectContaining({ seq: sent.seq, userId: 're-b', emoji: '👍', reacted: true, counts: { '👍': 1 }, version: 1 }),
        expect.objectContaining({ userId: 're-c', emoji: '👍', reacted: true, counts: { '👍': 2 }, version: 2 }),
        expect.objectContaining({ userId: 're-c', emoji: ':party:', reacted: true, counts: { '👍': 2, ':party:': 1 }, version: 3 }),
        expect.objectContaining({ userId: 're-c', emoji: '👍', reacted: false, counts: { '👍': 1, ':party:': 1 }, version: 4 }),
      ]);
    }
    await sleep(300);
    expect(noticesOf(a, REACTION)).toHaveLength(4);

    const synced = await syncConversation(a, conversationId, removed.seq + 4);
    expect(synced.messages.find((m) => m.seq === sent.seq)).toEqual(removed);
    const archived = await eventually(async () => {
      const m = (await historyOf('re-a', conversationId)).find((x) => x.seq === sent.seq);
      return m?.version === 4 && m;
    });
    expect(archived).toEqual(removed);

    // Over HTTP as the user; an admin token acts as the user in the path.
    const http = await as('re-a', 'PUT', `/users/re-a/conversations/${conversationId}/messages/${sent.seq}/reactions`, { emoji: '🎉', reacted: true });
    expect(http.status).toBe(200);
    expect(http.body.reactions['🎉']).toEqual(['re-a']);
    const forA = await admin.call('PUT', `/users/re-a/conversations/${conversationId}/messages/${sent.seq}/reactions`, { emoji: '🎉', reacted: false });
    expect(forA.body.reactions['🎉']).toBeUndefined();

    // Revoking takes the reactions with the content; a revoked message takes no more.
    const marker = await a.ok('revokeMsg', ref);
    expect(marker.reactions).toBeUndefined();
    expect((await b.request('reactMsg', { ...ref, emoji: '👍', reacted: true })).error).toMatchObject({ reason: 'MESSAGE_NOT_EDITABLE', code: 1307 });
  });

  it('counts concurrent reactions of many users without losing one', async () => {
    const people = Array.from({ length: 12 }, (_, i) => `rx-${i}`);
    await admin.register(...people);
    await admin.createGroup('rx-g', people[0], people.slice(1));
    const devices = await Promise.all(people.map((u) => device(u)));
    const sent = await devices[0].ok('sendMsg', { clientMsgId: 'm', groupId: 'rx-g', ...text('vote') });
    const results = await Promise.all(devices.map((d) => d.request('reactMsg', { conversationId: sent.conversationId, seq: sent.seq, emoji: '✅', reacted: true })));
    expect(results.filter((r) => r.error)).toEqual([]);
    const synced = await syncConversation(devices[1], sent.conversationId, sent.seq);
    const message = synced.messages.find((m) => m.seq === sent.seq)!;
    expect(new Set(message.reactions!['✅'])).toEqual(new Set(people));
    expect(message.version).toBe(people.length);
  });

  it('refuses bad emoji, notifications, strangers, and more than 50 different emoji', async () => {
    await admin.register('rf-a', 'rf-b', 'rf-z');
    const a = await device('rf-a');
    const z = await device('rf-z');
    const conversationId = singleConversationId('rf-a', 'rf-b');
    const sent = await a.ok('sendMsg', { clientMsgId: 'm', recvId: 'rf-b', ...text('hi') });
    const ref = { conversationId, seq: sent.seq };
    for (const emoji of ['', 'two words', 'x'.repeat(33), 'tab\t']) {
      expect((await a.request('reactMsg', { ...ref, emoji, reacted: true })).error, JSON.stringify(emoji)).toMatchObject({ reason: 'INVALID_ARGUMENT' });
    }
    expect((await a.request('reactMsg', { ...ref, emoji: '👍' })).error).toMatchObject({ reason: 'INVALID_ARGUMENT' });
    expect((await z.request('reactMsg', { ...ref, emoji: '👍', reacted: true })).error).toMatchObject({ reason: 'CONVERSATION_NOT_FOUND' });
    expect((await a.request('reactMsg', { conversationId, seq: sent.seq + 50, emoji: '👍', reacted: true })).error).toMatchObject({ reason: 'MESSAGE_NOT_FOUND' });

    // The friend-less deployment puts no notification here; make one with a reaction itself.
    await a.ok('reactMsg', { ...ref, emoji: 'e0', reacted: true });
    const notice = await eventually(async () => a.pushes.find((p) => p.contentType === REACTION));
    expect((await a.request('reactMsg', { conversationId, seq: notice.seq, emoji: '👍', reacted: true })).error).toMatchObject({ reason: 'MESSAGE_NOT_EDITABLE' });

    for (let i = 1; i < 50; i++) await a.ok('reactMsg', { ...ref, emoji: `e${i}`, reacted: true });
    const full = await a.request('reactMsg', { ...ref, emoji: 'e50', reacted: true });
    expect(full.error).toMatchObject({ reason: 'TOO_MANY_REACTIONS', code: 1308 });
    // Another user may still join an existing emoji.
    const b = await device('rf-b');
    const joined = await b.ok('reactMsg', { ...ref, emoji: 'e7', reacted: true });
    expect(joined.reactions.e7).toEqual(['rf-a', 'rf-b']);
    expect(Object.keys(joined.reactions)).toHaveLength(50);
  }, 120_000);
});

describe('delete for me', () => {
  it("hides messages from the user's pulls, list, history and search only; their other devices learn it; repeating changes nothing", async () => {
    await admin.register('dm-a', 'dm-b');
    const aPhone = await device('dm-a', 1);
    const aWeb = await device('dm-a', 5);
    const b = await device('dm-b');
    const conversationId = singleConversationId('dm-a', 'dm-b');
    const one = await b.ok('sendMsg', { clientMsgId: 'd1', recvId: 'dm-a', ...text('keep walrus') });
    const two = await b.ok('sendMsg', { clientMsgId: 'd2', recvId: 'dm-a', ...text('secret walrus') });
    await aPhone.waitForPushes(2);

    const result = await aPhone.ok('deleteMsgsForMe', { conversationId, seqs: [two.seq] });
    expect(result).toEqual({ conversationId, deletedSeqs: [two.seq] });
    const notice = await eventually(async () => noticesOf(aWeb, DELETED_FOR_ME)[0]);
    expect(notice).toMatchObject({ conversationId: 'n_dm-a', content: { userId: 'dm-a', conversationId, seqs: [two.seq] } });
    expect(noticesOf(b, DELETED_FOR_ME)).toEqual([]);

    const pulled = await aWeb.ok('pullMsgs', { conversationId, fromSeq: 1, toSeq: two.seq });
    expect(pulled.messages.map((m: { seq: number }) => m.seq)).toEqual([one.seq]);
    expect(pulled.holes).toEqual([two.seq]);
    const bPulled = await b.ok('pullMsgs', { conversationId, fromSeq: 1, toSeq: two.seq });
    expect(bPulled.messages.map((m: { seq: number }) => m.seq)).toEqual([one.seq, two.seq]);

    const list = await as('dm-a', 'GET', '/users/dm-a/conversations');
    expect(list.body.conversations.find((c: { conversationId: string }) => c.conversationId === conversationId).lastMessage.seq).toBe(one.seq);
    await eventually(async () => (await historyOf('dm-b', conversationId)).length === 2);
    expect((await historyOf('dm-a', conversationId)).map((m) => m.seq)).toEqual([one.seq]);
    const search = await as('dm-a', 'GET', '/users/dm-a/messages/search?q=walrus');
    expect(search.body.messages.map((m: { seq: number }) => m.seq)).toEqual([one.seq]);
    const bSearch = await as('dm-b', 'GET', '/users/dm-b/messages/search?q=walrus');
    expect(bSearch.body.messages).toHaveLength(2);

    // Again, and with the other one over HTTP: one new notification only.
    expect(await aPhone.ok('deleteMsgsForMe', { conversationId, seqs: [two.seq] })).toEqual(result);
    const http = await as('dm-a', 'POST', `/users/dm-a/conversations/${conversationId}/messages/delete-for-me`, { seqs: [one.seq, two.seq] });
    expect(http.body).toEqual({ conversationId, deletedSeqs: [one.seq, two.seq] });
    await eventually(async () => noticesOf(aWeb, DELETED_FOR_ME).length === 2);
    await sleep(300);
    expect(noticesOf(aWeb, DELETED_FOR_ME).map((n) => (n.content as { seqs: number[] }).seqs)).toEqual([[two.seq], [one.seq]]);

    expect((await aPhone.request('deleteMsgsForMe', { conversationId, seqs: [two.seq + 10] })).error).toMatchObject({ reason: 'MESSAGE_NOT_FOUND' });
    expect((await aPhone.request('deleteMsgsForMe', { conversationId, seqs: [] })).error).toMatchObject({ reason: 'INVALID_ARGUMENT' });
    expect((await aPhone.request('deleteMsgsForMe', { conversationId: singleConversationId('dm-b', 'dm-x'), seqs: [1] })).error).toMatchObject({ reason: 'CONVERSATION_NOT_FOUND' });
  });

  it('keeps at most the configured number per conversation', async () => {
    await admin.register('dc-a', 'dc-b');
    const a = await device('dc-a');
    const conversationId = singleConversationId('dc-a', 'dc-b');
    for (let i = 0; i < 4; i++) await a.ok('sendMsg', { clientMsgId: `c${i}`, recvId: 'dc-b', ...text(`m${i}`) });
    expect(await conversations.addDeleted('dc-a', conversationId, [1, 2], 3)).toEqual(new Set([1, 2]));
    expect(await conversations.addDeleted('dc-a', conversationId, [2], 3)).toEqual(new Set([1, 2]));
    expect(await conversations.addDeleted('dc-a', conversationId, [3, 4], 3)).toBeUndefined();
    expect(await conversations.addDeleted('dc-a', conversationId, [3], 3)).toEqual(new Set([1, 2, 3]));
    expect(await conversations.addDeleted('dc-nobody', conversationId, [1], 3)).toBeUndefined();
  });
});

describe('editing over HTTP', () => {
  it('lets the sender (or an admin token acting as the sender) edit, and nobody else', async () => {
    await admin.register('eh-a', 'eh-b');
    const a = await device('eh-a');
    const b = await device('eh-b');
    const conversationId = singleConversationId('eh-a', 'eh-b');
    const sent = await a.ok('sendMsg', { clientMsgId: 'e1', recvId: 'eh-b', ...text('teh') });
    const path = (user: string) => `/users/${user}/conversations/${conversationId}/messages/${sent.seq}/edit`;

    const edited = await as('eh-a', 'POST', path('eh-a'), text('the'));
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ content: { text: 'the' }, edited: { version: 1 } });
    const relayed = await admin.call('POST', path('eh-a'), { contentType: 118, content: { markdown: '**the**' } });
    expect(relayed.body).toMatchObject({ contentType: 118, edited: { version: 2 } });
    await eventually(async () => noticesOf(b, EDITED).length === 2);

    const notSender = await as('eh-b', 'POST', path('eh-b'), text('mine now'));
    expect(notSender.status).toBe(403);
    expect(notSender.body.error).toMatchObject({ reason: 'FORBIDDEN' });
    const adminAsOther = await admin.call('POST', path('eh-b'), text('mine now'));
    expect(adminAsOther.body.error).toMatchObject({ reason: 'FORBIDDEN' });
    const wrongType = await as('eh-a', 'POST', path('eh-a'), { contentType: 109, content: { latitude: 1, longitude: 2 } });
    expect(wrongType.body.error).toMatchObject({ reason: 'INVALID_ARGUMENT' });
    const stranger = await as('eh-b', 'POST', path('eh-a'), text('x'));
    expect(stranger.status).toBe(403);
  });
});
