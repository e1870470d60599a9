/**
 * Physical purge against archive inserts in flight, on a real PostgreSQL (a throwaway
 * cluster started here: PGlite is a single connection and cannot show two sessions
 * racing). The history code runs as deployed: the real RDS Data client, the local Data
 * API in front of the cluster. A second, direct `pg` connection plays the archive insert
 * (or the purge) caught in the middle, its transaction held open.
 *
 * Under READ COMMITTED, without migration 0007_purge_lock and the purge's transaction, an
 * insert whose trigger passed before the tombstone existed, committing after the purge's
 * DELETE, brings the row back; and an insert checking for the tombstone before the purge
 * commits it is written after the purge.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { LocalDataApi } from '../../local/aws/data-api';
import { mount, type Mounted } from '../local/mount';
import { startPostgres, type TestPostgres } from '../support/postgres';
import { history, inTransaction } from '../../core/history/history';
import { historyPurge } from '../../core/history/purge';
import { PURGE_LOCK_CLASS } from '../../core/history/migrations';
import type { Message } from '../../core/protocol/schema';

/** How long an operation that should be waiting for the other transaction is given to (wrongly) finish. */
const WAIT_MS = 300;

let postgres: TestPostgres;
let dataApi: LocalDataApi;
let server: Mounted;
const clients: pg.Client[] = [];

async function connect(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: postgres.url });
  await client.connect();
  clients.push(client);
  return client;
}

beforeAll(async () => {
  postgres = await startPostgres();
  dataApi = new LocalDataApi({ databaseUrl: postgres.url });
  server = await mount([dataApi]);
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_RDS_DATA: server.url,
    DB_CLUSTER_ARN: 'arn:aws:rds:us-east-1:000000000000:cluster:cirrus-local',
    DB_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:cirrus-local-db',
    DB_NAME: 'postgres',
  });
  await history.migrate();
});

afterAll(async () => {
  for (const c of clients) await c.end().catch(() => {});
  await server?.close();
  await dataApi?.close();
  await postgres?.stop();
});

const message = (conversationId: string, seq: number): Message => ({
  serverMsgId: `${conversationId}-${seq}`,
  clientMsgId: `c-${conversationId}-${seq}`,
  conversationId,
  seq,
  sessionType: 1,
  senderId: 'race-a',
  recvId: 'race-b',
  contentType: 101,
  content: { text: `message ${seq}` },
  sendTime: Date.now(),
});

/** An archive insert as a direct connection makes it, inside its open transaction: true when the trigger let the row through. */
async function insertRow(client: pg.Client, conversationId: string, seq: number): Promise<boolean> {
  const res = await client.query(
    `INSERT INTO messages (conversation_id, seq, server_msg_id, client_msg_id, session_type, sender_id, recv_id, content_type, content, send_time)
       VALUES ($1, $2, $3, $4, 1, 'race-a', 'race-b', 101, '{"text":"in flight"}', now())
       ON CONFLICT (conversation_id, seq) DO NOTHING RETURNING seq`,
    [conversationId, seq, `${conversationId}-${seq}-inflight`, `c-${conversationId}-${seq}-inflight`],
  );
  return res.rowCount === 1;
}

async function state(conversationId: string, seq: number) {
  const [rows, edits, tombstones] = await Promise.all(
    ['messages', 'message_edits', 'purged_messages'].map((table) =>
      dataApi.query(`SELECT count(*)::int AS n FROM ${table} WHERE conversation_id = $1 AND seq = $2`, [conversationId, seq]).then((r) => r[0].n as number),
    ),
  );
  return { rows, edits, tombstones };
}

