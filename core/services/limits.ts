/**
 * Limits against abuse, answered with THROTTLED and `retryAfterMs` (HTTP: 429, Retry-After).
 *
 * Two layers, neither adding a request to an accepted message:
 * - In each container, token buckets per WebSocket connection, per sending user, per HTTP
 *   caller and for typing indicators stop bursts at once. They hold what reaches one container
 *   only: Lambda runs concurrent requests in different containers. HTTP callers are also
 *   counted across containers (`CallerLimiter`): a container adds a busy caller's requests to
 *   a shared counter item now and then, never for a caller with few requests.
 * - Across containers, the archive function, which reads every new message from the Messages
 *   stream anyway, counts each user's sends over a sliding window; a user over it gets
 *   `throttledUntil` on their user item, and on their membership of each group they flooded,
 *   written then and only then. The send path already reads those items (the 1:1 precheck's
 *   BatchGetItem; the group precheck's member item; POST /messages' check of the sender), so
 *   refusing costs nothing either. Detection lags by the stream's batching window.
 *
 * A group's slow mode is in core/services/send.ts (it needs the member item the group send reads).
 */
import { PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ddb } from '../aws/dynamodb';
import { containerName } from '../aws/container';
import { config } from '../config';
import { SYSTEM_SENDER } from '../domain/ids';
import { HTTP_CALLER_PARTITION, type LimitSettings, type RateLimit } from '../domain/limits';
import { CirrusError } from '../errors';
import { log } from '../log';
import { isConditionFailure } from '../store/dynamo';
import type { Message } from '../protocol/schema';

/** Buckets a container keeps at most; the least recently used go first (a new bucket is full anyway). */
const MAX_BUCKETS = 20_000;

interface Bucket {
  tokens: number;
  at: number;
}

const buckets = new Map<string, Bucket>();

/** The tokens a bucket holds at `now`, refilled since it was last used. */
function level(key: string, limit: RateLimit, now: number): Bucket {
  const b = buckets.get(key);
  if (!b) return { tokens: limit.burst, at: now };
  return { tokens: Math.min(limit.burst, b.tokens + ((now - b.at) / 1000) * limit.perSecond), at: now };
}

/**
 * Takes one token from each bucket, or from none: a refusal consumes nothing. Returns the
 * milliseconds until every bucket holds a token again, 0 when taken.
 */
export function take(entries: readonly { key: string; limit: RateLimit }[], now = Date.now()): number {
  const active = entries.filter((e) => e.limit.perSecond > 0);
  const levels = active.map((e) => ({ ...e, bucket: level(`${containerName()}|${e.key}`, e.limit, now) }));
  const wait = Math.max(0, ...levels.map(({ bucket, limit }) => (bucket.tokens >= 1 ? 0 : ((1 - bucket.tokens) / limit.perSecond) * 1000)));
  if (wait > 0) return Math.ceil(wait);
  for (const { key, bucket } of levels) {
    const k = `${containerName()}|${key}`;
    buckets.delete(k);
    buckets.set(k, { tokens: bucket.tokens - 1, at: now });
  }
  while (buckets.size > MAX_BUCKETS) buckets.delete(buckets.keys().next().value!);
  return 0;
}

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

function throttled(message: string, retryAfterMs: number): CirrusError {
  return new CirrusError('THROTTLED', `${message}; retry in ${seconds(retryAfterMs)} s`, { retryAfterMs });
}

/** A send by a user (over a connection, or by the app backend as the user): their buckets, in this container. */
export function limitSend(userId: string, connectionId?: string): void {
  const limits = config.limits();
  if (!limits || userId === SYSTEM_SENDER) return;
  const wait = take([...(connectionId ? [{ key: `c|${connectionId}`, limit: limits.connection }] : []), { key: `u|${userId}`, limit: limits.user }]);
  if (wait > 0) throw throttled(`${userId} is sending too fast`, wait);
}

