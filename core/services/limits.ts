/**
 * Limits against abuse, answered with THROTTLED and `retryAfterMs` (HTTP: 429, Retry-After).
 *
 * Two layers, neither adding a request to an accepted message:
 * - In each container, token buckets per WebSocket connection, per sending user and per HTTP
 *   caller stop bursts at once. They hold what reaches one container only: Lambda runs
 *   concurrent requests in different containers.
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
import type { LimitSettings, RateLimit } from '../domain/limits';
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

/** An HTTP request of a user token (by user) or of no token (by source address); admin tokens are not limited. */
export function limitHttpCaller(caller: { userId: string } | { sourceIp: string }): void {
  const limits = config.limits();
  if (!limits) return;
  const key = 'userId' in caller ? `h|u|${caller.userId}` : `h|ip|${caller.sourceIp}`;
  const wait = take([{ key, limit: limits.http }]);
  if (wait > 0) throw throttled('Too many requests from this caller', wait);
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
