import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BadRequestException,
  BatchExecuteStatementCommand,
  BeginTransactionCommand,
  CommitTransactionCommand,
  DatabaseErrorException,
  DatabaseResumingException,
  ExecuteStatementCommand,
  RDSDataClient,
  RollbackTransactionCommand,
  TransactionNotFoundException,
  UnsupportedResultException,
  type SqlParameter,
} from '@aws-sdk/client-rds-data';
import { LocalDataApi, MAX_RESPONSE_BYTES } from '../../local/aws/data-api';
import { bindParameters, parseArrayLiteral } from '../../local/aws/data-api-sql';
import { clientConfig, mount, type Mounted } from './mount';

const db = {
  resourceArn: 'arn:aws:rds:us-east-1:000000000000:cluster:cirrus-local',
  secretArn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:cirrus-local-db',
  database: 'cirrus',
};

describe('bindParameters', () => {
  it('turns :name into typed positional parameters, leaving casts, literals, identifiers and comments alone', () => {
    // Prepare
    const sql = `SELECT :id::text, ':id', E'\\':id', "a:id", $$ :id $$, :other -- :id
      /* :id /* nested :id */ */ , :id, :unbound`;
    const parameters = [
      { name: 'id', value: { longValue: 7 } },
      { name: 'other', value: { stringValue: 'x' }, typeHint: 'UUID' },
    ];

    // Act
    const bound = bindParameters(sql, parameters);

    // Assess
    expect(bound.text).toBe(`SELECT ($1::int8)::text, ':id', E'\\':id', "a:id", $$ :id $$, ($2::uuid) -- :id
      /* :id /* nested :id */ */ , ($1::int8), :unbound`);
    expect(bound.values).toEqual(['7', 'x']);
  });

  it('binds a null without a cast, so PostgreSQL infers its type', () => {
    // Act
    const bound = bindParameters('UPDATE t SET a = :a', [{ name: 'a', value: { isNull: true } }]);

    // Assess
    expect(bound).toEqual({ text: 'UPDATE t SET a = $1', values: [null] });
  });

  it('parses PostgreSQL array literals, quoted elements and NULLs included', () => {
    // Act
    const parsed = parseArrayLiteral('{{1,NULL},{"a \\"b\\"",c}}');

    // Assess
    expect(parsed).toEqual([
      ['1', null],
      ['a "b"', 'c'],
    ]);
  });
});

// PGlite always; a real PostgreSQL too when TEST_DATABASE_URL names a database the tests may write to.
const engines = [
  { engine: 'PGlite', options: {} },
  ...(process.env.TEST_DATABASE_URL ? [{ engine: 'PostgreSQL', options: { databaseUrl: process.env.TEST_DATABASE_URL } }] : []),
];

