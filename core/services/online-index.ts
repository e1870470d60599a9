/**
 * Keeping GroupOnline (see store/group-online.ts) in step with memberships and receive
 * options. Every change goes through one UpdateItem of the member's user item, which
 * returns the user's live connections (`conns`) at no extra cost, then one BatchWriteItem
 * per 25 entries. Connect and disconnect are in store/connections.ts.
 *
 * The order of a race is the order of the two updates of the user item: whichever comes
 * second sees the other's change and writes the entries for both (a join racing a connect,
 * a leave racing a connect: see `indexConnection`). A join racing a disconnect can leave an
 * entry for a closed connection: the first push to it gets 410 and deletes it, and its
 * TTL (the connection's expiry) removes it anyway.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { ddb } from '../aws/dynamodb';
import { config } from '../config';
import { groupConversationId } from '../domain/ids';
import { forEachLimit } from '../domain/concurrency';
import { log } from '../log';
import { connectionsFromPresence } from '../store/connections';
import { batchGet, chunk, isConditionFailure } from '../store/dynamo';
import { groupOnline, rosterOf, shardsFor, type RosterChanges, type BigGroup, type BigGroups, type EntryDelete, type EntryWrite, type OnlineIndexState, type RecvOpt } from '../store/group-online';
import { groups } from '../store/groups';

/** Concurrent user-item updates while building or removing a group's index. */
const CONCURRENCY = 25;

interface UserIndexFields {
  conns?: unknown;
  globalRecvOpt?: RecvOpt;
  bigGroups?: BigGroups;
  /** The user's devices (core/store/devices.ts): a member with any is on the group's roster for offline push. */
  devs?: unknown;
}

const noRoster = (): RosterChanges => ({ puts: [], deletes: [] });

const usersTable = () => config.tableName('users');

/** The entries of each live connection of `userId` for one group. */
function entries(userId: string, user: UserIndexFields, groupId: string, group: BigGroup): EntryWrite[] {
  return connectionsFromPresence(userId, user.conns).map((conn) => ({ groupId, group, conn, globalRecvOpt: user.globalRecvOpt }));
}

function deletes(userId: string, user: UserIndexFields, groupId: string, shards: number): EntryDelete[] {
  return connectionsFromPresence(userId, user.conns).map((conn) => ({ groupId, shards, userId, connectionId: conn.connectionId }));
}

/**
 * Records that a member is in an indexed group (`bigGroups.<groupId>` on their user item)
 * and writes their live connections' entries; returns them to the caller for batching.
 */
async function setBigGroup(userId: string, groupId: string, group: BigGroup): Promise<{ puts: EntryWrite[]; deletes: EntryDelete[]; roster: RosterChanges }> {
  const attempts: (() => Promise<UserIndexFields | undefined>)[] = [
    async () =>
      (
        await ddb().send(
          new UpdateCommand({
            TableName: usersTable(),
            Key: { userId },
            UpdateExpression: 'SET bigGroups.#g = :v',
            ConditionExpression: 'attribute_exists(bigGroups)',
            ExpressionAttributeNames: { '#g': groupId },
            ExpressionAttributeValues: { ':v': group },
            ReturnValues: 'ALL_OLD',
          }),
        )
      ).Attributes as UserIndexFields,
    async () =>
      (
        await ddb().send(
          new UpdateCommand({
            TableName: usersTable(),
            Key: { userId },
            UpdateExpression: 'SET bigGroups = :m',
            ConditionExpression: 'attribute_exists(userId) AND attribute_not_exists(bigGroups)',
            ExpressionAttributeValues: { ':m': { [groupId]: group } },
            ReturnValues: 'ALL_OLD',
          }),
        )
      ).Attributes as UserIndexFields,
  ];
  for (let round = 0; round < 3; round++) {
    for (const attempt of attempts) {
      let old: UserIndexFields | undefined;
      try {
        old = await attempt();
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
        continue;
      }
      const before = old?.bigGroups?.[groupId];
      const puts = entries(userId, old ?? {}, groupId, group);
      // Entries under an older shard count live in other partitions: remove them.
      const stale = before && before.s !== group.s ? deletes(userId, old ?? {}, groupId, before.s) : [];
      const roster = rosterOf(userId, old ?? {}, groupId, group);
      if (before && before.s !== group.s) roster.deletes.push({ groupId, shards: before.s, userId });
      return { puts, deletes: stale, roster };
    }
  }
  // Not a registered user (every member is): nothing to index.
  return { puts: [], deletes: [], roster: noRoster() };
}

