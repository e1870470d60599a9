/**
 * The connection state machine against an in-process fake gateway (a real `ws` server);
 * time is virtual (`ManualTimers`), so every timing assertion is exact.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Connection, type ConnectionOptions, type StateChangeEvent, type TokenStatus } from '../../sdk/src/connection';
import { backoffDelay } from '../../sdk/src/backoff';
import { FakeGateway, fakeToken } from './support/fake-gateway';
import { ManualTimers, settle } from './support/manual-timers';

let gw: FakeGateway;
let timers: ManualTimers;
let conn: Connection | undefined;
let states: StateChangeEvent[];

const HOUR = 3_600_000;

beforeEach(async () => {
  gw = await FakeGateway.start();
  timers = new ManualTimers();
  states = [];
});

afterEach(async () => {
  conn?.disconnect();
  conn = undefined;
  await gw.close();
});

function connection(options: Partial<ConnectionOptions> = {}): Connection {
  conn = new Connection({
    url: gw.url,
    token: fakeToken('alice', timers.now() + 24 * HOUR),
    WebSocket: WebSocket as unknown as ConnectionOptions['WebSocket'],
    timers,
    random: () => 0.5,
    ...options,
  });
  conn.on('state', (e) => states.push(e));
  return conn;
}

const transitions = () => states.map((s) => `${s.oldState}>${s.newState}:${s.reason}`);

/** Waits for a condition on the client side, driven by real I/O (never by elapsed time). */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2_000 && !check(); i++) await settle(1);
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

describe('connecting', () => {
  it('goes disconnected → connecting → connected and sends the token in the URL', async () => {
    const c = connection();
    expect(c.state).toBe('disconnected');

    c.connect();
    expect(c.state).toBe('connecting');
    await until(() => c.state === 'connected', 'connected');

    expect(transitions()).toEqual(['disconnected>connecting:connectCalled', 'connecting>connected:opened']);
    expect(gw.connections).toHaveLength(1);
    expect(gw.connections[0].token).toBe(c.token);
  });

  it('answers requests by id and surfaces server errors with their reason', async () => {
    gw.handlers.set('markRead', (data) => ({ conversationId: data.conversationId, readSeq: data.seq, unread: 0 }));
    gw.handlers.set('typing', () => ({ error: { code: 1201, reason: 'USER_NOT_FOUND', message: 'no such user', retryable: false } }));
    const c = connection();
    c.connect();

    const read = await c.request('markRead', { conversationId: 'si_alice_bob', seq: 3 });
    const typing = c.request('typing', { recvId: 'nobody', typing: true });

    expect(read).toEqual({ conversationId: 'si_alice_bob', readSeq: 3, unread: 0 });
    await expect(typing).rejects.toMatchObject({ reason: 'USER_NOT_FOUND', code: 1201, retryable: false });
  });

  it('goes disconnected on disconnect() and fails requests in flight with DISCONNECTED', async () => {
    const c = connection();
    c.connect();
    await until(() => c.state === 'connected', 'connected');
    const silent = c.request('pullMsgs', { conversationId: 'si_alice_bob', fromSeq: 1, toSeq: 5 });

    c.disconnect();

    await expect(silent).rejects.toMatchObject({ reason: 'DISCONNECTED' });
    expect(transitions().at(-1)).toBe('connected>disconnected:disconnectCalled');
    await gw.until(() => gw.open.length === 0, 'the socket closed');
  });
});

