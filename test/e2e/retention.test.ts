/**
 * Retention of the history, end to end against the local runtime: with historyRetentionDays 30,
 * the retention function (run as its schedule runs it) deletes backdated messages and their
 * edits from the history and search, keeps the rest, honours a group's own retention (shorter or
 * longer), leaves the offline store to its own TTL, is idempotent, and a later change of a purged
 * message in the offline store does not bring it back.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { invoke } from '../../local/lambda';
import { ddb } from '../../core/aws/dynamodb';
import { eventually } from '../support/cirrus';
import { admin, as, cirrus, useCirrus } from '../support/harness';
import { complianceLimits } from '../../core/http/routes/compliance';
import { MAX_RETENTION_DAYS } from '../../core/history/retention';
import { functions } from '../../core/manifest';
import type { RetentionResult } from '../../core/services/retention';

useCirrus({ settings: { historyRetentionDays: 30 } });

const AB = 'si_rt-a_rt-b';
const AC = 'si_rt-a_rt-c';
const G = 'sg_rt-g';
const H = 'sg_rt-h';
/** The seq of the first message of AB kept (the edit's notification went into AB before it). */
let gamma: number;

async function send(body: Record<string, unknown>, text: string): Promise<number> {
  const res = await admin.call('POST', '/messages', { sendId: 'rt-a', contentType: 101, content: { text }, ...body });
  expect(res.status).toBe(200);
  return res.body.seq;
}

async function archivedSeqs(conversationId: string): Promise<number[]> {
  const rows = await cirrus.dataApi.query<{ seq: unknown }>(`SELECT seq FROM messages WHERE conversation_id = $1 ORDER BY seq`, [conversationId]);
  return rows.map((r) => Number(r.seq));
}

const waitArchived = (conversationId: string, count: number) => eventually(async () => (await archivedSeqs(conversationId)).length === count, 30_000);

/** Moves the conversation's messages up to `throughSeq` `days` into the past, as if sent then. */
async function backdate(conversationId: string, throughSeq: number, days: number): Promise<void> {
  await cirrus.dataApi.query(`UPDATE messages SET send_time = send_time - make_interval(days => $3::int) WHERE conversation_id = $1 AND seq <= $2::bigint`, [conversationId, throughSeq, days]);
}

const runRetention = () => invoke<RetentionResult>('retention', { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} });

async function adminSearch(q: string): Promise<string[]> {
  const res = await admin.call('GET', `/admin/messages/search?q=${encodeURIComponent(q)}`);
  expect(res.status).toBe(200);
  return res.body.messages.map((m: { content: { text: string } }) => m.content.text);
}

beforeAll(async () => {
  await admin.register('rt-a', 'rt-b', 'rt-c', 'rt-d');
  await admin.createGroup('rt-g', 'rt-a', ['rt-b']);
  await admin.createGroup('rt-h', 'rt-a', ['rt-c']);
});

describe('limits', () => {
  it('are the same in the route and the history', () => {
    expect(complianceLimits.MAX_RETENTION_DAYS).toBe(MAX_RETENTION_DAYS);
    expect(functions.retention.schedule).toEqual({ rate: 'rate(1 day)', description: expect.any(String) });
  });
});

