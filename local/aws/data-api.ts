/**
 * The RDS Data API (REST-JSON: `POST /Execute`, `/BatchExecute`, `/BeginTransaction`,
 * `/CommitTransaction`, `/RollbackTransaction`) in front of PGlite or a real PostgreSQL,
 * for the real `@aws-sdk/client-rds-data`.
 *
 * Errors are typed as Aurora Serverless v2 types them today: SQL errors are
 * `DatabaseErrorException` with PostgreSQL's message and SQLSTATE
 * (`ERROR: relation "x" does not exist\n  Position: 15; SQLState: 42P01`); the older
 * `BadRequestException` (deprecated in the SDK's model, still used for malformed
 * requests) is what Aurora Serverless v1 used. An unknown transaction id is
 * `TransactionNotFoundException`. While paused (`setPaused(true)`) every call fails with
 * `DatabaseResumingException`, as calls to an auto-paused Aurora do while it resumes.
 *
 * A response may carry at most 1 MiB: an `ExecuteStatement` whose answer would be larger
 * fails with `UnsupportedResultException` ("The result exceeds the size limit 1 MB"), as
 * on Aurora Serverless v2 and provisioned clusters, rather than being cut. The size
 * measured is the JSON body the stand-in would send, the strictest reading of AWS's
 * "response data"; readers that may return many rows cut their pages by bytes.
 *
 * Transactions end after three minutes without a call, as on AWS. Not emulated: the
 * 45-second statement limit, and `generatedFields` (not supported for PostgreSQL on AWS
 * either, so it is always empty). The resource ARN, secret ARN and database name are
 * accepted and ignored.
 */
import { randomBytes } from 'node:crypto';
import { restJsonError, jsonResponse, parseJsonBody } from './responses';
import {
  bindParameters,
  columnMetadata,
  DataApiRequestError,
  formatRecords,
  knownTypeName,
  toField,
  type Field,
  type ResultSetOptions,
  type SqlParameter,
} from './data-api-sql';
import { PgEngine, PgliteEngine, type HeldSession, type RawResult, type SqlEngine, type SqlSession } from './postgres-engine';
import type { StandIn, StandInRequest, StandInResponse } from './types';

export interface LocalDataApiOptions {
  /** PGlite's data directory; an in-memory database when absent (and no `databaseUrl`). */
  readonly dataDir?: string;
  /** A real PostgreSQL instead of PGlite, e.g. `postgres://user:pw@localhost:5432/cirrus`. */
  readonly databaseUrl?: string;
  /** @default 180 (AWS ends a transaction after three minutes without a call) */
  readonly transactionIdleTimeoutSeconds?: number;
}

const ROUTES: Record<string, string> = {
  '/Execute': 'ExecuteStatement',
  '/BatchExecute': 'BatchExecuteStatement',
  '/BeginTransaction': 'BeginTransaction',
  '/CommitTransaction': 'CommitTransaction',
  '/RollbackTransaction': 'RollbackTransaction',
  '/ExecuteSql': 'ExecuteSql',
};

const ROW_COUNT_COMMANDS = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE', 'COPY']);

/** The Data API's response size limit (1 MiB). */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

class TransactionNotFound extends Error {
  constructor(id: string) {
    super(`Transaction ${id} is not found`);
  }
}

/** A result the Data API cannot return (here: one larger than {@link MAX_RESPONSE_BYTES}). */
class UnsupportedResult extends Error {}

interface PostgresError {
  message: string;
  code: string;
  detail?: string;
  hint?: string;
  position?: string;
}

function isPostgresError(err: unknown): err is PostgresError {
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}

/** PostgreSQL's error as the Data API words it (the JDBC driver's text plus the SQLSTATE). */
function databaseErrorMessage(err: PostgresError): string {
  let message = `ERROR: ${err.message}`;
  if (err.detail) message += `\n  Detail: ${err.detail}`;
  if (err.hint) message += `\n  Hint: ${err.hint}`;
  if (err.position) message += `\n  Position: ${err.position}`;
  return `${message}; SQLState: ${err.code}`;
}

interface Transaction {
  readonly session: HeldSession;
  /** Statements of one transaction run one after another, in arrival order. */
  queue: Promise<unknown>;
  idleTimer: NodeJS.Timeout;
}

export class LocalDataApi implements StandIn {
  private readonly engine: SqlEngine;
  private readonly transactions = new Map<string, Transaction>();
  private readonly idleMs: number;
  private readonly typeNames = new Map<number, string>();
  private paused = false;

