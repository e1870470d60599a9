/**
 * Erasing a user (right to be forgotten), end to end against the local runtime: after
 * POST /admin/users/{userId}/erase nothing of the user's profile, sessions, devices,
 * friendships, friend requests, blocks, group memberships or message text is left in any
 * DynamoDB table (scanned whole) nor in the history and its search; the id stays taken; the
 * others' data is intact; a group they owned passes on (or is dismissed when they were alone);
 * a second call succeeds; only admins may call it, with the id confirmed; it is audited.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createECDH, randomBytes } from 'node:crypto';
import { ScanCommand, type ScanCommandOutput } from '@aws-sdk/lib-dynamodb';
import { ddb } from '../../core/aws/dynamodb';
import type { TableKey } from '../../core/manifest';
import { Device, eventually } from '../support/cirrus';
import { faults } from '../../core/faults';
import { eraseBudget } from '../../core/services/erasure';
import { admin, as, cirrus, useCirrus } from '../support/harness';
import { generateKeyPackage, newSignatureKeys } from '../../sdk/src/e2ee/mls';

useCirrus();

const X = 'er-x';
/** Every piece of text the erased user wrote or was described by. */
const SECRETS = ['Xavier', 'xface.example', 'xprofile-ex', 'xsecret'];

const PUSH_SETTINGS = {
  webpush: { publicKey: createECDH('prime256v1').generateKeys().toString('base64url'), subject: 'mailto:ops@example.com', privateKeyParameter: '/cirrus/vapid' },
};
let savedPush: string | undefined;
beforeAll(() => {
  savedPush = process.env.PUSH_SETTINGS;
  process.env.PUSH_SETTINGS = JSON.stringify(PUSH_SETTINGS);
});
afterAll(() => {
  if (savedPush === undefined) delete process.env.PUSH_SETTINGS;
  else process.env.PUSH_SETTINGS = savedPush;
});