describe('reconnecting', () => {
  it('reconnects after a transport close with a full-jitter delay, failing requests in flight as retryable', async () => {
    const c = connection({ backoff: { minDelayMs: 1_000, maxDelayMs: 30_000 } });
    c.connect();
    await until(() => c.state === 'connected', 'connected');
    const inFlight = c.request('getNewestSeq', {});
    await gw.until(() => gw.connections[0].requests.length === 1, 'the request');

    gw.connections[0].socket.close(1001);

    await expect(inFlight).rejects.toMatchObject({ reason: 'CONNECTION_CLOSED', retryable: true });
    await until(() => c.state === 'connecting', 'connecting');
    expect(states.at(-1)).toMatchObject({ oldState: 'connected', newState: 'connecting', reason: 'transportClosed', closeCode: 1001 });
    // random() = 0.5 of the first cap (1000 ms).
    await timers.advance(499);
    expect(gw.connections).toHaveLength(1);
    await timers.advance(1);
    await until(() => c.state === 'connected', 'reconnected');
    expect(gw.connections).toHaveLength(2);
  });

  it('backs off exponentially up to the cap while attempts fail, and resets after a success', async () => {
    const token = fakeToken('alice', timers.now() + 24 * HOUR);
    gw.refuse.set(token, 503);
    const c = connection({ token, random: () => 0.999, backoff: { minDelayMs: 100, maxDelayMs: 1_000 } });
    const delays: number[] = [];
    c.on('connecting', (e) => delays.push(e.delayMs));
    c.connect();

    for (let i = 0; i < 6; i++) {
      await until(() => delays.length === i + 2, `attempt ${i + 1}`);
      await timers.advance(delays.at(-1)!);
    }
    await until(() => delays.length === 8, 'the last failure');
    gw.refuse.delete(token);
    await timers.advance(999);
    await until(() => c.state === 'connected', 'connected');
    gw.connections[0].socket.close(1011);
    await until(() => delays.length === 9, 'the next connecting');

    expect(delays).toEqual([0, 99, 199, 399, 799, 999, 999, 999, 99]);
    expect(transitions()).toEqual(['disconnected>connecting:connectCalled', 'connecting>connected:opened', 'connected>connecting:transportClosed']);
  });

  it('keeps full-jitter delays within [0, min(max, min·2^attempt))', () => {
    const options = { minDelayMs: 500, maxDelayMs: 20_000 };
    for (let attempt = 0; attempt < 12; attempt++) {
      const cap = Math.min(20_000, 500 * 2 ** attempt);
      expect(backoffDelay(attempt, options, () => 0)).toBe(0);
      expect(backoffDelay(attempt, options, () => 0.999999)).toBe(cap - 1);
    }
    expect(backoffDelay(1_000, options, () => 0.5)).toBe(10_000);
  });
});

describe('heartbeat', () => {
  it('sends a heartbeat after 4 minutes without traffic by default (under the 10-minute idle timeout), counting from the last frame sent', async () => {
    gw.handlers.set('markRead', () => ({ conversationId: 'si_alice_bob', readSeq: 1, unread: 0 }));
    const c = connection();
    c.connect();
    await until(() => c.state === 'connected', 'connected');
    const heartbeats = () => gw.connections[0].requests.filter((r) => r.action === 'heartbeat').length;

    await timers.advance(60_000);
    await c.request('markRead', { conversationId: 'si_alice_bob', seq: 1 });
    await timers.advance(239_999);
    expect(heartbeats()).toBe(0);
    await timers.advance(1);
    await gw.until(() => heartbeats() === 1, 'a heartbeat');
    await timers.advance(240_000);
    await gw.until(() => heartbeats() === 2, 'a second heartbeat');

    expect(c.state).toBe('connected');
  });

  it("takes API Gateway's heartbeat reply, which has no id, as the answer to the oldest heartbeat waiting on that socket", async () => {
    gw.handlers.set('heartbeat', () => ({ serverTime: 1234 }));
    const c = connection({ heartbeatIntervalMs: 60_000, heartbeatTimeoutMs: 5_000 });
    c.connect();
    await until(() => c.state === 'connected', 'connected');

    await expect(c.request('heartbeat', {})).resolves.toEqual({ serverTime: 1234 });
    await timers.advance(60_000);
    await gw.until(() => gw.connections[0].requests.filter((r) => r.action === 'heartbeat').length === 2, 'the timed heartbeat');
    // Replies arrive in order on one socket: once this one is in, so is the heartbeat's.
    gw.handlers.set('markRead', () => ({ conversationId: 'si_alice_bob', readSeq: 1, unread: 0 }));
    await c.request('markRead', { conversationId: 'si_alice_bob', seq: 1 });
    await timers.advance(5_000);
    expect(c.state).toBe('connected');
    expect(gw.connections).toHaveLength(1);
  });

  it('drops a socket whose heartbeat goes unanswered and reconnects', async () => {
    gw.handlers.delete('heartbeat');
    const c = connection({ heartbeatIntervalMs: 60_000, heartbeatTimeoutMs: 5_000 });
    c.connect();
    await until(() => c.state === 'connected', 'connected');

    await timers.advance(60_000);
    await gw.until(() => gw.connections[0].requests.some((r) => r.action === 'heartbeat'), 'the heartbeat');
    await timers.advance(4_999);
    expect(c.state).toBe('connected');
    await timers.advance(1);

    expect(states.at(-1)).toMatchObject({ newState: 'connecting', reason: 'heartbeatTimeout' });
    await timers.advance(250);
    await until(() => c.state === 'connected', 'reconnected');
    expect(gw.connections).toHaveLength(2);
  });
});

