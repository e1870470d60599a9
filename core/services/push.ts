/**
 * Push: post a message to its recipients' live connections. An optimisation on top of
 * sync — best effort, deduplicated by the client on (conversationId, seq) — so a failed
 * push only costs latency, never a message. The sending function posts small fan-outs
 * itself (core/services/fanout.ts); the push function posts slices of large ones.
 */
import { deleteConnection, postToConnection, POST_SOCKETS } from '../aws/management';
import { config } from '../config';
import { log } from '../log';
import { count } from '../metrics';
import type { EventFrame, Message, PushFrame } from '../protocol/schema';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { ddb } from '../aws/dynamodb';
import { connections, connectionsFromPresence, type ConnectionItem } from '../store/connections';
import { batchGet, chunk } from '../store/dynamo';
import { groupOnline, type OnlineIndexState } from '../store/group-online';
import { forEachLimit } from '../domain/concurrency';
import type { NotifyTarget } from '../offline-push/rules';
import { decideTargets, isAway, PUSH_STATE_ATTRIBUTES } from '../offline-push/targets';

/**
 * Concurrent PostToConnection calls per invocation: with a post taking ~15 ms in AWS, 80 in flight
 * post ~5,000 a second, so the two push invocations of 1,000 online connections reach the
 * account's 10,000 requests a second (shared, and retried with backoff when throttled); the
 * @connections sender keeps as many sockets (core/aws/management.ts).
 */
export const POST_CONCURRENCY = POST_SOCKETS;
const MAX_THROTTLE_RETRIES = 3;

/** A known recipient as a push job carries it: userId, connectionId, platformId, connectedAtMs, expiresAt, receive option. */
export type KnownConnection = [string, string, number, number, number, 0 | 1 | 2];

export interface PushJob {
  /** The recipients, whose connections and options push reads; empty when `known` is given. */
  userIds: string[];
  /** The connections to post to and their receive options, read from a group's online index. */
  known?: KnownConnection[];
  message: Message;
  /** The sender's connection, which got the ack instead. */
  excludeConnectionId?: string;
  correlationId?: string;
  /** The message was just written (not a resend): its away recipients are offline-push targets. */
  notify?: boolean;
}

export interface PushOutcome {
  delivered: number;
  /** Connections found gone (410) and deleted. */
  gone: number;
  /** Connections that could not be reached for another reason; the job should be retried. */
  failed: number;
  /**
   * Frames API Gateway refused as over its 128 KB message limit (413): sending again cannot
   * succeed, so they are logged and dropped, never retried. Clients get stored messages by sync.
   */
  tooLarge: number;
  /** With `PushJob.notify`: the recipients to notify offline (see core/offline-push/targets.ts). */
  targets?: NotifyTarget[];
}

/** API Gateway's integration timeout: no $connect lasts longer. */
const CONNECT_MAX_MS = 30_000;

const isConnecting = (conn: ConnectionItem, now = Date.now()): boolean => now - (conn.connectedAtMs ?? conn.connectedAt * 1000) < CONNECT_MAX_MS;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function postOne(endpoint: string, conn: ConnectionItem, data: Uint8Array, outcome: PushOutcome): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await postToConnection(endpoint, conn.connectionId, data);
      outcome.delivered++;
      return;
    } catch (err) {
      const name = (err as { name?: string }).name;
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (name === 'GoneException' || status === 410) {
        // API Gateway also answers 410 while a connection is still in $connect (its record is
        // written before it is established): deleting that record would silence a device that
        // is about to be live. Only a connection older than $connect can take is gone for sure.
        if (isConnecting(conn)) return;
        // The recipient's connection is gone: delete that one, never anyone else's.
        await connections.delete(conn.userId, conn.connectionId);
        outcome.gone++;
        count('PushesGone');
        return;
      }
      if (name === 'PayloadTooLargeException' || status === 413) {
        log.error('push frame over the 128 KB message limit, dropped', { connectionId: conn.connectionId, userId: conn.userId, bytes: data.length });
        outcome.tooLarge++;
        count('PushesTooLarge');
        return;
      }
      if (name === 'LimitExceededException' || status === 429) count('PushesThrottled');
      if ((name === 'LimitExceededException' || status === 429) && attempt < MAX_THROTTLE_RETRIES) {
        await sleep(Math.random() * 100 * 2 ** attempt);
        continue;
      }
      log.warn('push failed', { connectionId: conn.connectionId, userId: conn.userId, err });
      outcome.failed++;
      count('PushesFailed');
      return;
    }
  }
}

