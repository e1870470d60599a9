/**
 * What every benchmark suite needs: a local Cirrus of its own, users and connected
 * clients, a way to wait until the queues and asynchronous invocations are quiet, and one measurement that reads the
 * request accounting, the DynamoDB capacity and the local metering together.
 */
import WebSocket from 'ws';
import { awsRequests, type RequestCounts } from '../core/aws/accounting';
import { startLocal, type LocalCirrus } from '../local/runtime';
import { metering, type MeterSnapshot } from '../local/metering';

export interface Measurement {
  aws: RequestCounts;
  capacity: { read: number; write: number };
  meter: MeterSnapshot;
  /** Bytes the handlers logged (JSON lines, metric lines included), at the deployment's default level. */
  logBytes: number;
}

let logBytes = 0;

/**
 * Starts a local Cirrus for a suite, logging at `info` as a deployment does, with the log
 * lines counted (they are billed by CloudWatch Logs) instead of printed.
 */
export async function startBench(): Promise<LocalCirrus> {
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    // Log lines, and the metric lines (EMF) written with them: CloudWatch Logs bills both.
    if (text.startsWith('{"level"') || text.startsWith('{"_aws"') || text.startsWith('{"time"') || text.startsWith('{"ts"')) {
      logBytes += Buffer.byteLength(text);
      return true;
    }
    return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write;
  awsRequests.meterCapacity(true);
  return startLocal({ port: 0, log: () => {}, settings: { logLevel: 'info' } });
}

export async function measure(run: () => Promise<void>, settleOn?: LocalCirrus): Promise<Measurement> {
  if (settleOn) await settle(settleOn);
  const aws = awsRequests.snapshot();
  const capacity = awsRequests.capacity();
  const meter = metering.snapshot();
  const logs = logBytes;
  await run();
  if (settleOn) await settle(settleOn);
  const after = awsRequests.capacity();
  return {
    aws: awsRequests.since(aws),
    capacity: { read: after.read - capacity.read, write: after.write - capacity.write },
    meter: metering.since(meter),
    logBytes: logBytes - logs,
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function eventually<T>(check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 120_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > until) throw new Error('timed out');
    await sleep(20);
  }
}

/** Nothing queued, in flight or delayed (archive jobs, push and batch page invocations), for a moment. */
export async function settle(cirrus: LocalCirrus): Promise<void> {
  await cirrus.lambda.idle();
  // And the stream consumer (archive) has nothing left to do.
  await cirrus.streams.idle();
  await sleep(300);
}

export class Api {
  private adminToken?: string;
  constructor(readonly cirrus: LocalCirrus) {}

  async call<T = any>(method: string, path: string, body?: unknown, token?: string): Promise<T> {
    const auth = token ?? (await this.admin());
    const res = await fetch(`${this.cirrus.apiUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${auth}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as T & { error?: unknown };
    if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  }

  private async admin(): Promise<string> {
    if (!this.adminToken) {
      const res = await fetch(`${this.cirrus.apiUrl}/auth/admin-token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ secret: this.cirrus.adminSecret }) });
      this.adminToken = ((await res.json()) as { token: string }).token;
    }
    return this.adminToken;
  }

  async register(userIds: readonly string[]): Promise<void> {
    for (let i = 0; i < userIds.length; i += 1000) await this.call('POST', '/users/register', { users: userIds.slice(i, i + 1000).map((userId) => ({ userId })) });
  }

  async token(userId: string, platformId = 5): Promise<string> {
    return (await this.call<{ token: string }>('POST', '/auth/user-token', { userId, platformId })).token;
  }

  /** A group of any size: created with up to 1,000 members, then grown 1,000 at a time. */
  async group(groupId: string, ownerUserId: string, memberUserIds: readonly string[]): Promise<void> {
    await this.call('POST', '/groups', { groupId, name: groupId, ownerUserId, memberUserIds: memberUserIds.slice(0, 1000) });
    for (let i = 1000; i < memberUserIds.length; i += 1000) await this.call('POST', `/groups/${groupId}/members`, { userIds: memberUserIds.slice(i, i + 1000) });
  }
}