async function scan(table: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page: ScanCommandOutput = await ddb().send(new ScanCommand({ TableName: table, ExclusiveStartKey: start, ConsistentRead: true }));
    out.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

async function send(body: Record<string, unknown>, text: string): Promise<number> {
  const res = await admin.call('POST', '/messages', { contentType: 101, content: { text }, ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.seq;
}

async function adminSearch(q: string): Promise<string[]> {
  const res = await admin.call('GET', `/admin/messages/search?q=${encodeURIComponent(q)}`);
  expect(res.status).toBe(200);
  return res.body.messages.map((m: { content: { text: string } | null }) => m.content?.text);
}

const historyOf = (senderId: string) =>
  cirrus.dataApi.query<{ content: unknown; deleted: unknown }>(`SELECT content::text AS content, deleted::text AS deleted FROM messages WHERE sender_id = $1 ORDER BY conversation_id, seq`, [senderId]);

let xDevice: Device;
let eraseResult: Record<string, unknown>;

beforeAll(async () => {
  const reg = await admin.call('POST', '/users/register', {
    users: [
      { userId: X, nickname: 'Xavier Erasable', faceUrl: 'https://xface.example/x.png', ex: 'xprofile-ex' },
      { userId: 'er-a', nickname: 'Anna' },
      { userId: 'er-b', nickname: 'Bert' },
      { userId: 'er-c', nickname: 'Cleo' },
      { userId: 'er-d' },
    ],
  });
  expect(reg.status).toBe(200);
  // Friends: x with a, and a with b (which stays).
  expect((await admin.call('POST', '/friends/import', { userId: X, friendUserIds: ['er-a'] })).status).toBe(200);
  expect((await admin.call('POST', '/friends/import', { userId: 'er-a', friendUserIds: ['er-b'] })).status).toBe(200);
  // Requests both ways, a block x made, a block d made of x (the others' own data: it stays).
  expect((await as(X, 'POST', `/users/${X}/friend-requests`, { toUserId: 'er-b', message: 'xsecret request' })).status).toBe(200);
  expect((await as('er-c', 'POST', '/users/er-c/friend-requests', { toUserId: X, message: 'hello' })).status).toBe(200);
  expect((await as(X, 'POST', `/users/${X}/blacklist`, { blockedUserId: 'er-d' })).status).toBe(200);
  // Groups: g1 owned by x (b an admin: b takes it), g2 owned by a (x a member), g3 x alone (dismissed).
  await admin.createGroup('er-g1', X, ['er-a', 'er-b']);
  expect((await admin.call('PUT', '/groups/er-g1/members/er-b/role', { role: 'admin' })).status).toBe(200);
  await admin.createGroup('er-g2', 'er-a', [X, 'er-b']);
  await admin.createGroup('er-g3', X, []);
  // Messages: x's, and the others' (kept).
  const alpha = await send({ sendId: X, recvId: 'er-a' }, 'xsecret alpha');
  // An edit: the history keeps the replaced content in message_edits.
  const edit = await admin.call('POST', `/users/${X}/conversations/si_er-a_er-x/messages/${alpha}/edit`, { contentType: 101, content: { text: 'xsecret alpha edited' } });
  expect(edit.status, JSON.stringify(edit.body)).toBe(200);
  await send({ sendId: X, groupId: 'er-g2' }, 'xsecret bravo');
  await send({ sendId: X, groupId: 'er-g1' }, 'xsecret charlie');
  await send({ sendId: 'er-a', recvId: X }, 'akeep delta');
  await send({ sendId: 'er-a', groupId: 'er-g2' }, 'akeep echo');
  // A message of x the offline store let go long ago: in the history only.
  await cirrus.dataApi.query(
    `INSERT INTO messages (conversation_id, seq, server_msg_id, client_msg_id, session_type, sender_id, recv_id, content_type, content, send_time)
       VALUES ('si_er-a_er-x', 100000, 'er-old', 'er-old', 1, $1, 'er-a', 101, '{"text":"xsecret ancient"}'::jsonb, now() - interval '400 days')`,
    [X],
  );
  await eventually(async () => (await adminSearch('xsecret')).length === 4 && (await adminSearch('akeep')).length === 2, 30_000);
  await eventually(async () => (await cirrus.dataApi.query(`SELECT seq FROM message_edits WHERE content::text LIKE '%xsecret alpha%'`, [])).length === 1, 30_000);
  // A push device and a live connection.
  const token = await admin.userToken(X, 5);
  const endpoint = `https://fcm.googleapis.com/fcm/send/${randomBytes(12).toString('hex')}`;
  const ecdh = createECDH('prime256v1');
  const dev = await admin.call(
    'PUT',
    `/users/${X}/devices/browser`,
    { provider: 'webpush', token: { endpoint, keys: { p256dh: ecdh.generateKeys().toString('base64url'), auth: randomBytes(16).toString('base64url') } }, platformId: 5, appId: 'https://chat.example.com' },
    token,
  );
  expect(dev.status, JSON.stringify(dev.body)).toBe(200);
  // An end-to-end encryption device with its key packages.
  const keys = await newSignatureKeys();
  const kp = async () => (await generateKeyPackage(X, 'phone', keys)).b64;
  const e2ee = await as(X, 'PUT', `/users/${X}/e2ee/devices/phone`, { keyPackages: [await kp(), await kp()], lastResort: await kp() });
  expect(e2ee.status, JSON.stringify(e2ee.body)).toBe(200);
  expect((await scan(cirrus.tableNames.keyPackages)).filter((k) => k.userId === X)).toHaveLength(3);
  xDevice = await Device.connect(cirrus.wsUrl, token);
}, 120_000);

describe('refused', () => {
  it('to users, without the confirmation, and for a user that does not exist', async () => {
    const byUser = await as('er-a', 'POST', `/admin/users/${X}/erase`, { confirmUserId: X });
    expect(byUser.status).toBe(403);
    const bySelf = await as(X, 'POST', `/admin/users/${X}/erase`, { confirmUserId: X });
    expect(bySelf.status).toBe(403);
    const unconfirmed = await admin.call('POST', `/admin/users/${X}/erase`, { confirmUserId: 'er-a' });
    expect(unconfirmed.status).toBe(400);
    expect(unconfirmed.body.error.reason).toBe('INVALID_ARGUMENT');
    expect((await admin.call('POST', `/admin/users/${X}/erase`, {})).status).toBe(400);
    const missing = await admin.call('POST', '/admin/users/er-nobody/erase', { confirmUserId: 'er-nobody' });
    expect(missing.status).toBe(404);
    expect(missing.body.error.reason).toBe('USER_NOT_FOUND');
    // Nothing changed.
    expect((await admin.call('GET', `/users/${X}`)).body.user.nickname).toBe('Xavier Erasable');
  });
});

describe('erasing a user', () => {
  it('answers what it removed, and closes their connection', async () => {
    const res = await admin.call('POST', `/admin/users/${X}/erase`, { confirmUserId: X });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    eraseResult = res.body;
    expect(res.body).toMatchObject({ userId: X, done: true, devices: 1, friends: 1, requests: 2, blocks: 1, groups: 3 });
    // Their 3 messages, their own notifications, and the notification of their friend request to b.
    expect(res.body.messages).toBeGreaterThan(4);
    expect(res.body.revoked).toBeGreaterThanOrEqual(1);
    expect(res.body.kicked).toBe(1);
    await xDevice.until(() => xDevice.closed, 10_000, 'close');
  });

  it('leaves nothing of their profile or text in any DynamoDB table', async () => {
    // The Outbox (the stream's transport to the history) expires its items within 2 days: see docs/operations.md.
    for (const [key, table] of Object.entries(cirrus.tableNames) as [TableKey, string][]) {
      if (key === 'outbox') continue;
      const dump = JSON.stringify(await scan(table));
      for (const secret of SECRETS) expect(dump.includes(secret), `${secret} in ${key}`).toBe(false);
    }
  });

  it('keeps a tombstone: the id stays taken, no token is issued', async () => {
    const user = (await admin.call('GET', `/users/${X}`)).body.user;
    expect(user).toMatchObject({ userId: X, erased: { at: expect.any(Number) } });
    expect(user.nickname).toBeUndefined();
    expect(user.faceUrl).toBeUndefined();
    expect(user.ex).toBeUndefined();
    const token = await admin.call('POST', '/auth/user-token', { userId: X, platformId: 5 });
    expect(token.status).toBe(404);
    expect(token.body.error.reason).toBe('USER_NOT_FOUND');
    const again = await admin.call('POST', '/users/register', { users: [{ userId: X, nickname: 'Someone else' }] });
    expect(again.body.results[0].ok).toBe(false);
    expect((await admin.call('GET', `/users/${X}`)).body.user.nickname).toBeUndefined();
  });

  it('removes sessions, devices, relations and memberships', async () => {
    const sessions = (await scan(cirrus.tableNames.sessions)).filter((s) => s.userId === X);
    expect(sessions.length).toBeGreaterThan(0);
    expect(sessions.every((s) => s.revokedAt !== undefined)).toBe(true);
    expect((await scan(cirrus.tableNames.devices)).filter((d) => d.userId === X)).toEqual([]);
    expect((await scan(cirrus.tableNames.keyPackages)).filter((k) => k.userId === X)).toEqual([]);
    expect((await scan(cirrus.tableNames.connections)).filter((c) => c.userId === X)).toEqual([]);
    expect((await scan(cirrus.tableNames.friends)).filter((f) => f.userId === X || f.friendUserId === X)).toEqual([]);
    expect((await scan(cirrus.tableNames.friendRequests)).filter((r) => r.toUserId === X || r.fromUserId === X)).toEqual([]);
    expect((await scan(cirrus.tableNames.blacklist)).filter((b) => b.userId === X)).toEqual([]);
    expect((await scan(cirrus.tableNames.groupMembers)).filter((m) => m.userId === X)).toEqual([]);
    const g1 = (await admin.call('GET', '/groups/er-g1')).body.group;
    expect(g1.ownerUserId).toBe('er-b');
    expect((await admin.call('GET', '/groups/er-g3')).body.group.status).toBe('dismissed');
  });

  it('deletes their messages for everyone, in the offline store, the history and search', async () => {
    await eventually(async () => (await adminSearch('xsecret')).length === 0, 30_000);
    const rows = await eventually(async () => {
      const r = await historyOf(X);
      return r.length === 4 && r.every((m) => m.content === 'null') && r;
    }, 30_000);
    for (const r of rows) expect(JSON.parse(String(r.deleted))).toMatchObject({ by: 'admin' });
    // Nothing of their text anywhere in the history, nor their nickname in its directory.
    await eventually(async () => {
      const [hits] = await cirrus.dataApi.query<{ n: unknown }>(
        `SELECT (SELECT count(*) FROM messages WHERE content::text LIKE '%xsecret%') + (SELECT count(*) FROM message_edits WHERE content::text LIKE '%xsecret%') AS n`,
        [],
      );
      return Number(hits.n) === 0;
    }, 30_000);
    const [mirror] = await eventually(async () => {
      const r = await cirrus.dataApi.query<{ nickname: unknown }>(`SELECT nickname FROM users WHERE user_id = $1`, [X]);
      return r.length === 1 && r[0].nickname === null && r;
    }, 30_000);
    expect(mirror.nickname).toBeNull();
    expect((await cirrus.dataApi.query<{ user_id: unknown }>(`SELECT user_id FROM users WHERE nickname LIKE '%Xavier%'`, [])).length).toBe(0);
    const offline = (await scan(cirrus.tableNames.messages)).filter((m) => m.senderId === X);
    expect(offline.length).toBe(3);
    expect(offline.every((m) => m.content === null && (m.deleted as { by: string }).by === 'admin')).toBe(true);
  });

  it("leaves the others' data intact", async () => {
    expect((await admin.call('GET', '/users/er-a')).body.user.nickname).toBe('Anna');
    expect((await adminSearch('akeep')).sort()).toEqual(['akeep delta', 'akeep echo']);
    const friendsOfA = (await as('er-a', 'GET', '/users/er-a/friends')).body.friends.map((f: { friendUserId: string }) => f.friendUserId);
    expect(friendsOfA).toEqual(['er-b']);
    const g2 = await admin.call('GET', '/groups/er-g2/members');
    expect(g2.body.members.map((m: { userId: string }) => m.userId).sort()).toEqual(['er-a', 'er-b']);
    // The 1:1 conversation still works for the other side.
    await send({ sendId: 'er-a', recvId: 'er-b' }, 'akeep foxtrot');
  });

  it('succeeds again (finishing what a crash left), and is in the audit log', async () => {
    const again = await admin.call('POST', `/admin/users/${X}/erase`, { confirmUserId: X });
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body).toMatchObject({ userId: X, done: true, revoked: 0, kicked: 0, devices: 0, friends: 0, requests: 0, blocks: 0, groups: 0 });
    const entries = await eventually(async () => {
      const res = await admin.call('GET', `/admin/audit?action=eraseUser&target=${encodeURIComponent(`user:${X}`)}`);
      const ok = res.body.entries?.filter((e: { outcome: string }) => e.outcome === 'ok');
      return ok?.length === 2 && ok;
    }, 30_000);
    expect(entries[0]).toMatchObject({ action: 'eraseUser', target: `user:${X}`, actor: 'admin' });
    expect(eraseResult.userId).toBe(X);
  });
});

describe('an erasure cut short', () => {
  it('is finished by the next call', async () => {
    await admin.register('er-y');
    expect((await admin.call('POST', '/friends/import', { userId: 'er-y', friendUserIds: ['er-a', 'er-b'] })).status).toBe(200);
    await send({ sendId: 'er-y', recvId: 'er-a' }, 'ysecret one');
    await send({ sendId: 'er-y', recvId: 'er-b' }, 'ysecret two');
    await eventually(async () => (await adminSearch('ysecret')).length === 2, 30_000);

    faults.crash('erase.afterMessage');
    try {
      const cut = await admin.call('POST', '/admin/users/er-y/erase', { confirmUserId: 'er-y' });
      expect(cut.status).toBe(500);
    } finally {
      faults.clear();
    }
    // The tombstone came first; one message went (their own notifications come first), the rest and the friendships are left.
    expect((await admin.call('GET', '/users/er-y')).body.user.erased).toBeDefined();
    const offline = () => scan(cirrus.tableNames.messages).then((all) => all.filter((m) => m.senderId === 'er-y'));
    expect((await offline()).filter((m) => m.content !== null).length).toBe(2);
    expect((await scan(cirrus.tableNames.friends)).filter((f) => f.userId === 'er-y' || f.friendUserId === 'er-y').length).toBe(4);

    const done = await admin.call('POST', '/admin/users/er-y/erase', { confirmUserId: 'er-y' });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body).toMatchObject({ done: true, friends: 2 });
    expect((await offline()).every((m) => m.content === null)).toBe(true);
    expect((await scan(cirrus.tableNames.friends)).filter((f) => f.userId === 'er-y' || f.friendUserId === 'er-y')).toEqual([]);
    await eventually(async () => (await adminSearch('ysecret')).length === 0, 30_000);
  });
});

describe('an erasure with more than one call of work', () => {
  it('answers done: false with what it erased, each call progresses, and the last finishes the relations', async () => {
    await admin.register('er-z');
    expect((await admin.call('POST', '/friends/import', { userId: 'er-z', friendUserIds: ['er-a'] })).status).toBe(200);
    for (const text of ['zsecret 1', 'zsecret 2', 'zsecret 3']) await send({ sendId: 'er-z', recvId: 'er-a' }, text);
    const offline = () => scan(cirrus.tableNames.messages).then((all) => all.filter((m) => m.senderId === 'er-z'));

    // A budget every message outlasts: each call erases one and says so.
    const saved = eraseBudget.ms;
    eraseBudget.ms = 0;
    const answers: Record<string, unknown>[] = [];
    try {
      for (let call = 0; call < 10; call++) {
        const res = await admin.call('POST', '/admin/users/er-z/erase', { confirmUserId: 'er-z' });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        answers.push(res.body);
        if (res.body.done) break;
        // Between calls: each erased one message (their own notifications first, then what they sent); the friendship waits for the end.
        expect(res.body).toMatchObject({ done: false, messages: 1, friends: 0, groups: 0 });
        expect((await scan(cirrus.tableNames.friends)).filter((f) => f.userId === 'er-z').length).toBe(1);
      }
    } finally {
      eraseBudget.ms = saved;
    }
    // Their three messages and the notification of the friendship: at least four calls, the last one done.
    expect(answers.length).toBeGreaterThanOrEqual(4);
    expect(answers[answers.length - 1]).toMatchObject({ done: true, friends: 1 });
    expect(answers.reduce((n, a) => n + Number(a.messages), 0)).toBeGreaterThanOrEqual(4);
    expect((await offline()).every((m) => m.content === null)).toBe(true);
    expect((await scan(cirrus.tableNames.friends)).filter((f) => f.userId === 'er-z' || f.friendUserId === 'er-z')).toEqual([]);
  });
});
