/**
 * The audit log of administrative actions, end to end against the local runtime: every admin
 * call that changes something or reads what users wrote is recorded with who (the operator
 * named by the admin token, and the token's id), what, target, when, outcome and correlation
 * id, by whichever function served it (the http function's through the Outbox and the archive
 * function); admin token requests too, refused ones included;
 * GET /admin/audit filters and pages them, and only admins may read it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { ddb } from '../../core/aws/dynamodb';
import { admin, as, cirrus, useCirrus } from '../support/harness';
import { eventually } from '../support/cirrus';

useCirrus();

interface Entry {
  at: number;
  id: string;
  actor: string;
  tokenId?: string;
  action: string;
  target?: string;
  outcome: string;
  correlationId: string;
  details?: Record<string, unknown>;
}

let aliceToken: string;
let aliceTokenId: string;

/** Calls the API with a token, answering the status, body and API Gateway's request id. */
async function call(method: string, path: string, body: unknown, token: string | null): Promise<{ status: number; body: any; requestId: string }> {
  const res = await fetch(`${cirrus.apiUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, requestId: res.headers.get('apigw-requestid') ?? '' };
}

/** Every entry of the audit log (the table itself, not the route). */
async function allEntries(): Promise<Entry[]> {
  const res = await ddb().send(new ScanCommand({ TableName: cirrus.tableNames.auditLog, ConsistentRead: true }));
  return (res.Items ?? []) as Entry[];
}

/** The entry of a request, once stored (the http function's go through the Outbox and the archive function). */
async function entryOf(requestId: string): Promise<Entry> {
  return eventually(async () => (await allEntries()).find((e) => e.correlationId === requestId), 30_000);
}

/** Waits until every earlier action is in the log: a marker action's entry arrives after them. */
async function settled(): Promise<void> {
  const marker = await call('POST', '/users/au-marker/ban', {}, aliceToken);
  await entryOf(marker.requestId);
}

beforeAll(async () => {
  const res = await call('POST', '/auth/admin-token', { secret: cirrus.adminSecret, name: 'alice@ops.example' }, null);
  expect(res.status).toBe(200);
  aliceToken = res.body.token;
  aliceTokenId = res.body.tokenId;
  expect(aliceTokenId).toMatch(/^[\w-]{8,}$/);
  await admin.register('au-a', 'au-b', 'au-c', 'au-d');
});

describe('recording', () => {
  it('records an admin token request, granted and refused, with the operator it names', async () => {
    const granted = await eventually(async () => (await allEntries()).find((e) => e.action === 'getAdminToken' && e.tokenId === aliceTokenId), 30_000);
    expect(granted).toMatchObject({ actor: 'alice@ops.example', outcome: 'ok', correlationId: expect.any(String) });
    const refused = await call('POST', '/auth/admin-token', { secret: 'not-the-secret', name: 'mallory' }, null);
    expect(refused.status).toBe(401);
    const entry = await entryOf(refused.requestId);
    expect(entry).toMatchObject({ action: 'getAdminToken', actor: 'mallory', outcome: 'ADMIN_SECRET_INVALID' });
    expect(entry.tokenId).toBeUndefined();
    // The secret is never kept.
    expect(JSON.stringify(await allEntries())).not.toContain('not-the-secret');
    expect(JSON.stringify(await allEntries())).not.toContain(cirrus.adminSecret);
  });

  it.each([
    ['banUser', 'POST', '/users/au-c/ban', { reason: 'spam reason text', durationSeconds: 3600 }, 'user:au-c', { userId: 'au-c', durationSeconds: 3600 }],
    ['unbanUser', 'DELETE', '/users/au-c/ban', undefined, 'user:au-c', { userId: 'au-c' }],
    ['forceLogout', 'POST', '/auth/force-logout', { userId: 'au-b' }, 'user:au-b', { userId: 'au-b' }],
    ['updateUser', 'PUT', '/users/au-b', { nickname: 'Secret Nick' }, 'user:au-b', { userId: 'au-b' }],
    ['getUserToken', 'POST', '/auth/user-token', { userId: 'au-a', platformId: 5 }, 'user:au-a', { userId: 'au-a', platformId: 5 }],
    ['createGroup', 'POST', '/groups', { groupId: 'au-g', ownerUserId: 'au-a', memberUserIds: ['au-b'], name: 'Audit group' }, 'group:au-g', { groupId: 'au-g', 'memberUserIds.length': 1 }],
    ['sendMessage', 'POST', '/messages', { sendId: 'au-a', recvId: 'au-b', contentType: 101, content: { text: 'private words' } }, 'user:au-b', { sendId: 'au-a', recvId: 'au-b', contentType: 101 }],
    ['batchSendMessages', 'POST', '/messages/batch', { batchId: 'au-batch', sendId: 'au-a', recvIds: ['au-b', 'au-c'], contentType: 101, content: { text: 'batch words' } }, 'batch:au-batch', { batchId: 'au-batch', 'recvIds.length': 2 }],
    ['purgeMessages', 'POST', '/admin/conversations/si_au-a_au-b/messages/purge', { seqs: [1] }, 'conversation:si_au-a_au-b', { conversationId: 'si_au-a_au-b', 'seqs.length': 1 }],
    ['searchAllMessages', 'GET', '/admin/messages/search?senderId=au-a&q=hello', undefined, 'user:au-a', { senderId: 'au-a' }],
    ['getHistory', 'GET', '/conversations/si_au-a_au-b/messages', undefined, 'conversation:si_au-a_au-b', { conversationId: 'si_au-a_au-b' }],
    ['getMediaDownloadUrl', 'GET', '/media/download-url?objectKey=u%2Fau-a%2Fx.png', undefined, undefined, { objectKey: 'u/au-a/x.png' }],
  ] as const)('records %s with who, what, target, outcome and correlation id', async (action, method, path, body, target, details) => {
    const before = Date.now();
    const res = await call(method, path, body, aliceToken);
    const entry = await entryOf(res.requestId);
    expect(res.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(entry).toMatchObject({ action, actor: 'alice@ops.example', tokenId: aliceTokenId, correlationId: res.requestId });
    expect(entry!.outcome).toBe(res.status === 200 ? 'ok' : res.body.error.reason);
    expect(entry!.at).toBeGreaterThanOrEqual(before);
    expect(entry!.at).toBeLessThanOrEqual(Date.now());
    if (target) expect(entry!.target).toBe(target);
    if (details) expect(entry!.details).toMatchObject(details);
    // Only ids, numbers and flags: no contents, names or reasons.
    for (const text of ['spam reason text', 'Secret Nick', 'private words', 'batch words', 'Audit group']) expect(JSON.stringify(entry)).not.toContain(text);
  });

  it('records a refused admin action with its reason', async () => {
    const res = await call('POST', '/users/au-nobody/ban', {}, aliceToken);
    expect(res.status).toBe(404);
    expect(await entryOf(res.requestId)).toMatchObject({ action: 'banUser', target: 'user:au-nobody', outcome: 'USER_NOT_FOUND' });
    const bad = await call('POST', '/users/au-a/ban', { durationSeconds: -1 }, aliceToken);
    expect(bad.status).toBe(400);
    expect(await entryOf(bad.requestId)).toMatchObject({ action: 'banUser', target: 'user:au-a', outcome: 'INVALID_ARGUMENT' });
    // A refused body as sent, however large or ill-formed: its ids are cut and made well-formed.
    const huge = await call('POST', '/auth/force-logout', { userId: `\uDC00${'x'.repeat(300_000)}`, otherId: 'y'.repeat(1000) }, aliceToken);
    expect(huge.status).toBe(400);
    const entry = await entryOf(huge.requestId);
    expect(entry).toMatchObject({ action: 'forceLogout', outcome: 'INVALID_ARGUMENT' });
    expect(entry.target).toBe(`user:\uFFFD${'x'.repeat(255)}`);
    expect(entry.details).toEqual({ userId: `\uFFFD${'x'.repeat(255)}`, otherId: 'y'.repeat(256) });
  });

  it('does not record admin reads of lists and profiles, nor what users do with their own tokens', async () => {
    const read = await call('GET', '/users/au-a', undefined, aliceToken);
    expect(read.status).toBe(200);
    const own = await as('au-a', 'PUT', '/users/au-a', { nickname: 'A' });
    expect(own.status).toBe(200);
    await settled();
    expect((await allEntries()).find((e) => e.correlationId === read.requestId)).toBeUndefined();
    expect((await allEntries()).filter((e) => e.action === 'updateUser' && e.target === 'user:au-a')).toEqual([]);
  });

  it('names a token that names no operator `admin`', async () => {
    const res = await call('POST', '/users/au-a/ban', {}, await admin.adminToken());
    expect(await entryOf(res.requestId)).toMatchObject({ actor: 'admin', action: 'banUser', outcome: 'ok', tokenId: expect.any(String) });
    await admin.call('DELETE', '/users/au-a/ban');
  });
});

describe('GET /admin/audit', () => {
  it('is for admins only', async () => {
    const res = await as('au-d', 'GET', '/admin/audit');
    expect(res.status).toBe(403);
    expect(res.body.error.reason).toBe('ADMIN_REQUIRED');
    const anonymous = await call('GET', '/admin/audit', undefined, null);
    expect(anonymous.status).toBe(401);
  });

  it('lists newest first and filters by action, actor, target and time range', async () => {
    await settled();
    const all = await allEntries();
    const page = await call('GET', '/admin/audit?limit=100', undefined, aliceToken);
    expect(page.status).toBe(200);
    const listed = page.body.entries as Entry[];
    expect(listed.length).toBe(Math.min(100, all.length));
    expect(listed.map((e) => e.at)).toEqual([...listed.map((e) => e.at)].sort((a, b) => b - a));

    const bans = (await call('GET', '/admin/audit?action=banUser', undefined, aliceToken)).body.entries as Entry[];
    expect(bans.length).toBe(all.filter((e) => e.action === 'banUser').length);
    expect(bans.every((e) => e.action === 'banUser')).toBe(true);

    const byAlice = (await call('GET', '/admin/audit?limit=100&actor=alice%40ops.example', undefined, aliceToken)).body.entries as Entry[];
    expect(byAlice.length).toBe(all.filter((e) => e.actor === 'alice@ops.example').length);

    const onC = (await call('GET', '/admin/audit?target=user%3Aau-c', undefined, aliceToken)).body.entries as Entry[];
    expect(onC.map((e) => e.action).sort()).toEqual(all.filter((e) => e.target === 'user:au-c').map((e) => e.action).sort());
    expect(onC.map((e) => e.action)).toEqual(expect.arrayContaining(['banUser', 'unbanUser']));

    const banC = all.find((e) => e.action === 'banUser' && e.target === 'user:au-c')!;
    const exact = (await call('GET', `/admin/audit?from=${banC.at}&to=${banC.at + 1}&target=user%3Aau-c&action=banUser`, undefined, aliceToken)).body.entries as Entry[];
    expect(exact.map((e) => e.id)).toContain(banC.id);
    const before = (await call('GET', `/admin/audit?to=${banC.at}&target=user%3Aau-c&action=banUser`, undefined, aliceToken)).body.entries as Entry[];
    expect(before.map((e) => e.id)).not.toContain(banC.id);
  });

  it('pages with nextCursor through every entry once', async () => {
    await settled();
    const all = await allEntries();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await call('GET', `/admin/audit?limit=3${cursor ? `&cursor=${cursor}` : ''}`, undefined, aliceToken);
      expect(res.status).toBe(200);
      expect(res.body.entries.length).toBeLessThanOrEqual(3);
      seen.push(...res.body.entries.map((e: Entry) => e.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    // Listing the log is not itself recorded, so nothing was added meanwhile.
    expect(seen.sort()).toEqual(all.map((e) => e.id).sort());
  });

  it('refuses bad filters and cursors', async () => {
    for (const query of ['target=nobody', 'from=5&to=4', 'limit=0', 'action=ban%20User', 'cursor=xyz', 'from=-1']) {
      const res = await call('GET', `/admin/audit?${query}`, undefined, aliceToken);
      expect(res.status, query).toBe(400);
      expect(res.body.error.reason).toBe('INVALID_ARGUMENT');
    }
    const first = await call('GET', '/admin/audit?limit=1', undefined, aliceToken);
    const other = await call('GET', `/admin/audit?limit=1&target=user%3Aau-a&cursor=${first.body.nextCursor}`, undefined, aliceToken);
    expect(other.status).toBe(400);
  });
});
