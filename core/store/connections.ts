/**
 * Live WebSocket connections, kept twice: the Connections table (one item per connection,
 * keyed by user, with a TTL; what the multi-login policy, force logout and presence read)
 * and a small map `conns` on the user's item in Users (connectionId → platform, session,
 * times). Push reads the map in the BatchGetItem it makes for the recipients' receive
 * options anyway, so reaching N recipients costs N/50 requests instead of N Queries.
 * Both are written on connect and removed on disconnect, kick and 410; a map entry past its
 * expiry is ignored and swept at the user's next connect.
 */
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ddb } from '../aws/dynamodb';
import { config } from '../config';
import { isConditionFailure, nowSeconds } from './dynamo';
import { groupOnline, type BigGroups, type EntryDelete, type EntryWrite, type RecvOpt } from './group-online';

/** What of the user item decides a connection's GroupOnline entries. */
interface IndexedGroups {
  bigGroups?: BigGroups;
  globalRecvOpt?: RecvOpt;
}

/** The GroupOnline entries of one connection, one per indexed group of its user. */
function entriesOf(conn: ConnectionItem, user: IndexedGroups): EntryWrite[] {
  return Object.entries(user.bigGroups ?? {}).map(([groupId, group]) => ({ groupId, group, conn, globalRecvOpt: user.globalRecvOpt }));
}

const deletesOf = (userId: string, connectionId: string, user: IndexedGroups): EntryDelete[] =>
  Object.entries(user.bigGroups ?? {}).map(([groupId, g]) => ({ groupId, shards: g.s, userId, connectionId }));

const sameEntry = (a: EntryWrite, b: EntryWrite) => a.group.s === b.group.s && a.group.o === b.group.o && (a.globalRecvOpt ?? 0) === (b.globalRecvOpt ?? 0);

/**
 * Writes a new connection's GroupOnline entries (one BatchWriteItem per 25 indexed groups),
 * from the user item as the connect's own UpdateItem returned it. A leave, join or option
 * change that updated the user item after that read may have written its entries before
 * ours land: one strongly consistent GetItem after the write tells, and what changed is
 * written again (or deleted, when the connection closed meanwhile). Users in no indexed
 * group pay nothing.
 */
async function indexConnection(item: ConnectionItem, user: IndexedGroups): Promise<void> {
  let written = entriesOf(item, user);
  if (written.length === 0) return;
  await groupOnline.write(written);
  for (let attempt = 0; attempt < 3; attempt++) {
    const res = await ddb().send(
      new GetCommand({
        TableName: config.tableName('users'),
        Key: { userId: item.userId },
        ProjectionExpression: 'bigGroups, globalRecvOpt, conns.#c',
        ExpressionAttributeNames: { '#c': item.connectionId },
        ConsistentRead: true,
      }),
    );
    const now = res.Item ?? {};
    const open = Boolean((now.conns as Record<string, unknown> | undefined)?.[item.connectionId]);
    const wanted = open ? entriesOf(item, now as IndexedGroups) : [];
    const puts = wanted.filter((w) => !written.some((x) => x.groupId === w.groupId && sameEntry(x, w)));
    const deletes = written
      .filter((x) => !wanted.some((w) => w.groupId === x.groupId && w.group.s === x.group.s))
      .map((x) => ({ groupId: x.groupId, shards: x.group.s, userId: item.userId, connectionId: item.connectionId }));
    if (puts.length + deletes.length === 0) return;
    await groupOnline.write(puts, deletes);
    written = wanted;
  }
}

/** A connection as the user item's `conns` map holds it. */
export interface ConnEntry {
  /** Platform id. */
  p: number;
  /** Session id. */
  s: string;
  /** Connected at, epoch seconds. */
  t: number;
  /** Connected at, epoch ms. */
  m?: number;
  /** Expiry, epoch seconds. */
  e: number;
  /** 1 while the app on this connection is in the background (setAppBackground); absent: foreground. */
  bg?: 1;
}

/** The live connections in a user item's `conns` map. */
export function connectionsFromPresence(userId: string, conns: unknown, now = nowSeconds()): ConnectionItem[] {
  if (!conns || typeof conns !== 'object') return [];
  return Object.entries(conns as Record<string, ConnEntry>)
    .filter(([, e]) => e && e.e > now)
    .map(([connectionId, e]) => ({
      userId,
      connectionId,
      platformId: e.p,
      sessionId: e.s,
      connectedAt: e.t,
      ...(e.m ? { connectedAtMs: e.m } : {}),
      expiresAt: e.e,
      ...(e.bg ? { background: true } : {}),
    }));
}

/**
 * Whether a user item's `conns` map holds a live connection in the foreground (one without
 * `bg`): such a user is told by WebSocket and needs no offline push. No connection at all,
 * or only background ones: false.
 */
export function hasForegroundConnection(conns: unknown, now = nowSeconds()): boolean {
  if (!conns || typeof conns !== 'object') return false;
  return Object.values(conns as Record<string, ConnEntry>).some((e) => e && e.e > now && !e.bg);
}