/** A connected client that keeps its pushes and answers its requests. */
export class Client {
  readonly pushes: { seq: number; conversationId: string; receivedAt: number; content: unknown }[] = [];
  private next = 0;
  private readonly waiting = new Map<string, (frame: any) => void>();
  private readonly actions = new Map<string, string>();
  private readonly watchers = new Set<() => void>();

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString());
      if (frame.push === 'newMsg') this.pushes.push({ seq: frame.data.seq, conversationId: frame.data.conversationId, receivedAt: performance.now(), content: frame.data.content });
      else if (typeof frame.id === 'string') this.waiting.get(frame.id)?.(frame);
      // API Gateway answers heartbeat itself, with `id: null`: the oldest heartbeat waiting takes it.
      else if (frame.id === null && frame.action === 'heartbeat') [...this.waiting.entries()].find(([id]) => this.actions.get(id) === 'heartbeat')?.[1](frame);
      for (const w of this.watchers) w();
    });
  }

  static connect(wsUrl: string, token: string): Promise<Client> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(`${wsUrl}?token=${encodeURIComponent(token)}`);
      socket.once('open', () => resolve(new Client(socket)));
      socket.once('error', reject);
    });
  }

  async request<T = any>(action: string, data: unknown = {}): Promise<T> {
    const id = `b${++this.next}`;
    const frame = await new Promise<any>((resolve) => {
      this.waiting.set(id, resolve);
      this.actions.set(id, action);
      this.socket.send(JSON.stringify({ id, action, data }));
    });
    this.waiting.delete(id);
    this.actions.delete(id);
    if (frame.error) throw new Error(`${action}: ${JSON.stringify(frame.error)}`);
    return frame.data as T;
  }

  waitForPushes(count: number, timeoutMs = 60_000): Promise<void> {
    if (this.pushes.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.watchers.delete(check);
        reject(new Error(`timed out waiting for ${count} pushes (have ${this.pushes.length})`));
      }, timeoutMs);
      const check = () => {
        if (this.pushes.length >= count) {
          clearTimeout(timer);
          this.watchers.delete(check);
          resolve();
        }
      };
      this.watchers.add(check);
    });
  }

  close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.close();
    });
  }
}

/** Connects many clients, a few at a time. */
export async function connectMany(api: Api, userIds: readonly string[], concurrency = 20): Promise<Client[]> {
  const out: Client[] = new Array(userIds.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < userIds.length) {
        const i = next++;
        out[i] = await Client.connect(api.cirrus.wsUrl, await api.token(userIds[i]));
      }
    }),
  );
  return out;
}

export const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export const median = (values: readonly number[]) => percentile([...values].sort((a, b) => a - b), 50);

/** Several measurements as one. */
export function sumMeasurements(list: readonly Measurement[]): Measurement {
  const out: Measurement = { aws: {}, capacity: { read: 0, write: 0 }, meter: { invocations: {}, wsIn: 0, wsOut: 0, connects: 0 }, logBytes: 0 };
  for (const m of list) {
    for (const [service, commands] of Object.entries(m.aws)) for (const [c, n] of Object.entries(commands)) (out.aws[service] ??= {})[c] = (out.aws[service][c] ?? 0) + n;
    out.capacity.read += m.capacity.read;
    out.capacity.write += m.capacity.write;
    for (const [fn, v] of Object.entries(m.meter.invocations) as [keyof MeterSnapshot['invocations'], { count: number; totalMs: number }][]) {
      const e = (out.meter.invocations[fn] ??= { count: 0, totalMs: 0 });
      e.count += v.count;
      e.totalMs += v.totalMs;
    }
    out.meter.wsIn += m.meter.wsIn;
    out.meter.wsOut += m.meter.wsOut;
    out.meter.connects += m.meter.connects;
    out.logBytes += m.logBytes;
  }
  return out;
}