describe('rotation before the 2-hour cap', () => {
  it('opens a new socket at 110 minutes, moves to it without leaving connected, and misses no push', async () => {
    // A one-per-platform login policy: each new connection kicks the previous ones.
    gw.onConnection = (fresh) => {
      for (const old of gw.open) if (old !== fresh) gw.kick(old);
    };
    gw.handlers.set('getNewestSeq', () => ({ conversations: [], serverTime: 1 }));
    const c = connection();
    const pushed: number[] = [];
    const rotated: number[] = [];
    c.on('newMessage', (e) => pushed.push(e.message.seq));
    c.on('rotated', (e) => rotated.push(e.connectedAt));
    const kicked: unknown[] = [];
    c.on('kicked', (e) => kicked.push(e));
    c.connect();
    await until(() => c.state === 'connected', 'connected');
    const first = gw.connections[0];
    gw.send(first, { push: 'newMsg', data: { seq: 1 } });
    await until(() => pushed.length === 1, 'the first push');

    await timers.advance(110 * 60_000 - 1);
    expect(gw.connections).toHaveLength(1);
    await timers.advance(1);
    await gw.until(() => gw.connections.length === 2, 'the second socket');
    const second = gw.connections[1];
    gw.send(second, { push: 'newMsg', data: { seq: 2 } });
    await until(() => rotated.length === 1 && pushed.length === 2, 'the rotation');
    await gw.until(() => first.closed, 'the old socket closed');
    const reply = await c.request('getNewestSeq', {});

    expect(reply).toEqual({ conversations: [], serverTime: 1 });
    expect(second.requests.map((r) => r.action)).toContain('getNewestSeq');
    expect(pushed).toEqual([1, 2]);
    expect(kicked).toEqual([]);
    expect(transitions()).toEqual(['disconnected>connecting:connectCalled', 'connecting>connected:opened']);
    expect(c.state).toBe('connected');
  });

  it('sends a request in flight on the old socket again on the new one when the old closes first', async () => {
    const c = connection();
    c.connect();
    await until(() => c.state === 'connected', 'connected');
    const first = gw.connections[0];
    const pull = c.request('pullMsgs', { conversationId: 'si_alice_bob', fromSeq: 1, toSeq: 5 }, { timeoutMs: 3 * HOUR });
    await gw.until(() => first.requests.length === 1, 'the request');
    gw.onConnection = () => gw.kick(first);
    gw.handlers.set('pullMsgs', (data) => ({ conversationId: data.conversationId, fromSeq: 1, toSeq: 5, messages: [], holes: [1, 2, 3, 4, 5], pending: [] }));

    await timers.advance(110 * 60_000);

    await expect(pull).resolves.toMatchObject({ holes: [1, 2, 3, 4, 5] });
    expect(gw.connections[1].requests.map((r) => r.action)).toEqual(['pullMsgs']);
    expect(c.state).toBe('connected');
  });

  it('treats a kick during rotation as real when the new socket is refused', async () => {
    const token = fakeToken('alice', timers.now() + 24 * HOUR);
    const c = connection({ token });
    const kicked: unknown[] = [];
    c.on('kicked', (e) => kicked.push(e));
    c.connect();
    await until(() => c.state === 'connected', 'connected');
    // Another device logged in: the session is revoked, then this socket is kicked.
    gw.refuse.set(token, 401);
    const attempts = gw.connections.length;

    const rotating = timers.advance(110 * 60_000);
    gw.kick(gw.connections[0]);
    await rotating;
    await until(() => c.state === 'disconnected', 'disconnected');

    expect(kicked).toEqual([{ reason: 'loggedInElsewhere', platformId: 5 }]);
    expect(states.at(-1)).toMatchObject({ newState: 'disconnected', reason: 'kicked' });
    expect(gw.connections.length).toBe(attempts);
  });
});