/** A typing indicator over a connection: its own bucket, in this container (typing stores nothing, so nothing else holds it). */
export function limitTyping(connectionId: string): void {
  const limits = config.limits();
  if (!limits) return;
  const wait = take([{ key: `t|${connectionId}`, limit: limits.typing }]);
  if (wait > 0) throw throttled('Typing indicators too often on this connection', wait);
}

// ---- HTTP callers, across containers ----

/** The shared count's window: a caller may make `perSecond` × 60 + `burst` requests in each minute, over all containers. */
export const HTTP_WINDOW_MS = 60_000;
/** Callers a container keeps a count for at most; the least recently seen go first (their unflushed count is lost). */
const MAX_CALLERS = 20_000;

interface CallerCount {
  /** The window (start / HTTP_WINDOW_MS) the count is for. */
  window: number;
  /** This container's requests of the caller in the window not yet added to the shared count. */
  pending: number;
  /** Refused in this container until then (the shared count said over). */
  blockedUntil: number;
}

/**
 * HTTP requests per caller, held across containers. Each container keeps its token bucket per
 * caller (bursts stop at once) and its own count of the caller's requests in the current
 * minute. Once a caller has made half a burst of requests in a container since its last flush,
 * the container adds them to a counter item shared by every container (one atomic `ADD`, which
 * answers the new total) and refuses the caller until the end of the minute when the total is
 * over the minute's allowance. A caller who makes fewer requests than that in a container costs
 * no write at all; one who floods costs about one write per half burst per container until the
 * count is over, and none after. The counter item is in Sessions, under a partition no user id
 * can have (`#http|…`: ids never start with a symbol), and expires with the table's TTL.
 */
export class CallerLimiter {
  private readonly counts = new Map<string, CallerCount>();

  /** `name`: the container's (the bucket keys); two limiters stand for two containers. */
  constructor(private readonly name: string) {}

  async check(caller: string, limit: RateLimit, now = Date.now()): Promise<void> {
    if (limit.perSecond <= 0) return;
    let count = this.counts.get(caller);
    if (count && count.blockedUntil > now) throw throttled('Too many requests from this caller', count.blockedUntil - now);
    const wait = take([{ key: `${this.name}|h|${caller}`, limit }], now);
    if (wait > 0) throw throttled('Too many requests from this caller', wait);
    const window = Math.floor(now / HTTP_WINDOW_MS);
    if (!count || count.window !== window) count = { window, pending: 0, blockedUntil: 0 };
    // Most recently seen last.
    this.counts.delete(caller);
    this.counts.set(caller, count);
    while (this.counts.size > MAX_CALLERS) this.counts.delete(this.counts.keys().next().value!);
    count.pending += 1;
    if (count.pending < flushEvery(limit)) return;
    const adding = count.pending;
    count.pending = 0;
    let total: number;
    try {
      total = await addToSharedCount(caller, window, adding);
    } catch (err) {
      // The buckets still hold the caller; the next request tries again with the count kept.
      if (count.window === window) count.pending += adding;
      log.warn('adding to the shared count of HTTP requests failed', { err });
      return;
    }
    if (total > httpAllowance(limit)) {
      count.blockedUntil = (window + 1) * HTTP_WINDOW_MS;
      log.warn('HTTP caller throttled: too many requests across containers', { caller, requests: total, until: count.blockedUntil });
      throw throttled('Too many requests from this caller', count.blockedUntil - now);
    }
  }
}

/** Requests a caller may make in one window over all containers. */
export const httpAllowance = (limit: RateLimit): number => Math.floor(limit.perSecond * (HTTP_WINDOW_MS / 1000) + limit.burst);
/** Requests of a caller in one container between two additions to the shared count: half a burst. */
export const flushEvery = (limit: RateLimit): number => Math.max(1, Math.ceil(limit.burst / 2));

