/**
 * Limits against abuse on a real local runtime, with real WebSocket and HTTP clients: the
 * token buckets per connection, per user and per HTTP caller; the window held across
 * containers through the state the archive function persists (`throttledUntil`); a group's
 * slow mode. A refusal is THROTTLED with retryAfterMs (HTTP: 429 and Retry-After) and stores
 * nothing. The limits are set per test through LIMITS, which the functions read on use.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { Device, eventually, sleep } from '../support/cirrus';
import { admin, as, cirrus, device, text, token, useCirrus } from '../support/harness';
import { awsRequests } from '../../core/aws/accounting';
import { ddb } from '../../core/aws/dynamodb';
import { metering } from '../../local/metering';
import { DEFAULT_LIMITS, type LimitSettings } from '../../core/domain/limits';
import { CallerLimiter, flushEvery, HTTP_WINDOW_MS, httpAllowance } from '../../core/services/limits';

useCirrus({ streamOverrides: { messageArchive: { maxBatchingWindowSeconds: 1 } } });

const saved = process.env.LIMITS;
afterAll(() => {
  if (saved === undefined) delete process.env.LIMITS;
  else process.env.LIMITS = saved;
});

/** Limits for one test: the buckets and the window given, everything else off. */
function setLimits(limits: Partial<LimitSettings>): void {
  const off = { perSecond: 0, burst: 1 };
  process.env.LIMITS = JSON.stringify({ connection: off, user: off, http: off, window: { messages: 0, seconds: 60, throttleSeconds: 60 }, ...limits });
}

/** The user's view of a conversation (getNewestSeq's entry). */
async function seqOf(d: Device, conversationId: string): Promise<{ maxSeq: number; unread: number } | undefined> {
  const newest = await d.ok('getNewestSeq', {});
  return newest.conversations.find((c: { conversationId: string }) => c.conversationId === conversationId);
}

/** A fresh clientMsgId per send. */
let n = 0;
const cid = (p: string) => `${p}-${++n}`;

/** Sends `count` messages at once and splits the replies. */
async function flood(d: Device, count: number, to: { recvId: string } | { groupId: string }, prefix: string) {
  const replies = await Promise.all(Array.from({ length: count }, () => d.request('sendMsg', { clientMsgId: cid(prefix), ...to, ...text(prefix) })));
  return { accepted: replies.filter((r) => r.data), refused: replies.filter((r) => r.error) };
}

beforeAll(async () => {
  await admin.register('fl-alice', 'fl-bob', 'fl-carol', 'fl-dave', 'cx-eve', 'cx-finn', 'sm-owner', 'sm-erin', 'sm-frank', 'ht-gina', 'ht-hugo', 'hw-ian', 'hw-jude', 'ty-kim', 'ty-lou', 'ty-mia', 'ty-ned', 'hx-iva', 'hx-jon');
});