type RecvOpt = 0 | 1 | 2;

/**
 * Recipients already read (e.g. by the send's own checks), so that the push reads nothing:
 * `options` holds the effective receive option (see `recipients`) of every recipient but
 * the sender, `live` the live connections of those recipients and of the sender.
 */
export interface KnownRecipients {
  live: ConnectionItem[];
  options: Map<string, 0 | 1 | 2>;
  /**
   * The recipients read as away (devices registered, no foreground connection; see
   * core/offline-push/targets.ts), when the read could tell: absent for a group's online index.
   */
  away?: string[];
}

/**
 * Each recipient's receive option for the message's conversation (the stricter of their
 * own setting of the conversation and their global one) and their live connections (the
 * user item's `conns`): one BatchGetItem per 50 users. The sender's own devices always
 * get their message.
 */
async function recipients(userIds: readonly string[], message: Message): Promise<KnownRecipients> {
  const usersTable = config.tableName('users');
  const statesTable = config.tableName('userConversations');
  const out = new Map<string, RecvOpt>();
  const live: ConnectionItem[] = [];
  const away: string[] = [];
  for (const part of chunk([...new Set(userIds)], 50)) {
    const others = part.filter((u) => u !== message.senderId);
    const res = await batchGet({
      [usersTable]: { Keys: part.map((userId) => ({ userId })), ProjectionExpression: `userId, globalRecvOpt, conns, ${PUSH_STATE_ATTRIBUTES}` },
      ...(others.length > 0 ? { [statesTable]: { Keys: others.map((userId) => ({ userId, conversationId: message.conversationId })), ProjectionExpression: 'userId, recvOpt' } } : {}),
    });
    for (const item of res[usersTable] ?? []) {
      live.push(...connectionsFromPresence(item.userId as string, item.conns));
      if (item.userId !== message.senderId && isAway(item)) away.push(item.userId as string);
    }
    for (const item of [...(res[usersTable] ?? []), ...(res[statesTable] ?? [])]) {
      const userId = item.userId as string;
      if (userId === message.senderId) continue;
      const opt = Number(item.globalRecvOpt ?? item.recvOpt ?? 0) as RecvOpt;
      // 1 (do not receive) beats 2 (silently) beats 0.
      const current = out.get(userId) ?? 0;
      if (opt === 1 || (opt === 2 && current === 0)) out.set(userId, opt);
    }
  }
  return { options: out, live, away };
}

/** Known recipients in a push job's compact form. */
export function packKnown(known: KnownRecipients): KnownConnection[] {
  return known.live.map((c) => [c.userId, c.connectionId, c.platformId, c.connectedAtMs ?? c.connectedAt * 1000, c.expiresAt, known.options.get(c.userId) ?? 0]);
}

export function unpackKnown(packed: readonly KnownConnection[]): KnownRecipients {
  const options = new Map<string, RecvOpt>();
  const live = packed.map(([userId, connectionId, platformId, m, expiresAt, o]): ConnectionItem => {
    if (o !== 0) options.set(userId, o);
    return { userId, connectionId, platformId, sessionId: '', connectedAt: Math.floor(m / 1000), connectedAtMs: m, expiresAt };
  });
  return { live, options };
}

/**
 * The online members of a group with a ready online index (GroupOnline), with their
 * effective receive options: one strongly consistent GetItem of the group, then one
 * strongly consistent Query per shard, charged on the online entries only (~58 per read
 * unit), never on the offline members. Undefined for a group without a ready index:
 * its recipients are its members, read as before.
 */