async function addToSharedCount(caller: string, window: number, n: number): Promise<number> {
  const res = await ddb().send(
    new UpdateCommand({
      TableName: config.tableName('sessions'),
      Key: { userId: `${HTTP_CALLER_PARTITION}${caller}`, sessionId: String(window) },
      UpdateExpression: 'ADD n :n SET expiresAt = if_not_exists(expiresAt, :e)',
      // An hour after the window: the table's TTL removes it some time after.
      ExpressionAttributeValues: { ':n': n, ':e': Math.floor(((window + 1) * HTTP_WINDOW_MS) / 1000) + 3600 },
      ReturnValues: 'UPDATED_NEW',
    }),
  );
  return Number(res.Attributes?.n ?? n);
}

/** Each container's limiter (the local runtime runs every function in one process). */
const callerLimiters = new Map<string, CallerLimiter>();

/** An HTTP request of a user token (by user) or of no token (by source address); admin tokens are not limited. */
export async function limitHttpCaller(caller: { userId: string } | { sourceIp: string }): Promise<void> {
  const limits = config.limits();
  if (!limits) return;
  const name = containerName();
  let limiter = callerLimiters.get(name);
  if (!limiter) callerLimiters.set(name, (limiter = new CallerLimiter(name)));
  await limiter.check('userId' in caller ? `u|${caller.userId}` : `ip|${caller.sourceIp}`, limits.http);
}

/** Refuses a send while the sender is throttled across containers (`throttledUntil` on an item the send read anyway). */
export function refuseIfThrottled(userId: string, throttledUntil: unknown, now = Date.now()): void {
  const until = Number(throttledUntil ?? 0);
  if (!config.limits() || !(until > now)) return;
  throw throttled(`${userId} sent too many messages and is throttled until ${new Date(until).toISOString()}`, until - now);
}

// ---- Across containers: the archive's count ----

/** Each sender's recent messages this archive container saw: `conversationId#seq` → sendTime (a retried batch counts once). */
const recent = new Map<string, Map<string, { at: number; groupId?: string }>>();
/** Until when this container last throttled each user, and in which groups: not written again meanwhile, unless they flood another group. */
const marked = new Map<string, { until: number; groupIds: Set<string> }>();

/** A user throttled across containers, as GET /admin/limits lists them. */
export interface ThrottledUser {
  userId: string;
  /** ms since the epoch. */
  until: number;
  /** When the archive throttled them. */
  at: number;
  /** Messages counted within the window. */
  messages: number;
  windowSeconds: number;
  /** The groups whose memberships carry the throttle. */
  groupIds: string[];
}

/** The AuditLog partition of throttles, sorted by their end: those in force are one Query from now on. */
const THROTTLE_LOG = 'throttle';
const untilKey = (until: number, userId: string) => `${String(until).padStart(13, '0')}#${userId}`;

/**
 * Counts the new messages of an archive batch that users sent themselves (sendMsg, and
 * POST /messages as the user: the item's `limited`, or, for messages stored before it
 * existed, the sender's platform; batch pages and notifications carry neither), and
 * throttles each user over the window. Best effort: a failed write is logged, and the next
 * batch of a user still flooding tries again.
 */
