/** Users table: one item per registered user, with their profile and settings. */
import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ddb } from '../aws/dynamodb';
import { config } from '../config';
import { batchGet, batchWrite, chunk, isConditionFailure } from './dynamo';

/** A ban: since when, until when (absent: until lifted), why. */
export interface Ban {
  at: number;
  until?: number;
  reason?: string;
}

/** Whether a ban is in force at `now` (ms). */
export const isBanned = (ban: Ban | undefined, now = Date.now()): boolean => ban !== undefined && (ban.until === undefined || ban.until > now);

/** 0 receive, 1 do not receive (no push, not counted), 2 receive silently (pushed as silent, not counted). */
export type RecvOpt = 0 | 1 | 2;

export interface UserItem {
  userId: string;
  nickname?: string;
  faceUrl?: string;
  ex?: string;
  /** The user's receive option for every conversation. */
  globalRecvOpt?: RecvOpt;
  createdAt: number;
  updatedAt?: number;
  /** Constant `user`: the partition of the byCreation index admins page through. */
  listKey: 'user';
  /** Set once the user was erased (see `services/erasure.ts`): a tombstone keeping the id taken. */
  erased?: { at: number };
  /** Set while the user is banned (see `services/ban.ts`). */
  banned?: Ban;
  /** The user's live connections (see `store/connections.ts`); never part of the profile. */
  conns?: unknown;
  /** The user's groups that keep an online index (see `store/group-online.ts`); never part of the profile. */
  bigGroups?: unknown;
  /** The user's offline push devices, deviceId → provider (see `store/devices.ts`); never part of the profile. */
  devs?: unknown;
  /** The user's offline push preferences (see `services/devices.ts`); never part of the profile. */
  pushPrefs?: PushPrefs;
  /** Set by the archive function while the user is throttled for sending too much (core/services/limits.ts); never part of the profile. */
  throttledUntil?: number;
}

/** Quiet hours: no alert or sound between `start` and `end` (wrapping past midnight when end < start), in the user's time zone. */
export interface QuietHours {
  start: string;
  end: string;
  timeZone: string;
}

/** A user's offline push preferences, as the user item keeps them (`pushPrefs`). */
export interface PushPrefs {
  quietHours?: QuietHours;
  hidePreview?: boolean;
}

export type UserProfile = Omit<UserItem, 'listKey' | 'conns' | 'bigGroups' | 'devs' | 'pushPrefs' | 'throttledUntil'>;

const profileOf = ({ listKey: _k, conns: _c, bigGroups: _g, devs: _d, pushPrefs: _p, throttledUntil: _t, ...profile }: UserItem): UserProfile => profile;