/** Drops `bigGroups.<groupId>` from a user item and returns the entries to delete. */
async function removeBigGroup(userId: string, groupId: string, roster: RosterChanges): Promise<EntryDelete[]> {
  try {
    const res = await ddb().send(
      new UpdateCommand({
        TableName: usersTable(),
        Key: { userId },
        UpdateExpression: 'REMOVE bigGroups.#g',
        ConditionExpression: 'attribute_exists(bigGroups.#g)',
        ExpressionAttributeNames: { '#g': groupId },
        ReturnValues: 'ALL_OLD',
      }),
    );
    const old = res.Attributes as UserIndexFields;
    if (rosterOf(userId, old, groupId, old.bigGroups![groupId]).puts.length > 0) roster.deletes.push({ groupId, shards: old.bigGroups![groupId].s, userId });
    return deletes(userId, old, groupId, old.bigGroups![groupId].s);
  } catch (err) {
    if (isConditionFailure(err)) return [];
    throw err;
  }
}

/** Indexes members of a group whose index exists (being built or ready). */
export async function indexMembers(groupId: string, members: readonly { userId: string; recvOpt?: RecvOpt }[], shards: number): Promise<void> {
  const puts: EntryWrite[] = [];
  const dels: EntryDelete[] = [];
  const roster = noRoster();
  await forEachLimit(members, CONCURRENCY, async ({ userId, recvOpt }) => {
    const r = await setBigGroup(userId, groupId, { o: recvOpt ?? 0, s: shards });
    puts.push(...r.puts);
    dels.push(...r.deletes);
    roster.puts.push(...r.roster.puts);
    roster.deletes.push(...r.roster.deletes);
  });
  await groupOnline.write(puts, dels, roster);
}

/** Removes members from a group's index: no push of the group reaches them after this returns. */
export async function unindexMembers(groupId: string, userIds: readonly string[]): Promise<void> {
  const dels: EntryDelete[] = [];
  const roster = noRoster();
  await forEachLimit(userIds, CONCURRENCY, async (userId) => {
    dels.push(...(await removeBigGroup(userId, groupId, roster)));
  });
  await groupOnline.write([], dels, roster);
}

/** The members' own receive options of the group's conversation (strongly consistent, 100 per BatchGetItem). */
async function recvOpts(groupId: string, userIds: readonly string[]): Promise<Map<string, RecvOpt>> {
  const table = config.tableName('userConversations');
  const conversationId = groupConversationId(groupId);
  const out = new Map<string, RecvOpt>();
  for (const part of chunk(userIds, 100)) {
    const res = await batchGet({ [table]: { Keys: part.map((userId) => ({ userId, conversationId })), ProjectionExpression: 'userId, recvOpt', ConsistentRead: true } });
    for (const item of res[table] ?? []) out.set(item.userId as string, Number(item.recvOpt ?? 0) as RecvOpt);
  }
  return out;
}

/** How long one call works on a build before leaving the rest to the next (HTTP 15 s, delivery 10 s timeouts). */
export const BUILD_BUDGET_MS = 4_000;

/**
 * Builds (or, with a new shard count, rebuilds) a group's index from its members' current
 * connections: marks the group `onlineIndex: { s, ready: false }` (delivery keeps reading
 * the members meanwhile; joins and leaves already maintain the index), indexes the members
 * page by page, recording in `onlineIndex.next` where it got to, and marks it ready after
 * the last page. It stops after `budgetMs`; the next join, or the next message to the
 * group, resumes it from `next`. Every step is idempotent, so two at once do no harm.
 */