  constructor(options: LocalDataApiOptions = {}) {
    this.engine = options.databaseUrl ? new PgEngine(options.databaseUrl) : new PgliteEngine(options.dataDir);
    this.idleMs = (options.transactionIdleTimeoutSeconds ?? 180) * 1000;
  }

  /** While paused, every Data API call fails with `DatabaseResumingException`, as with an auto-paused Aurora. */
  setPaused(on: boolean): void {
    this.paused = on;
  }

  /**
   * Reads the database directly, bypassing the Data API and its pause (for tests and the
   * console). Positional `$1` parameters; values come back as JavaScript values (the
   * Data API's: integers as numbers, numeric, json and timestamps as strings).
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async query<Row = any>(sql: string, params: readonly (string | number | boolean | null)[] = []): Promise<Row[]> {
    const result = await this.engine.withSession((s) => s.query(sql, params.map((p) => (p === null ? null : String(p)))));
    const records = result.rows.map((row) => row.map((v, i) => toField(v, result.fields[i].typeId)));
    return JSON.parse(formatRecords(result.fields.map((f) => f.name), records)) as Row[];
  }

  async handle(req: StandInRequest): Promise<StandInResponse | undefined> {
    const operation = ROUTES[req.path];
    if (req.method !== 'POST' || !operation || req.headers['x-amz-target']) return undefined;
    // Signed requests name their service in the credential scope; leave other services' requests alone.
    const auth = req.headers.authorization;
    if (auth && !auth.includes('/rds-data/')) return undefined;

    const input = parseJsonBody(req.body);
    if (!input) return restJsonError(400, 'BadRequestException', 'Malformed JSON request body.');
    if (this.paused) {
      return restJsonError(
        400,
        'DatabaseResumingException',
        'The Aurora DB instance cirrus-local is resuming after being auto-paused. Please wait a few seconds and try again.',
      );
    }
    try {
      return jsonResponse(await this.dispatch(operation, input), 'application/json');
    } catch (err) {
      if (err instanceof DataApiRequestError) return restJsonError(400, 'BadRequestException', err.message);
      if (err instanceof TransactionNotFound) return restJsonError(404, 'TransactionNotFoundException', err.message);
      if (err instanceof UnsupportedResult) return restJsonError(400, 'UnsupportedResultException', err.message);
      if (isPostgresError(err)) return restJsonError(400, 'DatabaseErrorException', databaseErrorMessage(err));
      return restJsonError(500, 'InternalServerErrorException', err instanceof Error ? err.message : String(err));
    }
  }

  /** Rolls back open transactions and stops the database. */
  async close(): Promise<void> {
    for (const id of [...this.transactions.keys()]) await this.end(id, 'ROLLBACK').catch(() => {});
    await this.engine.close();
  }

  private dispatch(operation: string, input: Record<string, unknown>): Promise<unknown> {
    switch (operation) {
      case 'ExecuteStatement':
        return this.executeStatement(input);
      case 'BatchExecuteStatement':
        return this.batchExecute(input);
      case 'BeginTransaction':
        return this.begin();
      case 'CommitTransaction':
        return this.end(this.transactionIdOf(input), 'COMMIT').then(() => ({ transactionStatus: 'Transaction Committed' }));
      case 'RollbackTransaction':
        return this.end(this.transactionIdOf(input), 'ROLLBACK').then(() => ({ transactionStatus: 'Rollback Complete' }));
      default:
        throw new DataApiRequestError('This API is deprecated and not available. Use ExecuteStatement API instead');
    }
  }

  private async executeStatement(input: Record<string, unknown>): Promise<unknown> {
    const sql = sqlOf(input);
    const bound = bindParameters(sql, (input.parameters as SqlParameter[] | undefined) ?? []);
    const format = input.formatRecordsAs ?? 'NONE';
    if (format !== 'NONE' && format !== 'JSON') throw new DataApiRequestError(`Invalid formatRecordsAs ${String(format)}`);
    const options = (input.resultSetOptions as ResultSetOptions | undefined) ?? {};
    return this.run(input.transactionId, async (session) => {
      const result = await session.query(bound.text, bound.values);
      const out: Record<string, unknown> = { numberOfRecordsUpdated: ROW_COUNT_COMMANDS.has(result.command) ? result.rowCount : 0 };
      if (result.fields.length === 0) {
        out.generatedFields = [];
        return out;
      }
      const records: Field[][] = result.rows.map((row) => row.map((v, i) => toField(v, result.fields[i].typeId, options)));
      if (format === 'JSON') out.formattedRecords = formatRecords(result.fields.map((f) => f.name), records);
      else out.records = records;
      if (input.includeResultMetadata === true) out.columnMetadata = await this.metadataOf(session, result);
      if (Buffer.byteLength(JSON.stringify(out)) > MAX_RESPONSE_BYTES) throw new UnsupportedResult('The result exceeds the size limit 1 MB');
      return out;
    });
  }

