/**
 * GroupOnline: the online members of large groups, so that a message to a group of 100,000
 * reads its 10,000 online members' connections rather than every member's item.
 *
 * Only groups with at least `onlineIndexMinMembers` members are indexed (their group item
 * carries `onlineIndex`). For those, each member's user item carries `bigGroups`, a map
 * groupId → { o: their receive option of the group's conversation, s: the group's shard
 * count }, so `$connect` learns which entries to write from the UpdateItem it makes anyway
 * (ReturnValues costs nothing). One entry per (indexed group, live connection of a member):
 *
 *   gs  partition key  `<groupId>#<shard>`, shard = FNV-1a(userId) mod s
 *   uc  sort key       `<userId>#<connectionId>`
 *   p   platform id, m connectedAtMs, o effective receive option (absent for 0),
 *   e   the connection's expiry (the table's TTL: entries whose $disconnect never ran go)
 *
 * About 70 bytes an entry, so a strongly consistent Query returns ~58 online entries per
 * read unit; the shards spread a large group's Query (and the connect storm's writes) over
 * partitions. Members with "do not receive" (effective option 1) are kept, marked `o: 1`,
 * so the sender's own other devices still get their message and an option change is one
 * rewrite; push skips them for everyone else.
 *
 * The same table keeps each indexed group's roster of members with devices for offline
 * push (those whose user item's `devs` names a device), in partitions of their own:
 *
 *   gs  `<groupId>#p<shard>` (same shard function),  uc  `<userId>`,  o  effective receive option (absent for 0)
 *
 * About 40 bytes an entry and no expiry. Written and deleted with the member's entries
 * (join, leave, receive options: online-index.ts) and when a member in indexed groups
 * registers a first or removes a last device (`onDevicesChanged`). The notify function
 * Queries it (strongly consistent, ~100 entries per read unit) instead of reading every
 * member, then reads only those members' user items for their foreground state.
 *
 * Whether a roster may have entries is kept on the group item, which the send path reads
 * anyway (`rosterV`): absent, unknown; 0, empty; above 0, the count of roster writes since it
 * was last found empty. Every roster put is followed by an increment; the notify function,
 * finding the roster empty, sets it to 0 only if it is still the value the send read (a put
 * in between increments it after writing its entry, so either the Query sees the entry or
 * the reset fails or is followed by the increment). A message to a group whose roster is
 * known empty invokes no notify function and Queries no roster.
 */
import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ddb } from '../aws/dynamodb';
import { config } from '../config';
import type { ConnectionItem } from './connections';
import { batchWrite, isConditionFailure } from './dynamo';

export type RecvOpt = 0 | 1 | 2;

/** A member's entry in `bigGroups` on their user item. */
export interface BigGroup {
  /** The member's own receive option of the group's conversation. */
  o: RecvOpt;
  /** The group's shard count when the entry was written. */
  s: number;
}

export type BigGroups = Record<string, BigGroup>;

/** The group item's `onlineIndex`: the shard count, whether every member's entries are in place, and where a build resumes. */
export interface OnlineIndexState {
  s: number;
  ready: boolean;
  /** Where an unfinished build resumes: the member list's key after the last page indexed. */
  next?: Record<string, unknown>;
}

/** Below 2,000 members one partition; 8 up to 20,000; 64 above (a strong Query reads at least one unit per shard). */
export function shardsFor(memberCount: number): number {
  return memberCount < 2_000 ? 1 : memberCount < 20_000 ? 8 : 64;
}

/** FNV-1a of the user id, mod the shard count. */
export function shardOf(userId: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) {
    h ^= userId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % shards;
}

/** The stricter of two receive options: 1 (do not receive) beats 2 (silently) beats 0. */
export function stricter(a: RecvOpt | undefined, b: RecvOpt | undefined): RecvOpt {
  if (a === 1 || b === 1) return 1;
  if (a === 2 || b === 2) return 2;
  return 0;
}

const partitionKey = (groupId: string, userId: string, shards: number) => `${groupId}#${shardOf(userId, shards)}`;
const sortKey = (userId: string, connectionId: string) => `${userId}#${connectionId}`;

export interface EntryWrite {
  groupId: string;
  group: BigGroup;
  conn: ConnectionItem;
  globalRecvOpt?: RecvOpt;
}

export interface EntryDelete {
  groupId: string;
  shards: number;
  userId: string;
  connectionId: string;
}