export async function buildIndex(groupId: string, shards: number, state?: OnlineIndexState, budgetMs = BUILD_BUDGET_MS, pageSize = 200): Promise<void> {
  const started = Date.now();
  let startKey = state && state.s === shards && !state.ready ? state.next : undefined;
  if (!state || state.s !== shards || state.ready) {
    if (!(await groups.setOnlineIndex(groupId, { s: shards, ready: false }))) return;
  }
  for (;;) {
    const page = await groups.memberPage(groupId, pageSize, startKey, true);
    const options = await recvOpts(groupId, page.items.map((m) => m.userId));
    await indexMembers(groupId, page.items.map((m) => ({ userId: m.userId, recvOpt: options.get(m.userId) })), shards);
    startKey = page.lastKey;
    if (!startKey) break;
    if (Date.now() - started > budgetMs) {
      await groups.setOnlineIndex(groupId, { s: shards, ready: false, next: startKey }, shards);
      log.info('group online index build paused', { groupId, shards });
      return;
    }
  }
  await groups.setOnlineIndex(groupId, { s: shards, ready: true }, shards);
  log.info('group online index built', { groupId, shards });
}

/** Resumes a build left unfinished (called by delivery for a group whose index is not ready). */
export async function resumeIndex(groupId: string, state: OnlineIndexState | undefined): Promise<void> {
  if (state && !state.ready) await buildIndex(groupId, state.s, state, BUILD_BUDGET_MS / 2);
}

/**
 * After members joined (the membership written, the count adjusted): index them if the
 * group has an index, and build it when the group has just reached the threshold, or
 * grown into the next shard count, or an earlier build was cut short.
 */
export async function afterJoin(groupId: string, joined: readonly { userId: string; recvOpt?: RecvOpt }[], memberCount: number, state: OnlineIndexState | undefined): Promise<void> {
  const shards = Math.max(shardsFor(memberCount), state?.s ?? 1);
  const build = memberCount >= config.onlineIndexMinMembers() && (!state || !state.ready || shards !== state.s);
  if (state && shards === state.s) {
    // A build under way reaches the members after its cursor itself: only those it passed are indexed here
    // (a rebuild for a new shard count starts over and reaches them all).
    const last = state.next?.userId as string | undefined;
    await indexMembers(groupId, state.ready ? joined : joined.filter((j) => last !== undefined && j.userId <= last), state.s);
  }
  if (build) await buildIndex(groupId, shards, state);
}

/** A dismissed group gets no more messages: its members' entries and `bigGroups` go. */
export async function dropIndex(groupId: string): Promise<void> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await groups.memberPage(groupId, 500, startKey, true);
    await unindexMembers(groupId, page.items.map((m) => m.userId));
    startKey = page.lastKey;
  } while (startKey);
  await groups.setOnlineIndex(groupId, null);
}

/** A member changed their receive option of a group conversation: rewrite their entries if the group is indexed. */
export async function recvOptChanged(userId: string, groupId: string, recvOpt: RecvOpt): Promise<void> {
  try {
    const res = await ddb().send(
      new UpdateCommand({
        TableName: usersTable(),
        Key: { userId },
        UpdateExpression: 'SET bigGroups.#g.o = :o',
        ConditionExpression: 'attribute_exists(bigGroups.#g)',
        ExpressionAttributeNames: { '#g': groupId },
        ExpressionAttributeValues: { ':o': recvOpt },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const user = res.Attributes as UserIndexFields;
    await groupOnline.write(entries(userId, user, groupId, user.bigGroups![groupId]), [], rosterOf(userId, user, groupId, user.bigGroups![groupId]));
  } catch (err) {
    // Not in an indexed group: nothing to rewrite.
    if (!isConditionFailure(err)) throw err;
  }
}

/** The user's global receive option changed: rewrite every entry of theirs (one strong GetItem, then the writes). */
export async function globalRecvOptChanged(userId: string): Promise<void> {
  const res = await ddb().send(
    new GetCommand({ TableName: usersTable(), Key: { userId }, ProjectionExpression: 'bigGroups, globalRecvOpt, conns, devs', ConsistentRead: true }),
  );
  const user = (res.Item ?? {}) as UserIndexFields;
  const groups = Object.entries(user.bigGroups ?? {});
  await groupOnline.write(
    groups.flatMap(([groupId, group]) => entries(userId, user, groupId, group)),
    [],
    { puts: groups.flatMap(([groupId, group]) => rosterOf(userId, user, groupId, group).puts), deletes: [] },
  );
}
