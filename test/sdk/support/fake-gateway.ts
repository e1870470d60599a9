/**
 * An in-process stand-in for the Cirrus WebSocket API: a real `ws` server speaking the
 * protocol (token in the query string, 401 on a refused upgrade, `{id, action, data}`
 * replies (`id: null` for heartbeat, as API Gateway answers it), pushes and `kicked` events), with hooks for each test to answer, refuse, stay
 * silent or close as the scenario needs.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, WebSocket } from 'ws';

export interface FakeConnection {
  token: string;
  socket: WebSocket;
  requests: { id: string; action: string; data: unknown }[];
  closed?: { code: number };
}

export type ActionHandler = (data: any, conn: FakeConnection) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Builds a token the SDK can read (the fake server never checks signatures). */
export function fakeToken(userId: string, expiresAtMs: number, platformId = 5, session = 's1'): string {
  const claims = { kind: 'user', sub: userId, plt: platformId, sid: session, iat: 0, exp: Math.floor(expiresAtMs / 1000) };
  return `${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;
}

export class FakeGateway {
  readonly connections: FakeConnection[] = [];
  /** Upgrades with these tokens are refused with the status given. */
  readonly refuse = new Map<string, number>();
  /** Answers per action; an action without one gets no reply at all. */
  readonly handlers = new Map<string, ActionHandler>([['heartbeat', () => ({ serverTime: 0 })]]);
  /** Called for each new connection, e.g. to kick the previous ones as a login policy does. */
  onConnection?: (conn: FakeConnection) => void;
  private readonly listeners = new Set<() => void>();

  private constructor(private readonly server: Server, private readonly wss: WebSocketServer, readonly url: string) {}

  static async start(): Promise<FakeGateway> {
    const server = createServer();
    const wss = new WebSocketServer({ noServer: true });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const gw = new FakeGateway(server, wss, `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`);
    server.on('upgrade', (req, socket, head) => {
      const token = new URL(req.url ?? '/', 'http://x').searchParams.get('token') ?? '';
      const status = token ? gw.refuse.get(token) : 401;
      if (status) {
        socket.end(`HTTP/1.1 ${status} Refused\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{"message":"Unauthorized"}`);
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => gw.accept(ws, token));
    });
    return gw;
  }

  private accept(socket: WebSocket, token: string): void {
    const conn: FakeConnection = { token, socket, requests: [] };
    this.connections.push(conn);
    socket.on('message', (raw) => {
      const frame = JSON.parse(raw.toString());
      conn.requests.push(frame);
      const handler = this.handlers.get(frame.action);
      if (handler) {
        const out = handler(frame.data, conn) as { error?: unknown } | undefined;
        // API Gateway answers heartbeat itself and cannot echo the id (core/protocol/heartbeat.ts).
        const id = frame.action === 'heartbeat' ? null : frame.id;
        if (out !== undefined) socket.send(JSON.stringify(out && typeof out === 'object' && 'error' in out ? { id, action: frame.action, error: out.error } : { id, action: frame.action, data: out }));
      }
      this.changed();
    });
    socket.on('close', (code) => {
      conn.closed = { code };
      this.changed();
    });
    this.onConnection?.(conn);
    this.changed();
  }

  /** The open connections. */
  get open(): FakeConnection[] {
    return this.connections.filter((c) => !c.closed);
  }

  send(conn: FakeConnection, frame: unknown): void {
    conn.socket.send(JSON.stringify(frame));
  }

  kick(conn: FakeConnection, reason: 'loggedInElsewhere' | 'forcedLogout' = 'loggedInElsewhere'): void {
    this.send(conn, { push: 'kicked', data: { reason, platformId: 5 } });
    conn.socket.close(1000);
  }

  /** Resolves when `check` holds, re-checked on every connection, frame and close. */
  until<T>(check: () => T | undefined | false, what = 'condition', timeoutMs = 5_000): Promise<T> {
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
        reject(new Error(`fake gateway: timed out waiting for ${what}`));
      }, timeoutMs);
      this.listeners.add(listener);
    });
  }

  private changed(): void {
    for (const l of [...this.listeners]) l();
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.socket.terminate();
    await new Promise<void>((r) => this.wss.close(() => r()));
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
