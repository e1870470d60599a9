/**
 * Users (profiles, settings, presence, listing) and a user's conversation list, end to
 * end over HTTP and WebSocket against the local runtime.
 */
import { describe, expect, it } from 'vitest';
import { eventually, sleep, syncConversation } from '../support/cirrus';
import { admin, as, cirrus, device, text, useCirrus } from '../support/harness';
import { singleConversationId } from '../../core/domain/ids';
import { awsRequests } from '../../core/aws/accounting';

/** Calls the HTTP API as a user. */

useCirrus();

describe('users', () => {
  it('shows profiles to everyone, settings only to the user, and lets only the user (or an admin) change them', async () => {
    await admin.call('POST', '/users/register', { users: [{ userId: 'uma', nickname: 'Uma', ex: '{"tier":"gold"}' }, { userId: 'vic' }] });
    const umaPhone = await device('uma', 1);

    const updated = await as('uma', 'PUT', '/users/uma', { nickname: 'Uma B.', faceUrl: 'https://example.com/uma.png' });
    const settings = await as('uma', 'PUT', '/users/uma/settings', { globalRecvOpt: 2 });
    const byVic = await as('vic', 'PUT', '/users/uma', { nickname: 'hacked' });
    const seenByVic = await as('vic', 'GET', '/users/uma');
    const seenByUma = await as('uma', 'GET', '/users/uma');
    const many = await as('vic', 'POST', '/users/query', { userIds: ['uma', 'vic', 'ghost'] });

    expect(updated.status).toBe(200);
    expect(settings.body.user.globalRecvOpt).toBe(2);
    expect(byVic).toMatchObject({ status: 403, body: { error: { reason: 'FORBIDDEN' } } });
    expect(seenByVic.body.user).toMatchObject({ userId: 'uma', nickname: 'Uma B.', faceUrl: 'https://example.com/uma.png', ex: '{"tier":"gold"}' });
    expect(seenByVic.body.user.globalRecvOpt).toBeUndefined();
    expect(seenByUma.body.user.globalRecvOpt).toBe(2);
    expect(many.body.users.map((u: { userId: string }) => u.userId).sort()).toEqual(['uma', 'vic']);
    // The profile change reaches the user's other device as an event (state, not a stored message).
    const event = await umaPhone.until(() => umaPhone.frames.find((f) => (f as { push?: string }).push === 'userInfoUpdated'), 10_000, 'userInfoUpdated');
    expect(event).toEqual({ push: 'userInfoUpdated', data: { userId: 'uma', changes: { nickname: 'Uma B.', faceUrl: 'https://example.com/uma.png' } } });
    expect((await umaPhone.ok('getNewestSeq', {})).conversations).toEqual([]);
  });

  it('checks which accounts exist and reports online status per platform from live connections', async () => {
    await admin.register('wes', 'xia');
    // Two connections on one platform need the 'multiple' login policy (the default kicks the older one).
    const policy = process.env.MULTI_LOGIN_POLICY;
    process.env.MULTI_LOGIN_POLICY = 'multiple';
    const web = await device('wes', 5);
    const phone = await device('wes', 2);
    const phone2 = await device('wes', 2).finally(() => Object.assign(process.env, { MULTI_LOGIN_POLICY: policy ?? '' }));

    const check = await as('xia', 'POST', '/users/check', { userIds: ['wes', 'nobody'] });
    const online = await as('xia', 'POST', '/users/online', { userIds: ['wes', 'xia'] });

    expect(check.body.results).toEqual([
      { userId: 'wes', registered: true },
      { userId: 'nobody', registered: false },
    ]);
    expect(online.body.results).toEqual([
      { userId: 'wes', online: true, platforms: [{ platformId: 2, connections: 2 }, { platformId: 5, connections: 1 }] },
      { userId: 'xia', online: false, platforms: [] },
    ]);
    await Promise.all([web.close(), phone.close(), phone2.close()]);
    await eventually(async () => (await as('xia', 'POST', '/users/online', { userIds: ['wes'] })).body.results[0].online === false);
  });

  it('writes nothing to the users list index on a connect or a disconnect, only on a registration', async () => {
    // Prepare: per-index write units, as DynamoDB reports them (ReturnConsumedCapacity INDEXES).
    const index = `${cirrus.tableNames.users}/byCreation`;
    awsRequests.meterCapacity(true);
    try {
      const before = awsRequests.indexWrites()[index] ?? 0;
      await admin.register('ix-1');
      const afterRegistration = awsRequests.indexWrites()[index] ?? 0;

      // Act
      const phone = await device('ix-1', 2);
      await eventually(async () => (await as('ix-1', 'POST', '/users/online', { userIds: ['ix-1'] })).body.results[0].online === true);
      await phone.close();
      await eventually(async () => (await as('ix-1', 'POST', '/users/online', { userIds: ['ix-1'] })).body.results[0].online === false);
      await as('ix-1', 'PUT', '/users/ix-1', { nickname: 'Ix' });
      const afterPresence = awsRequests.indexWrites()[index] ?? 0;

      // Assess: the registration wrote the index (so the metering sees it); presence and profile changes did not.
      expect(afterRegistration - before).toBeGreaterThan(0);
      expect(afterPresence - afterRegistration).toBe(0);
    } finally {
      awsRequests.meterCapacity(false);
    }
  });

  it('lists full profiles in a page, read from the table (the index holds keys only)', async () => {
    await admin.call('POST', '/users/register', { users: [{ userId: 'pf-1', nickname: 'Pf One', faceUrl: 'https://example.com/pf.png' }] });
    const all: Record<string, unknown>[] = [];
    let cursor: string | null | undefined;
    do {
      const page = await admin.call('GET', `/users?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      all.push(...page.body.users);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(all.find((u) => u.userId === 'pf-1')).toEqual(expect.objectContaining({ userId: 'pf-1', nickname: 'Pf One', faceUrl: 'https://example.com/pf.png', createdAt: expect.any(Number) }));
    for (const user of all) {
      expect(user).not.toHaveProperty('listKey');
      expect(user).not.toHaveProperty('conns');
    }
  });

  it('lets admins page through every user in registration order, and only admins', async () => {
    await admin.register('pg-1', 'pg-2', 'pg-3');
    const seen: string[] = [];
    let cursor: string | null | undefined;
    do {
      const page = await admin.call('GET', `/users?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.users.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.users.map((u: { userId: string }) => u.userId));
      cursor = page.body.nextCursor;
    } while (cursor);
    const byUser = await as('pg-1', 'GET', '/users');
    const badCursor = await admin.call('GET', '/users?cursor=not-a-cursor');

    expect(seen).toEqual(expect.arrayContaining(['uma', 'vic', 'wes', 'xia', 'pg-1', 'pg-2', 'pg-3']));
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.indexOf('pg-1')).toBeLessThan(seen.indexOf('pg-3'));
    expect(byUser).toMatchObject({ status: 403, body: { error: { reason: 'ADMIN_REQUIRED' } } });
    expect(badCursor).toMatchObject({ status: 400, body: { error: { reason: 'INVALID_ARGUMENT' } } });
  });
});