function item({ groupId, group, conn, globalRecvOpt }: EntryWrite): Record<string, unknown> {
  const o = stricter(group.o, globalRecvOpt);
  return {
    gs: partitionKey(groupId, conn.userId, group.s),
    uc: sortKey(conn.userId, conn.connectionId),
    p: conn.platformId,
    m: conn.connectedAtMs ?? conn.connectedAt * 1000,
    ...(o !== 0 ? { o } : {}),
    e: conn.expiresAt,
  };
}

/** A member with devices on an indexed group's roster (`o`: their effective receive option). */
export interface RosterEntry {
  groupId: string;
  shards: number;
  userId: string;
  o?: RecvOpt;
}

export interface RosterChanges {
  puts: RosterEntry[];
  deletes: Omit<RosterEntry, 'o'>[];
}

const rosterPartition = (groupId: string, shard: number) => `${groupId}#p${shard}`;
const rosterKey = (r: Omit<RosterEntry, 'o'>) => ({ gs: rosterPartition(r.groupId, shardOf(r.userId, r.shards)), uc: r.userId });

/** The user item's fields that decide a member's roster entries. */
export interface RosterFields {
  devs?: unknown;
  globalRecvOpt?: RecvOpt;
  bigGroups?: BigGroups;
}

const hasDevs = (devs: unknown): boolean => Boolean(devs && typeof devs === 'object' && Object.keys(devs).length > 0);

/** The roster entries of a member of one indexed group, as their user item says: one with devices, none without. */
export function rosterOf(userId: string, user: RosterFields, groupId: string, group: BigGroup): RosterChanges {
  if (!hasDevs(user.devs)) return { puts: [], deletes: [] };
  const o = stricter(group.o, user.globalRecvOpt);
  return { puts: [{ groupId, shards: group.s, userId, ...(o !== 0 ? { o } : {}) }], deletes: [] };
}

