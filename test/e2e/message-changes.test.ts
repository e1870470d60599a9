/**
 * Revoke and delete for everyone: who may, the marker every device sees (push and sync),
 * the history (from the Messages stream), and an archive that never rolls a change back.
 */
import { describe, expect, it } from 'vitest';
import { eventually, sleep, syncConversation, type Device } from '../support/cirrus';
import { admin, as, device, text, useCirrus } from '../support/harness';
import { groupConversationId, singleConversationId } from '../../core/domain/ids';
import { archive } from '../../core/services/archive';
import { history } from '../../core/history/history';

useCirrus({ settings: { revokeWindowSeconds: 2 } });

const REVOKED = 2101;
const DELETED = 2102;

const noticesOf = (d: Device, contentType: number) => d.pushes.filter((p) => p.contentType === contentType);

async function historyAt(conversationId: string, seq: number) {
  const res = await admin.call('GET', `/conversations/${conversationId}/messages?limit=200`);
  return (res.body.messages as { seq: number }[]).find((m) => m.seq === seq) as Record<string, any> | undefined;
}

describe('revoking a 1:1 message', () => {
  it('replaces it by a marker that every device sees by push, by sync and in the history; a second revoke changes nothing', async () => {
    await admin.register('rv-a', 'rv-b');
    const aPhone = await device('rv-a', 1);
    const aWeb = await device('rv-a', 5);
    const b = await device('rv-b', 5);
    const sent = await aPhone.ok('sendMsg', { clientMsgId: 'r1', recvId: 'rv-b', ...text('oops') });
    await b.waitForPushes(1);
    await aWeb.waitForPushes(1);

    const marker = await aPhone.ok('revokeMsg', { conversationId: sent.conversationId, seq: sent.seq });

    expect(marker).toMatchObject({ seq: sent.seq, serverMsgId: sent.serverMsgId, senderId: 'rv-a', sendTime: sent.sendTime, content: null, version: 1, revoked: { by: 'rv-a' } });
    for (const d of [b, aWeb, aPhone]) {
      const [notice] = await eventually(async () => noticesOf(d, REVOKED).length > 0 && noticesOf(d, REVOKED));
      expect(notice).toMatchObject({ conversationId: sent.conversationId, senderId: 'system', content: { conversationId: sent.conversationId, seq: sent.seq, serverMsgId: sent.serverMsgId, revokedBy: 'rv-a' } });
    }
    for (const d of [b, aWeb]) {
      const synced = await syncConversation(d, sent.conversationId, sent.seq + 1);
      expect(synced.messages[0]).toEqual(marker);
      expect(synced.messages[1]).toMatchObject({ contentType: REVOKED, senderId: 'system' });
    }
    const archived = await eventually(async () => {
      const m = await historyAt(sent.conversationId, sent.seq);
      return m?.revoked && m;
    });
    expect(archived).toEqual(marker);

    const again = await b.ok('revokeMsg', { conversationId: sent.conversationId, seq: sent.seq });
    expect(again).toEqual(marker);
    const twice = await aPhone.ok('revokeMsg', { conversationId: sent.conversationId, seq: sent.seq });
    expect(twice).toEqual(marker);
    await sleep(500);
    expect(noticesOf(b, REVOKED)).toHaveLength(1);
    const newest = await b.ok('getNewestSeq', {});
    expect(newest.conversations.find((c: { conversationId: string }) => c.conversationId === sent.conversationId).maxSeq).toBe(sent.seq + 1);
  });

  it('refuses the recipient, the sender after the window, and strangers; an admin token may revoke any', async () => {
    await admin.register('rw-a', 'rw-b', 'rw-z');
    const a = await device('rw-a');
    const b = await device('rw-b');
    const conversationId = singleConversationId('rw-a', 'rw-b');
    const first = await a.ok('sendMsg', { clientMsgId: 'w1', recvId: 'rw-b', ...text('one') });
    const second = await a.ok('sendMsg', { clientMsgId: 'w2', recvId: 'rw-b', ...text('two') });

    expect((await b.request('revokeMsg', { conversationId, seq: first.seq })).error).toMatchObject({ reason: 'FORBIDDEN' });
    const stranger = await as('rw-z', 'POST', `/conversations/${conversationId}/messages/${first.seq}/revoke`);
    expect(stranger.body.error).toMatchObject({ reason: 'CONVERSATION_NOT_FOUND' });
    expect((await a.request('revokeMsg', { conversationId, seq: 99 })).error).toMatchObject({ reason: 'MESSAGE_NOT_FOUND' });

    await sleep(2300);
    expect((await a.request('revokeMsg', { conversationId, seq: first.seq })).error).toMatchObject({ reason: 'REVOKE_WINDOW_PASSED', code: 1306 });
    const byHttp = await as('rw-a', 'POST', `/conversations/${conversationId}/messages/${first.seq}/revoke`);
    expect(byHttp.status).toBe(403);
    expect(byHttp.body.error).toMatchObject({ reason: 'REVOKE_WINDOW_PASSED' });

    const byAdmin = await admin.call('POST', `/conversations/${conversationId}/messages/${second.seq}/revoke`);
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body).toMatchObject({ seq: second.seq, content: null, revoked: { by: '@admin' } });
    const [notice] = await eventually(async () => noticesOf(b, REVOKED).length > 0 && noticesOf(b, REVOKED));
    expect(notice.content).toMatchObject({ seq: second.seq, revokedBy: '@admin' });
    const synced = await syncConversation(b, conversationId, second.seq);
    expect(synced.messages.map((m) => m.content)).toEqual([{ text: 'one' }, null]);
  });
});

