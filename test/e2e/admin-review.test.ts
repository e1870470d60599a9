/**
 * Review findings on the admin operations: bad input answered with a clear error (never a
 * 500), and what a retry after a partial failure must still do.
 */
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { eventually } from '../support/cirrus';
import { admin, as, cirrus, useCirrus } from '../support/harness';
import { ddb } from '../../core/aws/dynamodb';
import { handler as migrate, type MigrateEvent } from '../../functions/migrate';
import { runCustomResource } from '../../local/custom-resource';
import { directoryBackfill } from '../../core/history/directory';
import { migrationPolling } from '../../core/history/migrations';
import { startWebhookReceiver } from '../support/webhook-receiver';
import { faults } from '../../core/faults';
import { validateWebhookSettings, webhookEnv } from '../../core/webhooks/settings';
import { singleConversationId, SYSTEM_SENDER } from '../../core/domain/ids';

const hooks = await startWebhookReceiver();
afterAll(() => hooks.close());
afterEach(() => faults.clear());

useCirrus({
  settings: { webhooks: { url: hooks.url, signingSecret: 'review-secret', timeoutMs: 1000, callbacks: { afterRevokeMessage: { enabled: true } } } },
  queueOverrides: { webhook: { visibilityTimeoutSeconds: 1, maxReceiveCount: 3 } },
});

describe('times beyond what the history can store', () => {
  it('purge before a far-future time is not a 500', async () => {
    expect((await admin.call('POST', '/users/register', { users: [{ userId: 'rv-a' }, { userId: 'rv-b' }] })).status).toBe(200);
    expect((await admin.call('POST', '/messages', { sendId: 'rv-a', recvId: 'rv-b', contentType: 101, content: { text: 'hi' } })).status).toBe(200);
    const conv = singleConversationId('rv-a', 'rv-b');
    for (const before of [Number.MAX_SAFE_INTEGER, 300_000_000_000_000]) {
      const res = await admin.call('POST', `/admin/conversations/${conv}/messages/purge`, { before });
      expect(res.status, JSON.stringify(res.body)).toBeLessThan(500);
    }
  });

  it('the moderation search with far-future times is not a 500', async () => {
    for (const q of [`to=${Number.MAX_SAFE_INTEGER}`, `from=300000000000000`, `from=0&to=300000000000000`]) {
      const res = await admin.call('GET', `/admin/messages/search?${q}`);
      expect(res.status, `${q}: ${JSON.stringify(res.body)}`).toBeLessThan(500);
    }
  });
});

describe('after-callbacks of a change retried after a partial failure', () => {
  it('a revoke whose announcement failed still makes afterRevokeMessage when retried', async () => {
    expect((await admin.call('POST', '/users/register', { users: [{ userId: 'rk-a' }, { userId: 'rk-b' }] })).status).toBe(200);
    const sent = await admin.call('POST', '/messages', { sendId: 'rk-a', recvId: 'rk-b', contentType: 101, content: { text: 'oops' }, clientMsgId: 'rk-1' });
    expect(sent.status).toBe(200);
    const { conversationId, seq } = sent.body;
    // The revoke is stored, then its notification fails (a queue or table error): the caller gets an error and retries.
    let left = 1;
    faults.arm('send.afterAllocate', (d) => {
      if (d.conversationId === conversationId && left-- > 0) throw new Error('Injected fault while announcing the revoke');
    });
    const first = await as('rk-a', 'POST', `/conversations/${conversationId}/messages/${seq}/revoke`);
    expect(first.status).toBe(500);
    const retry = await as('rk-a', 'POST', `/conversations/${conversationId}/messages/${seq}/revoke`);
    expect(retry.status, JSON.stringify(retry.body)).toBe(200);
    const calls = await eventually(async () => {
      const c = hooks.calls('afterRevokeMessage', (d) => d.message.conversationId === conversationId && d.message.seq === seq);
      return c.length > 0 && c;
    }, 10_000);
    expect(calls[0].body.data).toMatchObject({ revokedBy: 'rk-a', message: { senderId: 'rk-a', content: null } });
    expect(SYSTEM_SENDER).toBe('system');
  });
});