export async function groupRecipients(groupId: string): Promise<KnownRecipients | undefined> {
  return (await groupRecipientsOrState(groupId)).known;
}

/**
 * As `groupRecipients`, also returning the group's index state (to resume a build left
 * unfinished) and its roster flag (`rosterV`, store/group-online.ts: 0 when the roster of
 * members with devices is known empty, undefined when unknown).
 */
export async function groupRecipientsOrState(groupId: string): Promise<{ known?: KnownRecipients; state?: OnlineIndexState; rosterV?: number }> {
  const res = await ddb().send(new GetCommand({ TableName: config.tableName('groups'), Key: { groupId }, ProjectionExpression: 'onlineIndex, rosterV', ConsistentRead: true }));
  const state = res.Item?.onlineIndex as OnlineIndexState | undefined;
  const rosterV = res.Item?.rosterV as number | undefined;
  if (!state?.ready) return { state, rosterV };
  return { known: await groupOnline.query(groupId, state.s), state, rosterV };
}

/**
 * Posts the message to its recipients' live connections: those of `job.userIds` (read with
 * their receive options), or, when given, the `known` ones (nothing read). The sender's
 * own other devices always get their message.
 */
export async function pushToUsers(job: PushJob, known?: KnownRecipients): Promise<PushOutcome> {
  const endpoint = config.connectionsEndpoint();
  const outcome: PushOutcome = { delivered: 0, gone: 0, failed: 0, tooLarge: 0 };
  const frame = (silent: boolean): Uint8Array => {
    const f: PushFrame = { push: 'newMsg', data: job.message, ...(silent ? { silent: true as const } : {}) };
    return Buffer.from(JSON.stringify(f));
  };
  const loud = frame(false);
  const quiet = frame(true);
  const { options, live, away } = known ?? (job.known ? unpackKnown(job.known) : await recipients(job.userIds, job.message));
  const optionOf = (userId: string): RecvOpt => (userId === job.message.senderId ? 0 : (options.get(userId) ?? 0));
  const targets = live
    .filter((conn) => optionOf(conn.userId) !== 1 && conn.connectionId !== job.excludeConnectionId)
    .map((conn) => ({ conn, data: optionOf(conn.userId) === 2 ? quiet : loud }));
  await forEachLimit(targets, POST_CONCURRENCY, ({ conn, data }) => postOne(endpoint, conn, data, outcome));
  if (job.notify && away && away.length > 0) outcome.targets = decideTargets(job.message, away, options);
  return outcome;
}

/** A user's live connections from their item's `conns` (one GetItem). */
async function liveConnections(userId: string): Promise<ConnectionItem[]> {
  const res = await ddb().send(new GetCommand({ TableName: config.tableName('users'), Key: { userId }, ProjectionExpression: 'conns' }));
  return connectionsFromPresence(userId, res.Item?.conns);
}

/** Sends an event frame (not stored) to every live connection of a user. */
export async function pushEvent(userId: string, event: EventFrame): Promise<PushOutcome> {
  const endpoint = config.connectionsEndpoint();
  const outcome: PushOutcome = { delivered: 0, gone: 0, failed: 0, tooLarge: 0 };
  const data = Buffer.from(JSON.stringify(event));
  await forEachLimit(await liveConnections(userId), POST_CONCURRENCY, (conn) => postOne(endpoint, conn, data, outcome));
  return outcome;
}

/** Sends an event frame (not stored) to one connection; a connection found gone (410) is deleted. */
export async function pushEventTo(conn: ConnectionItem, event: EventFrame): Promise<PushOutcome> {
  const outcome: PushOutcome = { delivered: 0, gone: 0, failed: 0, tooLarge: 0 };
  await postOne(config.connectionsEndpoint(), conn, Buffer.from(JSON.stringify(event)), outcome);
  return outcome;
}

/** Closes a connection from the server side (used when its session is revoked). */
export async function disconnect(connectionId: string): Promise<void> {
  await deleteConnection(config.connectionsEndpoint(), connectionId);
}
