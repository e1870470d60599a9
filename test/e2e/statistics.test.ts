/**
 * GET /admin/statistics end to end: a generated history of several days (users, groups
 * and messages of every session type and several content types, with backdated times,
 * put through the real Outbox and Messages streams and the archive consumer), plus today's activity through the
 * real HTTP API; every figure of the response is compared with counts computed here, in
 * plain JS, from the generated list. Also: the online counts with live devices, the
 * directory jobs' idempotency and ordering, the backfill, and bad input.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/cirrus';
import { admin, as, device, useCirrus } from '../support/harness';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { ddb } from '../../core/aws/dynamodb';
import { config } from '../../core/config';
import { outboxItemOf } from '../../core/services/directory-jobs';
import { execute } from '../../core/history/history';
import { backfillDirectory } from '../../core/history/directory';
import { handler as migrate } from '../../functions/migrate';
import { runCustomResource } from '../../local/custom-resource';
import type { ArchiveJob, DirectoryGroup, DirectoryUser } from '../../core/protocol/jobs';
import type { Message } from '../../core/protocol/schema';
import { groupConversationId, singleConversationId } from '../../core/domain/ids';

// TEST_DATABASE_URL: an empty PostgreSQL database to run against instead of PGlite.
useCirrus(process.env.TEST_DATABASE_URL ? { databaseUrl: process.env.TEST_DATABASE_URL } : {});

const DAY = 86_400_000;
const today = Math.floor(Date.now() / DAY) * DAY;
const dateOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** A small deterministic generator, so a failure can be replayed. */
let seed = 20261123;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];

interface Generated {
  users: DirectoryUser[];
  groups: DirectoryGroup[];
  messages: Message[];
}

const gen: Generated = { users: [], groups: [], messages: [] };
const seqs = new Map<string, number>();
let msgCounter = 0;

function message(fields: Pick<Message, 'conversationId' | 'sessionType' | 'senderId' | 'contentType' | 'sendTime'> & Partial<Message>): Message {
  const seq = (seqs.get(fields.conversationId) ?? 0) + 1;
  seqs.set(fields.conversationId, seq);
  const n = ++msgCounter;
  return { serverMsgId: `gen-${n}`, clientMsgId: `gen-c-${n}`, seq, content: { text: `m${n}` }, ...fields };
}

/** A time on the day `offset` days from today (0 = today), at a random moment or the one given. */
const at = (offset: number, msIntoDay = Math.floor(random() * DAY)) => today + offset * DAY + msIntoDay;

function generate(): void {
  for (let i = 0; i < 30; i++) {
    const createdAt = at(-9 + (i % 9));
    gen.users.push({ userId: `gu-${i}`, nickname: `Gen ${i}`, createdAt, updatedAt: createdAt });
  }
  // Range edges: the last ms before the range, the first ms of it.
  gen.users.push({ userId: 'gu-edge-out', createdAt: at(-7, DAY - 1), updatedAt: at(-7, DAY - 1) });
  gen.users.push({ userId: 'gu-edge-in', createdAt: at(-6, 0), updatedAt: at(-6, 0) });
  for (let i = 0; i < 8; i++) {
    const createdAt = at(-8 + i);
    gen.groups.push({ groupId: `gg-${i}`, name: `Group ${i}`, ownerUserId: `gu-${i}`, createdAt, updatedAt: createdAt, ...(i === 3 ? { dismissedAt: createdAt + 1000 } : {}) });
  }
  const senders = gen.users.slice(0, 12).map((u) => u.userId);
  const chatTypes = [101, 101, 101, 102, 103, 105, 106, 110];
  for (let i = 0; i < 240; i++) {
    const offset = -7 + Math.floor(random() * 7); // -7 .. -1; day -7 is outside the range asked for
    const kind = pick(['single', 'single', 'group', 'group', 'notification'] as const);
    if (kind === 'single') {
      const a = pick(senders);
      let b = pick(senders);
      if (b === a) b = a === senders[0] ? senders[1] : senders[0];
      gen.messages.push(message({ conversationId: singleConversationId(a, b), sessionType: 1, senderId: a, recvId: b, contentType: pick(chatTypes), sendTime: at(offset) }));
    } else if (kind === 'group') {
      const groupId = pick(gen.groups.slice(0, 6)).groupId;
      const system = random() < 0.2;
      gen.messages.push(
        message({ conversationId: groupConversationId(groupId), sessionType: 3, senderId: system ? 'system' : pick(senders), groupId, contentType: system ? 1504 : pick(chatTypes), sendTime: at(offset) }),
      );
    } else {
      const to = pick(senders);
      gen.messages.push(message({ conversationId: `n_${to}`, sessionType: 4, senderId: 'system', recvId: to, contentType: 1400, sendTime: at(offset) }));
    }
  }
  // Edges of the range for messages too.
  gen.messages.push(message({ conversationId: singleConversationId('gu-0', 'gu-1'), sessionType: 1, senderId: 'gu-0', recvId: 'gu-1', contentType: 101, sendTime: at(-7, DAY - 1) }));
  gen.messages.push(message({ conversationId: singleConversationId('gu-0', 'gu-1'), sessionType: 1, senderId: 'gu-20', recvId: 'gu-1', contentType: 101, sendTime: at(-6, 0) }));
}

