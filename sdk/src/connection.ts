/**
 * The connection to the Cirrus WebSocket API as an explicit state machine:
 *
 *     disconnected ──connect()──▶ connecting ──open──▶ connected
 *          ▲                        ▲    │                 │
 *          │                        └────┘ backoff         │ closed, heartbeat lost
 *          └── kicked, token refused, disconnect() ◀───────┘
 *
 * Every transition goes through `setState`, which emits `{oldState, newState, reason}`.
 * Transport failures reconnect with full-jitter backoff; a `kicked` event or a refused token
 * stops for good (reconnecting with a revoked token would only be refused again) unless the
 * app's `refreshToken` callback supplies a new one for an expired token. A heartbeat keeps
 * API Gateway's 10-minute idle timeout away, and the connection is rotated onto a new socket
 * before the 2-hour cap, with requests in flight moved over.
 */
import { backoffDelay, defaultBackoff, type BackoffOptions } from './backoff';
import { Emitter } from './emitter';
import { CirrusSdkError } from './errors';
import type { ActionName, ActionRequest, ActionResult, Message, ReplyFrame, RequestFrame, ServerEvent } from './protocol';
import { realTimers, type TimerHandle, type Timers } from './timers';
import { readToken } from './token';

export type ConnectionState = 'disconnected' | 'connecting' | 'connected';

/** Why the client is (re)connecting. */
export type ConnectingReason =
  /** `connect()` was called. */
  | 'connectCalled'
  /** The socket closed (network, server, the 2-hour cap without rotation). */
  | 'transportClosed'
  /** An attempt did not open (network down, server unreachable). */
  | 'connectFailed'
  /** No heartbeat reply in time: the socket was dead without closing. */
  | 'heartbeatTimeout'
  /** The token expired and `refreshToken` supplied a new one. */
  | 'tokenRefreshed';

/** Why the client stopped; none of these reconnects by itself. */
export type DisconnectReason =
  /** `disconnect()` was called. */
  | 'disconnectCalled'
  /** The server sent `kicked`: logged in elsewhere, or forced logout. The token is revoked. */
  | 'kicked'
  /** The token expired and no new one was supplied. */
  | 'tokenExpired'
  /** The token's session was ended (force logout, or kicked while offline). */
  | 'tokenRevoked'
  /** The token is not a valid user token of this deployment. */
  | 'tokenInvalid';

export type StateReason = ConnectingReason | DisconnectReason | 'opened';

export interface StateChangeEvent {
  oldState: ConnectionState;
  newState: ConnectionState;
  reason: StateReason;
  /** The close code of the socket, when a close caused the change. */
  closeCode?: number;
}

export interface KickedEvent {
  /** banned: an admin banned the user; no new token will be issued until the ban ends. */
  reason: 'loggedInElsewhere' | 'forcedLogout' | 'banned';
  /** The platform of the connection that took this one's place. */
  platformId?: number;
}

/** How the server answered a token: what the SDK needs to know after a refused upgrade. */
export type TokenStatus = 'valid' | 'expired' | 'revoked' | 'invalid' | 'unknown';

export interface ConnectionEvents {
  state: StateChangeEvent;
  /** An attempt is about to start after `delayMs`. */
  connecting: { reason: ConnectingReason; attempt: number; delayMs: number; closeCode?: number };
  connected: { connectedAt: number };
  /** An attempt failed; another follows unless the failure is terminal. */
  connectFailed: { attempt: number; error: string; tokenStatus: TokenStatus };
  disconnected: { reason: DisconnectReason; closeCode?: number };
  /** The connection moved to a fresh socket before the 2-hour cap; catch up on what the switch may have raced. */
  rotated: { connectedAt: number };
  kicked: KickedEvent;
  tokenExpired: Record<string, never>;
  tokenRevoked: Record<string, never>;
  tokenInvalid: Record<string, never>;
  tokenRefreshed: { expiresAt?: number };
  newMessage: { message: Message; silent: boolean };
  serverEvent: ServerEvent;
}