export const users = {
  /** The subset of `userIds` that is registered. */
  async existing(userIds: readonly string[]): Promise<Set<string>> {
    return new Set((await this.getMany(userIds, 'userId')).map((u) => u.userId));
  },

  /** The registered users among `userIds` (100 per request). */
  async getMany(userIds: readonly string[], projection?: string): Promise<UserProfile[]> {
    const table = config.tableName('users');
    const out: UserProfile[] = [];
    for (const part of chunk([...new Set(userIds)], 100)) {
      const res = await batchGet({ [table]: { Keys: part.map((userId) => ({ userId })), ...(projection ? { ProjectionExpression: projection } : {}) } });
      for (const item of res[table] ?? []) out.push(profileOf(item as unknown as UserItem));
    }
    return out;
  },

  /** Whether the user is registered, and until when they are throttled (core/services/limits.ts): one eventually consistent read. */
  async sender(userId: string): Promise<{ throttledUntil?: number } | undefined> {
    const res = await ddb().send(new GetCommand({ TableName: config.tableName('users'), Key: { userId }, ProjectionExpression: 'userId, throttledUntil' }));
    return res.Item ? { ...(res.Item.throttledUntil !== undefined ? { throttledUntil: Number(res.Item.throttledUntil) } : {}) } : undefined;
  },

  /** Writes new users, 25 per request. */
  async putMany(items: readonly Omit<UserItem, 'listKey'>[]): Promise<void> {
    await batchWrite(config.tableName('users'), items.map((item) => ({ PutRequest: { Item: { ...item, listKey: 'user' } } })));
  },

  /** Sets (or, with undefined, lifts) a registered user's ban; undefined when not registered. */
  async setBan(userId: string, ban: Ban | undefined): Promise<UserProfile | undefined> {
    try {
      const res = await ddb().send(
        new UpdateCommand({
          TableName: config.tableName('users'),
          Key: { userId },
          UpdateExpression: ban ? 'SET banned = :b' : 'REMOVE banned',
          ConditionExpression: 'attribute_exists(userId)',
          ...(ban ? { ExpressionAttributeValues: { ':b': ban } } : {}),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return profileOf(res.Attributes as UserItem);
    } catch (err) {
      if (isConditionFailure(err)) return undefined;
      throw err;
    }
  },

  /** Sets profile fields of a registered user; undefined when not registered. */
  async update(userId: string, changes: Partial<Pick<UserItem, 'nickname' | 'faceUrl' | 'ex' | 'globalRecvOpt'>>): Promise<UserProfile | undefined> {
    const entries = Object.entries(changes).filter(([, v]) => v !== undefined);
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':now': Date.now() };
    const sets = ['updatedAt = :now'];
    entries.forEach(([k, v], i) => {
      names[`#f${i}`] = k;
      values[`:v${i}`] = v;
      sets.push(`#f${i} = :v${i}`);
    });
    try {
      const res = await ddb().send(
        new UpdateCommand({
          TableName: config.tableName('users'),
          Key: { userId },
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: 'attribute_exists(userId)',
          ...(entries.length ? { ExpressionAttributeNames: names } : {}),
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return profileOf(res.Attributes as UserItem);
    } catch (err) {
      if (isConditionFailure(err)) return undefined;
      throw err;
    }
  },

  /** A registered user's push preferences ({} when none were set); undefined when not registered. */
  async getPushPrefs(userId: string): Promise<PushPrefs | undefined> {
    const res = await ddb().send(new GetCommand({ TableName: config.tableName('users'), Key: { userId }, ProjectionExpression: 'userId, pushPrefs', ConsistentRead: true }));
    if (!res.Item) return undefined;
    return (res.Item.pushPrefs as PushPrefs | undefined) ?? {};
  },

  /** Replaces a registered user's push preferences; undefined when not registered. */
  async setPushPrefs(userId: string, prefs: PushPrefs): Promise<PushPrefs | undefined> {
    const empty = prefs.quietHours === undefined && !prefs.hidePreview;
    try {
      await ddb().send(
        new UpdateCommand({
          TableName: config.tableName('users'),
          Key: { userId },
          UpdateExpression: empty ? 'REMOVE pushPrefs' : 'SET pushPrefs = :p',
          ConditionExpression: 'attribute_exists(userId)',
          ...(empty ? {} : { ExpressionAttributeValues: { ':p': prefs } }),
        }),
      );
      return prefs;
    } catch (err) {
      if (isConditionFailure(err)) return undefined;
      throw err;
    }
  },

  /**
   * A page of users in registration order: a Query on the byCreation index, which holds the
   * keys only (so a presence or profile change writes nothing to it), then the page's
   * profiles with BatchGetItem, put back in the index's order.
   */
  async page(limit: number, startKey?: Record<string, unknown>): Promise<{ users: UserProfile[]; lastKey?: Record<string, unknown> }> {
    const res = await ddb().send(
      new QueryCommand({
        TableName: config.tableName('users'),
        IndexName: 'byCreation',
        KeyConditionExpression: 'listKey = :k',
        ExpressionAttributeValues: { ':k': 'user' },
        Limit: limit,
        ExclusiveStartKey: startKey,
      }),
    );
    const ids = (res.Items ?? []).map((i) => i.userId as string);
    const byId = new Map((await this.getMany(ids)).map((u) => [u.userId, u]));
    // A user the index lists is registered: the index is written with the item itself.
    return { users: ids.flatMap((id) => byId.get(id) ?? []), lastKey: res.LastEvaluatedKey };
  },
};