describe('sending too fast (the buckets of each container)', () => {
  it('holds a flooding connection and user to their burst, refuses the rest with THROTTLED and retryAfterMs, stores nothing for them, and leaves another user unaffected', async () => {
    // One token per 50 s: within this test the buckets hold their burst and nothing more.
    setLimits({ connection: { perSecond: 0.02, burst: 3 }, user: { perSecond: 0.02, burst: 5 } });
    const alice = await device('fl-alice', 5);
    const alice2 = await device('fl-alice', 1);
    const bob = await device('fl-bob');
    const carol = await device('fl-carol');

    const [first, others] = await Promise.all([flood(alice, 10, { recvId: 'fl-bob' }, 'flood'), flood(carol, 3, { recvId: 'fl-dave' }, 'other')]);
    // The connection's burst.
    expect(first.accepted).toHaveLength(3);
    expect(first.refused).toHaveLength(7);
    for (const r of first.refused) {
      expect(r.error).toMatchObject({ reason: 'THROTTLED', code: 1502, retryable: true });
      expect(r.error!.retryAfterMs).toBeGreaterThan(1000);
      expect(r.error!.retryAfterMs).toBeLessThanOrEqual(50_000);
    }
    // Another user's sends in the same moment: all accepted.
    expect(others.accepted).toHaveLength(3);

    // The user's burst is shared by their connections: 2 left of 5.
    const second = await flood(alice2, 4, { recvId: 'fl-bob' }, 'flood2');
    expect(second.accepted).toHaveLength(2);
    expect(second.refused.map((r) => r.error?.reason)).toEqual(['THROTTLED', 'THROTTLED']);

    // Nothing stored for a refused send: no seq, no push, no unread.
    const seqs = [...first.accepted, ...second.accepted].map((r) => r.data.seq).sort((a, b) => a - b);
    expect(seqs).toEqual([1, 2, 3, 4, 5]);
    await bob.waitForPushes(5);
    await sleep(300);
    expect(bob.pushes).toHaveLength(5);
    expect(await seqOf(bob, 'si_fl-alice_fl-bob')).toMatchObject({ maxSeq: 5, unread: 5 });

    // Bob, sending back in the same period, is not held by alice's buckets.
    const back = await flood(bob, 3, { recvId: 'fl-alice' }, 'back');
    expect(back.accepted).toHaveLength(3);
  });

  it('lets the user send again once the retryAfterMs it was given has passed', async () => {
    setLimits({ connection: { perSecond: 1, burst: 1 } });
    const d = await device('fl-dave');
    // At once: one takes the only token, the other is told when the next one comes.
    const { accepted, refused: [refused] } = await flood(d, 2, { recvId: 'fl-carol' }, 'again');
    expect(accepted).toHaveLength(1);
    expect(refused.error?.reason).toBe('THROTTLED');
    const wait = refused.error!.retryAfterMs!;
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(1000);
    await sleep(wait + 20);
    await d.ok('sendMsg', { clientMsgId: cid('again'), recvId: 'fl-carol', ...text('three') });
  });
});

