/**
 * Full-text search over the archived history (GET /users/{userId}/messages/search), end to
 * end against the local runtime: only what the caller may see (their conversations, above
 * minSeq, up to leftSeq), the filters, paging, and the errors.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/cirrus';
import { admin, as, cirrus, useCirrus } from '../support/harness';
import { singleConversationId } from '../../core/domain/ids';

useCirrus();

interface Ack {
  serverMsgId: string;
  conversationId: string;
  seq: number;
  sendTime: number;
}

interface Sent extends Ack {
  senderId: string;
  contentType: number;
}

interface Found {
  serverMsgId: string;
  conversationId: string;
  seq: number;
  sendTime: number;
  senderId: string;
  contentType: number;
  content: Record<string, unknown>;
}

const sent: Sent[] = [];

async function send(senderId: string, to: { recvId: string } | { groupId: string }, contentType: number, content: unknown): Promise<Sent> {
  const res = await admin.call<Ack>('POST', '/messages', { sendId: senderId, ...to, contentType, content });
  if (res.status !== 200) throw new Error(`send: ${JSON.stringify(res.body)}`);
  const s = { ...res.body, senderId, contentType };
  sent.push(s);
  return s;
}

async function ok(userId: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await as(userId, method, path, body);
  if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

function search(userId: string, params: Record<string, string | number>, caller = userId) {
  const qs = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)])).toString();
  return as<{ messages: Found[]; nextCursor: string | null; error?: { reason: string } }>(caller, 'GET', `/users/${userId}/messages/search?${qs}`);
}

/** Every match, following nextCursor; the ids in the order returned. */
async function searchAll(userId: string, params: Record<string, string | number>): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const res = await search(userId, { ...params, ...(cursor ? { cursor } : {}) });
    expect(res.status).toBe(200);
    ids.push(...res.body.messages.map((m) => m.serverMsgId));
    cursor = res.body.nextCursor;
  } while (cursor);
  return ids;
}

const ids = (list: readonly Sent[]) => list.map((m) => m.serverMsgId).sort();
const sorted = (list: readonly string[]) => [...list].sort();

const zebra: Record<string, Sent> = {};
let other: Sent;
let beforeKick: Sent[];
let afterJoin: Sent[];

beforeAll(async () => {
  await admin.register('sa', 'sb', 'sc', 'sd', 'se', 'sf');

  // 1:1 sa–sb, several content types.
  zebra.text = await send('sb', { recvId: 'sa' }, 101, { text: 'The Zebra report is ready' });
  zebra.markdown = await send('sa', { recvId: 'sb' }, 118, { markdown: '**zebra** notes' });
  zebra.file = await send('sa', { recvId: 'sb' }, 105, { file: { objectKey: 'f/1', mimeType: 'text/csv', size: 10 }, fileName: 'zebra-budget.csv' });
  await send('sb', { recvId: 'sa' }, 101, { text: 'lunch?' });

  // A 1:1 sa is not in, with the same word.
  other = await send('sb', { recvId: 'sf' }, 101, { text: 'zebra secret' });

  // 1:1 sa–sc that sa clears in between.
  zebra.cleared = await send('sc', { recvId: 'sa' }, 101, { text: 'old zebra' });
  await ok('sa', 'POST', `/users/sa/conversations/${singleConversationId('sa', 'sc')}/clear`);
  zebra.afterClear = await send('sc', { recvId: 'sa' }, 101, { text: 'new zebra' });

  // A group: se is kicked, sd joins later.
  await admin.createGroup('zoo', 'sa', ['sb', 'se']);
  zebra.mention = await send('sb', { groupId: 'zoo' }, 106, { text: '@sa zebra time', atUserIds: ['sa'] });
  zebra.custom = await send('sa', { groupId: 'zoo' }, 110, { data: '{}', description: 'zebra sticker' });
  beforeKick = [zebra.mention, zebra.custom];
  await ok('sa', 'POST', '/groups/zoo/members/remove', { userIds: ['se'] });
  zebra.location = await send('sb', { groupId: 'zoo' }, 109, { latitude: 1, longitude: 2, description: 'Zebra crossing' });
  await ok('sa', 'POST', '/groups/zoo/members', { userIds: ['sd'] });
  zebra.card = await send('sa', { groupId: 'zoo' }, 108, { userId: 'sc', nickname: 'Zebra fan' });
  afterJoin = [zebra.card];

  // Wait until the archive has every message.
  await eventually(async () => {
    const rows = await cirrus.dataApi.query(`SELECT server_msg_id FROM messages`);
    const archived = new Set(rows.map((r: { server_msg_id: string }) => r.server_msg_id));
    return sent.every((m) => archived.has(m.serverMsgId));
  });
});

