/**
 * Where the local Data API's SQL runs: PGlite (PostgreSQL compiled to WebAssembly, in
 * process) by default, or a real PostgreSQL through `pg`. Both answer in PostgreSQL's
 * text format, untouched, so the Data API layer formats values exactly one way.
 *
 * PGlite is a single connection. Everything on it is serialized, and a session held by
 * an open transaction keeps every other statement waiting until it commits or rolls
 * back, which is what keeps one transaction's statements from interleaving with others (and why
 * nothing there ever waits for a lock, advisory ones included: the purge's per-conversation lock).
 * Concurrent sessions and lock waits need a real PostgreSQL (`databaseUrl`).
 */
import type { PGlite as PGliteType } from '@electric-sql/pglite';
import type { Pool, PoolClient, QueryArrayConfig } from 'pg';

export interface RawField {
  readonly name: string;
  readonly typeId: number;
}

export interface RawResult {
  /** The command tag's verb: SELECT, INSERT, CREATE, ... */
  readonly command: string;
  /** Rows returned or affected, from the command tag. */
  readonly rowCount: number;
  readonly fields: readonly RawField[];
  readonly rows: readonly (readonly (string | null)[])[];
}

export interface SqlSession {
  query(text: string, values?: readonly (string | null)[]): Promise<RawResult>;
}

export interface HeldSession extends SqlSession {
  /** Gives the connection back; the caller must have ended any transaction on it. */
  release(): Promise<void>;
}

export interface SqlEngine {
  /** Runs `fn` on a connection of its own for its duration. */
  withSession<T>(fn: (session: SqlSession) => Promise<T>): Promise<T>;
  /** A connection kept until released, for a transaction spanning several requests. */
  holdSession(): Promise<HeldSession>;
  close(): Promise<void>;
}

/** A FIFO lock: each holder runs after the previous one has released. */
class Mutex {
  private tail: Promise<void> = Promise.resolve();

  acquire(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((resolve) => (release = resolve));
    const ready = this.tail.then(() => release);
    this.tail = this.tail.then(() => next);
    return ready;
  }
}

/** PGlite, started on first use: it takes seconds and most of a gigabyte, which a run that never touches the history should not pay. */
export class PgliteEngine implements SqlEngine {
  private db: Promise<PGliteType> | undefined;
  private readonly lock = new Mutex();

  /** @param dataDir directory of the database files; in memory when absent. */
  constructor(private readonly dataDir?: string) {}

  async withSession<T>(fn: (session: SqlSession) => Promise<T>): Promise<T> {
    const db = await this.open();
    const release = await this.lock.acquire();
    try {
      return await fn(this.sessionOn(db));
    } finally {
      release();
    }
  }

  async holdSession(): Promise<HeldSession> {
    const db = await this.open();
    const release = await this.lock.acquire();
    let released = false;
    return {
      ...this.sessionOn(db),
      release: async () => {
        if (!released) release();
        released = true;
      },
    };
  }

  async close(): Promise<void> {
    const db = this.db;
    this.db = undefined;
    if (!db) return;
    const release = await this.lock.acquire();
    try {
      await (await db).close();
    } finally {
      release();
    }
  }

  private open(): Promise<PGliteType> {
    this.db ??= (async () => {
      const { PGlite } = await import('@electric-sql/pglite');
      // Extensions Aurora PostgreSQL offers that the migrations create (pg_trgm: the user search).
      const { pg_trgm } = await import('@electric-sql/pglite/contrib/pg_trgm');
      const db = new PGlite({ ...(this.dataDir ? { dataDir: this.dataDir } : {}), extensions: { pg_trgm } });
      await db.waitReady;
      // Aurora's default; timestamps without a zone are read as UTC and timestamptz is printed in it.
      await db.exec("SET TIME ZONE 'UTC'");
      return db;
    })();
    return this.db;
  }

  private sessionOn(db: PGliteType): SqlSession {
    return {
      async query(text, values = []) {
        const { types } = await import('@electric-sql/pglite');
        // PGlite parses known types into JS values; mapping every parser to identity keeps PostgreSQL's text.
        const identity = (value: string) => value;
        const parsers = Object.fromEntries([...Object.keys(types.parsers), ...Object.keys(db.parsers)].map((k) => [k, identity]));
        const result = await db.query<unknown[]>(text, [...values], { rowMode: 'array', parsers });
        return {
          command: result.command ?? '',
          rowCount: result.rowCount ?? result.affectedRows ?? 0,
          fields: result.fields.map((f) => ({ name: f.name, typeId: f.dataTypeID })),
          rows: result.rows as unknown as (string | null)[][],
        };
      },
    };
  }
}

/** A real PostgreSQL (`DATABASE_URL`), through a small pool. */
export class PgEngine implements SqlEngine {
  private pool: Promise<Pool> | undefined;

  constructor(private readonly databaseUrl: string) {}

  async withSession<T>(fn: (session: SqlSession) => Promise<T>): Promise<T> {
    const client = await (await this.open()).connect();
    try {
      return await fn(sessionOn(client));
    } finally {
      client.release();
    }
  }

  async holdSession(): Promise<HeldSession> {
    const client = await (await this.open()).connect();
    return { ...sessionOn(client), release: async () => client.release() };
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    if (pool) await (await pool).end();
  }

  private open(): Promise<Pool> {
    this.pool ??= (async () => {
      const { default: pg } = await import('pg');
      const pool = new pg.Pool({ connectionString: this.databaseUrl, max: 10 });
      // Queued before any statement of the connection's first user, so it always runs first.
      pool.on('connect', (client) => void client.query("SET TIME ZONE 'UTC'").catch(() => {}));
      return pool;
    })();
    return this.pool;
  }
}

function sessionOn(client: PoolClient): SqlSession {
  return {
    async query(text, values = []) {
      const config: QueryArrayConfig & { queryMode: 'extended' } = {
        text,
        values: [...values],
        rowMode: 'array',
        // Always the extended protocol, as PGlite uses: one statement per call, on both engines.
        queryMode: 'extended',
        types: { getTypeParser: () => (value: string) => value } as unknown as QueryArrayConfig['types'],
      };
      const result = await client.query(config);
      return {
        command: result.command ?? '',
        rowCount: result.rowCount ?? 0,
        fields: result.fields.map((f) => ({ name: f.name, typeId: f.dataTypeID })),
        rows: result.rows as unknown as (string | null)[][],
      };
    },
  };
}