/**
 * Hands jobs to the archive the way Cirrus does: users and groups as Outbox items, messages
 * (and their changed versions) as writes to the Messages table, both read by the archive
 * function from their streams.
 */
async function feed(list: readonly ArchiveJob[]): Promise<void> {
  const expiresAt = Math.floor(Date.now() / 1000) + 86_400;
  for (const job of list) {
    if ('kind' in job) await ddb().send(new PutCommand({ TableName: config.tableName('outbox'), Item: outboxItemOf(job) }));
    else await ddb().send(new PutCommand({ TableName: config.tableName('messages'), Item: { ...job.message, expiresAt } }));
  }
}

/** Jobs for the archive: everything generated, some twice (redelivery), and changed versions of a few messages. */
function jobs(): ArchiveJob[] {
  const out: ArchiveJob[] = [
    ...gen.users.map((user): ArchiveJob => ({ kind: 'user', user })),
    ...gen.groups.map((group): ArchiveJob => ({ kind: 'group', group })),
    ...gen.messages.map((message): ArchiveJob => ({ message })),
  ];
  // Redelivered jobs change nothing.
  out.push({ message: gen.messages[5] }, { kind: 'user', user: gen.users[2] }, { kind: 'group', group: gen.groups[1] });
  // A revoked and an edited message are still one message each, on the day they were sent.
  const revoked = gen.messages[10];
  out.push({ message: { ...revoked, version: 1, content: null, revoked: { by: revoked.senderId, at: revoked.sendTime + 1000 } } });
  const edited = gen.messages.find((m) => m.contentType === 101 && m.sessionType === 1)!;
  out.push({ message: { ...edited, version: 1, content: { text: 'edited' }, edited: { at: edited.sendTime + 5, version: 1 } } });
  return out;
}

interface DayFigures {
  date: string;
  newUsers: number;
  activeUsers: number;
  messages: { total: number; single: number; group: number; notification: number };
  messagesByContentType: Record<string, number>;
  groupsCreated: number;
  activeGroups: number;
}

interface Statistics {
  from: string;
  to: string;
  totals: { newUsers: number; activeUsers: number; messages: number; groupsCreated: number; activeGroups: number };
  days: DayFigures[];
  online: { connections: number; users: number };
  generatedAt: number;
}

