/**
 * Groups, GroupMembers and GroupApplications tables. Members and applications are paged
 * by group id, and a user's groups and applications through the byUser indexes: every
 * list is a Query, never a Scan, at any size.
 *
 * The group item keeps the admins' ids (`adminUserIds`) next to `ownerUserId`, so the
 * people to notify of an application are one GetItem away instead of a filtered pass
 * over the whole member list; role changes update both items in one transaction.
 */
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { ddb } from '../aws/dynamodb';
import { config } from '../config';
import { CirrusError } from '../errors';
import { batchGet, batchWrite, chunk, isConditionFailure } from './dynamo';
import type { OnlineIndexState } from './group-online';

export type JoinPolicy = 'free' | 'approval' | 'invite';
export type GroupStatus = 'active' | 'dismissed';
export type GroupRole = 'owner' | 'admin' | 'member';

/** Group profile and settings. `status` and `muteAll` are read by the send-time rules. */
export interface GroupItem {
  groupId: string;
  name: string;
  ownerUserId: string;
  faceUrl?: string;
  introduction?: string;
  announcement?: string;
  ex?: string;
  joinPolicy: JoinPolicy;
  /** New members see the messages sent before they joined. */
  historyVisibleToNewMembers: boolean;
  status: GroupStatus;
  /** Only the owner and admins may send. */
  muteAll: boolean;
  /** Slow mode: a member (not the owner or an admin) may send one message per this many seconds; absent or 0: off. */
  slowModeSeconds?: number;
  /** End-to-end encrypted (MLS): members send only content types 150, 151, 152. Read by the send-time rules. */
  encrypted?: true;
  memberCount: number;
  /** A DynamoDB string set; absent when the group has no admins. */
  adminUserIds?: Set<string>;
  createdAt: number;
  updatedAt?: number;
  /** Set once the group has reached `onlineIndexMinMembers`: its GroupOnline index (store/group-online.ts). Never shown. */
  onlineIndex?: OnlineIndexState;
}

/** The group fields that owners and admins may change with one update. */
export type GroupSettings = Partial<Pick<GroupItem, 'name' | 'faceUrl' | 'introduction' | 'announcement' | 'ex' | 'joinPolicy' | 'historyVisibleToNewMembers' | 'muteAll' | 'slowModeSeconds'>>;

/** A membership. `role` and `mutedUntil` (ms since the epoch) are read by the send-time rules. */
export interface MemberItem {
  groupId: string;
  userId: string;
  role: GroupRole;
  nickname?: string;
  mutedUntil?: number;
  /** Who added the member, when someone else did. */
  inviterUserId?: string;
  joinedAt: number;
  /** When the member's last message was accepted, kept only while the group has slow mode (see `claimSlowMode`). Never shown. */
  lastSentAt?: number;
  /** Set by the archive function while the user is throttled for sending too much (core/services/limits.ts). Never shown. */
  throttledUntil?: number;
}

/** A pending request to join: the user's own application, or a member's invitation awaiting approval. */
export interface ApplicationItem {
  groupId: string;
  userId: string;
  message: string;
  inviterUserId?: string;
  createdAt: number;
}

export interface Page<T> {
  items: T[];
  /** DynamoDB's LastEvaluatedKey: where the next page starts; absent on the last page. */
  lastKey?: Record<string, unknown>;
}

const table = {
  groups: () => config.tableName('groups'),
  members: () => config.tableName('groupMembers'),
  applications: () => config.tableName('groupApplications'),
};

/** A transaction refused by one of its conditions (rather than by a conflict or throttling). */
function isTransactionConditionFailure(err: unknown): boolean {
  const e = err as { name?: string; CancellationReasons?: { Code?: string }[] } | undefined;
  return e?.name === 'TransactionCanceledException' && (e.CancellationReasons ?? []).some((r) => r.Code === 'ConditionalCheckFailed');
}

/** `SET #f0 = :v0, …` / `REMOVE #f1` parts for a partial update; undefined fields are left alone, null ones removed. */
function updateParts(changes: Record<string, unknown>): { sets: string[]; removes: string[]; names: Record<string, string>; values: Record<string, unknown> } {
  const sets: string[] = [];
  const removes: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  Object.entries(changes).forEach(([k, v], i) => {
    if (v === undefined) return;
    names[`#f${i}`] = k;
    if (v === null) removes.push(`#f${i}`);
    else {
      values[`:v${i}`] = v;
      sets.push(`#f${i} = :v${i}`);
    }
  });
  return { sets, removes, names, values };
}