/** Tracks whether a promise has settled, without letting a rejection go unhandled. */
function track<T>(promise: Promise<T>) {
  const t = { settled: false, promise };
  promise.then(
    () => (t.settled = true),
    () => (t.settled = true),
  );
  return t;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('physical purge racing an archive insert (real PostgreSQL)', () => {
  it('waits for an insert in flight to commit, then deletes its row: nothing comes back', async () => {
    const conv = 'si_race-a_race-b';
    await history.insertMessages([message(conv, 1), message(conv, 3)]);
    const a = await connect();

    // The archive insert of seq 2 (and an edit of it) is in flight: its trigger passed, the rows are not committed.
    await a.query('BEGIN');
    expect(await insertRow(a, conv, 2)).toBe(true);
    const edit = await a.query(
      `INSERT INTO message_edits (conversation_id, seq, version, content_type, content, replaced_at) VALUES ($1, 2, 1, 101, '{"text":"before"}', now()) RETURNING seq`,
      [conv],
    );
    expect(edit.rowCount).toBe(1);

    // The purge of seq 2, through the real code path, starts meanwhile: it must wait for A.
    const purge = track(historyPurge.purge(conv, [2]));
    await sleep(WAIT_MS);
    expect.soft(purge.settled, 'the purge finished while an insert of its conversation was in flight').toBe(false);

    await a.query('COMMIT');
    expect(await purge.promise).toEqual([2]);
    expect(await state(conv, 2)).toEqual({ rows: 0, edits: 0, tombstones: 1 });
    // The conversation's other messages are untouched.
    expect((await dataApi.query(`SELECT seq FROM messages WHERE conversation_id = $1 ORDER BY seq`, [conv])).map((r) => Number(r.seq))).toEqual([1, 3]);

    // A later insert, as a redelivered archive job makes it, is still dropped.
    await history.insertMessages([message(conv, 2)]);
    await history.recordEdits([{ conversationId: conv, seq: 2, version: 1, contentType: 101, content: { text: 'before' }, replacedAt: Date.now() }]);
    expect(await state(conv, 2)).toEqual({ rows: 0, edits: 0, tombstones: 1 });
  });

  it('makes an insert that comes while a purge is uncommitted wait for it, then drops the row', async () => {
    const conv = 'si_race-c_race-d';
    const b = await connect();

    // A purge of seq 5 holds the conversation's lock, its tombstone written but not committed.
    await b.query('BEGIN');
    await b.query(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [PURGE_LOCK_CLASS, conv]);
    await b.query(`INSERT INTO purged_messages (conversation_id, seq) VALUES ($1, 5)`, [conv]);

    // The archive insert of seq 5, through the real code path, must wait for the purge.
    const insert = track(history.insertMessages([message(conv, 5)]));
    await sleep(WAIT_MS);
    expect.soft(insert.settled, 'the insert finished while a purge of its conversation was uncommitted').toBe(false);

    await b.query('COMMIT');
    await insert.promise;
    expect(await state(conv, 5)).toEqual({ rows: 0, edits: 0, tombstones: 1 });
  });

  it('rolls the whole purge transaction back when a step fails, with the step\'s error', async () => {
    const conv = 'si_race-i_race-j';
    const tombstone = (execute: (sql: string) => Promise<unknown>) => execute(`INSERT INTO purged_messages (conversation_id, seq) VALUES ('${conv}', 1)`);
    const thrown = inTransaction(async (execute) => {
      await tombstone(execute);
      throw new Error('step failed');
    });
    await expect(thrown).rejects.toThrow('step failed');
    const failedSql = inTransaction(async (execute) => {
      await tombstone(execute);
      await execute(`SELECT * FROM no_such_table`);
    });
    await expect(failedSql).rejects.toMatchObject({ name: 'DatabaseErrorException' });
    expect(await state(conv, 1)).toEqual({ rows: 0, edits: 0, tombstones: 0 });
    // Nothing is left holding the conversation's lock.
    expect(await historyPurge.purge(conv, [1])).toEqual([]);
    expect(await state(conv, 1)).toEqual({ rows: 0, edits: 0, tombstones: 1 });
  });

  it('does not hold up inserts or purges of other conversations', async () => {
    const conv = 'si_race-e_race-f';
    const other = 'si_race-g_race-h';
    await history.insertMessages([message(other, 1)]);
    const a = await connect();
    await a.query('BEGIN');
    expect(await insertRow(a, conv, 1)).toBe(true);
    try {
      // Another conversation's purge and insert go through while A is open.
      expect(await historyPurge.purge(other, [1])).toEqual([1]);
      await history.insertMessages([message(other, 2)]);
      expect(await state(other, 2)).toEqual({ rows: 1, edits: 0, tombstones: 0 });
    } finally {
      await a.query('COMMIT');
    }
    expect(await state(conv, 1)).toEqual({ rows: 1, edits: 0, tombstones: 0 });
  });
});