describe("a group's own retention", () => {
  it('is read and set by admins, checked, and recorded in the audit log', async () => {
    expect((await admin.call('GET', '/admin/groups/rt-g/retention')).body).toEqual({ groupId: 'rt-g', days: null, effectiveDays: 30 });
    const set = await admin.call('PUT', '/admin/groups/rt-g/retention', { days: 5 });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({ groupId: 'rt-g', days: 5, effectiveDays: 5 });
    expect((await admin.call('PUT', '/admin/groups/rt-h/retention', { days: 60 })).body).toEqual({ groupId: 'rt-h', days: 60, effectiveDays: 60 });
    expect((await admin.call('GET', '/admin/groups/rt-g/retention')).body).toEqual({ groupId: 'rt-g', days: 5, effectiveDays: 5 });

    for (const days of [0, -1, 1.5, MAX_RETENTION_DAYS + 1, '7']) {
      const bad = await admin.call('PUT', '/admin/groups/rt-g/retention', { days });
      expect(bad.status, String(days)).toBe(400);
      expect(bad.body.error.reason).toBe('INVALID_ARGUMENT');
    }
    const missing = await admin.call('PUT', '/admin/groups/rt-nothing/retention', { days: 5 });
    expect(missing.status).toBe(404);
    expect(missing.body.error.reason).toBe('GROUP_NOT_FOUND');
    const user = await as('rt-a', 'PUT', '/admin/groups/rt-g/retention', { days: 1 });
    expect(user.status).toBe(403);
    // Nothing changed by the refused calls.
    expect((await admin.call('GET', '/admin/groups/rt-g/retention')).body.days).toBe(5);

    const audit = await admin.call('GET', '/admin/audit?action=setGroupRetention&target=group%3Art-g');
    expect(audit.body.entries.map((e: { outcome: string }) => e.outcome).sort()).toEqual(['INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'ok']);
    expect(audit.body.entries.find((e: { outcome: string }) => e.outcome === 'ok').details).toMatchObject({ groupId: 'rt-g', days: 5 });
  });

  it('null gives the group the deployment retention again', async () => {
    await admin.createGroup('rt-k', 'rt-d', []);
    expect((await admin.call('PUT', '/admin/groups/rt-k/retention', { days: 2 })).body.days).toBe(2);
    expect((await admin.call('PUT', '/admin/groups/rt-k/retention', { days: null })).body).toEqual({ groupId: 'rt-k', days: null, effectiveDays: 30 });
  });
});

describe('the retention run', () => {
  it('purges what is past its retention from the history and search, and nothing else', async () => {
    // 1:1: two messages 40 days old (the first edited: its notification is a message too), one new.
    await send({ recvId: 'rt-b' }, 'ancient alpha');
    await send({ recvId: 'rt-b' }, 'ancient beta');
    const edited = await as('rt-a', 'POST', `/users/rt-a/conversations/${AB}/messages/1/edit`, { contentType: 101, content: { text: 'ancient alpha edited' } });
    expect(edited.status).toBe(200);
    gamma = await send({ recvId: 'rt-b' }, 'recent gamma');
    // 1:1, 10 days old: within 30 days.
    await send({ recvId: 'rt-c' }, 'tenday delta');
    // Group rt-g (5 days): groupCreated and one message 10 days old, one new.
    const oldInG = await send({ groupId: 'rt-g' }, 'groupold epsilon');
    await send({ groupId: 'rt-g' }, 'groupnew zeta');
    // Group rt-h (60 days): everything 40 days old, kept.
    const lastInH = await send({ groupId: 'rt-h' }, 'fortyday eta');

    await Promise.all([waitArchived(AB, gamma), waitArchived(AC, 1), waitArchived(G, oldInG + 1), waitArchived(H, lastInH)]);
    await eventually(async () => (await cirrus.dataApi.query(`SELECT 1 FROM message_edits WHERE conversation_id = $1`, [AB])).length === 1, 30_000);
    await backdate(AB, gamma - 1, 40);
    await backdate(AC, 1, 10);
    await backdate(G, oldInG, 10);
    await backdate(H, lastInH, 40);
    expect(await adminSearch('ancient')).toHaveLength(2);

    const result = await runRetention();
    expect(result).toEqual({ purged: gamma - 1 + oldInG, batches: 2, done: true });

    expect(await archivedSeqs(AB)).toEqual([gamma]);
    expect(await archivedSeqs(AC)).toEqual([1]);
    expect(await archivedSeqs(G)).toEqual([oldInG + 1]);
    expect((await archivedSeqs(H)).length).toBe(lastInH);
    expect(await cirrus.dataApi.query(`SELECT seq FROM message_edits WHERE conversation_id = $1`, [AB])).toEqual([]);
    // Search: the purged words are gone, the kept ones found.
    expect(await adminSearch('ancient')).toEqual([]);
    expect(await adminSearch('groupold')).toEqual([]);
    expect(await adminSearch('recent')).toEqual(['recent gamma']);
    expect(await adminSearch('tenday')).toEqual(['tenday delta']);
    expect(await adminSearch('fortyday')).toEqual(['fortyday eta']);
    // The history page shows only what is left.
    const page = await admin.call('GET', `/conversations/${AB}/messages`);
    expect(page.body.messages.map((m: { seq: number }) => m.seq)).toEqual([gamma]);

    // The offline store keeps its own TTL.
    const offline = await ddb().send(new QueryCommand({ TableName: cirrus.tableNames.messages, KeyConditionExpression: 'conversationId = :c', ExpressionAttributeValues: { ':c': AB }, ConsistentRead: true }));
    expect((offline.Items ?? []).map((m) => Number(m.seq))).toEqual(Array.from({ length: gamma }, (_, i) => i + 1));
  });

  it('is idempotent: run again, it deletes nothing more', async () => {
    expect(await runRetention()).toEqual({ purged: 0, batches: 0, done: true });
    expect(await archivedSeqs(AB)).toEqual([gamma]);
  });

  it('a purged message changed in the offline store later does not come back to the history', async () => {
    const reacted = await as('rt-b', 'PUT', `/users/rt-b/conversations/${AB}/messages/1/reactions`, { emoji: '👍', reacted: true });
    expect(reacted.status).toBe(200);
    // A later message of the same conversation archived: the reaction's record went before it.
    const later = await send({ recvId: 'rt-b' }, 'later theta');
    await eventually(async () => (await archivedSeqs(AB)).includes(later), 30_000);
    const seqs = await archivedSeqs(AB);
    expect(seqs).toContain(later);
    expect(seqs.filter((seq) => seq < gamma)).toEqual([]);
    expect(await adminSearch('ancient')).toEqual([]);
  });

  it('records the seq it purged through, and purges what became old since on the next run', async () => {
    const CD = 'si_rt-c_rt-d';
    for (const t of ['old one', 'old two', 'old three']) await send({ sendId: 'rt-c', recvId: 'rt-d' }, t);
    await waitArchived(CD, 3);
    await backdate(CD, 3, 40);
    expect(await runRetention()).toEqual({ purged: 3, batches: 1, done: true });
    expect(await archivedSeqs(CD)).toEqual([]);
    expect((await cirrus.dataApi.query<{ seq: unknown }>(`SELECT seq FROM purged_through WHERE conversation_id = $1`, [CD])).map((r) => Number(r.seq))).toEqual([3]);
  });
});