describe('the window held across containers (the archive throttles; the send path reads it)', () => {
  it('throttles a user over the window in every container and channel until throttleSeconds pass, through throttledUntil alone, and lists them for admins', async () => {
    // No bucket: only the persisted state can refuse.
    setLimits({ window: { messages: 5, seconds: 60, throttleSeconds: 10 } });
    await admin.createGroup('cx-group', 'cx-finn', ['cx-eve']);
    await admin.createGroup('cx-other', 'cx-finn', ['cx-eve']);
    const eve = await device('cx-eve');
    const finn = await device('cx-finn');
    for (let i = 0; i < 4; i += 1) await eve.ok('sendMsg', { clientMsgId: cid('cx'), recvId: 'cx-finn', ...text(`1:1 ${i}`) });
    for (let i = 0; i < 4; i += 1) await eve.ok('sendMsg', { clientMsgId: cid('cx'), groupId: 'cx-group', ...text(`group ${i}`) });
    // The archive function saw 8 > 5 within the window: throttledUntil on the user item and on the membership of the group flooded.
    const item = (key: Record<string, string>, table: 'users' | 'groupMembers') =>
      ddb().send(new GetCommand({ TableName: cirrus.tableNames[table], Key: key, ConsistentRead: true }));
    const until = await eventually(async () => Number((await item({ userId: 'cx-eve' }, 'users')).Item?.throttledUntil ?? 0) || undefined);
    expect(until).toBeGreaterThan(Date.now());
    expect((await item({ groupId: 'cx-group', userId: 'cx-eve' }, 'groupMembers')).Item?.throttledUntil).toBe(until);

    // A new connection (any container): refused from the user item the 1:1 precheck reads anyway.
    const eve2 = await device('cx-eve', 1);
    const oneToOne = await eve2.request('sendMsg', { clientMsgId: cid('cx'), recvId: 'cx-finn', ...text('refused') });
    expect(oneToOne.error).toMatchObject({ reason: 'THROTTLED' });
    expect(oneToOne.error!.retryAfterMs).toBeGreaterThan(0);
    expect(oneToOne.error!.retryAfterMs).toBeLessThanOrEqual(10_000);
    // Into the group: from the member item the group precheck reads anyway.
    expect((await eve2.request('sendMsg', { clientMsgId: cid('cx'), groupId: 'cx-group', ...text('refused') })).error?.reason).toBe('THROTTLED');
    // The app backend sending as the user: 429 with Retry-After.
    const http = await fetch(`${cirrus.apiUrl}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await admin.adminToken()}` },
      body: JSON.stringify({ sendId: 'cx-eve', recvId: 'cx-finn', ...text('refused') }),
    });
    expect(http.status).toBe(429);
    expect(Number(http.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(http.headers.get('retry-after'))).toBeLessThanOrEqual(10);
    expect((await http.json()).error).toMatchObject({ reason: 'THROTTLED', code: 1502 });
    // Nothing stored for the refusals; finn, in the same conversations, still sends.
    expect(await seqOf(finn, 'si_cx-eve_cx-finn')).toMatchObject({ maxSeq: 4 });
    await finn.ok('sendMsg', { clientMsgId: cid('cx'), recvId: 'cx-eve', ...text('finn is fine') });
    await finn.ok('sendMsg', { clientMsgId: cid('cx'), groupId: 'cx-group', ...text('finn is fine') });

    // Admins see who is throttled, and the limits in force.
    const shown = await admin.call('GET', '/admin/limits');
    expect(shown.status).toBe(200);
    expect(shown.body.limits.window).toEqual({ messages: 5, seconds: 60, throttleSeconds: 10 });
    expect(shown.body.throttled).toEqual([expect.objectContaining({ userId: 'cx-eve', until, groupIds: ['cx-group'], windowSeconds: 60 })]);
    expect(shown.body.throttled[0].messages).toBeGreaterThan(5);

    // A group they had not flooded: its membership does not carry the throttle yet, so a send gets through
    // (the detection lag); the archive sees it and throttles that membership too.
    await eve2.ok('sendMsg', { clientMsgId: cid('cx'), groupId: 'cx-other', ...text('elsewhere') });
    await eventually(async () => Number((await item({ groupId: 'cx-other', userId: 'cx-eve' }, 'groupMembers')).Item?.throttledUntil ?? 0) > Date.now() || undefined);
    expect((await eve2.request('sendMsg', { clientMsgId: cid('cx'), groupId: 'cx-other', ...text('refused') })).error?.reason).toBe('THROTTLED');

    // After throttledUntil (pushed later by the send that got through) the same user sends again.
    const end = Number((await item({ userId: 'cx-eve' }, 'users')).Item?.throttledUntil);
    expect(end).toBeGreaterThanOrEqual(until);
    await sleep(end - Date.now() + 50);
    await eve2.ok('sendMsg', { clientMsgId: cid('cx'), recvId: 'cx-finn', ...text('back') });
    expect((await admin.call('GET', '/admin/limits')).body.throttled.map((t: { userId: string; until: number }) => t.until > Date.now() && t.userId).filter(Boolean)).not.toContain('cx-eve');
  });
});