describe('kicks and tokens', () => {
  it('surfaces a kick as an event and stops without reconnecting', async () => {
    const c = connection();
    const kicked: unknown[] = [];
    c.on('kicked', (e) => kicked.push(e));
    c.connect();
    await until(() => c.state === 'connected', 'connected');

    gw.kick(gw.connections[0], 'forcedLogout');
    await until(() => c.state === 'disconnected', 'disconnected');
    await timers.advance(HOUR);

    expect(kicked).toEqual([{ reason: 'forcedLogout', platformId: 5 }]);
    expect(states.at(-1)).toMatchObject({ oldState: 'connected', newState: 'disconnected', reason: 'kicked' });
    expect(gw.connections).toHaveLength(1);
  });

  it('asks refreshToken for a new token instead of connecting with an expired one', async () => {
    const expired = fakeToken('alice', timers.now() - 1_000);
    const fresh = fakeToken('alice', timers.now() + HOUR, 5, 's2');
    const reasons: string[] = [];
    const c = connection({ token: expired, refreshToken: async ({ reason }) => (reasons.push(reason), fresh) });

    c.connect();
    await until(() => c.state === 'connected', 'connected');

    expect(reasons).toEqual(['expired']);
    expect(gw.connections.map((x) => x.token)).toEqual([fresh]);
  });

  it('stops with tokenExpired, and no connection attempt, when no new token comes', async () => {
    const c = connection({ token: fakeToken('alice', timers.now() - 1_000), refreshToken: async () => undefined });
    const expired: unknown[] = [];
    c.on('tokenExpired', (e) => expired.push(e));

    c.connect();
    await until(() => c.state === 'disconnected', 'disconnected');

    expect(expired).toHaveLength(1);
    expect(transitions()).toEqual(['disconnected>connecting:connectCalled', 'connecting>disconnected:tokenExpired']);
    expect(gw.connections).toHaveLength(0);
  });

  it('refreshes the token before it expires and uses the new one for the next socket', async () => {
    const first = fakeToken('alice', timers.now() + 20 * 60_000);
    const second = fakeToken('alice', timers.now() + 24 * HOUR, 5, 's2');
    let calls = 0;
    const c = connection({ token: first, refreshToken: async () => (calls++, second), tokenRefreshMarginMs: 5 * 60_000 });
    c.connect();
    await until(() => c.state === 'connected', 'connected');

    await timers.advance(15 * 60_000 - 1);
    expect(calls).toBe(0);
    await timers.advance(1);
    expect(calls).toBe(1);
    expect(c.token).toBe(second);
    gw.connections[0].socket.close(1001);
    await until(() => c.state === 'connecting', 'connecting');
    await timers.advance(1_000);
    await until(() => c.state === 'connected', 'reconnected');

    expect(gw.connections.map((x) => x.token)).toEqual([first, second]);
  });

  it('stops with tokenRevoked when the upgrade is refused and the probe says revoked', async () => {
    const token = fakeToken('alice', timers.now() + HOUR);
    gw.refuse.set(token, 401);
    const probed: string[] = [];
    const c = connection({ token, tokenProbe: async (t): Promise<TokenStatus> => (probed.push(t), 'revoked') });
    const revoked: unknown[] = [];
    c.on('tokenRevoked', (e) => revoked.push(e));

    c.connect();
    await until(() => c.state === 'disconnected', 'disconnected');
    await timers.advance(HOUR);

    expect(probed).toEqual([token]);
    expect(revoked).toHaveLength(1);
    expect(states.at(-1)).toMatchObject({ newState: 'disconnected', reason: 'tokenRevoked' });
  });

  it('stops with tokenInvalid when a token that is not a user token is refused', async () => {
    const c = connection({ token: 'not-a-token' });
    const invalid: unknown[] = [];
    c.on('tokenInvalid', (e) => invalid.push(e));
    gw.refuse.set('not-a-token', 401);

    c.connect();
    await until(() => c.state === 'disconnected', 'disconnected');

    expect(invalid).toHaveLength(1);
    expect(transitions()).toEqual(['disconnected>connecting:connectCalled', 'connecting>disconnected:tokenInvalid']);
  });

  it('stops retrying when disconnect() is called while waiting to reconnect', async () => {
    const c = connection();
    c.connect();
    await until(() => c.state === 'connected', 'connected');
    gw.connections[0].socket.close(1011);
    await until(() => c.state === 'connecting', 'connecting');

    c.disconnect();
    await timers.advance(60_000);

    expect(transitions().slice(-2)).toEqual(['connected>connecting:transportClosed', 'connecting>disconnected:disconnectCalled']);
    expect(gw.connections).toHaveLength(1);
  });

  it('keeps retrying a refused upgrade the probe cannot explain (server unreachable), with backoff', async () => {
    const token = fakeToken('alice', timers.now() + HOUR);
    gw.refuse.set(token, 502);
    const c = connection({ token, tokenProbe: async () => 'unknown' });
    const failures: string[] = [];
    c.on('connectFailed', (e) => failures.push(e.tokenStatus));

    c.connect();
    await until(() => failures.length === 1, 'the first failure');
    await timers.advance(250);
    await until(() => failures.length === 2, 'the second failure');

    expect(c.state).toBe('connecting');
    expect(failures).toEqual(['unknown', 'unknown']);
  });
});
