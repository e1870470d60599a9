/**
 * A throwaway PostgreSQL cluster for tests that need real concurrency (PGlite is a single
 * connection): `initdb` into a temporary directory, `pg_ctl start` on a free port on
 * 127.0.0.1 (trust authentication, superuser `postgres`), and `stop()` to shut it down
 * and remove the directory. Uses the binaries of the newest /usr/lib/postgresql/<version>/bin
 * (Debian's `postgresql` package), or `PG_BIN` when set. initdb refuses to run as root, so
 * as root the cluster runs as the `postgres` user (through `runuser`).
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPostgres {
  /** e.g. `postgres://postgres@127.0.0.1:54321/postgres` */
  readonly url: string;
  stop(): Promise<void>;
}

const INSTALL_HINT =
  'PostgreSQL server binaries (initdb, pg_ctl) are needed for this test: on Debian/Ubuntu `apt-get install postgresql` ' +
  '(they go to /usr/lib/postgresql/<version>/bin), or set PG_BIN to the directory holding them.';

function binDir(): string {
  if (process.env.PG_BIN) {
    if (!existsSync(join(process.env.PG_BIN, 'initdb'))) throw new Error(`No initdb in PG_BIN=${process.env.PG_BIN}. ${INSTALL_HINT}`);
    return process.env.PG_BIN;
  }
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'pg_ctl')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) throw new Error(`No PostgreSQL found under ${root}. ${INSTALL_HINT}`);
  return join(root, versions[0], 'bin');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function startPostgres(): Promise<TestPostgres> {
  const bin = binDir();
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'cirrus-pg-'));
  const run = (tool: string, args: string[]) => {
    const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]] : [join(bin, tool), args];
    return execFileSync(cmd as string, argv as string[], { stdio: 'pipe', encoding: 'utf8' });
  };
  const data = join(dir, 'data');
  try {
    if (asRoot) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })));
    run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
    const port = await freePort();
    run('pg_ctl', ['start', '-w', '-t', '60', '-D', data, '-l', join(dir, 'log'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`]);
    let stopped = false;
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      async stop() {
        if (stopped) return;
        stopped = true;
        try {
          run('pg_ctl', ['stop', '-w', '-m', 'immediate', '-D', data]);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr;
    try {
      if (existsSync(join(data, 'postmaster.pid'))) run('pg_ctl', ['stop', '-w', '-m', 'immediate', '-D', data]);
    } catch {
      // Not running after all.
    }
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`Could not start a throwaway PostgreSQL with ${bin}: ${stderr || String(err)}`);
  }
}