/** The figures, computed from plain lists. */
function expected(from: string, to: string, data: { users: { createdAt: number }[]; groups: { createdAt: number }[]; messages: Pick<Message, 'sendTime' | 'sessionType' | 'contentType' | 'senderId' | 'groupId'>[] }) {
  const start = Date.parse(`${from}T00:00:00Z`);
  const end = Date.parse(`${to}T00:00:00Z`) + DAY;
  const inRange = (t: number) => t >= start && t < end;
  const days: DayFigures[] = [];
  for (let t = start; t < end; t += DAY) {
    const onDay = (x: number) => x >= t && x < t + DAY;
    const msgs = data.messages.filter((m) => onDay(m.sendTime));
    const byType: Record<string, number> = {};
    for (const m of msgs) byType[String(m.contentType)] = (byType[String(m.contentType)] ?? 0) + 1;
    days.push({
      date: dateOf(t),
      newUsers: data.users.filter((u) => onDay(u.createdAt)).length,
      activeUsers: new Set(msgs.filter((m) => m.senderId !== 'system').map((m) => m.senderId)).size,
      messages: {
        total: msgs.length,
        single: msgs.filter((m) => m.sessionType === 1).length,
        group: msgs.filter((m) => m.sessionType === 3).length,
        notification: msgs.filter((m) => m.sessionType === 4).length,
      },
      messagesByContentType: byType,
      groupsCreated: data.groups.filter((g) => onDay(g.createdAt)).length,
      activeGroups: new Set(msgs.filter((m) => m.groupId && m.senderId !== 'system').map((m) => m.groupId)).size,
    });
  }
  const msgs = data.messages.filter((m) => inRange(m.sendTime));
  return {
    from,
    to,
    totals: {
      newUsers: data.users.filter((u) => inRange(u.createdAt)).length,
      activeUsers: new Set(msgs.filter((m) => m.senderId !== 'system').map((m) => m.senderId)).size,
      messages: msgs.length,
      groupsCreated: data.groups.filter((g) => inRange(g.createdAt)).length,
      activeGroups: new Set(msgs.filter((m) => m.groupId && m.senderId !== 'system').map((m) => m.groupId)).size,
    },
    days,
  };
}

async function statistics(from: string, to: string, caller = '@admin') {
  return as<Statistics & { error?: { reason: string; message: string } }>(caller, 'GET', `/admin/statistics?from=${from}&to=${to}`);
}

/** What the history holds of a conversation (getHistory, every page). */
async function conversationHistory(conversationId: string): Promise<Message[]> {
  const out: Message[] = [];
  let beforeSeq: number | null = null;
  do {
    const res: { status: number; body: { messages: Message[]; nextBeforeSeq: number | null } } = await as('@admin', 'GET', `/conversations/${conversationId}/messages?limit=200${beforeSeq ? `&beforeSeq=${beforeSeq}` : ''}`);
    expect(res.status).toBe(200);
    out.push(...res.body.messages);
    beforeSeq = res.body.nextBeforeSeq;
  } while (beforeSeq);
  return out;
}

const from = dateOf(today - 6 * DAY);
const to = dateOf(today);

/** Today's activity through the HTTP API, as the history and the Users/Groups tables hold it. */
const live: { users: { userId: string; createdAt: number }[]; groups: { createdAt: number }[]; messages: Message[] } = { users: [], groups: [], messages: [] };

beforeAll(async () => {
  generate();
  await feed(jobs());

  // Today, through the API: registrations, a group (its groupCreated notification), messages.
  await admin.register('st-a', 'st-b', 'st-c');
  await admin.createGroup('st-g', 'st-a', ['st-b', 'st-c']);
  const sends: { sendId: string; recvId?: string; groupId?: string; contentType: number; content: unknown }[] = [
    { sendId: 'st-a', recvId: 'st-b', contentType: 101, content: { text: 'hello' } },
    { sendId: 'st-b', recvId: 'st-a', contentType: 101, content: { text: 'hi' } },
    { sendId: 'st-c', groupId: 'st-g', contentType: 101, content: { text: 'to the group' } },
    { sendId: 'st-a', groupId: 'st-g', contentType: 110, content: { data: '{}', description: 'custom' } },
  ];
  for (const body of sends) {
    const res = await admin.call('POST', '/messages', body);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }
  for (const userId of ['st-a', 'st-b', 'st-c']) live.users.push((await as('@admin', 'GET', `/users/${userId}`)).body.user);
  live.groups.push((await as('@admin', 'GET', '/groups/st-g')).body.group);
  // The history as the archive wrote it, message by message (the statistics count it in aggregate).
  await eventually(async () => {
    const single = await conversationHistory(singleConversationId('st-a', 'st-b'));
    const group = await conversationHistory(groupConversationId('st-g'));
    if (single.length < 2 || group.length < 3) return false;
    live.messages = [...single, ...group];
    return true;
  });
}, 120_000);