describe('message search', () => {
  it('finds exactly the caller\'s visible matches, newest first, in the Message shape', async () => {
    const res = await search('sa', { q: 'zebra' });

    expect(res.status).toBe(200);
    const expected = Object.values(zebra).filter((m) => m !== zebra.cleared);
    expect(sorted(res.body.messages.map((m) => m.serverMsgId))).toEqual(ids(expected));
    expect(res.body.nextCursor).toBeNull();
    const order = res.body.messages.map((m) => [m.sendTime, m.conversationId, m.seq] as const);
    for (let i = 1; i < order.length; i++) {
      const [a, b] = [order[i - 1], order[i]];
      expect(a[0] > b[0] || (a[0] === b[0] && (a[1] > b[1] || (a[1] === b[1] && a[2] > b[2])))).toBe(true);
    }
    const file = res.body.messages.find((m) => m.serverMsgId === zebra.file.serverMsgId)!;
    expect(file).toMatchObject({ conversationId: singleConversationId('sa', 'sb'), seq: zebra.file.seq, senderId: 'sa', contentType: 105, sendTime: zebra.file.sendTime });
    expect(file.content).toMatchObject({ fileName: 'zebra-budget.csv' });
  });

  it('never returns another user\'s conversations, what the user cleared, what came before they joined, or after they left', async () => {
    expect(ids((await search('sf', { q: 'zebra' })).body.messages as unknown as Sent[])).toEqual([other.serverMsgId]);
    expect(ids((await search('sc', { q: 'zebra' })).body.messages as unknown as Sent[])).toEqual(ids([zebra.cleared, zebra.afterClear]));
    expect(ids((await search('se', { q: 'zebra' })).body.messages as unknown as Sent[])).toEqual(ids(beforeKick));
    expect(ids((await search('sd', { q: 'zebra' })).body.messages as unknown as Sent[])).toEqual(ids(afterJoin));
    expect(ids((await search('sb', { q: 'zebra' })).body.messages as unknown as Sent[])).toEqual(
      ids([zebra.text, zebra.markdown, zebra.file, other, zebra.mention, zebra.custom, zebra.location, zebra.card]),
    );
  });

  it('matches whole words case-insensitively, parts of file names, phrases, and excluded words', async () => {
    const q = async (query: string) => ids((await search('sa', { q: query })).body.messages as unknown as Sent[]);
    expect(await q('BUDGET')).toEqual(ids([zebra.file]));
    expect(await q('"zebra crossing"')).toEqual(ids([zebra.location]));
    expect(await q('zebra report')).toEqual(ids([zebra.text]));
    expect(await q('zebra -report -notes -budget -crossing -fan -sticker -time -new')).toEqual([]);
    expect(await q('zeb')).toEqual([]);
    expect(await q('lunch or sticker')).toHaveLength(2);
    expect(await q(`!!! :* & | ' ( "`)).toEqual([]);
  });

  it('filters by conversation, sender, content type and time range', async () => {
    const q = async (params: Record<string, string | number>) => ids((await search('sa', { q: 'zebra', ...params })).body.messages as unknown as Sent[]);
    expect(await q({ conversationId: 'sg_zoo' })).toEqual(ids([zebra.mention, zebra.custom, zebra.location, zebra.card]));
    expect(await q({ conversationId: singleConversationId('sa', 'sb') })).toEqual(ids([zebra.text, zebra.markdown, zebra.file]));
    expect(await q({ senderId: 'sb' })).toEqual(ids([zebra.text, zebra.mention, zebra.location]));
    expect(await q({ contentType: 118 })).toEqual(ids([zebra.markdown]));
    expect(await q({ contentType: 105, senderId: 'sa' })).toEqual(ids([zebra.file]));

    const visible = Object.values(zebra).filter((m) => m !== zebra.cleared);
    const from = zebra.afterClear.sendTime;
    const to = zebra.location.sendTime;
    expect(await q({ from, to })).toEqual(ids(visible.filter((m) => m.sendTime >= from && m.sendTime <= to)));
    expect(await q({ from })).toEqual(ids(visible.filter((m) => m.sendTime >= from)));
    expect(await q({ to: zebra.text.sendTime })).toEqual(ids(visible.filter((m) => m.sendTime <= zebra.text.sendTime)));
  });

  it('pages through every match exactly once, in the same order as one page', async () => {
    const whole = (await search('sa', { q: 'zebra', limit: 100 })).body.messages.map((m) => m.serverMsgId);
    for (const limit of [1, 2, 3]) expect(await searchAll('sa', { q: 'zebra', limit })).toEqual(whole);
    const first = await search('sa', { q: 'zebra', limit: 2 });
    expect(first.body.messages).toHaveLength(2);
    expect(typeof first.body.nextCursor).toBe('string');
  });

  it('lets admins search for a user and refuses other users (403)', async () => {
    const byAdmin = await search('sa', { q: 'zebra' }, '@admin');
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body.messages).toHaveLength(Object.keys(zebra).length - 1);
    const bySb = await search('sa', { q: 'zebra' }, 'sb');
    expect(bySb.status).toBe(403);
  });

  it('refuses a bad query (400) and a conversation the user is not in (404)', async () => {
    for (const params of [{}, { q: '' }, { q: '   ' }, { q: 'x'.repeat(201) }, { q: 'zebra', limit: 0 }, { q: 'zebra', limit: 101 }, { q: 'zebra', cursor: 'nonsense' }, { q: 'zebra', from: 10, to: 5 }, { q: 'zebra', unknown: 1 }]) {
      const res = await search('sa', params as Record<string, string | number>);
      expect(res.status, JSON.stringify(params)).toBe(400);
    }
    expect((await search('sa', { q: 'x'.repeat(200) })).status).toBe(200);
    for (const conversationId of [singleConversationId('sb', 'sf'), 'sg_nope']) {
      const res = await search('sa', { q: 'zebra', conversationId });
      expect(res.status).toBe(404);
      expect(res.body.error?.reason).toBe('CONVERSATION_NOT_FOUND');
    }
  });

  it('drops a message from search when its content is replaced (as a revoke does)', async () => {
    await admin.register('sg', 'sh');
    const m = await send('sg', { recvId: 'sh' }, 101, { text: 'ephemeral okapi' });
    await eventually(async () => (await search('sh', { q: 'okapi' })).body.messages.length === 1);

    await cirrus.dataApi.query(`UPDATE messages SET content = $1::jsonb WHERE server_msg_id = $2`, [JSON.stringify({ text: 'revoked' }), m.serverMsgId]);

    expect((await search('sh', { q: 'okapi' })).body.messages).toEqual([]);
    expect((await search('sh', { q: 'revoked' })).body.messages.map((x) => x.serverMsgId)).toEqual([m.serverMsgId]);
  });
});