describe('the directory backfill of the migrate function', () => {
  const update = { RequestType: 'Update', RequestId: 'deploy', PhysicalResourceId: 'cirrus-history-schema', ResourceProperties: {} } as unknown as MigrateEvent;
  type Remaining = Parameters<typeof migrate>[1];
  /** The custom resource as CloudFormation runs it: onEvent, then polls until complete; `polls` counts them. */
  const deploy = async (event: MigrateEvent, context?: Remaining) => {
    let polls = 0;
    const result = await runCustomResource(
      (e) => migrate(e as unknown as MigrateEvent, context),
      (e) => {
        polls++;
        return migrate(e as unknown as MigrateEvent, context);
      },
      event as unknown as Record<string, unknown>,
      { polls: true, queryIntervalMs: 0, totalTimeoutMs: 60_000 },
    );
    return { ...result, polls };
  };
  /** No time left after a page: one page per poll. */
  const onePagePerPoll: Remaining = { getRemainingTimeInMillis: () => 0 };

  /** Records each Scan that succeeded (table, start key, items); `pageItems` caps the pages, `failAt` fails that Scan. */
  function watchScans(options: { pageItems?: number; failAt?: number } = {}) {
    const client = ddb();
    const send = client.send.bind(client) as (...a: unknown[]) => Promise<any>;
    const scans: { table: string; startKey: string; items: number }[] = [];
    let attempts = 0;
    const spy = vi.spyOn(client, 'send').mockImplementation((async (command: unknown, ...rest: unknown[]) => {
      if (!(command instanceof ScanCommand)) return send(command, ...rest);
      attempts++;
      if (attempts === options.failAt) throw Object.assign(new Error('Throughput exceeded'), { name: 'ProvisionedThroughputExceededException' });
      if (options.pageItems) command.input.Limit = options.pageItems;
      const page = await send(command, ...rest);
      scans.push({ table: command.input.TableName!, startKey: JSON.stringify(command.input.ExclusiveStartKey ?? null), items: page.Items?.length ?? 0 });
      return page;
    }) as typeof client.send);
    return { scans, restore: () => spy.mockRestore() };
  }

  async function putOldUsers(prefix: string, count: number): Promise<string[]> {
    const ids = Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(2, '0')}`);
    for (const userId of ids) {
      await ddb().send(new PutCommand({ TableName: cirrus.tableNames.users, Item: { userId, nickname: `Old ${userId}`, createdAt: 1_600_000_000_000, listKey: 'user' } }));
    }
    return ids;
  }
  const mirrored = async (prefix: string) => (await cirrus.dataApi.query(`SELECT user_id FROM users WHERE user_id LIKE '${prefix}-%' ORDER BY user_id`)).map((r: any) => r.user_id);
  const tableItems = async (table: string) => (await ddb().send(new ScanCommand({ TableName: table, Select: 'COUNT' }))).Count ?? 0;

  it('is not skipped for good when the run that created the mirrors failed in it', async () => {
    // A user from before the directory existed (no directory job ever made for them).
    await ddb().send(new PutCommand({ TableName: cirrus.tableNames.users, Item: { userId: 'bf-old', nickname: 'Old Timer', createdAt: 1_600_000_000_000, listKey: 'user' } }));
    // The deploy that creates the mirrors (0005_directory) fails in the backfill (a DynamoDB error)…
    await cirrus.dataApi.query(`DELETE FROM schema_migrations WHERE id IN ('0005_directory', 'directory_backfill')`);
    const failing = watchScans({ failAt: 1 });
    try {
      await expect(deploy(update)).rejects.toThrow('Throughput exceeded');
    } finally {
      failing.restore();
    }
    // …so the next run (a redeploy, the rollback) still owes the backfill.
    await deploy(update);
    const rows = await cirrus.dataApi.query(`SELECT user_id FROM users WHERE user_id = 'bf-old'`);
    expect(rows).toHaveLength(1);
  });

  it('continues a backfill cut short where it stopped, copying every page once', async () => {
    const ids = await putOldUsers('bf-cut', 30);
    await directoryBackfill.restart();
    const watch = watchScans({ failAt: 3 });
    try {
      // A slice that ran out of time after one page…
      expect(await directoryBackfill.slice({ deadline: 0, pageItems: 10 })).toMatchObject({ done: false, pages: 1 });
      // …one that failed on its second page (the first of it was copied and its position saved)…
      await expect(directoryBackfill.slice({ deadline: Number.MAX_SAFE_INTEGER, pageItems: 10 })).rejects.toThrow('Throughput exceeded');
      // …and the next one finishes.
      const last = await directoryBackfill.slice({ deadline: Number.MAX_SAFE_INTEGER, pageItems: 10 });
      expect(last.done).toBe(true);
    } finally {
      watch.restore();
    }
    expect(await mirrored('bf-cut')).toEqual(ids);
    expect(await directoryBackfill.done()).toBe(true);
    // Every page of each table was scanned once: no start key twice, and as many items as the tables hold.
    for (const table of [cirrus.tableNames.users, cirrus.tableNames.groups]) {
      const scans = watch.scans.filter((scan) => scan.table === table);
      expect(new Set(scans.map((scan) => scan.startKey)).size, table).toBe(scans.length);
      expect(scans.reduce((sum, scan) => sum + scan.items, 0), table).toBe(await tableItems(table));
    }
    expect(watch.scans.filter((scan) => scan.table === cirrus.tableNames.users).length).toBeGreaterThan(3);
    // Complete: a further slice copies nothing.
    expect(await directoryBackfill.slice({ deadline: 0 })).toEqual({ done: true, pages: 0, users: 0, groups: 0 });
  });

  it('runs through the deploy one slice per poll until complete, when asked to start over', async () => {
    const ids = await putOldUsers('bf-poll', 12);
    await cirrus.dataApi.query(`DELETE FROM users WHERE user_id LIKE 'bf-poll-%'`);
    const watch = watchScans({ pageItems: 5 });
    let result: Awaited<ReturnType<typeof deploy>>;
    try {
      result = await deploy({ ...update, ResourceProperties: { BackfillDirectory: 'true' } } as unknown as MigrateEvent, onePagePerPoll);
    } finally {
      watch.restore();
    }
    // One page per poll: as many polls as pages, and the schema's own answer as the resource's data.
    expect(result.polls).toBe(watch.scans.length);
    expect(result.polls).toBeGreaterThan(3);
    expect(result.Data).toEqual({ applied: '' });
    expect(await mirrored('bf-poll')).toEqual(ids);
    // A delete completes at once and leaves the data alone.
    const deleted = await deploy({ ...update, RequestType: 'Delete' } as unknown as MigrateEvent);
    expect(deleted.polls).toBe(1);
    expect(await mirrored('bf-poll')).toEqual(ids);
  });

  it("completes the deploy when the backfill outlasts the deploy's work budget, and continues on the next run", async () => {
    await putOldUsers('bf-long', 6);
    await cirrus.dataApi.query(`DELETE FROM users WHERE user_id LIKE 'bf-long-%'`);
    await directoryBackfill.restart();
    const watch = watchScans({ pageItems: 5 });
    try {
      const late = { ...update, Poll: 'migrations', StartedAt: Date.now() - (migrationPolling.workMinutes + 1) * 60_000 } as unknown as MigrateEvent;
      expect(await migrate(late, onePagePerPoll)).toEqual({ IsComplete: true, Data: { directoryBackfill: 'paused' } });
      expect(await directoryBackfill.done()).toBe(false);
      // The next run picks up from the saved position.
      await deploy(update);
    } finally {
      watch.restore();
    }
    expect(await directoryBackfill.done()).toBe(true);
    expect(new Set(watch.scans.map((scan) => `${scan.table} ${scan.startKey}`)).size).toBe(watch.scans.length);
    expect(await mirrored('bf-long')).toHaveLength(6);
  });
});

describe('a batch resubmitted after its pages were partly queued', () => {
  it('counts every recipient once, whatever the order of recvIds in the retry', async () => {
    const ids = Array.from({ length: 150 }, (_, i) => `bo-${String(i).padStart(3, '0')}`);
    expect((await admin.call('POST', '/users/register', { users: [{ userId: 'bo-s' }, ...ids.map((userId) => ({ userId }))] })).status).toBe(200);
    expect((await as('bo-000', 'POST', '/users/bo-000/blacklist', { blockedUserId: 'bo-s' })).status).toBe(200);
    const body = { batchId: 'bo-batch', sendId: 'bo-s', contentType: 101, content: { text: 'hello all' } };

    // The first attempt queues page 0, and queueing page 1 fails: the caller is told to submit again.
    let failedOnce = false;
    faults.arm('invoke.beforeSend', ({ payload }) => {
      if (!failedOnce && String(payload).includes('"bo-batch"') && String(payload).includes('"page":1')) {
        failedOnce = true;
        throw Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException', $metadata: { httpStatusCode: 429 } });
      }
    });
    try {
      const first = await admin.call('POST', '/messages/batch', { ...body, recvIds: ids });
      expect(first.status, JSON.stringify(first.body)).toBe(500);
    } finally {
      faults.disarm('invoke.beforeSend');
    }
    await eventually(async () => (await admin.call('GET', '/messages/batch/bo-batch')).body.pagesDone === 1, 30_000);

    // The same request again, its recipients listed in another order.
    const again = await admin.call('POST', '/messages/batch', { ...body, recvIds: [...ids].reverse() });
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    const done = await eventually(async () => {
      const res = await admin.call('GET', '/messages/batch/bo-batch');
      return res.body.status === 'done' && res.body;
    }, 60_000);
    expect(done).toMatchObject({ recipients: 150, sent: 149, failed: 1, pages: 2, pagesDone: 2 });
  });
});

describe('a before-callback modification is held to the route\'s limits', () => {
  it('a friend request message the app lengthens beyond 255 characters is not stored', async () => {
    Object.assign(process.env, webhookEnv(validateWebhookSettings({ url: hooks.url, timeoutMs: 1000, callbacks: { afterRevokeMessage: { enabled: true }, beforeAddFriend: { enabled: true } } })));
    hooks.answers.beforeAddFriend = () => ({ json: { action: 'modify', message: 'x'.repeat(300) } });
    try {
      expect((await admin.call('POST', '/users/register', { users: [{ userId: 'fl-a' }, { userId: 'fl-b' }] })).status).toBe(200);
      // A client cannot send such a message itself.
      expect((await as('fl-a', 'POST', '/users/fl-a/friend-requests', { toUserId: 'fl-b', message: 'y'.repeat(300) })).status).toBe(400);
      const res = await as('fl-a', 'POST', '/users/fl-a/friend-requests', { toUserId: 'fl-b', message: 'hello' });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      // An invalid modification is a failure of the backend: under the open policy the request goes on unchanged.
      expect(res.body.request.message).toBe('hello');
    } finally {
      delete hooks.answers.beforeAddFriend;
      Object.assign(process.env, webhookEnv(validateWebhookSettings({ url: hooks.url, timeoutMs: 1000, callbacks: { afterRevokeMessage: { enabled: true } } })));
    }
  });
});

describe('NUL characters, which PostgreSQL text cannot hold', () => {
  it('a search with one is refused with INVALID_ARGUMENT, not a 500', async () => {
    expect((await admin.call('POST', '/users/register', { users: [{ userId: 'nq-a' }, { userId: 'nq-b' }] })).status).toBe(200);
    expect((await admin.call('POST', '/messages', { sendId: 'nq-a', recvId: 'nq-b', contentType: 101, content: { text: 'hello' } })).status).toBe(200);
    const q = encodeURIComponent('he\u0000llo');
    for (const [who, path] of [
      ['@admin', `/admin/users/search?q=${q}`],
      ['@admin', `/admin/messages/search?q=${q}`],
      ['nq-a', `/users/nq-a/messages/search?q=${q}`],
    ] as const) {
      const res = await as(who, 'GET', path);
      expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBe(400);
      expect(res.body.error.reason).toBe('INVALID_ARGUMENT');
    }
  });

  it('a nickname with one is refused at registration, and nobody is registered', async () => {
    const res = await admin.call('POST', '/users/register', { users: [{ userId: 'nul-nick', nickname: 'bad\u0000name' }] });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ reason: 'INVALID_ARGUMENT' });
    expect(res.body.error.message).toContain('users.0.nickname');
    expect((await admin.call('GET', '/users/nul-nick')).status).toBe(404);
  });
});

describe('a message with a NUL character', () => {
  it('is refused (the history could not keep it as the offline store does), and nothing reaches either', async () => {
    expect((await admin.call('POST', '/users/register', { users: [{ userId: 'nm-a' }, { userId: 'nm-b' }] })).status).toBe(200);
    const sent = await admin.call('POST', '/messages', { sendId: 'nm-a', recvId: 'nm-b', contentType: 101, content: { text: 'null\u0000byte' } });
    expect(sent.status).toBe(400);
    expect(sent.body.error).toMatchObject({ reason: 'INVALID_ARGUMENT' });
    expect(sent.body.error.message).toContain('content.text');
    expect((await as('nm-a', 'GET', '/users/nm-a/conversations')).body.conversations).toEqual([]);
    expect(await cirrus.dataApi.query(`SELECT seq FROM messages WHERE sender_id = 'nm-a'`)).toEqual([]);
  });
});