/** The part of the WHATWG WebSocket the SDK uses; browsers' `WebSocket` and the `ws` package both fit. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

export interface ConnectionOptions {
  /** The WebSocket URL, e.g. `ws://localhost:8080/ws` or the stack's `WebSocketUrl`. */
  url: string;
  /** A user token from the app backend (`POST /auth/user-token`). */
  token: string;
  /**
   * Called for a new token when the current one expired or is about to; return the new
   * token, or undefined when the app cannot get one (the client then stops with `tokenExpired`).
   */
  refreshToken?: (context: { reason: 'expired' | 'expiring' }) => Promise<string | undefined>;
  /** Asks the server what it thinks of a token after a refused upgrade (browsers hide the 401). */
  tokenProbe?: (token: string) => Promise<TokenStatus>;
  /**
   * The WebSocket implementation.
   * @default globalThis.WebSocket
   */
  WebSocket?: WebSocketConstructor;
  /** @default realTimers */
  timers?: Timers;
  /** Random numbers in [0, 1) for the backoff jitter. @default Math.random */
  random?: () => number;
  /** @default { minDelayMs: 500, maxDelayMs: 20000 } */
  backoff?: BackoffOptions;
  /**
   * Quiet time after which a heartbeat is sent; well under API Gateway's 10-minute idle timeout.
   * @default 240000
   */
  heartbeatIntervalMs?: number;
  /**
   * A heartbeat not answered within this time means the socket is dead.
   * @default 10000
   */
  heartbeatTimeoutMs?: number;
  /**
   * Age at which the connection moves to a fresh socket, before API Gateway's 2-hour cap.
   * @default 6600000 (110 minutes)
   */
  rotateAfterMs?: number;
  /**
   * How long before its expiry the token is refreshed through `refreshToken`.
   * @default 300000
   */
  tokenRefreshMarginMs?: number;
  /** @default 15000 */
  requestTimeoutMs?: number;
}

interface Pending {
  frame: RequestFrame;
  socket: WebSocketLike | undefined;
  timer: TimerHandle;
  resolve: (data: unknown) => void;
  reject: (err: CirrusSdkError) => void;
}

interface Rotation {
  socket: WebSocketLike;
  /** A kick received on the old socket while the new one was opening: ours if the new one opens. */
  kick?: KickedEvent;
  oldClosed: boolean;
}

const OPEN = 1;
const terminalOf: Record<Exclude<TokenStatus, 'valid' | 'unknown' | 'expired'>, DisconnectReason> = { revoked: 'tokenRevoked', invalid: 'tokenInvalid' };

export class Connection extends Emitter<ConnectionEvents> {
  private readonly opts: ConnectionOptions;
  private stateValue: ConnectionState = 'disconnected';
  private tokenValue: string;
  private readonly timers: Timers;
  private readonly random: () => number;
  private readonly backoff: BackoffOptions;
  private readonly heartbeatIntervalMs: number;
  private readonly heartbeatTimeoutMs: number;
  private readonly rotateAfterMs: number;
  private readonly tokenRefreshMarginMs: number;
  private readonly requestTimeoutMs: number;
  private readonly WebSocketImpl: WebSocketConstructor;

  private active?: WebSocketLike;
  /** The socket of the current attempt, before it opens. */
  private attemptSocket?: WebSocketLike;
  private rotation?: Rotation;
  private readonly retiring = new Set<WebSocketLike>();
  private attempt = 0;
  private nextId = 0;
  private readonly pending = new Map<string, Pending>();
  private reconnectTimer?: TimerHandle;
  private heartbeatTimer?: TimerHandle;
  private rotateTimer?: TimerHandle;
  private refreshTimer?: TimerHandle;
  private connectedAt = 0;
  private lastError = '';
  private readonly waiters = new Set<{ resolve: () => void; reject: (err: CirrusSdkError) => void }>();