describe('statistics over a generated history', () => {
  it('should report every figure as counted from the generated and the live activity', async () => {
    const want = expected(from, to, {
      users: [...gen.users, ...live.users],
      groups: [...gen.groups, ...live.groups],
      messages: [...gen.messages, ...live.messages],
    });
    // The archive consumer works in the background: wait until the history has everything.
    const res = await eventually(async () => {
      const r = await statistics(from, to);
      return r.status === 200 && r.body.totals.messages === want.totals.messages && r.body.totals.newUsers === want.totals.newUsers && r.body.totals.groupsCreated === want.totals.groupsCreated ? r : false;
    }, 30_000);
    const { online, generatedAt, ...figures } = res.body;
    expect(figures).toEqual(want);
    expect(res.body.days.map((d) => d.date)).toEqual([...Array(7)].map((_, i) => dateOf(today - (6 - i) * DAY)));
    expect(generatedAt).toBeGreaterThan(today);
    expect(online).toEqual({ connections: 0, users: 0 });
    // Sanity of the generated data itself: every kind of figure is exercised.
    expect(want.totals.messages).toBeGreaterThan(150);
    expect(want.days.some((d) => d.messages.notification > 0 && d.messages.group > 0 && d.messages.single > 0)).toBe(true);
    expect(want.totals.activeUsers).toBeLessThan(want.days.reduce((n, d) => n + d.activeUsers, 0));
  });

  it('should count a single day and a range with no activity at all', async () => {
    const day = dateOf(today - 3 * DAY);
    const one = await statistics(day, day);
    expect(one.status).toBe(200);
    const { online: _o, generatedAt: _g, ...figures } = one.body;
    expect(figures).toEqual(expected(day, day, { users: gen.users, groups: gen.groups, messages: gen.messages }));

    const empty = await statistics('2020-02-27', '2020-03-01');
    expect(empty.status).toBe(200);
    expect(empty.body.days.map((d) => d.date)).toEqual(['2020-02-27', '2020-02-28', '2020-02-29', '2020-03-01']);
    expect(empty.body.totals).toEqual({ newUsers: 0, activeUsers: 0, messages: 0, groupsCreated: 0, activeGroups: 0 });
    expect(empty.body.days[2]).toEqual({ date: '2020-02-29', newUsers: 0, activeUsers: 0, messages: { total: 0, single: 0, group: 0, notification: 0 }, messagesByContentType: {}, groupsCreated: 0, activeGroups: 0 });
  });

  it('should count live connections and connected users now', async () => {
    const a1 = await device('st-a', 1);
    await device('st-a', 5);
    await device('st-b', 2);
    const now = await statistics(to, to);
    expect(now.body.online).toEqual({ connections: 3, users: 2 });
    await a1.close();
    await eventually(async () => {
      const r = await statistics(to, to);
      return r.body.online.connections === 2 && r.body.online.users === 2 ? r : false;
    });
  });
});