export const groupOnline = {
  /** Writes and deletes entries (and roster entries), 25 per BatchWriteItem (each entry one write unit). */
  async write(puts: readonly EntryWrite[], deletes: readonly EntryDelete[] = [], roster: RosterChanges = { puts: [], deletes: [] }): Promise<void> {
    if (puts.length + deletes.length + roster.puts.length + roster.deletes.length === 0) return;
    const putKeys = new Set(puts.map((p) => `${partitionKey(p.groupId, p.conn.userId, p.group.s)}|${sortKey(p.conn.userId, p.conn.connectionId)}`));
    const requests: Record<string, unknown>[] = puts.map((p) => ({ PutRequest: { Item: item(p) } }));
    for (const d of deletes) {
      const gs = partitionKey(d.groupId, d.userId, d.shards);
      const uc = sortKey(d.userId, d.connectionId);
      // A batch may not name one key twice; a put of the same key replaces it anyway.
      if (!putKeys.has(`${gs}|${uc}`)) requests.push({ DeleteRequest: { Key: { gs, uc } } });
    }
    const rosterPuts = new Map(roster.puts.map((r) => [JSON.stringify(rosterKey(r)), r]));
    for (const r of rosterPuts.values()) requests.push({ PutRequest: { Item: { ...rosterKey(r), ...(r.o ? { o: r.o } : {}) } } });
    const rosterDeletes = new Set(roster.deletes.map((r) => JSON.stringify(rosterKey(r))).filter((k) => !rosterPuts.has(k)));
    for (const k of rosterDeletes) requests.push({ DeleteRequest: { Key: JSON.parse(k) } });
    await batchWrite(config.tableName('groupOnline'), requests);
    // After the entries: a notify that found the roster empty before them cannot then mark it empty.
    await Promise.all([...new Set([...rosterPuts.values()].map((r) => r.groupId))].map((groupId) => groupOnline.rosterWritten(groupId)));
  },

  /** Marks a group's roster as possibly non-empty (`rosterV` + 1); a group deleted meanwhile is left alone. */
  async rosterWritten(groupId: string): Promise<void> {
    try {
      await ddb().send(
        new UpdateCommand({
          TableName: config.tableName('groups'),
          Key: { groupId },
          UpdateExpression: 'SET rosterV = if_not_exists(rosterV, :zero) + :one',
          ConditionExpression: 'attribute_exists(groupId)',
          ExpressionAttributeValues: { ':zero': 0, ':one': 1 },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  },

  /**
   * Marks a group's roster as empty, found so after the send read `rosterV` as `seen`
   * (undefined: absent); a roster write since then leaves it as it is.
   */
  async rosterFoundEmpty(groupId: string, seen: number | undefined): Promise<void> {
    try {
      await ddb().send(
        new UpdateCommand({
          TableName: config.tableName('groups'),
          Key: { groupId },
          UpdateExpression: 'SET rosterV = :zero',
          ConditionExpression: seen === undefined ? 'attribute_exists(groupId) AND attribute_not_exists(rosterV)' : 'rosterV = :seen',
          ExpressionAttributeValues: { ':zero': 0, ...(seen === undefined ? {} : { ':seen': seen }) },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  },

  /**
   * An indexed group's members with devices and their effective receive options: one strongly
   * consistent Query per shard, in parallel.
   */
  async roster(groupId: string, shards: number): Promise<{ userId: string; o: RecvOpt }[]> {
    const out: { userId: string; o: RecvOpt }[] = [];
    await Promise.all(
      Array.from({ length: shards }, async (_, shard) => {
        let startKey: Record<string, unknown> | undefined;
        do {
          const page = await ddb().send(
            new QueryCommand({ TableName: config.tableName('groupOnline'), KeyConditionExpression: 'gs = :gs', ExpressionAttributeValues: { ':gs': rosterPartition(groupId, shard) }, ConsistentRead: true, ExclusiveStartKey: startKey }),
          );
          for (const it of page.Items ?? []) out.push({ userId: it.uc as string, o: (it.o ?? 0) as RecvOpt });
          startKey = page.LastEvaluatedKey;
        } while (startKey);
      }),
    );
    return out;
  },

  /**
   * A group's online connections and their effective receive options: one strongly
   * consistent Query per shard, in parallel (a member removed a moment ago is not returned).
   */
  async query(groupId: string, shards: number, now = Math.floor(Date.now() / 1000)): Promise<{ live: ConnectionItem[]; options: Map<string, RecvOpt> }> {
    const live: ConnectionItem[] = [];
    const options = new Map<string, RecvOpt>();
    await Promise.all(
      Array.from({ length: shards }, async (_, shard) => {
        let startKey: Record<string, unknown> | undefined;
        do {
          const page = await ddb().send(
            new QueryCommand({
              TableName: config.tableName('groupOnline'),
              KeyConditionExpression: 'gs = :gs',
              ExpressionAttributeValues: { ':gs': `${groupId}#${shard}` },
              ConsistentRead: true,
              ExclusiveStartKey: startKey,
            }),
          );
          for (const it of page.Items ?? []) {
            // TTL deletes lazily: an entry past its connection's expiry is not a live connection.
            if (!((it.e as number) > now)) continue;
            const uc = it.uc as string;
            const at = uc.lastIndexOf('#');
            const userId = uc.slice(0, at);
            const m = it.m as number;
            // The index keeps no session id: push never needs it.
            live.push({ userId, connectionId: uc.slice(at + 1), platformId: it.p as number, sessionId: '', connectedAt: Math.floor(m / 1000), connectedAtMs: m, expiresAt: it.e as number });
            const o = (it.o ?? 0) as RecvOpt;
            if (o !== 0) options.set(userId, o);
          }
          startKey = page.LastEvaluatedKey;
        } while (startKey);
      }),
    );
    return { live, options };
  },
};

/**
 * A user's devices changed from none to some or from some to none (core/store/devices.ts
 * calls this after updating the user item's `devs` map, with the item as that update left
 * it): their roster entries in every indexed group they are in are written or deleted.
 * Joins read the user item after the same kind of update, so whichever of a join and a
 * first device comes second sees the other and writes the entry. Users in no indexed
 * group pay nothing.
 */
export async function onDevicesChanged(userId: string, hadDevices: boolean, hasDevices: boolean, user?: RosterFields): Promise<void> {
  if (hadDevices === hasDevices) return;
  const fields =
    user ??
    ((await ddb().send(new GetCommand({ TableName: config.tableName('users'), Key: { userId }, ProjectionExpression: 'bigGroups, globalRecvOpt, devs', ConsistentRead: true }))).Item as RosterFields | undefined) ??
    {};
  const groups = Object.entries(fields.bigGroups ?? {});
  if (groups.length === 0) return;
  const changes: RosterChanges = { puts: [], deletes: [] };
  for (const [groupId, group] of groups) {
    if (hasDevices) changes.puts.push(...rosterOf(userId, { ...fields, devs: fields.devs ?? { any: true } }, groupId, group).puts);
    else changes.deletes.push({ groupId, shards: group.s, userId });
  }
  await groupOnline.write([], [], changes);
}