const expression = (sets: string[], removes: string[]) => [sets.length ? `SET ${sets.join(', ')}` : '', removes.length ? `REMOVE ${removes.join(', ')}` : ''].filter(Boolean).join(' ');

async function queryPage<T>(input: { index?: string; keyName: string; keyValue: string; tableName: string; limit: number; startKey?: Record<string, unknown>; consistent?: boolean }): Promise<Page<T>> {
  const res = await ddb().send(
    new QueryCommand({
      TableName: input.tableName,
      ...(input.consistent ? { ConsistentRead: true } : {}),
      ...(input.index ? { IndexName: input.index } : {}),
      KeyConditionExpression: '#k = :k',
      ExpressionAttributeNames: { '#k': input.keyName },
      ExpressionAttributeValues: { ':k': input.keyValue },
      Limit: input.limit,
      ExclusiveStartKey: input.startKey,
    }),
  );
  return { items: (res.Items ?? []) as T[], ...(res.LastEvaluatedKey ? { lastKey: res.LastEvaluatedKey } : {}) };
}

export const groups = {
  /** Claims the group id; ALREADY_EXISTS when it is taken. */
  async create(item: GroupItem): Promise<void> {
    try {
      await ddb().send(new PutCommand({ TableName: table.groups(), Item: item, ConditionExpression: 'attribute_not_exists(groupId)' }));
    } catch (err) {
      if (isConditionFailure(err)) throw new CirrusError('ALREADY_EXISTS', `Group ${item.groupId} exists already`);
      throw err;
    }
  },

  async get(groupId: string): Promise<GroupItem | undefined> {
    const res = await ddb().send(new GetCommand({ TableName: table.groups(), Key: { groupId }, ConsistentRead: true }));
    return res.Item as GroupItem | undefined;
  },

  /** The existing groups among `groupIds` (100 per BatchGetItem). */
  async getMany(groupIds: readonly string[]): Promise<Map<string, GroupItem>> {
    const out = new Map<string, GroupItem>();
    for (const part of chunk([...new Set(groupIds)], 100)) {
      const res = await batchGet({ [table.groups()]: { Keys: part.map((groupId) => ({ groupId })) } });
      for (const item of res[table.groups()] ?? []) out.set(item.groupId as string, item as unknown as GroupItem);
    }
    return out;
  },

  /** The group and one user's membership of it, in one BatchGetItem. */
  async withMember(groupId: string, userId: string): Promise<{ group?: GroupItem; member?: MemberItem }> {
    const res = await batchGet({
      [table.groups()]: { Keys: [{ groupId }], ConsistentRead: true },
      [table.members()]: { Keys: [{ groupId, userId }], ConsistentRead: true },
    });
    return { group: res[table.groups()]?.[0] as unknown as GroupItem | undefined, member: res[table.members()]?.[0] as unknown as MemberItem | undefined };
  },

  /**
   * Sets (or, for null, removes) settings of an active group and returns the group as
   * it now is; GROUP_DISMISSED when it was dismissed meanwhile.
   */
  async update(groupId: string, changes: { [K in keyof GroupSettings]?: GroupSettings[K] | null }): Promise<GroupItem> {
    const { sets, removes, names, values } = updateParts({ ...changes, updatedAt: Date.now() });
    try {
      const res = await ddb().send(
        new UpdateCommand({
          TableName: table.groups(),
          Key: { groupId },
          UpdateExpression: expression(sets, removes),
          ConditionExpression: '#status = :active',
          ExpressionAttributeNames: { ...names, '#status': 'status' },
          ExpressionAttributeValues: { ...values, ':active': 'active' },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return res.Attributes as GroupItem;
    } catch (err) {
      if (isConditionFailure(err)) throw new CirrusError('GROUP_DISMISSED', `Group ${groupId} was dismissed`);
      throw err;
    }
  },

  /**
   * Slow mode: records a member's send at `now` unless their last one was less than
   * `intervalMs` ago. One conditional write, made only in groups with slow mode, before the
   * message gets a seq; concurrent sends of the member (any container) pass one at a time.
   * Returns the milliseconds to wait, 0 when recorded.
   */
  async claimSlowMode(groupId: string, userId: string, now: number, intervalMs: number): Promise<number> {
    try {
      await ddb().send(
        new UpdateCommand({
          TableName: table.members(),
          Key: { groupId, userId },
          UpdateExpression: 'SET lastSentAt = :now',
          ConditionExpression: 'attribute_exists(userId) AND (attribute_not_exists(lastSentAt) OR lastSentAt <= :since)',
          ExpressionAttributeValues: { ':now': now, ':since': now - intervalMs },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return 0;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      // The old item comes marshalled (the document client does not convert an error's Item).
      const old = (err as { Item?: Record<string, AttributeValue> }).Item;
      if (!old) throw new CirrusError('NOT_GROUP_MEMBER', `${userId} is not a member of group ${groupId}`);
      return Math.max(1, Number(unmarshall(old).lastSentAt ?? 0) + intervalMs - now);
    }
  },

  /** Marks the group dismissed; false when it already was. Members keep their rows and history. */
  async dismiss(groupId: string): Promise<boolean> {
    try {
      await ddb().send(
        new UpdateCommand({
          TableName: table.groups(),
          Key: { groupId },
          UpdateExpression: 'SET #status = :dismissed, updatedAt = :now',
          ConditionExpression: '#status = :active',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':dismissed': 'dismissed', ':active': 'active', ':now': Date.now() },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  },

  /**
   * Adjusts the member count after members joined (delta > 0) or left, dropping leavers
   * from the admin set; returns the new count and the group's online index as they are now.
   */
  async adjustMembers(groupId: string, delta: number, departedAdmins: readonly string[] = []): Promise<{ memberCount: number; onlineIndex?: OnlineIndexState }> {
    const res = await ddb().send(
      new UpdateCommand({
        TableName: table.groups(),
        Key: { groupId },
        UpdateExpression: `ADD memberCount :d${departedAdmins.length ? ' DELETE adminUserIds :a' : ''}`,
        ConditionExpression: 'attribute_exists(groupId)',
        ExpressionAttributeValues: { ':d': delta, ...(departedAdmins.length ? { ':a': new Set(departedAdmins) } : {}) },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return { memberCount: (res.Attributes?.memberCount as number) ?? 0, ...(res.Attributes?.onlineIndex ? { onlineIndex: res.Attributes.onlineIndex as OnlineIndexState } : {}) };
  },

  /**
   * Sets (null: removes) the group's online index state; with `ifShards`, only while the
   * index still has that shard count (a later rebuild wins). False when refused.
   */
  async setOnlineIndex(groupId: string, state: OnlineIndexState | null, ifShards?: number): Promise<boolean> {
    try {
      await ddb().send(
        new UpdateCommand({
          TableName: table.groups(),
          Key: { groupId },
          UpdateExpression: state ? 'SET onlineIndex = :s' : 'REMOVE onlineIndex',
          ConditionExpression: ifShards !== undefined ? 'onlineIndex.s = :n' : 'attribute_exists(groupId)',
          ...(state || ifShards !== undefined ? { ExpressionAttributeValues: { ...(state ? { ':s': state } : {}), ...(ifShards !== undefined ? { ':n': ifShards } : {}) } } : {}),
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  },

  /**
   * Gives a member the role admin or member, and keeps the group's admin set in step, in
   * one transaction. False when the user is not a member or is the owner.
   */
  async setRole(groupId: string, userId: string, role: 'admin' | 'member'): Promise<boolean> {
    try {
      await ddb().send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: table.members(),
                Key: { groupId, userId },
                UpdateExpression: 'SET #role = :r',
                ConditionExpression: 'attribute_exists(userId) AND #role <> :owner',
                ExpressionAttributeNames: { '#role': 'role' },
                ExpressionAttributeValues: { ':r': role, ':owner': 'owner' },
              },
            },
            {
              Update: {
                TableName: table.groups(),
                Key: { groupId },
                UpdateExpression: `${role === 'admin' ? 'ADD' : 'DELETE'} adminUserIds :u SET updatedAt = :now`,
                ConditionExpression: '#status = :active',
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: { ':u': new Set([userId]), ':now': Date.now(), ':active': 'active' },
              },
            },
          ],
        }),
      );
      return true;
    } catch (err) {
      if (isTransactionConditionFailure(err)) return false;
      throw err;
    }
  },

  /**
   * Hands the group to another member in one transaction: the group names them owner,
   * they become owner (leaving the admin set, unmuted), the old owner becomes a member. False when
   * the old owner is no longer the owner or the new one no longer a member.
   */
  async transferOwner(groupId: string, oldOwnerUserId: string, newOwnerUserId: string): Promise<boolean> {
    try {
      await ddb().send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: table.groups(),
                Key: { groupId },
                UpdateExpression: 'SET ownerUserId = :new, updatedAt = :now DELETE adminUserIds :newSet',
                ConditionExpression: 'ownerUserId = :old AND #status = :active',
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: { ':new': newOwnerUserId, ':old': oldOwnerUserId, ':newSet': new Set([newOwnerUserId]), ':now': Date.now(), ':active': 'active' },
              },
            },
            {
              Update: {
                TableName: table.members(),
                Key: { groupId, userId: newOwnerUserId },
                // The owner is never muted: a mute from their time as a member ends here.
                UpdateExpression: 'SET #role = :owner REMOVE mutedUntil',
                ConditionExpression: 'attribute_exists(userId)',
                ExpressionAttributeNames: { '#role': 'role' },
                ExpressionAttributeValues: { ':owner': 'owner' },
              },
            },
            {
              Update: {
                TableName: table.members(),
                Key: { groupId, userId: oldOwnerUserId },
                UpdateExpression: 'SET #role = :member',
                ConditionExpression: 'attribute_exists(userId)',
                ExpressionAttributeNames: { '#role': 'role' },
                ExpressionAttributeValues: { ':member': 'member' },
              },
            },
          ],
        }),
      );
      return true;
    } catch (err) {
      if (isTransactionConditionFailure(err)) return false;
      throw err;
    }
  },

  // ---- members ----

  /** The memberships among `userIds` (100 per BatchGetItem, strongly consistent). */
  async members(groupId: string, userIds: readonly string[]): Promise<Map<string, MemberItem>> {
    const out = new Map<string, MemberItem>();
    for (const part of chunk([...new Set(userIds)], 100)) {
      const res = await batchGet({ [table.members()]: { Keys: part.map((userId) => ({ groupId, userId })), ConsistentRead: true } });
      for (const item of res[table.members()] ?? []) out.set(item.userId as string, item as unknown as MemberItem);
    }
    return out;
  },

  /** Writes memberships of users known not to be members (25 per BatchWriteItem). */
  async putMembers(members: readonly MemberItem[]): Promise<void> {
    await batchWrite(table.members(), members.map((Item) => ({ PutRequest: { Item } })));
  },

  /** Writes one membership unless it exists; false when the user was a member already. */
  async putMember(member: MemberItem): Promise<boolean> {
    try {
      await ddb().send(new PutCommand({ TableName: table.members(), Item: member, ConditionExpression: 'attribute_not_exists(userId)' }));
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  },

  async deleteMembers(groupId: string, userIds: readonly string[]): Promise<void> {
    await batchWrite(table.members(), userIds.map((userId) => ({ DeleteRequest: { Key: { groupId, userId } } })));
  },

  /**
   * Sets (or, for null, removes) fields of a membership whose role is one of `roles`, so a
   * role change racing the permission check cannot slip through. Returns the membership
   * as it now is, or undefined when it is gone or its role is not allowed.
   */
  async updateMember(groupId: string, userId: string, roles: readonly GroupRole[], changes: { nickname?: string | null; mutedUntil?: number | null }): Promise<MemberItem | undefined> {
    const { sets, removes, names, values } = updateParts(changes);
    const roleValues = Object.fromEntries(roles.map((r, i) => [`:role${i}`, r]));
    try {
      const res = await ddb().send(
        new UpdateCommand({
          TableName: table.members(),
          Key: { groupId, userId },
          UpdateExpression: expression(sets, removes),
          ConditionExpression: `attribute_exists(userId) AND #role IN (${Object.keys(roleValues).join(', ')})`,
          ExpressionAttributeNames: { ...names, '#role': 'role' },
          ExpressionAttributeValues: { ...values, ...roleValues },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return res.Attributes as MemberItem;
    } catch (err) {
      if (isConditionFailure(err)) return undefined;
      throw err;
    }
  },

  /** One page of a group's members, in user id order: one Query (strongly consistent with `consistent`). */
  memberPage(groupId: string, limit: number, startKey?: Record<string, unknown>, consistent = false): Promise<Page<MemberItem>> {
    return queryPage<MemberItem>({ tableName: table.members(), keyName: 'groupId', keyValue: groupId, limit, startKey, consistent });
  },

  /** One page of a user's memberships, in group id order: one Query on the byUser index. */
  membershipPage(userId: string, limit: number, startKey?: Record<string, unknown>): Promise<Page<MemberItem>> {
    return queryPage<MemberItem>({ tableName: table.members(), index: 'byUser', keyName: 'userId', keyValue: userId, limit, startKey });
  },

  /** Every member's user id, page by page (1 MB per Query page); used by delivery. */
  async memberIds(groupId: string): Promise<string[]> {
    const out: string[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await ddb().send(
        new QueryCommand({
          TableName: table.members(),
          KeyConditionExpression: 'groupId = :g',
          ExpressionAttributeValues: { ':g': groupId },
          ProjectionExpression: 'userId',
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) out.push(item.userId as string);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return out;
  },

  /**
   * Creates the UserConversations rows of a new group's first members, 25 per
   * BatchWriteItem. Only for a conversation nobody has a row in yet (a group being
   * created): a put replaces the whole row, so existing members go through
   * `conversations.join` instead. The rows are what `conversations.join` would write.
   */
  async createConversationRows(conversationId: string, userIds: readonly string[]): Promise<void> {
    await batchWrite(
      config.tableName('userConversations'),
      userIds.map((userId) => ({ PutRequest: { Item: { userId, conversationId, readSeq: 0, minSeq: 0 } } })),
    );
  },

  // ---- applications ----

  /** Records a pending application; false when one is pending already. */
  async putApplication(item: ApplicationItem): Promise<boolean> {
    try {
      await ddb().send(new PutCommand({ TableName: table.applications(), Item: item, ConditionExpression: 'attribute_not_exists(userId)' }));
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  },

  /** Records applications of users known to have none pending (25 per BatchWriteItem). */
  async putApplications(items: readonly ApplicationItem[]): Promise<void> {
    await batchWrite(table.applications(), items.map((Item) => ({ PutRequest: { Item } })));
  },

  async deleteApplications(groupId: string, userIds: readonly string[]): Promise<void> {
    await batchWrite(table.applications(), userIds.map((userId) => ({ DeleteRequest: { Key: { groupId, userId } } })));
  },

  /** The pending applications among `userIds` (100 per BatchGetItem). */
  async applications(groupId: string, userIds: readonly string[]): Promise<Map<string, ApplicationItem>> {
    const out = new Map<string, ApplicationItem>();
    for (const part of chunk([...new Set(userIds)], 100)) {
      const res = await batchGet({ [table.applications()]: { Keys: part.map((userId) => ({ groupId, userId })), ConsistentRead: true } });
      for (const item of res[table.applications()] ?? []) out.set(item.userId as string, item as unknown as ApplicationItem);
    }
    return out;
  },

  /**
   * Removes a pending application and returns it; undefined when there was none (so of
   * two owners or admins handling it at once, exactly one gets it).
   */
  async takeApplication(groupId: string, userId: string): Promise<ApplicationItem | undefined> {
    try {
      const res = await ddb().send(
        new DeleteCommand({ TableName: table.applications(), Key: { groupId, userId }, ConditionExpression: 'attribute_exists(userId)', ReturnValues: 'ALL_OLD' }),
      );
      return res.Attributes as ApplicationItem;
    } catch (err) {
      if (isConditionFailure(err)) return undefined;
      throw err;
    }
  },

  /** One page of a group's pending applications, in user id order: one Query. */
  applicationPage(groupId: string, limit: number, startKey?: Record<string, unknown>): Promise<Page<ApplicationItem>> {
    return queryPage<ApplicationItem>({ tableName: table.applications(), keyName: 'groupId', keyValue: groupId, limit, startKey });
  },

  /** One page of a user's pending applications, in group id order: one Query on the byUser index. */
  userApplicationPage(userId: string, limit: number, startKey?: Record<string, unknown>): Promise<Page<ApplicationItem>> {
    return queryPage<ApplicationItem>({ tableName: table.applications(), index: 'byUser', keyName: 'userId', keyValue: userId, limit, startKey });
  },
};