describe('the directory mirrors', () => {
  const mirrorUser = async (userId: string) => (await execute(`SELECT nickname, (extract(epoch FROM updated_at) * 1000)::bigint AS updated FROM users WHERE user_id = '${userId}'`))[0];
  const mirrorGroup = async (groupId: string) =>
    (await execute(`SELECT name, owner_user_id, dismissed_at IS NOT NULL AS dismissed FROM groups WHERE group_id = '${groupId}'`))[0];

  it('should keep the newest version of a user whatever order the jobs come in', async () => {
    const createdAt = Date.now() - 10_000;
    const newer: DirectoryUser = { userId: 'ord-u', nickname: 'Newer', createdAt, updatedAt: createdAt + 2000 };
    const older: DirectoryUser = { userId: 'ord-u', nickname: 'Older', createdAt, updatedAt: createdAt + 1000 };
    await feed([{ kind: 'user', user: newer }]);
    await eventually(async () => (await mirrorUser('ord-u'))?.nickname === 'Newer');
    await feed([{ kind: 'user', user: older }, { kind: 'user', user: newer }]);
    // A marker job queued after them tells when they were processed.
    await feed([{ kind: 'user', user: { userId: 'ord-marker', createdAt, updatedAt: createdAt } }]);
    await eventually(async () => (await mirrorUser('ord-marker')) !== undefined);
    await new Promise((r) => setTimeout(r, 500));
    expect(await mirrorUser('ord-u')).toEqual({ nickname: 'Newer', updated: createdAt + 2000 });
    expect((await execute(`SELECT count(*) AS n FROM users WHERE user_id = 'ord-u'`))[0].n).toBe(1);
  });

  it('should follow nickname changes, group renames, transfers and dismissal through the API', async () => {
    await admin.register('dir-a', 'dir-b');
    const put = await as('dir-a', 'PUT', '/users/dir-a', { nickname: 'Renamed A' });
    expect(put.status).toBe(200);
    await eventually(async () => (await mirrorUser('dir-a'))?.nickname === 'Renamed A');

    await admin.createGroup('dir-g', 'dir-a', ['dir-b']);
    await eventually(async () => (await mirrorGroup('dir-g'))?.name === 'dir-g');
    expect((await as('dir-a', 'PUT', '/groups/dir-g', { name: 'Renamed group' })).status).toBe(200);
    await eventually(async () => (await mirrorGroup('dir-g'))?.name === 'Renamed group');
    expect((await as('dir-a', 'POST', '/groups/dir-g/transfer', { newOwnerUserId: 'dir-b' })).status).toBe(200);
    await eventually(async () => (await mirrorGroup('dir-g'))?.owner_user_id === 'dir-b');
    expect((await as('dir-b', 'DELETE', '/groups/dir-g')).status).toBe(200);
    await eventually(async () => (await mirrorGroup('dir-g'))?.dismissed === true);

    // An older job of the group (its creation, redelivered late) changes nothing.
    const created = (await as('@admin', 'GET', '/groups/dir-g')).body.group;
    await feed([{ kind: 'group', group: { groupId: 'dir-g', name: 'dir-g', ownerUserId: 'dir-a', createdAt: created.createdAt, updatedAt: created.createdAt } }]);
    await feed([{ kind: 'user', user: { userId: 'ord-marker2', createdAt: 1, updatedAt: 1 } }]);
    await eventually(async () => (await mirrorUser('ord-marker2')) !== undefined);
    await new Promise((r) => setTimeout(r, 500));
    expect(await mirrorGroup('dir-g')).toEqual({ name: 'Renamed group', owner_user_id: 'dir-b', dismissed: true });
  });

  it('should register users even when their directory jobs cannot be queued, and the backfill adds them', async () => {
    const outbox = process.env.TABLE_OUTBOX!;
    // Writes to the Outbox fail meanwhile (nothing else is writing there now).
    process.env.TABLE_OUTBOX = `${outbox}-missing`;
    try {
      const res = await admin.call('POST', '/users/register', { users: [{ userId: 'lost-a' }, { userId: 'lost-b' }] });
      expect(res.status).toBe(200);
      expect(res.body.results).toEqual([{ userId: 'lost-a', ok: true }, { userId: 'lost-b', ok: true }]);
    } finally {
      process.env.TABLE_OUTBOX = outbox;
    }
    expect((await as('@admin', 'GET', '/users/lost-a')).status).toBe(200);
    // A row written now is archived after anything written before it would have been.
    await feed([{ kind: 'user', user: { userId: 'lost-marker', createdAt: 1, updatedAt: 1 } }]);
    await eventually(async () => (await mirrorUser('lost-marker')) !== undefined);
    await new Promise((r) => setTimeout(r, 500));
    expect(await mirrorUser('lost-a')).toBeUndefined();
    await backfillDirectory();
    expect(await mirrorUser('lost-a')).toBeDefined();
    expect(await mirrorUser('lost-b')).toBeDefined();
  });

  it('should rebuild the mirrors from DynamoDB with the backfill', async () => {
    await execute(`DELETE FROM users WHERE user_id LIKE 'st-%' OR user_id LIKE 'dir-%'`);
    await execute(`DELETE FROM groups WHERE group_id IN ('st-g', 'dir-g')`);
    const copied = await backfillDirectory();
    // Users: st-a..c, dir-a, dir-b, lost-a, lost-b registered through the API (the generated ones live in the mirror only).
    expect(copied).toEqual({ users: 7, groups: 2 });
    const users = await execute(`SELECT user_id, nickname FROM users WHERE user_id LIKE 'st-%' OR user_id LIKE 'dir-%' ORDER BY user_id`);
    expect(users.map((u) => u.user_id)).toEqual(['dir-a', 'dir-b', 'st-a', 'st-b', 'st-c']);
    expect(users[0].nickname).toBe('Renamed A');
    expect(await mirrorGroup('dir-g')).toEqual({ name: 'Renamed group', owner_user_id: 'dir-b', dismissed: true });
    // Running it again, as operators do through the migrate function, changes nothing.
    await execute(`DELETE FROM users WHERE user_id = 'st-b'`);
    const event = { RequestType: 'Update', RequestId: 'backfill', ResourceProperties: { BackfillDirectory: 'true' } };
    const run = (e: Record<string, unknown>) => migrate(e as unknown as Parameters<typeof migrate>[0]);
    expect((await runCustomResource(run, run, event, { polls: true, queryIntervalMs: 0, totalTimeoutMs: 60_000 })).Data).toEqual({ applied: '' });
    expect((await execute(`SELECT user_id FROM users WHERE user_id LIKE 'st-%' OR user_id LIKE 'dir-%' ORDER BY user_id`)).map((u) => u.user_id)).toEqual(['dir-a', 'dir-b', 'st-a', 'st-b', 'st-c']);
    expect(await mirrorGroup('dir-g')).toEqual({ name: 'Renamed group', owner_user_id: 'dir-b', dismissed: true });
  });
});