describe('typing indicators and changes of messages', () => {
  it('holds typing to its own bucket per connection, answered THROTTLED with retryAfterMs; the same user\'s other connection and other users are not held', async () => {
    setLimits({ typing: { perSecond: 0.02, burst: 2 } });
    const kim = await device('ty-kim', 5);
    const kim2 = await device('ty-kim', 1);
    const lou = await device('ty-lou');
    const replies = [];
    for (let i = 0; i < 4; i += 1) replies.push(await kim.request('typing', { recvId: 'ty-lou', typing: i % 2 === 0 }));
    expect(replies.map((r) => (r.error ? r.error.reason : 'ok'))).toEqual(['ok', 'ok', 'THROTTLED', 'THROTTLED']);
    expect(replies[2].error).toMatchObject({ code: 1502, retryable: true });
    expect(replies[2].error!.retryAfterMs).toBeGreaterThan(1000);
    expect(replies[2].error!.retryAfterMs).toBeLessThanOrEqual(50_000);
    // Only the indicators that passed reached lou.
    await sleep(300);
    expect(lou.frames.filter((f) => (f as { push?: string }).push === 'typing')).toHaveLength(2);
    expect((await kim2.request('typing', { recvId: 'ty-lou', typing: true })).error).toBeUndefined();
    expect((await lou.request('typing', { recvId: 'ty-kim', typing: true })).error).toBeUndefined();
    // Sends are not held by the typing bucket.
    await kim.ok('sendMsg', { clientMsgId: cid('ty'), recvId: 'ty-lou', ...text('still sends') });
  });

  it('holds changes of messages (reactions) to the connection\'s send bucket', async () => {
    setLimits({ connection: { perSecond: 0.02, burst: 3 } });
    const mia = await device('ty-mia', 5);
    await device('ty-ned');
    const sent = await mia.ok('sendMsg', { clientMsgId: cid('re'), recvId: 'ty-ned', ...text('react to me') });
    const ref = { conversationId: sent.conversationId, seq: sent.seq };
    const replies = [];
    for (const emoji of ['a', 'b', 'c']) replies.push(await mia.request('reactMsg', { ...ref, emoji, reacted: true }));
    expect(replies.map((r) => (r.error ? r.error.reason : 'ok'))).toEqual(['ok', 'ok', 'THROTTLED']);
    expect(replies[2].error!.retryAfterMs).toBeGreaterThan(1000);
  });
});