export async function countSends(messages: readonly (Message & { limited?: boolean })[], now = Date.now()): Promise<ThrottledUser[]> {
  const limits = config.limits();
  if (!limits || limits.window.messages === 0) return [];
  const windowMs = limits.window.seconds * 1000;
  const senders = new Set<string>();
  for (const m of messages) {
    if (m.senderId === SYSTEM_SENDER || !(m.limited === true || m.senderPlatformId !== undefined) || m.sendTime < now - windowMs) continue;
    let mine = recent.get(m.senderId);
    if (!mine) recent.set(m.senderId, (mine = new Map()));
    mine.set(`${m.conversationId}#${m.seq}`, { at: m.sendTime, ...(m.groupId !== undefined ? { groupId: m.groupId } : {}) });
    senders.add(m.senderId);
  }
  const out: ThrottledUser[] = [];
  for (const [userId, mine] of recent) {
    for (const [k, v] of mine) if (v.at < now - windowMs) mine.delete(k);
    if (mine.size === 0) {
      recent.delete(userId);
      continue;
    }
    if (!senders.has(userId) || mine.size <= limits.window.messages) continue;
    const groupIds = [...new Set([...mine.values()].flatMap((v) => (v.groupId !== undefined ? [v.groupId] : [])))].sort();
    const earlier = marked.get(userId);
    // Throttled a moment ago: again only when they reached a group whose membership does not carry it yet (the lag).
    if (earlier && earlier.until > now + (limits.window.throttleSeconds * 1000) / 2 && groupIds.every((g) => earlier.groupIds.has(g))) continue;
    const entry: ThrottledUser = { userId, until: now + limits.window.throttleSeconds * 1000, at: now, messages: mine.size, windowSeconds: limits.window.seconds, groupIds };
    try {
      await persistThrottle(entry);
      marked.set(userId, { until: entry.until, groupIds: new Set(groupIds) });
      out.push(entry);
      log.warn('user throttled: too many messages', { userId, messages: entry.messages, windowSeconds: entry.windowSeconds, until: entry.until, groups: groupIds.length });
    } catch (err) {
      log.warn('throttling a user failed; the next batch tries again', { userId, err });
    }
  }
  for (const [userId, { until }] of marked) if (until <= now) marked.delete(userId);
  return out;
}

async function persistThrottle(entry: ThrottledUser): Promise<void> {
  const set = (table: string, key: Record<string, string>, exists: string) =>
    ddb()
      .send(
        new UpdateCommand({
          TableName: table,
          Key: key,
          UpdateExpression: 'SET throttledUntil = :u',
          ConditionExpression: `attribute_exists(${exists})`,
          ExpressionAttributeValues: { ':u': entry.until },
        }),
      )
      .catch((err) => {
        // Erased, or no longer a member: nothing to throttle there.
        if (!isConditionFailure(err)) throw err;
      });
  await Promise.all([
    set(config.tableName('users'), { userId: entry.userId }, 'userId'),
    ...entry.groupIds.map((groupId) => set(config.tableName('groupMembers'), { groupId, userId: entry.userId }, 'userId')),
    // Kept 30 days after the throttle ends (the table's TTL), for an operator looking back.
    ddb().send(new PutCommand({ TableName: config.tableName('auditLog'), Item: { log: THROTTLE_LOG, sk: untilKey(entry.until, entry.userId), ...entry, expiresAt: Math.floor(entry.until / 1000) + 30 * 86_400 } })),
  ]);
}

/** The users throttled across containers now (their throttle's end still ahead), latest end first. */
export async function throttledUsers(now = Date.now(), limit = 100): Promise<ThrottledUser[]> {
  const res = await ddb().send(
    new QueryCommand({
      TableName: config.tableName('auditLog'),
      KeyConditionExpression: '#l = :l AND sk > :now',
      ExpressionAttributeNames: { '#l': 'log' },
      ExpressionAttributeValues: { ':l': THROTTLE_LOG, ':now': untilKey(now, '') },
      ScanIndexForward: false,
      Limit: limit * 2,
    }),
  );
  // A user throttled again while still throttled has two entries: the later end counts.
  const seen = new Map<string, ThrottledUser>();
  for (const item of res.Items ?? []) {
    const { log: _l, sk: _s, expiresAt: _e, ...entry } = item as ThrottledUser & { log: string; sk: string; expiresAt?: number };
    if (!seen.has(entry.userId)) seen.set(entry.userId, { ...entry, groupIds: [...(entry.groupIds ?? [])] });
  }
  return [...seen.values()].slice(0, limit);
}

/** What GET /admin/limits shows: the limits in force and who is throttled across containers. */
export async function limitsInForce(): Promise<{ limits: LimitSettings | null; throttled: ThrottledUser[] }> {
  const limits = config.limits();
  return { limits: limits ?? null, throttled: limits ? await throttledUsers() : [] };
}