async function addPresence(item: ConnectionItem): Promise<IndexedGroups> {
  const entry: ConnEntry = { p: item.platformId, s: item.sessionId, t: item.connectedAt, ...(item.connectedAtMs ? { m: item.connectedAtMs } : {}), e: item.expiresAt };
  const table = config.tableName('users');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const res = await ddb().send(
        new UpdateCommand({
          TableName: table,
          Key: { userId: item.userId },
          UpdateExpression: 'SET conns.#c = :v',
          ConditionExpression: 'attribute_exists(conns)',
          ExpressionAttributeNames: { '#c': item.connectionId },
          ExpressionAttributeValues: { ':v': entry },
          ReturnValues: 'ALL_NEW',
        }),
      );
      // Sweep entries whose connection outlived API Gateway's cap without a $disconnect.
      const now = nowSeconds();
      const stale = Object.entries((res.Attributes?.conns ?? {}) as Record<string, ConnEntry>)
        .filter(([, e]) => !(e?.e > now))
        .map(([id]) => id);
      if (stale.length > 0) await removePresence(item.userId, stale);
      return res.Attributes as IndexedGroups;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
    try {
      const res = await ddb().send(
        new UpdateCommand({
          TableName: table,
          Key: { userId: item.userId },
          UpdateExpression: 'SET conns = :m',
          ConditionExpression: 'attribute_exists(userId) AND attribute_not_exists(conns)',
          ExpressionAttributeValues: { ':m': { [item.connectionId]: entry } },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return res.Attributes as IndexedGroups;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      // Another connect created the map meanwhile, or the user is not registered.
    }
  }
  throw new Error(`Could not record connection ${item.connectionId} of ${item.userId}`);
}

/**
 * Removes connections from the user's `conns` map and their GroupOnline entries (the
 * UpdateItem returns the user's indexed groups at no extra cost).
 */
async function removePresence(userId: string, connectionIds: readonly string[]): Promise<void> {
  const names = Object.fromEntries(connectionIds.map((id, i) => [`#c${i}`, id]));
  try {
    const res = await ddb().send(
      new UpdateCommand({
        TableName: config.tableName('users'),
        Key: { userId },
        UpdateExpression: `REMOVE ${connectionIds.map((_, i) => `conns.#c${i}`).join(', ')}`,
        // Never create an item for an unknown user.
        ConditionExpression: 'attribute_exists(conns)',
        ExpressionAttributeNames: names,
        ReturnValues: 'ALL_NEW',
      }),
    );
    const user = (res.Attributes ?? {}) as IndexedGroups;
    await groupOnline.write([], connectionIds.flatMap((id) => deletesOf(userId, id, user)));
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
  }
}

export interface ConnectionItem {
  userId: string;
  connectionId: string;
  platformId: number;
  sessionId: string;
  /** Epoch seconds. */
  connectedAt: number;
  /** Epoch ms the connection opened (API Gateway's connectedAt); orders racing connects for the multi-login policy. */
  connectedAtMs?: number;
  expiresAt: number;
  /** The app on this connection said it is in the background (setAppBackground); absent: foreground. */
  background?: boolean;
}

export const connections = {
  /** Records a connection in both places; a failure fails the connect, which the client retries. */
  async put(item: ConnectionItem): Promise<void> {
    await ddb().send(new PutCommand({ TableName: config.tableName('connections'), Item: item }));
    await indexConnection(item, await addPresence(item));
  },

  /**
   * Marks a live connection as in the background (or the foreground again), in the user's
   * `conns` map (what the send path reads) and on its Connections item. False when the
   * connection is no longer recorded (closed meanwhile): nothing is created.
   */
  async setBackground(userId: string, connectionId: string, background: boolean): Promise<boolean> {
    try {
      await ddb().send(
        new UpdateCommand({
          TableName: config.tableName('users'),
          Key: { userId },
          UpdateExpression: background ? 'SET conns.#c.bg = :one' : 'REMOVE conns.#c.bg',
          ConditionExpression: 'attribute_exists(conns.#c)',
          ExpressionAttributeNames: { '#c': connectionId },
          ...(background ? { ExpressionAttributeValues: { ':one': 1 } } : {}),
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
    try {
      await ddb().send(
        new UpdateCommand({
          TableName: config.tableName('connections'),
          Key: { userId, connectionId },
          UpdateExpression: background ? 'SET background = :t' : 'REMOVE background',
          ConditionExpression: 'attribute_exists(connectionId)',
          ...(background ? { ExpressionAttributeValues: { ':t': true } } : {}),
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
    return true;
  },

  async delete(userId: string, connectionId: string): Promise<void> {
    await removePresence(userId, [connectionId]);
    await ddb().send(new DeleteCommand({ TableName: config.tableName('connections'), Key: { userId, connectionId } }));
  },

  /**
   * Live connections and distinct connected users, now: an eventually consistent Scan of
   * the whole table returning only the user id and the expiry. It is charged on whole items
   * (~200 bytes, ~5,000 per 1 MB page, a read unit per 8 KB). Admin statistics only.
   */
  async countLive(): Promise<{ connections: number; users: number }> {
    const userIds = new Set<string>();
    let count = 0;
    let startKey: Record<string, unknown> | undefined;
    const now = nowSeconds();
    do {
      const page = await ddb().send(
        new ScanCommand({
          TableName: config.tableName('connections'),
          ProjectionExpression: '#u, #e',
          ExpressionAttributeNames: { '#u': 'userId', '#e': 'expiresAt' },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of (page.Items ?? []) as Pick<ConnectionItem, 'userId' | 'expiresAt'>[]) {
        if (!(item.expiresAt > now)) continue;
        count++;
        userIds.add(item.userId);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return { connections: count, users: userIds.size };
  },

  /** The user's connections that have not outlived API Gateway's connection cap. */
  async ofUser(userId: string): Promise<ConnectionItem[]> {
    const out: ConnectionItem[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await ddb().send(
        new QueryCommand({
          TableName: config.tableName('connections'),
          KeyConditionExpression: 'userId = :u',
          ExpressionAttributeValues: { ':u': userId },
          ExclusiveStartKey: startKey,
        }),
      );
      const now = nowSeconds();
      for (const item of (page.Items ?? []) as ConnectionItem[]) if (item.expiresAt > now) out.push(item);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return out;
  },
};