  constructor(options: ConnectionOptions) {
    super();
    this.opts = options;
    this.tokenValue = options.token;
    this.timers = options.timers ?? realTimers;
    this.random = options.random ?? Math.random;
    this.backoff = options.backoff ?? defaultBackoff;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 240_000;
    this.heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 10_000;
    this.rotateAfterMs = options.rotateAfterMs ?? 110 * 60_000;
    this.tokenRefreshMarginMs = options.tokenRefreshMarginMs ?? 300_000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 15_000;
    const impl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!impl) throw new CirrusSdkError('USAGE', 'No WebSocket implementation: pass options.WebSocket (e.g. the `ws` package in Node < 22)');
    this.WebSocketImpl = impl;
  }

  get state(): ConnectionState {
    return this.stateValue;
  }

  /** The token the next connect (or rotation) uses. */
  get token(): string {
    return this.tokenValue;
  }

  /**
   * Starts connecting; does nothing unless disconnected.
   *
   * @example
   * const connection = new Connection({ url: 'ws://localhost:8080/ws', token });
   * connection.on('state', ({ newState, reason }) => console.log(newState, reason));
   * connection.connect();
   */
  connect(): void {
    if (this.stateValue !== 'disconnected') return;
    this.attempt = 0;
    this.setState('connecting', 'connectCalled');
    this.emit('connecting', { reason: 'connectCalled', attempt: 0, delayMs: 0 });
    void this.open();
  }

  /**
   * Closes the connection and stops; requests in flight fail with DISCONNECTED.
   *
   * @example
   * connection.disconnect();
   */
  disconnect(): void {
    this.stop('disconnectCalled');
  }

  /**
   * Resolves once connected; rejects if the connection stops for good first.
   *
   * @example
   * await connection.ready();
   */
  ready(): Promise<void> {
    if (this.stateValue === 'connected') return Promise.resolve();
    if (this.stateValue === 'disconnected') return Promise.reject(new CirrusSdkError('DISCONNECTED', 'The client is disconnected; call connect()'));
    return new Promise((resolve, reject) => this.waiters.add({ resolve, reject }));
  }

  /**
   * Sends a request and resolves with the reply's data; waits for the connection while connecting.
   *
   * @example
   * const { conversations } = await connection.request('getNewestSeq', {});
   */
  async request<A extends ActionName>(action: A, data: ActionRequest<A>, options: { timeoutMs?: number } = {}): Promise<ActionResult<A>> {
    await this.ready();
    if (this.stateValue === 'disconnected') throw new CirrusSdkError('DISCONNECTED', 'The client is disconnected; call connect()');
    if (this.stateValue !== 'connected') throw new CirrusSdkError('CONNECTION_CLOSED', 'The connection closed before the request was sent');
    return (await this.send(action, data, options.timeoutMs ?? this.requestTimeoutMs)) as ActionResult<A>;
  }

  private send(action: string, data: unknown, timeoutMs: number): Promise<unknown> {
    const id = `c${++this.nextId}`;
    const frame: RequestFrame = { id, action, data };
    return new Promise((resolve, reject) => {
      const timer = this.timers.setTimeout(() => {
        this.pending.delete(id);
        reject(new CirrusSdkError('TIMEOUT', `No reply to ${action} within ${timeoutMs} ms`));
      }, timeoutMs);
      const entry: Pending = { frame, socket: undefined, timer, resolve, reject };
      this.pending.set(id, entry);
      this.transmit(entry);
    });
  }

  private transmit(entry: Pending): void {
    const socket = this.active;
    if (!socket || socket.readyState !== OPEN) return; // sent when a rotated socket opens, or failed on close
    entry.socket = socket;
    socket.send(JSON.stringify(entry.frame));
    this.armHeartbeat();
  }

  private setState(newState: ConnectionState, reason: StateReason, closeCode?: number): void {
    const oldState = this.stateValue;
    if (oldState === newState) return;
    this.stateValue = newState;
    this.emit('state', { oldState, newState, reason, ...(closeCode !== undefined ? { closeCode } : {}) });
    if (newState === 'connected') for (const w of this.takeWaiters()) w.resolve();
  }

  private takeWaiters() {
    const all = [...this.waiters];
    this.waiters.clear();
    return all;
  }

  /** One connect attempt: refresh an expired token first, then open a socket. */
  private async open(): Promise<void> {
    if (this.stateValue !== 'connecting') return;
    const claims = readToken(this.tokenValue);
    if (claims && claims.expiresAt <= this.timers.now()) {
      await this.onTokenExpired();
      return;
    }
    let socket: WebSocketLike;
    this.lastError = '';
    try {
      socket = this.createSocket();
    } catch (err) {
      // E.g. a malformed URL: reported like any failed attempt, through connectFailed.
      this.lastError = (err as Error).message;
      return this.onAttemptFailed();
    }
    this.attemptSocket = socket;
    socket.onopen = () => {
      if (this.attemptSocket !== socket) return;
      this.attemptSocket = undefined;
      this.active = socket;
      this.attempt = 0;
      this.connectedAt = this.timers.now();
      this.armHeartbeat();
      this.armRotation();
      this.armTokenRefresh();
      this.setState('connected', 'opened');
      this.emit('connected', { connectedAt: this.connectedAt });
    };
    socket.onclose = (event) => {
      if (this.attemptSocket === socket) {
        this.attemptSocket = undefined;
        void this.onAttemptFailed();
      } else if (this.active === socket) {
        this.onActiveClosed(event.code);
      } else {
        this.onOtherClosed(socket);
      }
    };
  }

  private createSocket(): WebSocketLike {
    const url = `${this.opts.url}${this.opts.url.includes('?') ? '&' : '?'}token=${encodeURIComponent(this.tokenValue)}`;
    const socket = new this.WebSocketImpl(url);
    socket.onerror = (event) => {
      const message = (event as { message?: unknown } | undefined)?.message;
      if (typeof message === 'string') this.lastError = message;
    };
    socket.onmessage = (event) => this.onFrame(socket, event.data);
    return socket;
  }

  private onFrame(socket: WebSocketLike, raw: unknown): void {
    let frame: { push?: unknown; id?: unknown; action?: unknown; data?: unknown; error?: unknown; silent?: unknown };
    try {
      frame = JSON.parse(typeof raw === 'string' ? raw : String(raw));
    } catch {
      return;
    }
    if (frame.push === 'newMsg') {
      this.emit('newMessage', { message: frame.data as Message, silent: frame.silent === true });
      return;
    }
    if (typeof frame.push === 'string') {
      const event = frame as ServerEvent;
      if (event.push === 'kicked') this.onKicked(socket, event.data);
      else this.emit('serverEvent', event);
      return;
    }
    const id = typeof frame.id === 'string' ? frame.id : frame.id === null && frame.action === 'heartbeat' && frame.data !== undefined ? this.oldestHeartbeat(socket) : undefined;
    if (id === undefined) return;
    const entry = this.pending.get(id);
    if (!entry) return;
    this.pending.delete(id);
    this.timers.clearTimeout(entry.timer);
    const reply = frame as ReplyFrame;
    if (reply.error) entry.reject(CirrusSdkError.fromWire(reply.error));
    else entry.resolve(reply.data);
  }

  /**
   * API Gateway answers `heartbeat` itself and cannot echo the request's id (its reply has
   * `id: null`): the reply answers the oldest heartbeat still waiting on that socket.
   */
  private oldestHeartbeat(socket: WebSocketLike): string | undefined {
    for (const [id, entry] of this.pending) if (entry.frame.action === 'heartbeat' && entry.socket === socket) return id;
    return undefined;
  }

  private onKicked(socket: WebSocketLike, data: KickedEvent): void {
    if (this.retiring.has(socket)) return; // the rotated-out socket, replaced by our own new one
    if (socket === this.active && this.rotation) {
      // Our own rotation kicks the old socket under one-per-platform policies; decided when the new socket opens or fails.
      this.rotation.kick = data;
      return;
    }
    if (socket !== this.active) return;
    this.emit('kicked', data);
    this.stop('kicked');
  }

  private async onAttemptFailed(): Promise<void> {
    if (this.stateValue !== 'connecting') return;
    const tokenStatus = await this.tokenStatus();
    if (this.stateValue !== 'connecting') return;
    this.emit('connectFailed', { attempt: this.attempt, error: this.lastError || 'the connection did not open', tokenStatus });
    if (tokenStatus === 'expired') return this.onTokenExpired();
    if (tokenStatus === 'revoked' || tokenStatus === 'invalid') {
      this.emit(tokenStatus === 'revoked' ? 'tokenRevoked' : 'tokenInvalid', {});
      return this.stop(terminalOf[tokenStatus]);
    }
    this.scheduleReconnect('connectFailed');
  }

  /** What a refused upgrade meant: browsers do not expose the 401, so ask `tokenProbe` when there is one. */
  private async tokenStatus(): Promise<TokenStatus> {
    const claims = readToken(this.tokenValue);
    if (!claims) return 'invalid';
    if (claims.expiresAt <= this.timers.now()) return 'expired';
    if (this.opts.tokenProbe) {
      const probed = await this.opts.tokenProbe(this.tokenValue).catch((): TokenStatus => 'unknown');
      if (probed !== 'unknown' && probed !== 'valid') return probed;
      if (probed === 'valid') return 'valid';
    }
    // The `ws` package reports the status of a refused upgrade: a live token refused is a revoked one.
    return /\b401\b/.test(this.lastError) ? 'revoked' : 'unknown';
  }

  private async onTokenExpired(): Promise<void> {
    const fresh = await this.refresh('expired');
    if (this.stateValue !== 'connecting') return;
    if (!fresh) {
      this.emit('tokenExpired', {});
      return this.stop('tokenExpired');
    }
    this.emit('connecting', { reason: 'tokenRefreshed', attempt: this.attempt, delayMs: 0 });
    void this.open();
  }

  /** Asks the app for a new token; true when it gave one that is not already expired. */
  private async refresh(reason: 'expired' | 'expiring'): Promise<boolean> {
    if (!this.opts.refreshToken) return false;
    let token: string | undefined;
    try {
      token = await this.opts.refreshToken({ reason });
    } catch {
      return false;
    }
    if (!token || token === this.tokenValue) return false;
    const claims = readToken(token);
    if (claims && claims.expiresAt <= this.timers.now()) return false;
    this.tokenValue = token;
    this.emit('tokenRefreshed', claims ? { expiresAt: claims.expiresAt } : {});
    return true;
  }

  private onActiveClosed(closeCode: number): void {
    this.active = undefined;
    this.clearConnectionTimers();
    if (this.rotation) {
      // The old socket closed while its replacement is opening: requests wait for the new one.
      this.rotation.oldClosed = true;
      for (const entry of this.pending.values()) entry.socket = undefined;
      return;
    }
    this.failPending(new CirrusSdkError('CONNECTION_CLOSED', `The connection closed (${closeCode}) before the reply`));
    if (this.stateValue === 'connected') this.scheduleReconnect('transportClosed', closeCode);
  }

  /** A rotated-out socket closed: what it still owed is sent again on the active one. */
  private onOtherClosed(socket: WebSocketLike): void {
    this.retiring.delete(socket);
    if (this.rotation?.socket === socket) return this.onRotationFailed();
    for (const entry of this.pending.values()) {
      if (entry.socket === socket) {
        entry.socket = undefined;
        this.transmit(entry);
      }
    }
  }

  private failPending(err: CirrusSdkError): void {
    for (const [id, entry] of this.pending) {
      this.pending.delete(id);
      this.timers.clearTimeout(entry.timer);
      entry.reject(err);
    }
  }

  private scheduleReconnect(reason: ConnectingReason, closeCode?: number): void {
    this.setState('connecting', reason, closeCode);
    const delayMs = backoffDelay(this.attempt, this.backoff, this.random);
    this.emit('connecting', { reason, attempt: this.attempt, delayMs, ...(closeCode !== undefined ? { closeCode } : {}) });
    this.attempt++;
    this.reconnectTimer = this.timers.setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.open();
    }, delayMs);
  }

  private stop(reason: DisconnectReason): void {
    if (this.stateValue === 'disconnected') return;
    this.clearConnectionTimers();
    if (this.reconnectTimer !== undefined) this.timers.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const sockets = [this.active, this.attemptSocket, this.rotation?.socket, ...this.retiring];
    this.active = this.attemptSocket = this.rotation = undefined;
    this.retiring.clear();
    for (const socket of sockets) {
      if (!socket) continue;
      socket.onclose = socket.onmessage = socket.onopen = null;
      socket.onerror = () => {};
      socket.close(1000);
    }
    const err = new CirrusSdkError('DISCONNECTED', `Disconnected: ${reason}`);
    this.failPending(err);
    this.setState('disconnected', reason);
    this.emit('disconnected', { reason });
    for (const w of this.takeWaiters()) w.reject(err);
  }

  private clearConnectionTimers(): void {
    for (const t of [this.heartbeatTimer, this.rotateTimer, this.refreshTimer]) if (t !== undefined) this.timers.clearTimeout(t);
    this.heartbeatTimer = this.rotateTimer = this.refreshTimer = undefined;
  }

  /** Restarts the quiet-time countdown: any frame sent counts as traffic for the idle timeout. */
  private armHeartbeat(): void {
    if (this.heartbeatTimer !== undefined) this.timers.clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = this.timers.setTimeout(() => {
      this.heartbeatTimer = undefined;
      const socket = this.active;
      this.send('heartbeat', {}, this.heartbeatTimeoutMs).catch((err: CirrusSdkError) => {
        if (err.reason === 'TIMEOUT' && this.active === socket && socket) this.abandon(socket, 'heartbeatTimeout');
      });
    }, this.heartbeatIntervalMs);
  }

  /** Drops a socket that stopped answering without waiting for a close handshake that may never come. */
  private abandon(socket: WebSocketLike, reason: ConnectingReason): void {
    socket.onclose = socket.onmessage = null;
    socket.onerror = () => {};
    socket.close(4000, reason);
    this.active = undefined;
    this.clearConnectionTimers();
    this.failPending(new CirrusSdkError('CONNECTION_CLOSED', `The connection was dropped (${reason})`));
    this.scheduleReconnect(reason);
  }

  private armRotation(): void {
    this.rotateTimer = this.timers.setTimeout(() => {
      this.rotateTimer = undefined;
      void this.rotate();
    }, this.rotateAfterMs);
  }

  private armTokenRefresh(): void {
    const claims = readToken(this.tokenValue);
    if (!claims || !this.opts.refreshToken) return;
    const delay = Math.max(0, claims.expiresAt - this.tokenRefreshMarginMs - this.timers.now());
    this.refreshTimer = this.timers.setTimeout(() => {
      this.refreshTimer = undefined;
      void this.refresh('expiring').then(() => {
        if (this.stateValue === 'connected' && this.refreshTimer === undefined) this.armTokenRefresh();
      });
    }, delay);
  }

  /** Opens a second socket; once it is open it takes over and the old one is closed. */
  private async rotate(): Promise<void> {
    if (this.stateValue !== 'connected' || this.rotation) return;
    const claims = readToken(this.tokenValue);
    if (claims && claims.expiresAt - this.tokenRefreshMarginMs <= this.timers.now()) await this.refresh('expiring');
    if (this.stateValue !== 'connected') return;
    const socket = this.createSocket();
    const rotation: Rotation = { socket, oldClosed: false };
    this.rotation = rotation;
    socket.onopen = () => {
      if (this.rotation !== rotation) return;
      this.rotation = undefined;
      const old = this.active;
      this.active = socket;
      this.connectedAt = this.timers.now();
      socket.onclose = (event) => (this.active === socket ? this.onActiveClosed(event.code) : this.onOtherClosed(socket));
      if (old) {
        this.retiring.add(old);
        this.closeWhenIdle(old);
      }
      if (this.heartbeatTimer !== undefined) this.timers.clearTimeout(this.heartbeatTimer);
      this.heartbeatTimer = undefined;
      this.armHeartbeat();
      this.armRotation();
      if (this.refreshTimer === undefined) this.armTokenRefresh();
      for (const entry of this.pending.values()) if (!entry.socket) this.transmit(entry);
      this.emit('rotated', { connectedAt: this.connectedAt });
    };
    socket.onclose = () => {
      if (this.rotation === rotation) this.onRotationFailed();
    };
  }

  /** The new socket did not open: a kick seen meanwhile was real; otherwise carry on or reconnect. */
  private onRotationFailed(): void {
    const rotation = this.rotation;
    if (!rotation) return;
    this.rotation = undefined;
    if (rotation.kick) {
      this.emit('kicked', rotation.kick);
      return this.stop('kicked');
    }
    if (rotation.oldClosed) {
      this.failPending(new CirrusSdkError('CONNECTION_CLOSED', 'The connection closed before the reply'));
      return this.scheduleReconnect('transportClosed');
    }
    // The old socket still works: try again later, well before the cap.
    this.rotateTimer = this.timers.setTimeout(() => {
      this.rotateTimer = undefined;
      void this.rotate();
    }, Math.max(1_000, backoffDelay(3, this.backoff, this.random)));
  }

  /** Closes a rotated-out socket once it owes no replies (or after the request timeout). */
  private closeWhenIdle(socket: WebSocketLike): void {
    const owes = () => [...this.pending.values()].some((p) => p.socket === socket);
    const deadline = this.timers.now() + this.requestTimeoutMs;
    const check = () => {
      if (!this.retiring.has(socket)) return;
      if (owes() && this.timers.now() < deadline) return void this.timers.setTimeout(check, 100);
      this.retiring.delete(socket);
      socket.onclose = socket.onmessage = null;
      socket.onerror = () => {};
      socket.close(1000);
      for (const entry of this.pending.values()) if (entry.socket === socket) this.transmit(entry);
    };
    check();
  }
}
