/**
 * Friends, FriendRequests and Blacklist tables. A friendship is two items, one per side
 * ({userId, friendUserId}), because the send path reads exactly the sender's side to
 * enforce REQUIRE_FRIENDSHIP; a block is one item {userId: blocker, blockedUserId}, which
 * the send path reads on the recipient's side. Every list is one Query per page.
 */
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { blockAttribute } from '../domain/claims';
import { singleConversationId } from '../domain/ids';
import { ddb } from '../aws/dynamodb';
import { config } from '../config';
import { CirrusError } from '../errors';
import { batchGet, batchWrite, chunk, isConditionFailure } from './dynamo';

export interface FriendItem {
  userId: string;
  friendUserId: string;
  /** The user's private name for the friend. */
  remark?: string;
  createdAt: number;
}

export type RequestStatus = 'pending' | 'accepted' | 'refused';

export interface FriendRequestItem {
  toUserId: string;
  fromUserId: string;
  message: string;
  status: RequestStatus;
  createdAt: number;
  handledAt?: number;
  /** The recipient's answer when refusing. */
  handleMessage?: string;
}

export interface BlacklistItem {
  userId: string;
  blockedUserId: string;
  createdAt: number;
}

export interface Page<T> {
  items: T[];
  lastKey?: Record<string, unknown>;
}

type Key = Record<string, unknown>;

/**
 * A cursor must be a key of the list being paged (same partition, the table's or the
 * index's key attributes as strings): anything else would make DynamoDB fail the Query
 * with a ValidationException, or page another user's list.
 */
function startKey(cursor: Key | undefined, partition: Record<string, string>, keyNames: readonly string[]): Key | undefined {
  if (!cursor) return undefined;
  const names = Object.keys(cursor).sort();
  const fits =
    names.length === keyNames.length &&
    [...keyNames].sort().every((n, i) => names[i] === n && typeof cursor[n] === 'string') &&
    Object.entries(partition).every(([k, v]) => cursor[k] === v);
  if (!fits) throw new CirrusError('INVALID_ARGUMENT', 'The cursor does not belong to this list');
  return cursor;
}

async function queryPage<T>(input: {
  table: string;
  index?: string;
  partition: Record<string, string>;
  keyNames: readonly string[];
  limit: number;
  cursor?: Key;
}): Promise<Page<T>> {
  const [[name, value]] = Object.entries(input.partition);
  const res = await ddb().send(
    new QueryCommand({
      TableName: input.table,
      ...(input.index ? { IndexName: input.index } : {}),
      KeyConditionExpression: '#p = :p',
      ExpressionAttributeNames: { '#p': name },
      ExpressionAttributeValues: { ':p': value },
      Limit: input.limit,
      ExclusiveStartKey: startKey(input.cursor, input.partition, input.keyNames),
    }),
  );
  return { items: (res.Items ?? []) as T[], lastKey: res.LastEvaluatedKey };
}

const pause = (attempt: number) => new Promise((r) => setTimeout(r, Math.min(500, 20 * 2 ** attempt) * Math.random()));

/**
 * One TransactWriteItems. False when a condition failed (the request was no longer
 * pending); conflicts with a concurrent transaction on the same items are retried, after
 * which the conditions decide.
 */
async function transact(items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    try {
      await ddb().send(new TransactWriteCommand({ TransactItems: items }));
      return true;
    } catch (err) {
      const { name, CancellationReasons: reasons = [] } = err as { name?: string; CancellationReasons?: { Code?: string }[] };
      if (name !== 'TransactionCanceledException') throw err;
      if (reasons.some((r) => r.Code === 'ConditionalCheckFailed')) return false;
      if (attempt < 5 && reasons.some((r) => r.Code === 'TransactionConflict')) {
        await pause(attempt);
        continue;
      }
      throw err;
    }
  }
}

/**
 * Creates one side of a friendship inside a transaction, or keeps it: createdAt is set
 * only when absent, so a side that exists already keeps its date and remark (unless a
 * new remark is given).
 */
function friendSide(userId: string, friendUserId: string, now: number, remark?: string) {
  const withRemark = remark !== undefined && remark !== '';
  return {
    Update: {
      TableName: config.tableName('friends'),
      Key: { userId, friendUserId },
      UpdateExpression: `SET createdAt = if_not_exists(createdAt, :now)${withRemark ? ', remark = :r' : ''}`,
      ExpressionAttributeValues: { ':now': now, ...(withRemark ? { ':r': remark } : {}) },
    },
  };
}