describe('revoking in a group', () => {
  it('lets the owner revoke anyone, an admin only ordinary members, the sender their own; refuses other members', async () => {
    await admin.register('rg-owner', 'rg-admin', 'rg-admin2', 'rg-m1', 'rg-m2');
    await admin.createGroup('rg', 'rg-owner', ['rg-admin', 'rg-admin2', 'rg-m1', 'rg-m2']);
    for (const id of ['rg-admin', 'rg-admin2']) expect((await admin.call('PUT', `/groups/rg/members/${id}/role`, { role: 'admin' })).status).toBe(200);
    const d = Object.fromEntries(await Promise.all(['rg-owner', 'rg-admin', 'rg-admin2', 'rg-m1', 'rg-m2'].map(async (id) => [id, await device(id)] as const)));
    const conversationId = groupConversationId('rg');
    const send = async (from: string, t: string) => (await d[from].ok('sendMsg', { clientMsgId: `${from}-${t}`, groupId: 'rg', ...text(t) })).seq as number;
    const byOwner = await send('rg-owner', 'owner says');
    const byAdmin2 = await send('rg-admin2', 'admin2 says');
    const byM1 = await send('rg-m1', 'm1 says');
    const byM2 = await send('rg-m2', 'm2 says');
    const byM1b = await send('rg-m1', 'm1 again');

    const refuse = async (who: string, seq: number) => expect((await d[who].request('revokeMsg', { conversationId, seq })).error).toMatchObject({ reason: 'FORBIDDEN' });
    await refuse('rg-m2', byM1);
    await refuse('rg-admin', byOwner);
    await refuse('rg-admin', byAdmin2);

    expect(await d['rg-admin'].ok('revokeMsg', { conversationId, seq: byM1 })).toMatchObject({ revoked: { by: 'rg-admin' } });
    expect(await d['rg-owner'].ok('revokeMsg', { conversationId, seq: byAdmin2 })).toMatchObject({ revoked: { by: 'rg-owner' } });
    expect(await d['rg-m2'].ok('revokeMsg', { conversationId, seq: byM2 })).toMatchObject({ revoked: { by: 'rg-m2' } });
    const viaHttp = await as('rg-owner', 'POST', `/conversations/${conversationId}/messages/${byM1b}/revoke`);
    expect(viaHttp.body).toMatchObject({ revoked: { by: 'rg-owner' } });

    for (const member of Object.values(d)) {
      await eventually(async () => noticesOf(member, REVOKED).length === 4);
      const synced = await syncConversation(member, conversationId, byM1b);
      const revoked = synced.messages.filter((m) => m.revoked).map((m) => m.seq);
      expect(revoked).toEqual([byAdmin2, byM1, byM2, byM1b]);
    }
    await eventually(async () => (await historyAt(conversationId, byM1b))?.revoked);
    expect(await historyAt(conversationId, byOwner)).toMatchObject({ content: { text: 'owner says' } });
    expect((await historyAt(conversationId, byM1))).toMatchObject({ content: null, revoked: { by: 'rg-admin' } });
  });
});

describe('deleting for everyone', () => {
  it('lets the sender (at any time) and an admin token delete; others are refused', async () => {
    await admin.register('dl-a', 'dl-b');
    const a = await device('dl-a');
    const b = await device('dl-b');
    const conversationId = singleConversationId('dl-a', 'dl-b');
    const one = await a.ok('sendMsg', { clientMsgId: 'd1', recvId: 'dl-b', ...text('one') });
    const two = await b.ok('sendMsg', { clientMsgId: 'd2', recvId: 'dl-a', ...text('two') });

    expect((await b.request('deleteMsg', { conversationId, seq: one.seq })).error).toMatchObject({ reason: 'FORBIDDEN' });
    await sleep(2300); // past the revoke window: delete has none
    const marker = await a.ok('deleteMsg', { conversationId, seq: one.seq });
    expect(marker).toMatchObject({ content: null, version: 1, deleted: { by: 'dl-a' } });
    expect(marker.revoked).toBeUndefined();
    const byAdmin = await admin.call('DELETE', `/conversations/${conversationId}/messages/${two.seq}`);
    expect(byAdmin.body).toMatchObject({ content: null, deleted: { by: '@admin' } });
    expect(await a.ok('deleteMsg', { conversationId, seq: one.seq })).toEqual(marker);

    await eventually(async () => noticesOf(b, DELETED).length === 2);
    const synced = await syncConversation(b, conversationId, two.seq);
    expect(synced.messages.map((m) => m.deleted?.by)).toEqual(['dl-a', '@admin']);
    await eventually(async () => (await historyAt(conversationId, one.seq))?.deleted);
  });
});