describe('POST /messages in the sending window (counted from the stream records, like sendMsg)', () => {
  it('throttles a user whose app backend sends too many messages as them, across channels; the marker is not part of the message', async () => {
    setLimits({ window: { messages: 3, seconds: 60, throttleSeconds: 10 } });
    const send = async (text_: string) =>
      fetch(`${cirrus.apiUrl}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${await admin.adminToken()}` },
        body: JSON.stringify({ sendId: 'hw-ian', recvId: 'hw-jude', ...text(text_) }),
      });
    for (let i = 0; i < 4; i += 1) expect((await send(`as ian ${i}`)).status).toBe(200);
    const until = await eventually(async () => Number((await ddb().send(new GetCommand({ TableName: cirrus.tableNames.users, Key: { userId: 'hw-ian' }, ConsistentRead: true }))).Item?.throttledUntil ?? 0) || undefined);
    expect(until).toBeGreaterThan(Date.now());
    // Held in every channel: the app backend's next send as them, and their own WebSocket send.
    expect((await send('refused')).status).toBe(429);
    const ian = await device('hw-ian');
    expect((await ian.request('sendMsg', { clientMsgId: cid('hw'), recvId: 'hw-jude', ...text('refused') })).error?.reason).toBe('THROTTLED');
    // The marker the archive counts by is not part of the message anyone receives or syncs.
    const jude = await device('hw-jude');
    const pulled = await jude.ok('pullMsgs', { conversationId: 'si_hw-ian_hw-jude', fromSeq: 1, toSeq: 4 });
    expect(pulled.messages).toHaveLength(4);
    for (const m of pulled.messages) expect(m).not.toHaveProperty('limited');
    // Another user the same backend sends as is not held.
    expect((await fetch(`${cirrus.apiUrl}/messages`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${await admin.adminToken()}` }, body: JSON.stringify({ sendId: 'hw-jude', recvId: 'hw-ian', ...text('fine') }) })).status).toBe(200);
  });
});

describe("a group's slow mode", () => {
  it('refuses a member\'s second message within the interval with THROTTLED and retryAfterMs, stores nothing for it, and accepts after; the owner, admins and other members are not held', async () => {
    setLimits({});
    await admin.createGroup('sm-group', 'sm-owner', ['sm-erin', 'sm-frank']);
    // The owner sets it (announced as groupInfoSet).
    const set = await as('sm-owner', 'PUT', '/groups/sm-group', { slowModeSeconds: 5 });
    expect(set.status).toBe(200);
    expect(set.body.group.slowModeSeconds).toBe(5);
    // An ordinary member may not.
    expect((await as('sm-erin', 'PUT', '/groups/sm-group', { slowModeSeconds: 0 })).status).toBe(403);
    const erin = await device('sm-erin');
    const frank = await device('sm-frank');
    const owner = await device('sm-owner');
    const conversationId = 'sg_sm-group';
    const before = (await seqOf(frank, conversationId))!;

    const firstId = cid('sm');
    const first = await erin.ok('sendMsg', { clientMsgId: firstId, groupId: 'sm-group', ...text('first') });
    const second = await erin.request('sendMsg', { clientMsgId: cid('sm'), groupId: 'sm-group', ...text('too soon') });
    expect(second.error).toMatchObject({ reason: 'THROTTLED', code: 1502, retryable: true });
    const wait = second.error!.retryAfterMs!;
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(5000);
    // A resend of the accepted one (its ack was lost) is answered with its ack, not held.
    expect((await erin.ok('sendMsg', { clientMsgId: firstId, groupId: 'sm-group', ...text('first') })).seq).toBe(first.seq);
    // No seq allocated, no unread for the others.
    expect(await seqOf(frank, conversationId)).toMatchObject({ maxSeq: first.seq, unread: before.unread + 1 });
    // Another member, and the owner (twice), in the same interval.
    await frank.ok('sendMsg', { clientMsgId: cid('sm'), groupId: 'sm-group', ...text('frank') });
    await owner.ok('sendMsg', { clientMsgId: cid('sm'), groupId: 'sm-group', ...text('owner 1') });
    await owner.ok('sendMsg', { clientMsgId: cid('sm'), groupId: 'sm-group', ...text('owner 2') });
    // Concurrent sends of one member from two connections: one passes (one conditional write each).
    await sleep(5100);
    const erin2 = await device('sm-erin', 1);
    const [a, b] = await Promise.all([flood(erin, 3, { groupId: 'sm-group' }, 'race'), flood(erin2, 3, { groupId: 'sm-group' }, 'race')]);
    expect(a.accepted.length + b.accepted.length).toBe(1);
    expect([...a.refused, ...b.refused].every((r) => r.error?.reason === 'THROTTLED')).toBe(true);
    // After the interval: accepted.
    await sleep(5100);
    await erin.ok('sendMsg', { clientMsgId: cid('sm'), groupId: 'sm-group', ...text('later') });
    // An admin token turns it off; then the member sends twice at once.
    const off = await admin.call('PUT', '/groups/sm-group', { slowModeSeconds: 0 });
    expect(off.body.group.slowModeSeconds).toBe(0);
    await erin.ok('sendMsg', { clientMsgId: cid('sm'), groupId: 'sm-group', ...text('free 1') });
    await erin.ok('sendMsg', { clientMsgId: cid('sm'), groupId: 'sm-group', ...text('free 2') });
    // Out of range: refused.
    expect((await admin.call('PUT', '/groups/sm-group', { slowModeSeconds: 86_401 })).status).toBe(400);
  });
});

describe('HTTP requests per caller', () => {
  it('answers 429 with Retry-After to a user token over its rate; other users and admin tokens are not held; without a token, per source address', async () => {
    setLimits({ http: { perSecond: 0.02, burst: 3 } });
    const call = async (t: string | undefined, method: string, path: string, body?: unknown) =>
      fetch(`${cirrus.apiUrl}${path}`, { method, headers: { 'content-type': 'application/json', ...(t ? { authorization: `Bearer ${t}` } : {}) }, body: body === undefined ? undefined : JSON.stringify(body) });
    const gina = await token('ht-gina');
    const hugo = await token('ht-hugo');
    const statuses = [];
    for (let i = 0; i < 5; i += 1) statuses.push((await call(gina, 'GET', '/users/ht-gina')).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const refused = await call(gina, 'GET', '/users/ht-gina');
    expect(refused.status).toBe(429);
    const after = Number(refused.headers.get('retry-after'));
    expect(after).toBeGreaterThan(1);
    expect(after).toBeLessThanOrEqual(50);
    // A browser app may read it (CORS).
    expect(refused.headers.get('access-control-expose-headers')).toBe('retry-after');
    const body = await refused.json();
    expect(body.error).toMatchObject({ reason: 'THROTTLED', code: 1502, retryable: true });
    expect(Math.ceil(body.error.retryAfterMs / 1000)).toBe(after);
    // Another user in the same period, and an admin token (many calls).
    expect((await call(hugo, 'GET', '/users/ht-hugo')).status).toBe(200);
    for (let i = 0; i < 5; i += 1) expect((await admin.call('GET', '/users/ht-gina')).status).toBe(200);
    // No token: by source address (here, every caller of the test is one address).
    const wrong = [];
    for (let i = 0; i < 4; i += 1) wrong.push((await call(undefined, 'POST', '/auth/admin-token', { secret: 'not-the-secret' })).status);
    expect(wrong).toEqual([401, 401, 401, 429]);
  });
});

describe('HTTP callers across containers (a shared count per minute, written by busy callers only)', () => {
  /** Outcome of one check: 'ok', or the refusal's retryAfterMs. */
  const outcome = (limiter: CallerLimiter, caller: string, limit: { perSecond: number; burst: number }, now: number) =>
    limiter.check(caller, limit, now).then(
      () => 'ok' as const,
      (err: { reason?: string; retryAfterMs?: number }) => {
        expect(err.reason).toBe('THROTTLED');
        return err.retryAfterMs ?? -1;
      },
    );
  const sharedCount = async (caller: string, now: number) =>
    (await ddb().send(new GetCommand({ TableName: cirrus.tableNames.sessions, Key: { userId: `#http|${caller}`, sessionId: String(Math.floor(now / HTTP_WINDOW_MS)) }, ConsistentRead: true }))).Item;

  it('holds a caller spread over several containers to the minute\'s allowance (plus at most half a burst per container), refuses until the minute ends, leaves other callers alone, and writes nothing for a quiet caller', async () => {
    // 0.05 a second, burst 4: 7 requests a minute over all containers; each container's bucket alone would allow 4.
    const limit = { perSecond: 0.05, burst: 4 };
    expect([httpAllowance(limit), flushEvery(limit)]).toEqual([7, 2]);
    // A minute of its own, 30 s in: no other test's count.
    const now = (Math.floor(Date.now() / HTTP_WINDOW_MS) + 1000) * HTTP_WINDOW_MS + 30_000;
    const containers = ['c1', 'c2', 'c3', 'c4'].map((name) => new CallerLimiter(`x-${name}`));

    // A caller with one request in each container: nothing written.
    for (const c of containers) expect(await outcome(c, 'u|quiet', limit, now)).toBe('ok');
    expect(await sharedCount('u|quiet', now)).toBeUndefined();

    // A flood, round robin over the four containers (16 would pass their buckets alone).
    const results: (string | number)[] = [];
    for (let round = 0; round < 4; round += 1) for (const c of containers) results.push(await outcome(c, 'u|flood', limit, now));
    const accepted = results.filter((r) => r === 'ok').length;
    expect(accepted).toBeLessThanOrEqual(httpAllowance(limit) + containers.length * (flushEvery(limit) - 1));
    expect(accepted).toBe(10);
    // Refused until the minute ends (30 s from now), in every container, with no further write.
    const written = Number((await sharedCount('u|flood', now))?.n);
    expect(written).toBeGreaterThan(httpAllowance(limit));
    for (const c of containers) expect(await outcome(c, 'u|flood', { perSecond: 0.05, burst: 4 }, now + 1000)).toBe(29_000);
    expect(Number((await sharedCount('u|flood', now))?.n)).toBe(written);
    // A container that had not served the caller learns it at its first write.
    const fifth = new CallerLimiter('x-c5');
    expect(await outcome(fifth, 'u|flood', limit, now)).toBe('ok');
    expect(await outcome(fifth, 'u|flood', limit, now)).toBe(30_000);
    // Another caller in the same containers, in the same minute: not held.
    for (const c of containers) expect(await outcome(c, 'u|other', limit, now)).toBe('ok');
    // The next minute: served again.
    expect(await outcome(containers[0], 'u|flood', limit, now + HTTP_WINDOW_MS)).toBe('ok');
    // The counter item expires through the table's TTL.
    expect(Number((await sharedCount('u|flood', now))?.expiresAt)).toBeGreaterThan(Math.floor(now / 1000));
  });

  it('over the real HTTP API: a user token flooding the four HTTP functions is held across them with 429 and Retry-After; another user is not', async () => {
    setLimits({ http: { perSecond: 0.02, burst: 4 } });
    // Not across a minute's boundary (the count is per minute).
    const left = HTTP_WINDOW_MS - (Date.now() % HTTP_WINDOW_MS);
    if (left < 15_000) await sleep(left + 100);
    const call = async (t: string, path: string) => fetch(`${cirrus.apiUrl}${path}`, { headers: { authorization: `Bearer ${t}` } });
    // One route of each HTTP function: http, httpMedia, httpHistory, httpE2ee (each a container of its own).
    const routes = (u: string) => [`/users/${u}`, '/media/download-url?key=none', `/users/${u}/messages/search?q=x`, `/users/${u}/e2ee/devices`];
    const iva = await token('hx-iva');
    const statuses: number[] = [];
    for (let round = 0; round < 4; round += 1) for (const path of routes('hx-iva')) statuses.push((await call(iva, path)).status);
    // 5 a minute over all of them (each function's bucket alone would let 4 through, 16 in all).
    const accepted = statuses.filter((s) => s !== 429).length;
    expect(accepted).toBe(8);
    for (const path of routes('hx-iva')) {
      const refused = await call(iva, path);
      expect(refused.status).toBe(429);
      const after = Number(refused.headers.get('retry-after'));
      expect(after).toBeGreaterThanOrEqual(1);
      expect(after).toBeLessThanOrEqual(60);
      expect((await refused.json()).error).toMatchObject({ reason: 'THROTTLED', code: 1502 });
    }
    const jon = await token('hx-jon');
    for (const path of routes('hx-jon')) expect((await call(jon, path)).status).not.toBe(429);
  });
});

describe('what limits cost', () => {
  it('adds no request and no capacity unit to an accepted 1:1 message: 2 RRU, 2 WRU, as without limits', async () => {
    process.env.LIMITS = JSON.stringify(DEFAULT_LIMITS);
    const alice = await device('fl-carol', 2);
    await device('fl-dave', 2);
    await alice.ok('sendMsg', { clientMsgId: cid('warm'), recvId: 'fl-dave', ...text('warm') });
    await cirrus.lambda.idle();
    await cirrus.streams.idle();
    await sleep(300);
    awsRequests.meterCapacity(true);
    const before = awsRequests.snapshot();
    const units = awsRequests.capacity();
    const meteredBefore = metering.snapshot();
    await alice.ok('sendMsg', { clientMsgId: cid('counted'), recvId: 'fl-dave', ...text('counted') });
    await cirrus.lambda.idle();
    await cirrus.streams.idle();
    await sleep(300);
    const after = awsRequests.capacity();
    awsRequests.meterCapacity(false);
    const requests = awsRequests.since(before);
    expect(requests.DynamoDB).toEqual({ BatchGetItem: 1, UpdateItem: 1, PutItem: 1 });
    expect({ read: after.read - units.read, write: after.write - units.write }).toEqual({ read: 2, write: 2 });
    expect(metering.since(meteredBefore).invocations.archive?.count).toBe(1);
  });
});