describe.each(engines)('LocalDataApi on $engine through the real RDS Data client', ({ options }) => {
  let dataApi: LocalDataApi;
  let server: Mounted;
  let client: RDSDataClient;

  const execute = (sql: string, parameters?: SqlParameter[], extra: Partial<ConstructorParameters<typeof ExecuteStatementCommand>[0]> = {}) =>
    client.send(new ExecuteStatementCommand({ ...db, sql, parameters, ...extra }));

  beforeAll(async () => {
    dataApi = new LocalDataApi({ ...options, transactionIdleTimeoutSeconds: 2 });
    server = await mount([dataApi]);
    client = new RDSDataClient(clientConfig(server.url));
    await execute('DROP TABLE IF EXISTS messages');
    await execute('DROP TYPE IF EXISTS mood');
    await execute(`CREATE TABLE messages (
      conversation_id text NOT NULL,
      seq bigint NOT NULL,
      content jsonb NOT NULL,
      send_time timestamptz NOT NULL,
      PRIMARY KEY (conversation_id, seq))`);
  });

  afterAll(async () => {
    client.destroy();
    await server.close();
    await dataApi.close();
  });

  it('inserts with named parameters, a JSON and a TIMESTAMP typeHint, and counts the rows written', async () => {
    // Act
    const out = await execute(
      'INSERT INTO messages (conversation_id, seq, content, send_time) VALUES (:c, :seq, :content, :sent), (:c, :seq + 1, :content, :sent)',
      [
        { name: 'c', value: { stringValue: 'si_a_b' } },
        { name: 'seq', value: { longValue: 1 } },
        { name: 'content', value: { stringValue: '{"text":"hi"}' }, typeHint: 'JSON' },
        { name: 'sent', value: { stringValue: '2026-01-02 03:04:05.678' }, typeHint: 'TIMESTAMP' },
      ],
    );
    const rows = await dataApi.query(`SELECT seq, content->>'text' AS text, send_time::text AS sent FROM messages WHERE conversation_id = 'si_a_b' ORDER BY seq`);

    // Assess
    expect(out.numberOfRecordsUpdated).toBe(2);
    expect(rows).toEqual([
      { seq: 1, text: 'hi', sent: '2026-01-02 03:04:05.678+00' },
      { seq: 2, text: 'hi', sent: '2026-01-02 03:04:05.678+00' },
    ]);
  });

  it('returns each column as the Field Aurora uses for its type, with column metadata on request', async () => {
    // Prepare
    await execute(`CREATE TYPE mood AS ENUM ('calm', 'busy')`);

    // Act
    const out = await execute(
      `SELECT 42::int8 AS big, 7::int4 AS small, 1.5::float8 AS dbl, true AS yes, NULL::text AS nothing,
              'x'::text AS txt, '{"a": 1}'::jsonb AS doc, '12.50'::numeric AS amount,
              '2026-01-02 03:04:05.5+02'::timestamptz AS at, '\\x00ff'::bytea AS bytes,
              '6f1c7c8e-8a4b-4c1e-9a3d-2b7e1f0c9d11'::uuid AS id, ARRAY[1, 2]::int8[] AS list, 'calm'::mood AS feeling`,
      undefined,
      { includeResultMetadata: true },
    );

    // Assess
    expect(out.records).toHaveLength(1);
    const [big, small, dbl, yes, nothing, txt, doc, amount, at, bytes, id, list, feeling] = out.records![0];
    expect(big).toEqual({ longValue: 42 });
    expect(small).toEqual({ longValue: 7 });
    expect(dbl).toEqual({ doubleValue: 1.5 });
    expect(yes).toEqual({ booleanValue: true });
    expect(nothing).toEqual({ isNull: true });
    expect(txt).toEqual({ stringValue: 'x' });
    expect(doc).toEqual({ stringValue: '{"a": 1}' });
    expect(amount).toEqual({ stringValue: '12.50' });
    expect(at).toEqual({ stringValue: '2026-01-02 01:04:05.5' });
    expect(Buffer.from(bytes.blobValue!)).toEqual(Buffer.from([0, 255]));
    expect(id).toEqual({ stringValue: '6f1c7c8e-8a4b-4c1e-9a3d-2b7e1f0c9d11' });
    expect(list).toEqual({ arrayValue: { longValues: [1, 2] } });
    expect(feeling).toEqual({ stringValue: 'calm' });
    expect(out.numberOfRecordsUpdated).toBe(0);
    expect(out.columnMetadata!.map((c) => [c.name, c.typeName])).toEqual([
      ['big', 'int8'],
      ['small', 'int4'],
      ['dbl', 'float8'],
      ['yes', 'bool'],
      ['nothing', 'text'],
      ['txt', 'text'],
      ['doc', 'jsonb'],
      ['amount', 'numeric'],
      ['at', 'timestamptz'],
      ['bytes', 'bytea'],
      ['id', 'uuid'],
      ['list', '_int8'],
      ['feeling', 'mood'],
    ]);
    expect(out.columnMetadata![0]).toMatchObject({ type: -5, label: 'big', isSigned: true });
  });

  it('returns rows as a JSON string instead of records when formatRecordsAs is JSON', async () => {
    // Act
    const out = await execute('SELECT seq, content, :flag AS flag FROM messages WHERE conversation_id = :c ORDER BY seq', [
      { name: 'c', value: { stringValue: 'si_a_b' } },
      { name: 'flag', value: { booleanValue: true } },
    ], { formatRecordsAs: 'JSON' });

    // Assess
    expect(out.records).toBeUndefined();
    expect(JSON.parse(out.formattedRecords!)).toEqual([
      { seq: 1, content: '{"text": "hi"}', flag: true },
      { seq: 2, content: '{"text": "hi"}', flag: true },
    ]);
  });

  it('types a stringValue as varchar, so a jsonb column needs the JSON typeHint as on Aurora', async () => {
    // Act
    const inserting = execute('INSERT INTO messages VALUES (:c, 99, :content, now())', [
      { name: 'c', value: { stringValue: 'si_strict' } },
      { name: 'content', value: { stringValue: '{}' } },
    ]);

    // Assess
    await expect(inserting).rejects.toBeInstanceOf(DatabaseErrorException);
    await expect(inserting).rejects.toThrow('column "content" is of type jsonb but expression is of type character varying');
  });

  it('rejects an ISO 8601 string for the TIMESTAMP typeHint with BadRequestException', async () => {
    // Act
    const selecting = execute('SELECT :t AS t', [{ name: 't', value: { stringValue: '2026-01-02T03:04:05.000Z' }, typeHint: 'TIMESTAMP' }]);

    // Assess
    await expect(selecting).rejects.toBeInstanceOf(BadRequestException);
  });

  it('fails bad SQL with DatabaseErrorException carrying PostgreSQL\'s message and SQLSTATE', async () => {
    // Act
    const selecting = execute('SELECT * FROM no_such_table');

    // Assess
    await expect(selecting).rejects.toBeInstanceOf(DatabaseErrorException);
    await expect(selecting).rejects.toThrow(/^ERROR: relation "no_such_table" does not exist\n {2}Position: 15; SQLState: 42P01$/);
  });

  it('fails a result above 1 MiB with UnsupportedResultException instead of cutting it, in records and in JSON', async () => {
    // Prepare: rows of 16 KB each, 70 of them (about 1.1 MiB), 60 of them (about 0.94 MiB)
    const rows = (n: number) => `SELECT g AS n, repeat('x', 16 * 1024) AS pad FROM generate_series(1, ${n}) AS g`;

    // Act
    const tooLarge = await execute(rows(70)).catch((err: unknown) => err);
    const tooLargeJson = await execute(rows(70), [], { formatRecordsAs: 'JSON' }).catch((err: unknown) => err);
    const fits = await execute(rows(60), [], { formatRecordsAs: 'JSON' });

    // Assess
    expect(tooLarge).toBeInstanceOf(UnsupportedResultException);
    expect((tooLarge as Error).message).toBe('The result exceeds the size limit 1 MB');
    expect(tooLargeJson).toBeInstanceOf(UnsupportedResultException);
    expect(JSON.parse(fits.formattedRecords!)).toHaveLength(60);
    expect(fits.formattedRecords!.length).toBeLessThan(MAX_RESPONSE_BYTES);
  });

  it('runs a batch once per parameter set, idempotently with ON CONFLICT DO NOTHING', async () => {
    // Prepare
    const parameterSets = [3, 4, 5].map((seq) => [
      { name: 'c', value: { stringValue: 'sg_batch' } },
      { name: 'seq', value: { longValue: seq } },
      { name: 'content', value: { stringValue: `{"n":${seq}}` }, typeHint: 'JSON' as const },
    ]);
    const sql = `INSERT INTO messages VALUES (:c, :seq, :content, now()) ON CONFLICT (conversation_id, seq) DO NOTHING`;

    // Act
    const first = await client.send(new BatchExecuteStatementCommand({ ...db, sql, parameterSets }));
    await client.send(new BatchExecuteStatementCommand({ ...db, sql, parameterSets }));
    const rows = await dataApi.query(`SELECT seq FROM messages WHERE conversation_id = $1 ORDER BY seq`, ['sg_batch']);

    // Assess
    expect(first.updateResults).toEqual([{ generatedFields: [] }, { generatedFields: [] }, { generatedFields: [] }]);
    expect(rows).toEqual([{ seq: 3 }, { seq: 4 }, { seq: 5 }]);
  });

  it('writes nothing of a batch when one of its parameter sets fails', async () => {
    // Prepare
    const parameterSets = [
      [{ name: 'seq', value: { longValue: 1 } }],
      [{ name: 'seq', value: { isNull: true } }],
    ];

    // Act
    const batch = client.send(new BatchExecuteStatementCommand({ ...db, sql: `INSERT INTO messages VALUES ('sg_atomic', :seq, '{}', now())`, parameterSets }));

    // Assess
    await expect(batch).rejects.toBeInstanceOf(DatabaseErrorException);
    expect(await dataApi.query(`SELECT * FROM messages WHERE conversation_id = 'sg_atomic'`)).toEqual([]);
  });

  it('commits the statements of a transaction', async () => {
    // Prepare
    const { transactionId } = await client.send(new BeginTransactionCommand(db));

    // Act
    await execute(`INSERT INTO messages VALUES ('si_tx', 1, '{}', now())`, undefined, { transactionId });
    await client.send(
      new BatchExecuteStatementCommand({ ...db, transactionId, sql: `INSERT INTO messages VALUES ('si_tx', :seq, '{}', now())`, parameterSets: [[{ name: 'seq', value: { longValue: 2 } }]] }),
    );
    const committed = await client.send(new CommitTransactionCommand({ ...db, transactionId }));
    const rows = await dataApi.query(`SELECT seq FROM messages WHERE conversation_id = 'si_tx' ORDER BY seq`);

    // Assess
    expect(transactionId).toMatch(/^[A-Za-z0-9+/=]{32,}$/);
    expect(committed.transactionStatus).toBe('Transaction Committed');
    expect(rows).toEqual([{ seq: 1 }, { seq: 2 }]);
  });

  it('discards the statements of a rolled back transaction', async () => {
    // Prepare
    const { transactionId } = await client.send(new BeginTransactionCommand(db));
    await execute(`INSERT INTO messages VALUES ('si_rollback', 1, '{}', now())`, undefined, { transactionId });

    // Act
    const rolledBack = await client.send(new RollbackTransactionCommand({ ...db, transactionId }));
    const rows = await dataApi.query(`SELECT * FROM messages WHERE conversation_id = 'si_rollback'`);

    // Assess
    expect(rolledBack.transactionStatus).toBe('Rollback Complete');
    expect(rows).toEqual([]);
  });

  it('holds a call outside an open transaction that holds an advisory lock until it commits, then runs it (as a purge and an archive insert)', async () => {
    // Prepare: the purge's lock (PGlite: the single connection is the transaction's until it ends).
    const { transactionId } = await client.send(new BeginTransactionCommand(db));
    const locked = await execute(`SELECT pg_advisory_xact_lock(7, hashtext(:c))::text AS locked`, [{ name: 'c', value: { stringValue: 'si_lock' } }], { transactionId, formatRecordsAs: 'JSON' });
    await execute(`INSERT INTO messages VALUES ('si_lock', 1, '{}', now())`, undefined, { transactionId });

    // Act: the archive insert's shared lock, outside the transaction.
    let done = false;
    const waiting = client
      .send(
        new BatchExecuteStatementCommand({
          ...db,
          sql: `INSERT INTO messages SELECT 'si_lock', :seq, '{}', now() FROM (SELECT pg_advisory_xact_lock_shared(7, hashtext('si_lock'))) l`,
          parameterSets: [[{ name: 'seq', value: { longValue: 2 } }]],
        }),
      )
      .finally(() => (done = true));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const doneBeforeCommit = done;
    await client.send(new CommitTransactionCommand({ ...db, transactionId }));
    await waiting;

    // Assess
    expect(JSON.parse(locked.formattedRecords!)).toEqual([{ locked: '' }]);
    expect(doneBeforeCommit).toBe(false);
    expect(await dataApi.query(`SELECT seq FROM messages WHERE conversation_id = 'si_lock' ORDER BY seq`)).toEqual([{ seq: 1 }, { seq: 2 }]);
  });

  it('fails statements and commits naming an unknown transaction with TransactionNotFoundException', async () => {
    // Act
    const executing = execute('SELECT 1', undefined, { transactionId: 'bm8tc3VjaC10cmFuc2FjdGlvbg==' });
    const committing = client.send(new CommitTransactionCommand({ ...db, transactionId: 'bm8tc3VjaC10cmFuc2FjdGlvbg==' }));

    // Assess
    await expect(executing).rejects.toBeInstanceOf(TransactionNotFoundException);
    await expect(committing).rejects.toBeInstanceOf(TransactionNotFoundException);
  });

  it('rolls back a transaction left idle past the timeout', async () => {
    // Prepare
    const { transactionId } = await client.send(new BeginTransactionCommand(db));
    await execute(`INSERT INTO messages VALUES ('si_idle', 1, '{}', now())`, undefined, { transactionId });

    // Act
    await new Promise((resolve) => setTimeout(resolve, 2300));
    const committing = client.send(new CommitTransactionCommand({ ...db, transactionId }));

    // Assess
    await expect(committing).rejects.toBeInstanceOf(TransactionNotFoundException);
    expect(await dataApi.query(`SELECT * FROM messages WHERE conversation_id = 'si_idle'`)).toEqual([]);
  });

  it('fails every call with DatabaseResumingException while paused, and serves them again once resumed', async () => {
    // Prepare
    dataApi.setPaused(true);

    // Act
    const whilePaused = execute('SELECT 1 AS one');
    const beginning = client.send(new BeginTransactionCommand(db));
    await expect(whilePaused).rejects.toBeInstanceOf(DatabaseResumingException);
    await expect(beginning).rejects.toMatchObject({ name: 'DatabaseResumingException', $metadata: { httpStatusCode: 400 } });
    dataApi.setPaused(false);
    const resumed = await execute('SELECT 1 AS one');

    // Assess
    expect(resumed.records).toEqual([[{ longValue: 1 }]]);
  });
});
