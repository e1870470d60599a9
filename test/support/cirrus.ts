/**
 * Test support: a local Cirrus per test file, an admin client over real HTTP, and user
 * clients over real WebSockets.
 */
import { inject } from 'vitest';
import WebSocket from 'ws';
import { randomBytes } from 'node:crypto';
import { startLocal, type LocalCirrus, type LocalOptions } from '../../local/runtime';
import type { Message, PushFrame } from '../../core/protocol/schema';

/**
 * Tests read the history and the audit log soon after writing: the archive's streams are
 * read without the deployment's 5-second batching window, unless a test passes its own
 * `streamOverrides` (`{}` keeps the deployed windows, as the cost accounting needs).
 */
const IMMEDIATE_ARCHIVE = {
  messageArchive: { maxBatchingWindowSeconds: 0 },
  outboxArchive: { maxBatchingWindowSeconds: 0 },
} as const;

export async function startCirrus(options: Partial<LocalOptions> = {}): Promise<LocalCirrus> {
  return startLocal({
    streamOverrides: IMMEDIATE_ARCHIVE,
    port: 0,
    dynamoEndpoint: inject('dynamoEndpoint'),
    tablePrefix: `t${randomBytes(4).toString('hex')}-`,
    log: () => {},
    ...options,
    settings: { logLevel: process.env.TEST_LOG_LEVEL ?? 'silent', ...options.settings },
  });
}

export interface HttpResult<T = any> {
  status: number;
  body: T;
}

export class Admin {
  private token?: string;
  constructor(readonly apiUrl: string, private readonly secret: string) {}

  async call<T = any>(method: string, path: string, body?: unknown, token?: string | null): Promise<HttpResult<T>> {
    const auth = token === null ? undefined : (token ?? (await this.adminToken()));
    const res = await fetch(`${this.apiUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  async adminToken(): Promise<string> {
    if (!this.token) {
      const res = await this.call('POST', '/auth/admin-token', { secret: this.secret }, null);
      if (res.status !== 200) throw new Error(`admin token: ${JSON.stringify(res.body)}`);
      this.token = res.body.token;
    }
    return this.token!;
  }

  async register(...userIds: string[]): Promise<void> {
    const res = await this.call('POST', '/users/register', { users: userIds.map((userId) => ({ userId })) });
    if (res.status !== 200 || res.body.results.some((r: { ok: boolean }) => !r.ok)) throw new Error(`register: ${JSON.stringify(res.body)}`);
  }

  async userToken(userId: string, platformId = 5, expireSeconds?: number): Promise<string> {
    const res = await this.call('POST', '/auth/user-token', { userId, platformId, ...(expireSeconds ? { expireSeconds } : {}) });
    if (res.status !== 200) throw new Error(`user token: ${JSON.stringify(res.body)}`);
    return res.body.token;
  }

  async createGroup(groupId: string, ownerUserId: string, memberUserIds: string[]): Promise<void> {
    const res = await this.call('POST', '/groups', { groupId, name: groupId, ownerUserId, memberUserIds });
    if (res.status !== 200) throw new Error(`create group: ${JSON.stringify(res.body)}`);
  }
}

export interface Reply<T = any> {
  id: string | null;
  action?: string;
  data?: T;
  error?: { code: number; reason: string; message: string; retryable: boolean; retryAfterMs?: number };
  message?: string;
}

/** A user's device: a real WebSocket client speaking the protocol. */
export class Device {
  readonly pushes: Message[] = [];
  readonly frames: unknown[] = [];
  private readonly waiting = new Map<string, (reply: Reply) => void>();
  private readonly actions = new Map<string, string>();
  private readonly listeners = new Set<() => void>();
  private next = 0;
  closed?: { code: number; reason: string };

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString());
      this.frames.push(frame);
      if (frame.push === 'newMsg') this.pushes.push((frame as PushFrame).data);
      else {
        // API Gateway answers heartbeat itself, with `id: null`: the oldest heartbeat waiting takes it.
        const id = typeof frame.id === 'string' ? frame.id : frame.id === null && frame.action === 'heartbeat' ? [...this.waiting.keys()].find((k) => this.actions.get(k) === 'heartbeat') : undefined;
        if (id !== undefined && this.waiting.has(id)) {
          this.waiting.get(id)!(frame);
          this.waiting.delete(id);
          this.actions.delete(id);
        }
      }
      for (const l of this.listeners) l();
    });
    socket.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      for (const l of this.listeners) l();
    });
  }

  static connect(wsUrl: string, token: string): Promise<Device> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(`${wsUrl}?token=${encodeURIComponent(token)}`);
      socket.once('open', () => resolve(new Device(socket)));
      socket.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { statusCode: res.statusCode })));
      socket.once('error', reject);
    });
  }

  /** Sends a raw text frame and waits for the next frame that is not a push. */
  raw(text: string, timeoutMs = 10_000): Promise<Reply> {
    const seen = this.frames.length;
    this.socket.send(text);
    return this.until(() => this.frames.slice(seen).find((f) => !(f as { push?: string }).push) as Reply | undefined, timeoutMs, 'reply');
  }

  request<T = any>(action: string, data?: unknown, timeoutMs = 15_000): Promise<Reply<T>> {
    const id = `r${++this.next}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to ${action} within ${timeoutMs} ms`)), timeoutMs);
      this.waiting.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply as Reply<T>);
      });
      this.actions.set(id, action);
      this.socket.send(JSON.stringify({ id, action, ...(data !== undefined ? { data } : {}) }));
    });
  }

  async ok<T = any>(action: string, data?: unknown): Promise<T> {
    const reply = await this.request<T>(action, data);
    if (reply.error || reply.data === undefined) throw new Error(`${action} failed: ${JSON.stringify(reply)}`);
    return reply.data;
  }

  /** Resolves when `check` returns a value, re-checked on every frame. */
  until<T>(check: () => T | undefined | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
    const now = check();
    if (now) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const listener = () => {
        const v = check();
        if (v) {
          this.listeners.delete(listener);
          clearTimeout(timer);
          resolve(v);
        }
      };
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      this.listeners.add(listener);
    });
  }

  waitForPushes(count: number, timeoutMs = 15_000): Promise<Message[]> {
    return this.until(() => this.pushes.length >= count && this.pushes, timeoutMs, `${count} pushes`);
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.close();
    });
  }
}

/** Pulls everything of a conversation the user may see, following the protocol's paging. */
export async function syncConversation(device: Device, conversationId: string, maxSeq: number, fromSeq = 1): Promise<{ messages: Message[]; holes: number[]; pending: number[] }> {
  const messages: Message[] = [];
  const holes: number[] = [];
  const pending: number[] = [];
  let from = fromSeq;
  while (from <= maxSeq) {
    const page = await device.ok('pullMsgs', { conversationId, fromSeq: from, toSeq: maxSeq });
    messages.push(...page.messages);
    holes.push(...page.holes);
    pending.push(...page.pending);
    if (page.toSeq < from) break;
    from = page.toSeq + 1;
  }
  return { messages, holes, pending };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it holds (for effects that happen behind queues). */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 15_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`eventually: timed out${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await sleep(intervalMs);
  }
}
