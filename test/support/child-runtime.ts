/**
 * The local runtime as its own process, started as `npm start` starts it (one Node process
 * with tsx as a loader), for tests of the command line, restarts and crashes.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { eventually } from './cirrus';

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface ChildRuntime {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code (null when a signal ended it). */
  exited: Promise<number | null>;
}

/** Starts `local/main.ts` on `port` with its state in `dataDir` and waits until it is running. */
export async function startChildRuntime(port: number, dataDir: string, options: { logLevel: string; args?: readonly string[] }): Promise<ChildRuntime> {
  let out = '';
  // One Node process with tsx as a loader, so a signal reaches the runtime itself.
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/main.ts', '--port', String(port), '--data-dir', dataDir, ...(options.args ?? [])], {
    env: { ...process.env, LOG_LEVEL: options.logLevel },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await eventually(async () => {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited early:\n${out}`);
    return out.includes('Cirrus IM is running');
  }, 120_000, 200);
  return { child, output: () => out, exited };
}

/** Pids of DynamoDB Local processes whose command line names `dir`. */
export function javaProcessesFor(dir: string): string[] {
  try {
    return execFileSync('pgrep', ['-f', `DynamoDBLocal.*${dir}`], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
}