describe('the conversation list', () => {
  it('after a mixed history is ordered, counted and filtered as specified, the same on two devices', async () => {
    await admin.register('amy', 'ben', 'cat', 'dan');
    await admin.createGroup('trio', 'ben', ['amy', 'cat']);
    const amyWeb = await device('amy', 5);
    const amyPhone = await device('amy', 1);
    const ben = await device('ben');
    const cat = await device('cat');
    const dan = await device('dan');

    // 1:1 with ben: two unread; with cat: one each way; with dan: one, then deleted by amy.
    await ben.ok('sendMsg', { clientMsgId: 'b1', recvId: 'amy', ...text('hi amy') });
    await ben.ok('sendMsg', { clientMsgId: 'b2', recvId: 'amy', ...text('lunch?') });
    await amyWeb.ok('sendMsg', { clientMsgId: 'a1', recvId: 'cat', ...text('hey cat') });
    await cat.ok('sendMsg', { clientMsgId: 'c1', recvId: 'amy', ...text('hey amy') });
    await dan.ok('sendMsg', { clientMsgId: 'd1', recvId: 'amy', ...text('spam') });
    // The group: three messages, then amy clears it.
    for (const [d, id] of [[ben, 'g1'], [cat, 'g2'], [ben, 'g3']] as const) await d.ok('sendMsg', { clientMsgId: id, groupId: 'trio', ...text(id) });
    // A system notification.
    await admin.call('POST', '/messages', { asSystem: true, recvId: 'amy', contentType: 110, content: { data: '{"promo":1}' } });
    const amyCat = singleConversationId('amy', 'cat');
    const amyBen = singleConversationId('amy', 'ben');
    const amyDan = singleConversationId('amy', 'dan');
    await eventually(async () => (await as('amy', 'GET', '/users/amy/conversations')).body.conversations.length === 5);

    const pin = await as('amy', 'PUT', `/users/amy/conversations/${amyCat}`, { pinned: true });
    const del = await as('amy', 'DELETE', `/users/amy/conversations/${amyDan}`);
    const clear = await as('amy', 'POST', `/users/amy/conversations/sg_trio/clear`);
    expect([pin.status, del.status, clear.status]).toEqual([200, 200, 200]);
    // amy's phone hears of each change.
    const changes = await amyPhone.until(() => {
      const seen = amyPhone.frames.filter((f) => (f as { push?: string }).push === 'conversationChanged');
      return seen.length >= 3 && seen;
    }, 10_000, 'conversationChanged x3');
    expect(changes.map((c) => (c as { data: { conversationId: string } }).data.conversationId)).toEqual([amyCat, amyDan, 'sg_trio']);

    const lists = await Promise.all([as('amy', 'GET', '/users/amy/conversations'), admin.call('GET', '/users/amy/conversations')]);
    for (const { body } of lists) {
      const ids = body.conversations.map((c: { conversationId: string }) => c.conversationId);
      expect(ids[0]).toBe(amyCat);
      expect(ids).not.toContain(amyDan);
      expect(new Set(ids)).toEqual(new Set([amyCat, amyBen, 'sg_trio', 'n_amy']));
      const rest = body.conversations.slice(1);
      for (let i = 1; i < rest.length; i++) expect(rest[i - 1].lastActivity).toBeGreaterThanOrEqual(rest[i].lastActivity);
      const byId = Object.fromEntries(body.conversations.map((c: { conversationId: string }) => [c.conversationId, c]));
      expect(byId[amyCat]).toMatchObject({ pinned: true, unread: 1, sessionType: 1, peerUserId: 'cat', lastMessage: { content: { text: 'hey amy' } } });
      expect(byId[amyBen]).toMatchObject({ pinned: false, unread: 2, lastMessage: { content: { text: 'lunch?' } } });
      expect(byId.sg_trio).toMatchObject({ unread: 0, groupId: 'trio', lastMessage: null });
      expect(byId.sg_trio.minSeq).toBe(byId.sg_trio.maxSeq);
      expect(byId.n_amy.unread).toBe(1);
      expect(body.totalUnread).toBe(1 + 2 + 1);
    }
    // Both devices agree through the WebSocket too.
    for (const d of [amyWeb, amyPhone]) {
      const newest = await d.ok('getNewestSeq', {});
      const unread = Object.fromEntries(newest.conversations.map((c: { conversationId: string; unread: number }) => [c.conversationId, c.unread]));
      expect(unread).toMatchObject({ [amyCat]: 1, [amyBen]: 2, sg_trio: 0, [amyDan]: 0 });
    }
    // Cleared messages are no longer returned to amy, but still to the others.
    const trio = await as('amy', 'GET', '/users/amy/conversations/sg_trio');
    expect((await syncConversation(amyWeb, 'sg_trio', trio.body.conversation.maxSeq)).messages).toEqual([]);
    expect((await syncConversation(cat, 'sg_trio', trio.body.conversation.maxSeq)).messages.length).toBeGreaterThanOrEqual(3);

    // A new message brings the deleted conversation back, without its old messages.
    await dan.ok('sendMsg', { clientMsgId: 'd2', recvId: 'amy', ...text('sorry') });
    const back = await eventually(async () => {
      const list = await as('amy', 'GET', '/users/amy/conversations');
      return list.body.conversations.find((c: { conversationId: string }) => c.conversationId === amyDan);
    });
    expect(back).toMatchObject({ unread: 1, hidden: false, lastMessage: { content: { text: 'sorry' } } });
    expect((await syncConversation(amyPhone, amyDan, back.maxSeq)).messages.map((m) => (m.content as { text: string }).text)).toEqual(['sorry']);

    // Reading on one device shows on the other.
    await as('amy', 'POST', `/users/amy/conversations/${amyBen}/read`, {});
    const after = await amyPhone.ok('getNewestSeq', {});
    expect(after.conversations.find((c: { conversationId: string }) => c.conversationId === amyBen).unread).toBe(0);
    expect((await as('amy', 'GET', '/users/amy/unread')).body.totalUnread).toBe(1 + 1 + 1);
  });

  it('applies receive options: silent pushes are marked, "do not receive" pushes nothing, neither counts in the total', async () => {
    await admin.register('eve', 'fay', 'gus');
    const eve = await device('eve');
    const fay = await device('fay');
    const gus = await device('gus');
    const eveFay = singleConversationId('eve', 'fay');
    const eveGus = singleConversationId('eve', 'gus');
    await fay.ok('sendMsg', { clientMsgId: 'f0', recvId: 'eve', ...text('first') });
    await gus.ok('sendMsg', { clientMsgId: 'g0', recvId: 'eve', ...text('first') });
    await eve.waitForPushes(2);

    await as('eve', 'PUT', `/users/eve/conversations/${eveFay}`, { recvOpt: 2 });
    await as('eve', 'PUT', `/users/eve/conversations/${eveGus}`, { recvOpt: 1 });
    const before = eve.pushes.length;
    await fay.ok('sendMsg', { clientMsgId: 'f1', recvId: 'eve', ...text('quietly') });
    await gus.ok('sendMsg', { clientMsgId: 'g1', recvId: 'eve', ...text('not at all') });

    const silent = await eve.until(() => eve.pushes.slice(before).find((p) => p.clientMsgId === 'f1'), 10_000, 'silent push');
    const frame = eve.frames.find((f) => (f as { data?: { clientMsgId?: string } }).data?.clientMsgId === 'f1') as { silent?: boolean };
    expect(silent.conversationId).toBe(eveFay);
    expect(frame.silent).toBe(true);
    await sleep(500);
    expect(eve.pushes.slice(before).some((p) => p.clientMsgId === 'g1')).toBe(false);
    // Still stored and synced.
    const newest = await eve.ok('getNewestSeq', {});
    const byId = Object.fromEntries(newest.conversations.map((c: { conversationId: string }) => [c.conversationId, c]));
    expect(byId[eveGus]).toMatchObject({ maxSeq: 2, unread: 2 });
    const list = await as('eve', 'GET', '/users/eve/conversations');
    expect(list.body.totalUnread).toBe(list.body.conversations.filter((c: { recvOpt: number }) => c.recvOpt === 0).reduce((n: number, c: { unread: number }) => n + c.unread, 0));
    expect(list.body.conversations.find((c: { conversationId: string }) => c.conversationId === eveFay).recvOpt).toBe(2);
  });

  it("refuses someone else's conversation and unknown conversations", async () => {
    await admin.register('hal', 'ivy', 'jon');
    const hal = await device('hal');
    await hal.ok('sendMsg', { clientMsgId: 'h1', recvId: 'ivy', ...text('private') });
    const conv = singleConversationId('hal', 'ivy');

    const asJonPath = await as('jon', 'GET', `/users/hal/conversations/${conv}`);
    const jonOwn = await as('jon', 'GET', `/users/jon/conversations/${conv}`);
    const jonPin = await as('jon', 'PUT', `/users/jon/conversations/${conv}`, { pinned: true });
    const jonHistory = await as('jon', 'GET', `/conversations/${conv}/messages`);
    const ivyHistory = await eventually(async () => {
      const r = await as('ivy', 'GET', `/conversations/${conv}/messages`);
      return r.body.messages?.length === 1 && r;
    });
    const badBody = await as('hal', 'PUT', `/users/hal/conversations/${conv}`, { recvOpt: 7 });

    expect(asJonPath).toMatchObject({ status: 403, body: { error: { reason: 'FORBIDDEN' } } });
    expect(jonOwn).toMatchObject({ status: 404, body: { error: { reason: 'CONVERSATION_NOT_FOUND' } } });
    expect(jonPin.status).toBe(404);
    expect(jonHistory).toMatchObject({ status: 404, body: { error: { reason: 'CONVERSATION_NOT_FOUND' } } });
    expect(ivyHistory.body.messages[0].content).toEqual({ text: 'private' });
    expect(badBody).toMatchObject({ status: 400, body: { error: { reason: 'INVALID_ARGUMENT' } } });
  });
});