describe('the archive of a change', () => {
  it('never lets an older version (a redelivered or late job) undo a newer one', async () => {
    await admin.register('ar-a', 'ar-b');
    const a = await device('ar-a');
    const sent = await a.ok('sendMsg', { clientMsgId: 'ar1', recvId: 'ar-b', ...text('original') });
    const [original] = (await syncConversation(a, sent.conversationId, sent.seq)).messages;
    const marker = await a.ok('revokeMsg', { conversationId: sent.conversationId, seq: sent.seq });
    await eventually(async () => (await historyAt(sent.conversationId, sent.seq))?.revoked);

    // The send's stream record arrives again (redelivery), then the change again: nothing moves.
    expect([...(await archive([{ id: 'late', message: original }])).done]).toEqual(['late']);
    expect([...(await archive([{ id: 'again', message: marker }])).done]).toEqual(['again']);
    const page = await history.page(sent.conversationId, undefined, 10);
    expect(page.messages.find((m) => m.seq === sent.seq)).toEqual(marker);

    // Out of order on a fresh row: the change first, then the send.
    const fresh = { ...original, seq: 1000, serverMsgId: `${original.serverMsgId}x`, clientMsgId: 'ar-fresh' };
    await archive([{ id: 'change', message: { ...fresh, content: null, version: 1, revoked: { by: 'ar-a', at: 1 } } }]);
    await archive([{ id: 'send', message: fresh }]);
    const after = await history.page(sent.conversationId, undefined, 10);
    expect(after.messages.find((m) => m.seq === 1000)).toMatchObject({ content: null, version: 1, revoked: { by: 'ar-a', at: 1 } });
  });
});

describe('editing', () => {
  it('replaces the content for every device, keeps the old content in the history, and refuses others and changed messages', async () => {
    await admin.register('ed-a', 'ed-b');
    const a = await device('ed-a');
    const aWeb = await device('ed-a', 1);
    const b = await device('ed-b');
    const conversationId = singleConversationId('ed-a', 'ed-b');
    const sent = await a.ok('sendMsg', { clientMsgId: 'e1', recvId: 'ed-b', ...text('helo') });
    const other = await b.ok('sendMsg', { clientMsgId: 'e2', recvId: 'ed-a', ...text('hi') });

    const edited = await a.ok('editMsg', { conversationId, seq: sent.seq, ...text('hello') });
    expect(edited).toMatchObject({ seq: sent.seq, serverMsgId: sent.serverMsgId, content: { text: 'hello' }, version: 1, edited: { version: 1 } });
    const again = await a.ok('editMsg', { conversationId, seq: sent.seq, contentType: 118, content: { markdown: '**hello**' } });
    expect(again).toMatchObject({ contentType: 118, content: { markdown: '**hello**' }, version: 2, edited: { version: 2 } });

    for (const d of [b, aWeb]) {
      const notices = await eventually(async () => noticesOf(d, 2103).length === 2 && noticesOf(d, 2103));
      expect(notices.map((n) => n.content)).toMatchObject([{ seq: sent.seq, editedBy: 'ed-a', version: 1 }, { seq: sent.seq, version: 2 }]);
      const synced = await syncConversation(d, conversationId, sent.seq);
      expect(synced.messages[0]).toEqual(again);
    }

    expect((await b.request('editMsg', { conversationId, seq: sent.seq, ...text('mine now') })).error).toMatchObject({ reason: 'FORBIDDEN' });
    expect((await a.request('editMsg', { conversationId, seq: sent.seq, contentType: 109, content: { latitude: 1, longitude: 2 } })).error).toMatchObject({ reason: 'INVALID_ARGUMENT' });
    expect((await a.request('editMsg', { conversationId, seq: sent.seq, contentType: 101, content: { text: '' } })).error).toMatchObject({ reason: 'INVALID_ARGUMENT' });
    await b.ok('revokeMsg', { conversationId, seq: other.seq });
    expect((await b.request('editMsg', { conversationId, seq: other.seq, ...text('back') })).error).toMatchObject({ reason: 'MESSAGE_NOT_EDITABLE' });

    const archived = await eventually(async () => {
      const m = await historyAt(conversationId, sent.seq);
      return m?.version === 2 && m;
    });
    expect(archived).toEqual(again);
    expect(await history.edits(conversationId, sent.seq)).toEqual([
      { version: 0, contentType: 101, content: { text: 'helo' } },
      { version: 1, contentType: 101, content: { text: 'hello' } },
    ]);
  });
});