describe('bad input', () => {
  it.each([
    ['a date that is not one', 'from=2026-02-30&to=2026-03-01', 'from is not a calendar date'],
    ['a wrong date format', 'from=2026-3-1&to=2026-03-01', 'from must be a date YYYY-MM-DD'],
    ['a day before 1970', 'from=0000-01-01&to=2026-03-01', 'from must be between 1970-01-01 and 9998-12-31'],
    ['a day too far ahead', 'from=2026-03-01&to=9999-12-31', 'to must be between 1970-01-01 and 9998-12-31'],
    ['a missing bound', 'from=2026-03-01', 'to'],
    ['from after to', 'from=2026-03-02&to=2026-03-01', 'from (2026-03-02) must not be after to (2026-03-01)'],
    ['more than 366 days', 'from=2025-01-01&to=2026-01-02', 'The range covers 367 days; at most 366 are allowed'],
    ['an unknown parameter', 'from=2026-03-01&to=2026-03-01&tz=CET', 'tz'],
  ])('should refuse %s with INVALID_ARGUMENT', async (_name, query, message) => {
    const res = await as('@admin', 'GET', `/admin/statistics?${query}`);
    expect(res.status).toBe(400);
    expect(res.body.error.reason).toBe('INVALID_ARGUMENT');
    expect(res.body.error.message).toContain(message);
  });

  it('should accept exactly 366 days', async () => {
    const res = await statistics('2024-01-01', '2024-12-31');
    expect(res.status).toBe(200);
    expect(res.body.days).toHaveLength(366);
  });

  it('should refuse a user token', async () => {
    const res = await statistics(from, to, 'st-a');
    expect(res.status).toBe(403);
    expect(res.body.error?.reason).toBe('ADMIN_REQUIRED');
  });
});
