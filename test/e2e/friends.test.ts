/**
 * Friend requests, friends and the blacklist end to end: real HTTP for the API, real
 * WebSockets for the notifications (pushed and synced from `n_<userId>`) and for the
 * send-time rules, against the local runtime.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Device, eventually, sleep, syncConversation, type HttpResult } from '../support/cirrus';
import { admin, as, cirrus, device, text, token, useCirrus } from '../support/harness';
import type { Message } from '../../core/protocol/schema';
import { singleConversationId } from '../../core/domain/ids';
import { friendRoutes } from '../../core/http/routes/friends';
import { awsRequests } from '../../core/aws/accounting';

/** HTTP calls act through this platform; devices use others, so no session of theirs is touched. */
const HTTP_PLATFORM = 3;

/** Asserts a 200 whose body matches the route's response schema, and returns the body. */
function ok(operationId: (typeof friendRoutes)[number]['operationId'], res: HttpResult): any {
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const route = friendRoutes.find((r) => r.operationId === operationId)!;
  const parsed = route.response.safeParse(res.body);
  expect(parsed.success, `${operationId} response: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
  return res.body;
}

function fails(res: HttpResult, status: number, reason: string): void {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.error.reason).toBe(reason);
}

/** The user's conversation row for `conversationId` from getNewestSeq, if any. */
async function convOf(d: Device, conversationId: string): Promise<{ maxSeq: number; readSeq: number; unread: number } | undefined> {
  const newest = await d.ok('getNewestSeq', {});
  return newest.conversations.find((c: { conversationId: string }) => c.conversationId === conversationId);
}

/** Every notification in the user's `n_<userId>` conversation, synced the way a reconnecting client does. */
async function syncedNotifications(d: Device, userId: string): Promise<Message[]> {
  const conv = await convOf(d, `n_${userId}`);
  if (!conv) return [];
  const synced = await syncConversation(d, `n_${userId}`, conv.maxSeq);
  expect(synced.pending).toEqual([]);
  return synced.messages;
}

/** Waits until the user's notification conversation holds `count` notifications and returns them. */
async function notificationsOf(d: Device, userId: string, count: number): Promise<Message[]> {
  return eventually(async () => {
    const all = await syncedNotifications(d, userId);
    return all.length >= count && all;
  });
}

/** Waits until no push invocation or archive job is queued or in flight, so request counts see only the call measured. */
async function settle(): Promise<void> {
  await cirrus.lambda.idle();
  // And the stream consumer (archive) has nothing left to do.
  await cirrus.streams.idle();
  await sleep(300);
}

const notice = (contentType: number, content: unknown) => expect.objectContaining({ contentType, content, senderId: 'system', sessionType: 4 });

useCirrus({}, { httpPlatform: HTTP_PLATFORM });
// Counted from here: the runtime's start (migrations, with the history directory's one-off backfill) scans.
let atStart: ReturnType<typeof awsRequests.snapshot>;
beforeAll(() => {
  atStart = awsRequests.snapshot();
});

describe('friend requests', () => {
  it('list a request on both sides and count it until accepted; accepting makes both friends, pushes and syncs the notifications on both devices of the recipient', async () => {
    await admin.register('req-alice', 'req-bob');
    const bobPhone = await device('req-bob', 1);
    const bobWeb = await device('req-bob', 5);

    const sent = ok('sendFriendRequest', await as('req-alice', 'POST', '/users/req-alice/friend-requests', { toUserId: 'req-bob', message: 'hi, it is Alice' }));

    expect(sent.request).toMatchObject({ fromUserId: 'req-alice', toUserId: 'req-bob', message: 'hi, it is Alice', status: 'pending' });
    const requested = { fromUserId: 'req-alice', toUserId: 'req-bob', message: 'hi, it is Alice' };
    for (const d of [bobPhone, bobWeb]) {
      const [push] = await d.waitForPushes(1);
      expect(push).toEqual(notice(1201, requested));
      expect(push.conversationId).toBe('n_req-bob');
    }
    const incoming = ok('listFriendRequests', await as('req-bob', 'GET', '/users/req-bob/friend-requests?direction=incoming'));
    expect(incoming.requests).toEqual([sent.request]);
    expect(incoming.nextCursor).toBeNull();
    const outgoing = ok('listFriendRequests', await as('req-alice', 'GET', '/users/req-alice/friend-requests?direction=outgoing'));
    expect(outgoing.requests).toEqual([sent.request]);
    expect(ok('listFriendRequests', await as('req-alice', 'GET', '/users/req-alice/friend-requests')).requests).toEqual([]);
    expect(ok('countUnhandledFriendRequests', await as('req-bob', 'GET', '/users/req-bob/friend-requests/unhandled-count'))).toEqual({ count: 1 });
    expect(ok('countUnhandledFriendRequests', await as('req-alice', 'GET', '/users/req-alice/friend-requests/unhandled-count'))).toEqual({ count: 0 });

    const beforeAccept = awsRequests.snapshot();
    const accepted = ok('acceptFriendRequest', await as('req-bob', 'POST', '/users/req-bob/friend-requests/req-alice/accept', { remark: 'Ally' }));

    expect(accepted.request).toMatchObject({ ...requested, status: 'accepted', createdAt: sent.request.createdAt });
    expect(accepted.request.handledAt).toBeGreaterThanOrEqual(sent.request.createdAt);
    // The request and both sides of the friendship change together, in one transaction.
    expect(awsRequests.since(beforeAccept).DynamoDB?.TransactWriteItems).toBe(1);
    for (const d of [bobPhone, bobWeb]) {
      const pushes = await d.waitForPushes(2);
      expect(pushes[1]).toEqual(notice(1202, { fromUserId: 'req-alice', toUserId: 'req-bob' }));
    }
    const bobFriends = ok('listFriends', await as('req-bob', 'GET', '/users/req-bob/friends'));
    expect(bobFriends.friends).toEqual([{ friendUserId: 'req-alice', remark: 'Ally', createdAt: accepted.request.handledAt }]);
    expect(bobFriends.nextCursor).toBeNull();
    expect(ok('listFriends', await as('req-alice', 'GET', '/users/req-alice/friends')).friends).toEqual([{ friendUserId: 'req-bob', createdAt: accepted.request.handledAt }]);
    expect(ok('checkFriend', await as('req-bob', 'GET', '/users/req-bob/friends/req-alice'))).toEqual({ isFriend: true, remark: 'Ally' });
    expect(ok('checkFriend', await as('req-alice', 'GET', '/users/req-alice/friends/req-bob'))).toEqual({ isFriend: true });
    expect(ok('countUnhandledFriendRequests', await as('req-bob', 'GET', '/users/req-bob/friend-requests/unhandled-count'))).toEqual({ count: 0 });
    expect(ok('listFriendRequests', await as('req-bob', 'GET', '/users/req-bob/friend-requests')).requests).toEqual([accepted.request]);

    // A device that was offline catches up from the notification conversation.
    const bobLater = await device('req-bob', 2);
    expect(await syncedNotifications(bobLater, 'req-bob')).toEqual([notice(1201, requested), notice(1202, { fromUserId: 'req-alice', toUserId: 'req-bob' })]);
    const alice = await device('req-alice');
    expect(await syncedNotifications(alice, 'req-alice')).toEqual([notice(1201, requested), notice(1202, { fromUserId: 'req-alice', toUserId: 'req-bob' })]);
    // Alice caused the first notification, so she has read it; Bob's acceptance is unread for her.
    const aliceRow = await eventually(async () => {
      const c = await convOf(alice, 'n_req-alice');
      return c?.readSeq === 1 && c;
    });
    expect(aliceRow).toMatchObject({ maxSeq: 2, unread: 1 });
  });

  it('refuse with a reason; the request stays refused, cannot be answered twice, and may be made again', async () => {
    await admin.register('ref-ann', 'ref-ben');
    const ann = await device('ref-ann');
    ok('sendFriendRequest', await as('ref-ann', 'POST', '/users/ref-ann/friend-requests', { toUserId: 'ref-ben', message: 'coffee?' }));

    const refused = ok('refuseFriendRequest', await as('ref-ben', 'POST', '/users/ref-ben/friend-requests/ref-ann/refuse', { message: 'no thanks' }));

    expect(refused.request).toMatchObject({ fromUserId: 'ref-ann', toUserId: 'ref-ben', status: 'refused', handleMessage: 'no thanks' });
    const pushes = await ann.waitForPushes(2);
    expect(pushes[1]).toEqual(notice(1203, { fromUserId: 'ref-ann', toUserId: 'ref-ben', message: 'no thanks' }));
    fails(await as('ref-ben', 'POST', '/users/ref-ben/friend-requests/ref-ann/accept', {}), 404, 'REQUEST_NOT_FOUND');
    fails(await as('ref-ben', 'POST', '/users/ref-ben/friend-requests/ref-ann/refuse', {}), 404, 'REQUEST_NOT_FOUND');
    expect(ok('checkFriend', await as('ref-ann', 'GET', '/users/ref-ann/friends/ref-ben')).isFriend).toBe(false);
    expect(ok('listFriendRequests', await as('ref-ann', 'GET', '/users/ref-ann/friend-requests?direction=outgoing')).requests).toEqual([refused.request]);
    expect(ok('countUnhandledFriendRequests', await as('ref-ben', 'GET', '/users/ref-ben/friend-requests/unhandled-count')).count).toBe(0);

    const again = ok('sendFriendRequest', await as('ref-ann', 'POST', '/users/ref-ann/friend-requests', { toUserId: 'ref-ben', message: 'tea then?' }));
    expect(again.request).toMatchObject({ status: 'pending', message: 'tea then?' });
    expect(again.request.handledAt).toBeUndefined();
    expect(ok('countUnhandledFriendRequests', await as('ref-ben', 'GET', '/users/ref-ben/friend-requests/unhandled-count')).count).toBe(1);
  });

  it('are answered once when accepted and refused at the same moment, and the friendship matches the answer that won', async () => {
    const pairs = ['race-1', 'race-2', 'race-3', 'race-4'];
    await admin.register('race-r', ...pairs);
    for (const from of pairs) ok('sendFriendRequest', await as(from, 'POST', `/users/${from}/friend-requests`, { toUserId: 'race-r', message: 'quick' }));

    for (const from of pairs) {
      const answers = await Promise.all([
        as('race-r', 'POST', `/users/race-r/friend-requests/${from}/accept`, {}),
        as('race-r', 'POST', `/users/race-r/friend-requests/${from}/accept`, {}),
        as('race-r', 'POST', `/users/race-r/friend-requests/${from}/refuse`, {}),
      ]);
      const won = answers.filter((a) => a.status === 200);
      expect(won).toHaveLength(1);
      for (const lost of answers.filter((a) => a.status !== 200)) fails(lost, 404, 'REQUEST_NOT_FOUND');
      const friends = ok('checkFriend', await as(from, 'GET', `/users/${from}/friends/race-r`)).isFriend;
      expect(friends).toBe(won[0].body.request.status === 'accepted');
    }
    const r = await device('race-r');
    const notes = await notificationsOf(r, 'race-r', pairs.length * 2);
    expect(notes.filter((n) => n.contentType !== 1201)).toHaveLength(pairs.length);
  });

  it('replace the message of a pending request when repeated, notifying again', async () => {
    await admin.register('rep-a', 'rep-b');
    const b = await device('rep-b');
    const first = ok('sendFriendRequest', await as('rep-a', 'POST', '/users/rep-a/friend-requests', { toUserId: 'rep-b', message: 'first' }));

    const second = ok('sendFriendRequest', await as('rep-a', 'POST', '/users/rep-a/friend-requests', { toUserId: 'rep-b', message: 'second' }));

    expect(second.request).toMatchObject({ status: 'pending', message: 'second', createdAt: first.request.createdAt });
    const pushes = await b.waitForPushes(2);
    expect(pushes.map((p) => (p.content as { message: string }).message)).toEqual(['first', 'second']);
    expect(ok('listFriendRequests', await as('rep-b', 'GET', '/users/rep-b/friend-requests')).requests).toEqual([second.request]);
    expect(ok('countUnhandledFriendRequests', await as('rep-b', 'GET', '/users/rep-b/friend-requests/unhandled-count')).count).toBe(1);
  });

  it('make two users who ask each other friends at once, notified as accepted', async () => {
    await admin.register('mut-a', 'mut-b');
    const a = await device('mut-a');
    ok('sendFriendRequest', await as('mut-a', 'POST', '/users/mut-a/friend-requests', { toUserId: 'mut-b', message: 'friends?' }));

    const back = ok('sendFriendRequest', await as('mut-b', 'POST', '/users/mut-b/friend-requests', { toUserId: 'mut-a', message: 'you too?' }));

    expect(back.request).toMatchObject({ fromUserId: 'mut-b', toUserId: 'mut-a', status: 'accepted' });
    expect(ok('checkFriend', await as('mut-a', 'GET', '/users/mut-a/friends/mut-b')).isFriend).toBe(true);
    expect(ok('checkFriend', await as('mut-b', 'GET', '/users/mut-b/friends/mut-a')).isFriend).toBe(true);
    const pushes = await a.waitForPushes(2);
    expect(pushes[1]).toEqual(notice(1202, { fromUserId: 'mut-a', toUserId: 'mut-b' }));
    const aIncoming = ok('listFriendRequests', await as('mut-a', 'GET', '/users/mut-a/friend-requests')).requests;
    const aOutgoing = ok('listFriendRequests', await as('mut-a', 'GET', '/users/mut-a/friend-requests?direction=outgoing')).requests;
    expect([...aIncoming, ...aOutgoing].map((r: { status: string }) => r.status)).toEqual(['accepted', 'accepted']);
    expect(ok('countUnhandledFriendRequests', await as('mut-a', 'GET', '/users/mut-a/friend-requests/unhandled-count')).count).toBe(0);
    const b = await device('mut-b');
    const bNotes = await notificationsOf(b, 'mut-b', 2);
    expect(bNotes.map((n) => n.contentType)).toEqual([1201, 1202]);
  });

  it('are refused toward an unregistered user, oneself and a friend, and by a user who blocked the requester, storing nothing', async () => {
    await admin.register('bad-req-a', 'bad-req-b', 'bad-req-c');
    ok('importFriends', await admin.call('POST', '/friends/import', { userId: 'bad-req-a', friendUserIds: ['bad-req-b'] }));
    ok('addToBlacklist', await as('bad-req-c', 'POST', '/users/bad-req-c/blacklist', { blockedUserId: 'bad-req-a' }));
    const send = (toUserId: string) => as('bad-req-a', 'POST', '/users/bad-req-a/friend-requests', { toUserId, message: 'hello' });

    fails(await send('bad-req-nobody'), 404, 'USER_NOT_FOUND');
    fails(await send('bad-req-a'), 400, 'INVALID_ARGUMENT');
    fails(await send('bad-req-b'), 409, 'ALREADY_EXISTS');
    const blocked = await send('bad-req-c');
    fails(blocked, 403, 'BLOCKED');
    expect(blocked.body.error.code).toBe(1302);

    expect(ok('listFriendRequests', await as('bad-req-a', 'GET', '/users/bad-req-a/friend-requests?direction=outgoing')).requests).toEqual([]);
    expect(ok('listFriendRequests', await as('bad-req-c', 'GET', '/users/bad-req-c/friend-requests')).requests).toEqual([]);
    const c = await device('bad-req-c');
    expect((await syncedNotifications(c, 'bad-req-c')).map((n) => n.contentType)).toEqual([1207]);
  });

  it('page through incoming requests with a cursor, one Query per page', async () => {
    const senders = ['pg-s1', 'pg-s2', 'pg-s3', 'pg-s4', 'pg-s5'];
    await admin.register('pg-r', ...senders);
    for (const s of senders) ok('sendFriendRequest', await as(s, 'POST', `/users/${s}/friend-requests`, { toUserId: 'pg-r', message: s }));

    await settle();
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const before = awsRequests.snapshot();
      const page: any = ok('listFriendRequests', await as('pg-r', 'GET', `/users/pg-r/friend-requests?limit=2${cursor ? `&cursor=${cursor}` : ''}`));
      expect(awsRequests.since(before).DynamoDB?.Query).toBe(1);
      expect(page.requests.length).toBeLessThanOrEqual(2);
      seen.push(...page.requests.map((r: { fromUserId: string }) => r.fromUserId));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 10);

    expect(seen).toEqual(senders);
    expect(ok('countUnhandledFriendRequests', await as('pg-r', 'GET', '/users/pg-r/friend-requests/unhandled-count')).count).toBe(5);
  });
});

describe('friends', () => {
  it('set a remark that the user sees, and notify both of the user\'s devices; an empty remark clears it', async () => {
    await admin.register('rm-a', 'rm-b');
    ok('importFriends', await admin.call('POST', '/friends/import', { userId: 'rm-a', friendUserIds: ['rm-b'] }));
    const phone = await device('rm-a', 1);
    const web = await device('rm-a', 5);
    const before = (await notificationsOf(phone, 'rm-a', 1)).length;

    const set = ok('setFriendRemark', await as('rm-a', 'PUT', '/users/rm-a/friends/rm-b', { remark: 'Bee' }));

    expect(set.friend).toMatchObject({ friendUserId: 'rm-b', remark: 'Bee' });
    for (const d of [phone, web]) {
      const pushes = await d.waitForPushes(1);
      expect(pushes.at(-1)).toEqual(notice(1206, { userId: 'rm-a', friendUserId: 'rm-b', remark: 'Bee' }));
    }
    expect(ok('checkFriend', await as('rm-a', 'GET', '/users/rm-a/friends/rm-b'))).toEqual({ isFriend: true, remark: 'Bee' });
    expect(ok('checkFriend', await as('rm-b', 'GET', '/users/rm-b/friends/rm-a'))).toEqual({ isFriend: true });
    expect(ok('listFriends', await as('rm-a', 'GET', '/users/rm-a/friends')).friends[0].remark).toBe('Bee');
    const notes = await notificationsOf(phone, 'rm-a', before + 1);
    expect(notes.at(-1)?.contentType).toBe(1206);

    const cleared = ok('setFriendRemark', await as('rm-a', 'PUT', '/users/rm-a/friends/rm-b', { remark: '' }));
    expect(cleared.friend.remark).toBeUndefined();
    expect(ok('checkFriend', await as('rm-a', 'GET', '/users/rm-a/friends/rm-b'))).toEqual({ isFriend: true });
    fails(await as('rm-a', 'PUT', '/users/rm-a/friends/rm-nobody', { remark: 'x' }), 404, 'RELATION_NOT_FOUND');
  });

  it('delete a friendship on both sides and notify both users', async () => {
    await admin.register('del-a', 'del-b');
    ok('importFriends', await admin.call('POST', '/friends/import', { userId: 'del-a', friendUserIds: ['del-b'] }));
    const b = await device('del-b');

    ok('deleteFriend', await as('del-a', 'DELETE', '/users/del-a/friends/del-b'));

    const pushes = await b.waitForPushes(1);
    expect(pushes[0]).toEqual(notice(1205, { opUserId: 'del-a', userId: 'del-a', friendUserId: 'del-b' }));
    expect(ok('checkFriend', await as('del-a', 'GET', '/users/del-a/friends/del-b')).isFriend).toBe(false);
    expect(ok('checkFriend', await as('del-b', 'GET', '/users/del-b/friends/del-a')).isFriend).toBe(false);
    expect(ok('listFriends', await as('del-a', 'GET', '/users/del-a/friends')).friends).toEqual([]);
    expect(ok('listFriends', await as('del-b', 'GET', '/users/del-b/friends')).friends).toEqual([]);
    const a = await device('del-a');
    expect((await notificationsOf(a, 'del-a', 2)).map((n) => n.contentType)).toEqual([1204, 1205]);
    fails(await as('del-a', 'DELETE', '/users/del-a/friends/del-b'), 404, 'RELATION_NOT_FOUND');
  });

  it('import as an admin with a result per item, notifying both sides of each new friendship', async () => {
    await admin.register('imp-u', 'imp-f1', 'imp-f2', 'imp-f3');
    ok('importFriends', await admin.call('POST', '/friends/import', { userId: 'imp-u', friendUserIds: ['imp-f3'] }));
    const f1 = await device('imp-f1');

    const res = ok('importFriends', await admin.call('POST', '/friends/import', { userId: 'imp-u', friendUserIds: ['imp-f1', 'imp-f2', 'imp-nobody', 'imp-u', 'imp-f1', 'imp-f3'] }));

    expect(res.results.map((r: { userId: string; ok: boolean; error?: { reason: string } }) => [r.userId, r.ok ? 'ok' : r.error!.reason])).toEqual([
      ['imp-f1', 'ok'],
      ['imp-f2', 'ok'],
      ['imp-nobody', 'USER_NOT_FOUND'],
      ['imp-u', 'INVALID_ARGUMENT'],
      ['imp-f1', 'INVALID_ARGUMENT'],
      ['imp-f3', 'ALREADY_EXISTS'],
    ]);
    expect(ok('listFriends', await as('imp-u', 'GET', '/users/imp-u/friends')).friends.map((f: { friendUserId: string }) => f.friendUserId)).toEqual(['imp-f1', 'imp-f2', 'imp-f3']);
    for (const f of ['imp-f1', 'imp-f2']) expect(ok('checkFriend', await as(f, 'GET', `/users/${f}/friends/imp-u`)).isFriend).toBe(true);
    const [push] = await f1.waitForPushes(1);
    expect(push).toEqual(notice(1204, { opUserId: '@admin', userId: 'imp-u', friendUserId: 'imp-f1' }));
    const u = await device('imp-u');
    const notes = await notificationsOf(u, 'imp-u', 3);
    expect(notes.map((n) => (n.content as { friendUserId: string }).friendUserId).sort()).toEqual(['imp-f1', 'imp-f2', 'imp-f3']);
    fails(await admin.call('POST', '/friends/import', { userId: 'imp-nobody', friendUserIds: ['imp-f1'] }), 404, 'USER_NOT_FOUND');
  });

  it('page through the friend list and refuse a cursor from another list', async () => {
    const friendIds = ['pf-1', 'pf-2', 'pf-3', 'pf-4', 'pf-5'];
    await admin.register('pf-u', 'pf-v', ...friendIds);
    ok('importFriends', await admin.call('POST', '/friends/import', { userId: 'pf-u', friendUserIds: friendIds }));
    ok('importFriends', await admin.call('POST', '/friends/import', { userId: 'pf-v', friendUserIds: friendIds }));

    const first = ok('listFriends', await as('pf-u', 'GET', '/users/pf-u/friends?limit=2'));
    const second = ok('listFriends', await as('pf-u', 'GET', `/users/pf-u/friends?limit=2&cursor=${first.nextCursor}`));
    const third = ok('listFriends', await as('pf-u', 'GET', `/users/pf-u/friends?limit=2&cursor=${second.nextCursor}`));

    expect([...first.friends, ...second.friends, ...third.friends].map((f: { friendUserId: string }) => f.friendUserId)).toEqual(friendIds);
    fails(await as('pf-v', 'GET', `/users/pf-v/friends?limit=2&cursor=${first.nextCursor}`), 400, 'INVALID_ARGUMENT');
    fails(await as('pf-u', 'GET', '/users/pf-u/friends?cursor=not-a-cursor'), 400, 'INVALID_ARGUMENT');
    fails(await as('pf-u', 'GET', '/users/pf-u/friends?limit=0'), 400, 'INVALID_ARGUMENT');
    fails(await as('pf-u', 'GET', '/users/pf-u/friends?limit=101'), 400, 'INVALID_ARGUMENT');
  });
});

describe('blacklist', () => {
  it('add, list and remove a blocked user, notifying the blocker; duplicates, unknown users and oneself are refused', async () => {
    await admin.register('bl-a', 'bl-b', 'bl-c');
    const a = await device('bl-a');

    const added = ok('addToBlacklist', await as('bl-a', 'POST', '/users/bl-a/blacklist', { blockedUserId: 'bl-b' }));
    ok('addToBlacklist', await as('bl-a', 'POST', '/users/bl-a/blacklist', { blockedUserId: 'bl-c' }));

    expect(added.blocked.blockedUserId).toBe('bl-b');
    const pushes = await a.waitForPushes(2);
    expect(pushes[0]).toEqual(notice(1207, { userId: 'bl-a', blockedUserId: 'bl-b' }));
    const page1 = ok('listBlacklist', await as('bl-a', 'GET', '/users/bl-a/blacklist?limit=1'));
    const page2 = ok('listBlacklist', await as('bl-a', 'GET', `/users/bl-a/blacklist?limit=1&cursor=${page1.nextCursor}`));
    expect([...page1.blacklist, ...page2.blacklist]).toEqual([added.blocked, expect.objectContaining({ blockedUserId: 'bl-c' })]);
    fails(await as('bl-a', 'POST', '/users/bl-a/blacklist', { blockedUserId: 'bl-b' }), 409, 'ALREADY_EXISTS');
    fails(await as('bl-a', 'POST', '/users/bl-a/blacklist', { blockedUserId: 'bl-nobody' }), 404, 'USER_NOT_FOUND');
    fails(await as('bl-a', 'POST', '/users/bl-a/blacklist', { blockedUserId: 'bl-a' }), 400, 'INVALID_ARGUMENT');

    ok('removeFromBlacklist', await as('bl-a', 'DELETE', '/users/bl-a/blacklist/bl-b'));

    const after = await a.waitForPushes(3);
    expect(after[2]).toEqual(notice(1208, { userId: 'bl-a', blockedUserId: 'bl-b' }));
    expect(ok('listBlacklist', await as('bl-a', 'GET', '/users/bl-a/blacklist')).blacklist.map((x: { blockedUserId: string }) => x.blockedUserId)).toEqual(['bl-c']);
    const missing = await as('bl-a', 'DELETE', '/users/bl-a/blacklist/bl-b');
    fails(missing, 404, 'RELATION_NOT_FOUND');
    expect(missing.body.error.code).toBe(1210);
  });

  it("refuses a blocked user's one-to-one message with BLOCKED and stores nothing; after unblocking it is delivered", async () => {
    await admin.register('blm-carol', 'blm-dan');
    const carol = await device('blm-carol');
    const dan = await device('blm-dan');
    ok('addToBlacklist', await as('blm-carol', 'POST', '/users/blm-carol/blacklist', { blockedUserId: 'blm-dan' }));
    const conversationId = singleConversationId('blm-carol', 'blm-dan');

    const refused = await dan.request('sendMsg', { clientMsgId: 'blocked-1', recvId: 'blm-carol', ...text('let me in') });

    expect(refused.error).toMatchObject({ code: 1302, reason: 'BLOCKED' });
    expect(await convOf(carol, conversationId)).toBeUndefined();
    expect(await convOf(dan, conversationId)).toBeUndefined();
    // Carol blocking Dan does not stop Carol writing to Dan.
    await carol.ok('sendMsg', { clientMsgId: 'carol-1', recvId: 'blm-dan', ...text('I can still write') });
    await dan.waitForPushes(1);

    ok('removeFromBlacklist', await as('blm-carol', 'DELETE', '/users/blm-carol/blacklist/blm-dan'));
    const ack = await dan.ok('sendMsg', { clientMsgId: 'blocked-2', recvId: 'blm-carol', ...text('thanks') });

    expect(ack).toMatchObject({ conversationId, seq: 2 });
    const pushed = await carol.until(() => carol.pushes.find((p) => p.conversationId === conversationId && p.senderId === 'blm-dan'), 15_000, "Dan's message");
    expect(pushed.content).toEqual({ text: 'thanks' });
    const synced = await syncConversation(carol, conversationId, 2);
    expect(synced.messages.map((m) => m.senderId)).toEqual(['blm-carol', 'blm-dan']);
  });

  it('keeps a friendship when blocking, as OpenIM does, and blocks friend requests of the blocked user only', async () => {
    await admin.register('blf-a', 'blf-b', 'blf-c');
    ok('importFriends', await admin.call('POST', '/friends/import', { userId: 'blf-a', friendUserIds: ['blf-b'] }));

    ok('addToBlacklist', await as('blf-a', 'POST', '/users/blf-a/blacklist', { blockedUserId: 'blf-b' }));
    ok('addToBlacklist', await as('blf-a', 'POST', '/users/blf-a/blacklist', { blockedUserId: 'blf-c' }));

    expect(ok('checkFriend', await as('blf-a', 'GET', '/users/blf-a/friends/blf-b')).isFriend).toBe(true);
    fails(await as('blf-c', 'POST', '/users/blf-c/friend-requests', { toUserId: 'blf-a', message: 'please' }), 403, 'BLOCKED');
    // The blocker may still ask the blocked user.
    expect(ok('sendFriendRequest', await as('blf-a', 'POST', '/users/blf-a/friend-requests', { toUserId: 'blf-c', message: 'sorry' })).request.status).toBe('pending');
    expect(ok('listFriendRequests', await as('blf-a', 'GET', '/users/blf-a/friend-requests')).requests).toEqual([]);
  });
});

describe('authorization', () => {
  it("refuses another user's token on self routes (403), a missing token (401), a user token on the admin import (403), and lets an admin act for a user", async () => {
    await admin.register('auth-a', 'auth-b', 'auth-c');
    ok('sendFriendRequest', await as('auth-b', 'POST', '/users/auth-b/friend-requests', { toUserId: 'auth-a', message: 'hi' }));
    const cases: [string, string, unknown?][] = [
      ['POST', '/users/auth-a/friend-requests', { toUserId: 'auth-c', message: 'x' }],
      ['GET', '/users/auth-a/friend-requests'],
      ['GET', '/users/auth-a/friend-requests/unhandled-count'],
      ['POST', '/users/auth-a/friend-requests/auth-b/accept', {}],
      ['POST', '/users/auth-a/friend-requests/auth-b/refuse', {}],
      ['GET', '/users/auth-a/friends'],
      ['GET', '/users/auth-a/friends/auth-b'],
      ['PUT', '/users/auth-a/friends/auth-b', { remark: 'x' }],
      ['DELETE', '/users/auth-a/friends/auth-b'],
      ['POST', '/users/auth-a/blacklist', { blockedUserId: 'auth-b' }],
      ['DELETE', '/users/auth-a/blacklist/auth-b'],
      ['GET', '/users/auth-a/blacklist'],
    ];
    for (const [method, path, body] of cases) {
      const other = await as('auth-c', method, path, body);
      expect(other.status, `${method} ${path}`).toBe(403);
      expect(other.body.error.reason).toBe('FORBIDDEN');
      const anonymous = await admin.call(method, path, body, null);
      expect(anonymous.status, `${method} ${path}`).toBe(401);
      expect(anonymous.body.error.reason).toBe('TOKEN_MISSING');
    }
    // The requester cannot accept their own request by acting on the recipient's path.
    expect((await as('auth-b', 'POST', '/users/auth-a/friend-requests/auth-b/accept', {})).status).toBe(403);
    fails(await as('auth-a', 'POST', '/friends/import', { userId: 'auth-a', friendUserIds: ['auth-c'] }), 403, 'ADMIN_REQUIRED');
    expect(ok('countUnhandledFriendRequests', await as('auth-a', 'GET', '/users/auth-a/friend-requests/unhandled-count')).count).toBe(1);

    const byAdmin = ok('acceptFriendRequest', await admin.call('POST', '/users/auth-a/friend-requests/auth-b/accept', {}));

    expect(byAdmin.request.status).toBe('accepted');
    expect(ok('checkFriend', await admin.call('GET', '/users/auth-b/friends/auth-a')).isFriend).toBe(true);
    // An admin acting reads nobody's notifications: both users have the acceptance unread.
    const a = await device('auth-a');
    const row = await eventually(async () => {
      const c = await convOf(a, 'n_auth-a');
      return c?.maxSeq === 2 && c;
    });
    await sleep(200);
    expect((await convOf(a, 'n_auth-a'))?.readSeq).toBe(0);
    expect(row.unread).toBe(2);
  });
});

describe('bad input', () => {
  it('answers malformed bodies, bad ids, oversized messages and bad queries with clear codes and stores nothing', async () => {
    await admin.register('in-a', 'in-b');
    const post = (body: unknown) => as('in-a', 'POST', '/users/in-a/friend-requests', body);

    fails(await post('{"toUserId": '), 400, 'MALFORMED_FRAME');
    fails(await post({ message: 'no target' }), 400, 'INVALID_ARGUMENT');
    fails(await post({ toUserId: 'in-b', message: 'x'.repeat(256) }), 400, 'INVALID_ARGUMENT');
    fails(await post({ toUserId: 'in-b', message: 'hi', extra: true }), 400, 'INVALID_ARGUMENT');
    fails(await post({ toUserId: 'in_b', message: 'hi' }), 400, 'INVALID_ARGUMENT');
    fails(await post({ toUserId: 'in-b', message: 42 }), 400, 'INVALID_ARGUMENT');
    fails(await as('in-a', 'GET', '/users/in-a/friend-requests?direction=sideways'), 400, 'INVALID_ARGUMENT');
    fails(await as('in-a', 'GET', '/users/in-a/friend-requests?bogus=1'), 400, 'INVALID_ARGUMENT');
    fails(await as('in-a', 'PUT', '/users/in-a/friends/in-b', { remark: 'r'.repeat(256) }), 400, 'INVALID_ARGUMENT');
    fails(await as('in-a', 'POST', '/users/in-a/blacklist', {}), 400, 'INVALID_ARGUMENT');
    fails(await admin.call('GET', '/users/in_a/friends'), 400, 'INVALID_ARGUMENT');
    fails(await admin.call('POST', '/friends/import', { userId: 'in-a', friendUserIds: [] }), 400, 'INVALID_ARGUMENT');
    fails(await admin.call('POST', '/friends/import', { userId: 'in-a', friendUserIds: Array.from({ length: 1001 }, (_, i) => `in-x${i}`) }), 400, 'INVALID_ARGUMENT');
    fails(await admin.call('POST', '/users/in-nobody/friend-requests', { toUserId: 'in-b', message: 'hi' }), 404, 'USER_NOT_FOUND');
    fails(await as('in-a', 'POST', '/users/in-a/friend-requests/in-b/accept', { remark: 'r'.repeat(256) }), 400, 'INVALID_ARGUMENT');
    fails(await as('in-a', 'POST', '/users/in-a/friend-requests/in-nobody/accept', {}), 404, 'REQUEST_NOT_FOUND');

    expect(ok('listFriendRequests', await as('in-a', 'GET', '/users/in-a/friend-requests?direction=outgoing')).requests).toEqual([]);
    expect(ok('listFriendRequests', await as('in-b', 'GET', '/users/in-b/friend-requests')).requests).toEqual([]);
    expect(ok('listFriends', await as('in-a', 'GET', '/users/in-a/friends')).friends).toEqual([]);
    expect(ok('listBlacklist', await as('in-a', 'GET', '/users/in-a/blacklist')).blacklist).toEqual([]);
    for (const user of ['in-a', 'in-b']) expect(await convOf(await device(user), `n_${user}`)).toBeUndefined();
  });
});

describe('DynamoDB usage', () => {
  it('never scanned a table in any of the tests above', () => {
    expect(awsRequests.since(atStart).DynamoDB?.Query).toBeGreaterThan(0);
    expect(awsRequests.since(atStart).DynamoDB?.Scan).toBeUndefined();
  });
});