  private async batchExecute(input: Record<string, unknown>): Promise<unknown> {
    const sql = sqlOf(input);
    const sets = input.parameterSets;
    if (sets !== undefined && !Array.isArray(sets)) throw new DataApiRequestError('parameterSets must be a list');
    // Bind every set before running any, so a malformed set fails the call with nothing written.
    const statements = ((sets as SqlParameter[][] | undefined) ?? []).map((set) => bindParameters(sql, set));
    // With no parameter sets there is nothing to run once per set (what AWS does here is undocumented).
    if (statements.length === 0) return { updateResults: [] };
    const runAll = async (session: SqlSession) => {
      for (const s of statements) await session.query(s.text, s.values);
      return { updateResults: statements.map(() => ({ generatedFields: [] })) };
    };
    if (input.transactionId !== undefined) return this.run(input.transactionId, runAll);
    // Outside a transaction the batch is still all or nothing.
    return this.engine.withSession(async (session) => {
      await session.query('BEGIN');
      try {
        const out = await runAll(session);
        await session.query('COMMIT');
        return out;
      } catch (err) {
        await session.query('ROLLBACK').catch(() => {});
        throw err;
      }
    });
  }

  private async begin(): Promise<unknown> {
    const session = await this.engine.holdSession();
    try {
      await session.query('BEGIN');
    } catch (err) {
      await session.release();
      throw err;
    }
    const id = randomBytes(48).toString('base64');
    this.transactions.set(id, { session, queue: Promise.resolve(), idleTimer: this.idleTimer(id) });
    return { transactionId: id };
  }

  private idleTimer(id: string): NodeJS.Timeout {
    const timer = setTimeout(() => void this.end(id, 'ROLLBACK').catch(() => {}), this.idleMs);
    timer.unref();
    return timer;
  }

  /** Runs on the transaction's connection when a transaction id is given, else on a connection of its own (autocommit). */
  private run<T>(transactionId: unknown, fn: (session: SqlSession) => Promise<T>): Promise<T> {
    if (transactionId === undefined || transactionId === null) return this.engine.withSession(fn);
    const id = String(transactionId);
    const tx = this.transactions.get(id);
    if (!tx) return Promise.reject(new TransactionNotFound(id));
    clearTimeout(tx.idleTimer);
    const result = tx.queue.then(() => fn(tx.session));
    tx.queue = result.catch(() => {});
    tx.idleTimer = this.idleTimer(id);
    return result;
  }

  private async end(id: string, command: 'COMMIT' | 'ROLLBACK'): Promise<void> {
    const tx = this.transactions.get(id);
    if (!tx) throw new TransactionNotFound(id);
    this.transactions.delete(id);
    clearTimeout(tx.idleTimer);
    await tx.queue;
    try {
      await tx.session.query(command);
    } finally {
      await tx.session.release();
    }
  }

  private transactionIdOf(input: Record<string, unknown>): string {
    if (typeof input.transactionId !== 'string') throw new DataApiRequestError('transactionId is required');
    return input.transactionId;
  }

  private async metadataOf(session: SqlSession, result: RawResult) {
    const unknown = [...new Set(result.fields.map((f) => f.typeId))].filter((oid) => !knownTypeName(oid) && !this.typeNames.has(oid));
    if (unknown.length > 0) {
      const types = await session.query(`SELECT oid::text, typname::text FROM pg_type WHERE oid IN (${unknown.join(',')})`);
      for (const [oid, name] of types.rows) this.typeNames.set(Number(oid), String(name));
    }
    return result.fields.map((f) => columnMetadata(f.name, f.typeId, knownTypeName(f.typeId) ?? this.typeNames.get(f.typeId) ?? 'unknown'));
  }
}

function sqlOf(input: Record<string, unknown>): string {
  if (typeof input.sql !== 'string' || input.sql.trim() === '') throw new DataApiRequestError('SQL statement is required');
  return input.sql;
}