/** Marks a pending request accepted inside a transaction; the condition is the race guard against a concurrent answer. */
function acceptPending(toUserId: string, fromUserId: string, now: number) {
  return {
    Update: {
      TableName: config.tableName('friendRequests'),
      Key: { toUserId, fromUserId },
      UpdateExpression: 'SET #s = :accepted, handledAt = :now',
      ConditionExpression: '#s = :pending',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':accepted': 'accepted', ':pending': 'pending', ':now': now },
    },
  };
}

/** An update of a request, conditioned on its being pending; undefined when it is not. */
async function transition(toUserId: string, fromUserId: string, update: string, values: Record<string, unknown>, names: Record<string, string> = {}): Promise<FriendRequestItem | undefined> {
  try {
    const res = await ddb().send(
      new UpdateCommand({
        TableName: config.tableName('friendRequests'),
        Key: { toUserId, fromUserId },
        UpdateExpression: update,
        ConditionExpression: '#s = :pending',
        ExpressionAttributeNames: { ...names, '#s': 'status' },
        ExpressionAttributeValues: { ...values, ':pending': 'pending' },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return res.Attributes as FriendRequestItem;
  } catch (err) {
    if (isConditionFailure(err)) return undefined;
    throw err;
  }
}

/** Everything a friend request from `fromUserId` to `toUserId` is decided on. */
export interface PairState {
  /** Which of the two users are registered. */
  registered: Set<string>;
  /** from → to and to → from friend items. */
  fromSide?: FriendItem;
  toSide?: FriendItem;
  /** `toUserId` has blocked `fromUserId`. */
  blockedByTo: boolean;
  /** The request from → to, in any status. */
  request?: FriendRequestItem;
  /** The request to → from, in any status. */
  reverse?: FriendRequestItem;
}

export const relations = {
  /** The users, both friend sides, the block and both requests of a pair: one BatchGetItem. */
  async pairState(fromUserId: string, toUserId: string): Promise<PairState> {
    const t = (k: Parameters<typeof config.tableName>[0]) => config.tableName(k);
    const found = await batchGet({
      [t('users')]: { Keys: [{ userId: fromUserId }, { userId: toUserId }], ProjectionExpression: 'userId' },
      [t('friends')]: {
        Keys: [
          { userId: fromUserId, friendUserId: toUserId },
          { userId: toUserId, friendUserId: fromUserId },
        ],
      },
      [t('blacklist')]: { Keys: [{ userId: toUserId, blockedUserId: fromUserId }] },
      // Consistent: the mutual-request shortcut and the "still pending" decision must see the latest write.
      [t('friendRequests')]: {
        Keys: [
          { toUserId, fromUserId },
          { toUserId: fromUserId, fromUserId: toUserId },
        ],
        ConsistentRead: true,
      },
    });
    const friendItems = (found[t('friends')] ?? []) as unknown as FriendItem[];
    const requests = (found[t('friendRequests')] ?? []) as unknown as FriendRequestItem[];
    return {
      registered: new Set((found[t('users')] ?? []).map((u) => u.userId as string)),
      fromSide: friendItems.find((f) => f.userId === fromUserId),
      toSide: friendItems.find((f) => f.userId === toUserId),
      blockedByTo: (found[t('blacklist')] ?? []).length > 0,
      request: requests.find((r) => r.fromUserId === fromUserId),
      reverse: requests.find((r) => r.fromUserId === toUserId),
    };
  },
};

export const friends = {
  /** The friend items for the given (userId, friendUserId) keys, 100 keys per request. */
  async getMany(keys: readonly { userId: string; friendUserId: string }[]): Promise<FriendItem[]> {
    const table = config.tableName('friends');
    const pages = await Promise.all(chunk(keys, 100).map((part) => batchGet({ [table]: { Keys: part.map(({ userId, friendUserId }) => ({ userId, friendUserId })) } })));
    return pages.flatMap((res) => (res[table] ?? []) as unknown as FriendItem[]);
  },

  /** Writes new sides, 25 per request (sides known to be absent, as in an import). */
  async putMany(items: readonly FriendItem[]): Promise<void> {
    await batchWrite(config.tableName('friends'), items.map((Item) => ({ PutRequest: { Item } })));
  },

  /** Sets or clears (empty string) the remark on the user's side; undefined when the side does not exist. */
  async setRemark(userId: string, friendUserId: string, remark: string): Promise<FriendItem | undefined> {
    try {
      const res = await ddb().send(
        new UpdateCommand({
          TableName: config.tableName('friends'),
          Key: { userId, friendUserId },
          UpdateExpression: remark === '' ? 'REMOVE remark' : 'SET remark = :r',
          ConditionExpression: 'attribute_exists(friendUserId)',
          ...(remark === '' ? {} : { ExpressionAttributeValues: { ':r': remark } }),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return res.Attributes as FriendItem;
    } catch (err) {
      if (isConditionFailure(err)) return undefined;
      throw err;
    }
  },

  /** Deletes both sides (in parallel); reports which existed. */
  async deleteBoth(userId: string, friendUserId: string): Promise<{ userSide: boolean; friendSide: boolean }> {
    const table = config.tableName('friends');
    const del = (a: string, b: string) => ddb().send(new DeleteCommand({ TableName: table, Key: { userId: a, friendUserId: b }, ReturnValues: 'ALL_OLD' }));
    const [mine, theirs] = await Promise.all([del(userId, friendUserId), del(friendUserId, userId)]);
    return { userSide: mine.Attributes !== undefined, friendSide: theirs.Attributes !== undefined };
  },

  /** One page of the user's friends, in friend id order. */
  page(userId: string, limit: number, cursor?: Key): Promise<Page<FriendItem>> {
    return queryPage<FriendItem>({ table: config.tableName('friends'), partition: { userId }, keyNames: ['userId', 'friendUserId'], limit, cursor });
  },
};

export const friendRequests = {
  /**
   * Creates a pending request, or replaces a handled one, unless a pending one exists
   * (then the caller updates its message instead). False when a pending request
   * appeared since the caller looked.
   */
  async createPending(item: FriendRequestItem): Promise<boolean> {
    try {
      await ddb().send(
        new PutCommand({
          TableName: config.tableName('friendRequests'),
          Item: item,
          ConditionExpression: 'attribute_not_exists(fromUserId) OR #s <> :pending',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':pending': 'pending' },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  },

  /** Replaces the message of a pending request; undefined when it is no longer pending. */
  async updatePendingMessage(toUserId: string, fromUserId: string, message: string): Promise<FriendRequestItem | undefined> {
    return transition(toUserId, fromUserId, 'SET #m = :m', { ':m': message }, { '#m': 'message' });
  },

  /** Marks a pending request refused; undefined when none is pending (the race guard against a concurrent answer). */
  async refuse(toUserId: string, fromUserId: string, now: number, handleMessage?: string): Promise<FriendRequestItem | undefined> {
    const withMessage = handleMessage !== undefined && handleMessage !== '';
    return transition(toUserId, fromUserId, `SET #s = :refused, handledAt = :now${withMessage ? ', handleMessage = :hm' : ''}`, {
      ':refused': 'refused',
      ':now': now,
      ...(withMessage ? { ':hm': handleMessage } : {}),
    });
  },

  /** The request from `fromUserId` to `toUserId`, in any status (consistent read). */
  async get(toUserId: string, fromUserId: string): Promise<FriendRequestItem | undefined> {
    const res = await ddb().send(new GetCommand({ TableName: config.tableName('friendRequests'), Key: { toUserId, fromUserId }, ConsistentRead: true }));
    return res.Item as FriendRequestItem | undefined;
  },

  /**
   * Accepts a pending request and creates both sides of the friendship (the acceptor's
   * with their remark) in one transaction: a crash cannot leave an accepted request
   * without the friendship, nor a friendship without an accepted request. Undefined
   * when the request is no longer pending.
   */
  async accept(request: FriendRequestItem, now: number, acceptorRemark?: string): Promise<FriendRequestItem | undefined> {
    const { toUserId, fromUserId } = request;
    const done = await transact([acceptPending(toUserId, fromUserId, now), friendSide(toUserId, fromUserId, now, acceptorRemark), friendSide(fromUserId, toUserId, now)]);
    return done ? { ...request, status: 'accepted', handledAt: now } : undefined;
  },

  /**
   * Two users who asked each other: accepts the earlier request (reverse, to → from of
   * `own`), records `own` as accepted and creates the friendship, in one transaction.
   * False when the earlier request is no longer pending.
   */
  async acceptMutual(own: FriendRequestItem, now: number): Promise<boolean> {
    const { toUserId, fromUserId } = own;
    return transact([
      acceptPending(fromUserId, toUserId, now),
      { Put: { TableName: config.tableName('friendRequests'), Item: own } },
      friendSide(fromUserId, toUserId, now),
      friendSide(toUserId, fromUserId, now),
    ]);
  },

  /** Requests to the user, in sender id order: a Query on the table. */
  incoming(userId: string, limit: number, cursor?: Key): Promise<Page<FriendRequestItem>> {
    return queryPage({ table: config.tableName('friendRequests'), partition: { toUserId: userId }, keyNames: ['toUserId', 'fromUserId'], limit, cursor });
  },

  /** Requests from the user, in recipient id order: a Query on the byFrom index. */
  outgoing(userId: string, limit: number, cursor?: Key): Promise<Page<FriendRequestItem>> {
    return queryPage({ table: config.tableName('friendRequests'), index: 'byFrom', partition: { fromUserId: userId }, keyNames: ['toUserId', 'fromUserId'], limit, cursor });
  },

  /**
   * Pending requests to the user. A filtered, count-only Query (paged past 1 MB): the
   * filter saves transfer, not reads, which is fine for a per-user partition.
   */
  async pendingCount(userId: string): Promise<number> {
    let count = 0;
    let start: Key | undefined;
    do {
      const res = await ddb().send(
        new QueryCommand({
          TableName: config.tableName('friendRequests'),
          KeyConditionExpression: 'toUserId = :u',
          FilterExpression: '#s = :pending',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':u': userId, ':pending': 'pending' },
          Select: 'COUNT',
          ExclusiveStartKey: start,
        }),
      );
      count += res.Count ?? 0;
      start = res.LastEvaluatedKey;
    } while (start);
    return count;
  },
};

/**
 * A block's change together with its mirror `blk#<userId>` on the counter of the two
 * users' 1:1 conversation (core/domain/claims.ts), which the send reads instead of the
 * blacklist: one transaction, conditioned on the counter existing; when it does not, the
 * change is conditioned on its absence instead (so a conversation created meanwhile is
 * retried with its mirror). `mv` counts the changes for the conversation's first link.
 */
async function changeBlock(item: { userId: string; blockedUserId: string }, adding: boolean, change: NonNullable<TransactWriteCommandInput['TransactItems']>[number]): Promise<boolean> {
  const conversationId = singleConversationId(item.userId, item.blockedUserId);
  const counter = { TableName: config.tableName('conversations'), Key: { conversationId } };
  for (let attempt = 0; attempt < 3; attempt++) {
    for (const exists of [true, false]) {
      try {
        await ddb().send(
          new TransactWriteCommand({
            TransactItems: [
              change,
              exists
                ? {
                    Update: {
                      ...counter,
                      UpdateExpression: adding ? 'SET #b = :t ADD mv :one' : 'REMOVE #b ADD mv :one',
                      ConditionExpression: 'attribute_exists(conversationId)',
                      ExpressionAttributeNames: { '#b': blockAttribute(item.userId) },
                      ExpressionAttributeValues: { ':one': 1, ...(adding ? { ':t': true } : {}) },
                    },
                  }
                : { ConditionCheck: { ...counter, ConditionExpression: 'attribute_not_exists(conversationId)' } },
            ],
          }),
        );
        return true;
      } catch (err) {
        const { name, CancellationReasons: reasons = [] } = err as { name?: string; CancellationReasons?: { Code?: string }[] };
        if (name !== 'TransactionCanceledException') throw err;
        if (reasons[0]?.Code === 'ConditionalCheckFailed') return false;
        if (reasons[1]?.Code !== 'ConditionalCheckFailed') throw err;
      }
    }
  }
  throw new Error(`The conversation ${conversationId} kept appearing and disappearing while changing a block`);
}

export const blacklist = {
  /** Adds a block (and its mirror on the 1:1 counter); false when it exists already. */
  add(item: BlacklistItem): Promise<boolean> {
    return changeBlock(item, true, { Put: { TableName: config.tableName('blacklist'), Item: item, ConditionExpression: 'attribute_not_exists(blockedUserId)' } });
  },

  /** Removes a block (and its mirror on the 1:1 counter); false when there was none. */
  remove(userId: string, blockedUserId: string): Promise<boolean> {
    return changeBlock({ userId, blockedUserId }, false, { Delete: { TableName: config.tableName('blacklist'), Key: { userId, blockedUserId }, ConditionExpression: 'attribute_exists(blockedUserId)' } });
  },

  /** One page of the users the user has blocked, in id order. */
  page(userId: string, limit: number, cursor?: Key): Promise<Page<BlacklistItem>> {
    return queryPage({ table: config.tableName('blacklist'), partition: { userId }, keyNames: ['userId', 'blockedUserId'], limit, cursor });
  },
};
