/**
 * Conversations (one seq counter per conversation) and UserConversations (each member's
 * read position and visible range). Read diffusion: a message is stored once per
 * conversation; members differ only in these few numbers.
 */
import { GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { ddb } from '../aws/dynamodb';
import { config } from '../config';
import type { RecentClaimGuard } from '../domain/recent-claims';
import { blockAttribute, CLAIM_WINDOW, claimAttribute, claimsOnCounter, ownSeqOnCounter, recvOptAttribute } from '../domain/claims';
import { batchGet, chunk, isConditionFailure } from './dynamo';
import { CirrusError } from '../errors';

export interface CounterItem {
  conversationId: string;
  /** Highest allocated seq. */
  maxSeq: number;
  /** Time (ms) of the latest allocation; bounds when the newest seq may still be written. */
  allocatedAt: number;
  sessionType: number;
  /** The members' UserConversations rows exist (set once, after creating them). */
  linked?: boolean;
  /**
   * End-to-end encrypted (MLS): set by the first MLS message (content type 150-152) into a 1:1
   * conversation, and at the creation of an encrypted group; never unset. A 1:1 send of any
   * other content type is refused on the counter update that allocates its seq.
   */
  encrypted?: true;
  /**
   * 1:1 and notification conversations (see core/domain/claims.ts): `c#<userId>` claim
   * maps, `blk#<userId>` and `ro#<userId>` mirrors, and `mv`, counted up by every change of
   * a mirror so that linking (which reads the sources) never overwrites a newer one.
   */
  [mirrored: string]: unknown;
}

/**
 * A 1:1 send's part in the conversation's encryption: `mls` (an MLS message) marks the counter
 * encrypted, `plain` (any other content) is refused with ENCRYPTED_CONVERSATION when it is.
 */
export type Encryption = 'mls' | 'plain';

export const encryptedRefusal = (conversationId: string): CirrusError =>
  new CirrusError('ENCRYPTED_CONVERSATION', `Conversation ${conversationId} is end-to-end encrypted: send MLS messages (content types 150, 151, 152) only`);

/** The result of a claim: the counter after it, or the counter as it was when the condition failed. */
export type ClaimResult = { ok: true; counter: CounterItem } | { ok: false; counter?: CounterItem };

/** The item a failed condition returned (ReturnValuesOnConditionCheckFailure), in the wire format the document client does not convert. */
const conditionItem = (err: unknown): CounterItem | undefined => {
  const item = (err as { Item?: Record<string, AttributeValue> }).Item;
  return item ? (unmarshall(item) as CounterItem) : undefined;
};

export interface MemberState {
  userId: string;
  conversationId: string;
  /** Highest seq the member has read. */
  readSeq: number;
  /** Seqs at or below this are hidden from the member (joined later, or cleared). */
  minSeq: number;
  /** Set when the member left: seqs above it are hidden. */
  leftSeq?: number;
  pinned?: boolean;
  /** 0 receive, 1 do not receive, 2 receive silently. */
  recvOpt?: 0 | 1 | 2;
  /** Hidden from the conversation list until a message above this seq arrives. */
  hiddenSeq?: number;
  /** Highest seq a device of the member acknowledged receiving (delivery receipts). */
  deliveredSeq?: number;
  /**
   * Seq of the member's latest own message. Sending implies having read what came before,
   * so unread counts from max(readSeq, ownSeq); kept apart from readSeq, which the
   * receipts index sorts on, so that a send costs one plain write and no index write.
   */
  ownSeq?: number;
  /** Messages the member deleted for themselves only. */
  deletedSeqs?: Set<number>;
}

/** A member's positions as the `byConversation` index holds them (receipts). */
export interface MemberPosition {
  userId: string;
  conversationId: string;
  readSeq: number;
  ownSeq?: number;
  deliveredSeq?: number;
  minSeq?: number;
  leftSeq?: number;
}

const POSITION_ATTRIBUTES = 'userId, conversationId, readSeq, ownSeq, deliveredSeq, minSeq, leftSeq';

/**
 * What the member has read, counting their own messages as read: the row's `ownSeq` (groups,
 * and 1:1 conversations from before claims) and, given the counter, the member's claims on it.
 */
export const readPosition = (p: { userId?: string; readSeq?: number; ownSeq?: number }, counter?: Record<string, unknown>): number =>
  Math.max(p.readSeq ?? 0, p.ownSeq ?? 0, counter && p.userId !== undefined ? ownSeqOnCounter(counter, p.userId) : 0);

export type MemberSettings = Partial<Pick<MemberState, 'pinned' | 'recvOpt' | 'hiddenSeq' | 'minSeq'>>;

/** A transaction cancelled by a failed condition of one of its items. */
export function isTransactionConditionFailure(err: unknown): boolean {
  const e = err as { name?: string; CancellationReasons?: { Code?: string }[] } | undefined;
  return e?.name === 'TransactionCanceledException' && (e.CancellationReasons ?? []).some((r) => r.Code === 'ConditionalCheckFailed');
}

export const conversations = {
  /**
   * Allocates the next seq of a conversation: one atomic counter update. With a `guard`
   * (see `core/domain/recent-claims.ts`) the same update records the send in its slot of
   * the counter's recent claims and refuses (returns undefined, allocating nothing) when
   * the slot holds the same send from less than `guard.windowMs` ago.
   */
  async allocate(conversationId: string, sessionType: number, now: number, guard?: RecentClaimGuard, encryption?: Encryption): Promise<CounterItem | undefined> {
    const conditions = [
      ...(guard ? ['(attribute_not_exists(#rc) OR NOT begins_with(#rc, :h) OR #rc < :cut)'] : []),
      ...(encryption === 'plain' ? ['attribute_not_exists(encrypted)'] : []),
    ];
    try {
      const res = await ddb().send(
        new UpdateCommand({
          TableName: config.tableName('conversations'),
          Key: { conversationId },
          UpdateExpression: `SET maxSeq = if_not_exists(maxSeq, :zero) + :one, allocatedAt = :now, sessionType = if_not_exists(sessionType, :st)${guard ? ', #rc = :rc' : ''}${encryption === 'mls' ? ', encrypted = :t' : ''}`,
          ExpressionAttributeValues: {
            ':zero': 0,
            ':one': 1,
            ':now': now,
            ':st': sessionType,
            ...(guard ? { ':rc': guard.value, ':h': guard.hash, ':cut': guard.staleBelow } : {}),
            ...(encryption === 'mls' ? { ':t': true } : {}),
          },
          ...(guard ? { ExpressionAttributeNames: { '#rc': guard.slot } } : {}),
          ...(conditions.length ? { ConditionExpression: conditions.join(' AND '), ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const } : {}),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return res.Attributes as CounterItem;
    } catch (err) {
      if (conditions.length && isConditionFailure(err)) {
        if (encryption === 'plain' && conditionItem(err)?.encrypted === true) throw encryptedRefusal(conversationId);
        return undefined;
      }
      throw err;
    }
  },

  /**
   * One send of `senderId` into a 1:1 or notification conversation whose claim map exists:
   * allocates the next seq and records it under the clientMsgId's hash `hash`, removing the
   * entries `drop` (the oldest, see `claimsToDrop`), if the hash is not claimed yet, the
   * entries to remove are still there and the map holds no more than the `size` entries it
   * was read with (or `CLAIM_WINDOW - 1` when smaller). Failing, returns the counter as it was (the seq of the
   * earlier claim, or the map that changed meanwhile).
   */
  async claim(conversationId: string, senderId: string, hash: string, drop: readonly string[], size: number, now: number, encryption?: Encryption): Promise<ClaimResult> {
    const names: Record<string, string> = { '#c': claimAttribute(senderId), '#h': hash };
    drop.forEach((key, i) => (names[`#d${i}`] = key));
    try {
      const res = await ddb().send(
        new UpdateCommand({
          TableName: config.tableName('conversations'),
          Key: { conversationId },
          UpdateExpression: `SET maxSeq = maxSeq + :one, allocatedAt = :now, #c.#h = maxSeq + :one${encryption === 'mls' ? ', encrypted = :t' : ''}${drop.length ? ` REMOVE ${drop.map((_, i) => `#c.#d${i}`).join(', ')}` : ''}`,
          // The removed entries must still be there and nothing else may have been added:
          // then the map ends with at most CLAIM_WINDOW entries, however sends race.
          ConditionExpression: `attribute_not_exists(#c.#h) AND size(#c) <= :n${drop.map((_, i) => ` AND attribute_exists(#c.#d${i})`).join('')}${encryption === 'plain' ? ' AND attribute_not_exists(encrypted)' : ''}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ':one': 1, ':now': now, ':n': Math.max(size, CLAIM_WINDOW - 1), ...(encryption === 'mls' ? { ':t': true } : {}) },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { ok: true, counter: res.Attributes as CounterItem };
    } catch (err) {
      if (isConditionFailure(err)) return { ok: false, counter: conditionItem(err) };
      throw err;
    }
  },

  /**
   * Moves a claim whose seq `fromSeq` settled as a hole to a new seq (a retry after the
   * write window closed); fails when the claim moved already (a concurrent retry).
   */
  async moveClaim(conversationId: string, senderId: string, hash: string, fromSeq: number, now: number): Promise<ClaimResult> {
    try {
      const res = await ddb().send(
        new UpdateCommand({
          TableName: config.tableName('conversations'),
          Key: { conversationId },
          UpdateExpression: 'SET maxSeq = maxSeq + :one, allocatedAt = :now, #c.#h = maxSeq + :one',
          ConditionExpression: '#c.#h = :from',
          ExpressionAttributeNames: { '#c': claimAttribute(senderId), '#h': hash },
          ExpressionAttributeValues: { ':one': 1, ':now': now, ':from': fromSeq },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { ok: true, counter: res.Attributes as CounterItem };
    } catch (err) {
      if (isConditionFailure(err)) return { ok: false, counter: conditionItem(err) };
      throw err;
    }
  },

  /** Makes the counter exist (seq 0 when new) and returns it; it is linked separately. */
  async ensureCounter(conversationId: string, sessionType: number): Promise<CounterItem> {
    const res = await ddb().send(
      new UpdateCommand({
        TableName: config.tableName('conversations'),
        Key: { conversationId },
        UpdateExpression: 'SET maxSeq = if_not_exists(maxSeq, :zero), allocatedAt = if_not_exists(allocatedAt, :zero), sessionType = if_not_exists(sessionType, :st)',
        ExpressionAttributeValues: { ':zero': 0, ':st': sessionType },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return res.Attributes as CounterItem;
  },

  /**
   * Links a 1:1 or notification counter: marks it linked, creates the senders' claim maps
   * and sets the mirrors read from their sources, unless a mirror changed since `mv` (then
   * returns undefined: read the sources again).
   */
  async linkWithClaims(
    conversationId: string,
    mv: number | undefined,
    link: { senders: readonly string[]; blocked: readonly string[]; recvOpts: ReadonlyMap<string, number> },
  ): Promise<CounterItem | undefined> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':t': true, ':empty': {} };
    const sets = ['linked = :t'];
    link.senders.forEach((userId, i) => {
      names[`#c${i}`] = claimAttribute(userId);
      sets.push(`#c${i} = if_not_exists(#c${i}, :empty)`);
    });
    link.blocked.forEach((userId, i) => {
      names[`#b${i}`] = blockAttribute(userId);
      sets.push(`#b${i} = :t`);
    });
    [...link.recvOpts].forEach(([userId, opt], i) => {
      names[`#r${i}`] = recvOptAttribute(userId);
      values[`:r${i}`] = opt;
      sets.push(`#r${i} = :r${i}`);
    });
    if (mv !== undefined) values[':mv'] = mv;
    try {
      const res = await ddb().send(
        new UpdateCommand({
          TableName: config.tableName('conversations'),
          Key: { conversationId },
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: mv === undefined ? 'attribute_exists(conversationId) AND attribute_not_exists(mv)' : 'mv = :mv',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return res.Attributes as CounterItem;
    } catch (err) {
      if (isConditionFailure(err)) return undefined;
      throw err;
    }
  },

  async markLinked(conversationId: string): Promise<void> {
    await ddb().send(new UpdateCommand({ TableName: config.tableName('conversations'), Key: { conversationId }, UpdateExpression: 'SET linked = :t', ExpressionAttributeValues: { ':t': true } }));
  },

  /** Creates the counter of a new conversation (seq 0) whose member rows exist already. */
  async createLinked(conversationId: string, sessionType: number, encrypted = false): Promise<void> {
    await ddb().send(
      new UpdateCommand({
        TableName: config.tableName('conversations'),
        Key: { conversationId },
        UpdateExpression: `SET maxSeq = if_not_exists(maxSeq, :zero), allocatedAt = if_not_exists(allocatedAt, :zero), sessionType = :st, linked = :t${encrypted ? ', encrypted = :t' : ''}`,
        ExpressionAttributeValues: { ':zero': 0, ':st': sessionType, ':t': true },
      }),
    );
  },

  async counter(conversationId: string): Promise<CounterItem | undefined> {
    const res = await ddb().send(new GetCommand({ TableName: config.tableName('conversations'), Key: { conversationId }, ConsistentRead: true }));
    return res.Item as CounterItem | undefined;
  },

  async counters(conversationIds: readonly string[]): Promise<Map<string, CounterItem>> {
    const table = config.tableName('conversations');
    const out = new Map<string, CounterItem>();
    for (const part of chunk([...new Set(conversationIds)], 100)) {
      const res = await batchGet({ [table]: { Keys: part.map((conversationId) => ({ conversationId })) } });
      for (const item of res[table] ?? []) out.set(item.conversationId as string, item as unknown as CounterItem);
    }
    return out;
  },

  /** The member's row and the conversation's counter, in one request. */
  async stateAndCounter(userId: string, conversationId: string): Promise<{ state?: MemberState; counter?: CounterItem }> {
    const stateTable = config.tableName('userConversations');
    const counterTable = config.tableName('conversations');
    const res = await batchGet({
      [stateTable]: { Keys: [{ userId, conversationId }], ConsistentRead: true },
      [counterTable]: { Keys: [{ conversationId }], ConsistentRead: true },
    });
    return { state: res[stateTable]?.[0] as unknown as MemberState | undefined, counter: res[counterTable]?.[0] as unknown as CounterItem | undefined };
  },

  /**
   * Makes the member's row exist and visible from `minSeq` on; an existing row keeps its
   * read position, and a member who had left is readmitted from `minSeq`.
   */
  async join(userId: string, conversationId: string, minSeq: number, rejoin: boolean): Promise<{ recvOpt: 0 | 1 | 2 }> {
    const res = await ddb().send(
      new UpdateCommand({
        TableName: config.tableName('userConversations'),
        Key: { userId, conversationId },
        UpdateExpression: rejoin
          ? 'SET readSeq = if_not_exists(readSeq, :min), minSeq = :min REMOVE leftSeq'
          : 'SET readSeq = if_not_exists(readSeq, :min), minSeq = if_not_exists(minSeq, :min)',
        ExpressionAttributeValues: { ':min': minSeq },
        // A rejoining member's row keeps their receive option, which the group's online index needs.
        ReturnValues: 'ALL_NEW',
      }),
    );
    return { recvOpt: Number(res.Attributes?.recvOpt ?? 0) as 0 | 1 | 2 };
  },

  async leave(userId: string, conversationId: string, leftSeq: number): Promise<void> {
    await ddb().send(
      new UpdateCommand({
        TableName: config.tableName('userConversations'),
        Key: { userId, conversationId },
        UpdateExpression: 'SET leftSeq = :s',
        ConditionExpression: 'attribute_exists(userId)',
        ExpressionAttributeValues: { ':s': leftSeq },
      }),
    ).catch((err) => {
      if (!isConditionFailure(err)) throw err;
    });
  },

  /** Every conversation row of a user. */
  async ofUser(userId: string): Promise<MemberState[]> {
    const out: MemberState[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await ddb().send(
        new QueryCommand({ TableName: config.tableName('userConversations'), KeyConditionExpression: 'userId = :u', ExpressionAttributeValues: { ':u': userId }, ExclusiveStartKey: startKey }),
      );
      out.push(...((page.Items ?? []) as MemberState[]));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return out;
  },

  /**
   * One page of a user's conversation rows in conversation id order, after `after` when
   * given; `next` is where the following page starts (absent after the last row).
   */
  async pageOfUser(userId: string, after: string | undefined, limit: number): Promise<{ items: MemberState[]; next?: string }> {
    const page = await ddb().send(
      new QueryCommand({
        TableName: config.tableName('userConversations'),
        KeyConditionExpression: 'userId = :u',
        ExpressionAttributeValues: { ':u': userId },
        Limit: limit,
        ...(after !== undefined ? { ExclusiveStartKey: { userId, conversationId: after } } : {}),
      }),
    );
    const next = page.LastEvaluatedKey?.conversationId as string | undefined;
    return { items: (page.Items ?? []) as MemberState[], ...(next !== undefined ? { next } : {}) };
  },

  /**
   * Changes a member's own settings of a conversation; `minSeq` only moves forward.
   * Returns the new state, or undefined when the user has no such conversation.
   */
  async updateSettings(userId: string, conversationId: string, changes: MemberSettings): Promise<MemberState | undefined> {
    const entries = Object.entries(changes).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return (await this.stateAndCounter(userId, conversationId)).state;
    if (changes.recvOpt !== undefined && claimsOnCounter(conversationId)) {
      // The send reads the receive option from the counter's mirror: both change together.
      // Changed or not (no such conversation, or minSeq was already further): report what is there.
      await this.setRecvOptMirrored(userId, conversationId, changes);
      return (await this.stateAndCounter(userId, conversationId)).state;
    }
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    entries.forEach(([k, v], i) => {
      names[`#f${i}`] = k;
      values[`:v${i}`] = v;
    });
    const minIndex = entries.findIndex(([k]) => k === 'minSeq');
    try {
      const res = await ddb().send(
        new UpdateCommand({
          TableName: config.tableName('userConversations'),
          Key: { userId, conversationId },
          UpdateExpression: `SET ${entries.map((_, i) => `#f${i} = :v${i}`).join(', ')}`,
          ConditionExpression: `attribute_exists(userId)${minIndex >= 0 ? ` AND (attribute_not_exists(#f${minIndex}) OR #f${minIndex} <= :v${minIndex})` : ''}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return res.Attributes as MemberState;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      // Either no such conversation, or minSeq was already further: report what is there.
      return (await this.stateAndCounter(userId, conversationId)).state;
    }
  },

  /**
   * Changes a member's receive option of a 1:1 or notification conversation together with
   * its mirror `ro#<userId>` on the counter (one transaction); false when the user has no
   * such conversation.
   */
  async setRecvOptMirrored(userId: string, conversationId: string, changes: MemberSettings): Promise<boolean> {
    const entries = Object.entries(changes).filter(([, v]) => v !== undefined);
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    entries.forEach(([k, v], i) => {
      names[`#f${i}`] = k;
      values[`:v${i}`] = v;
    });
    const minIndex = entries.findIndex(([k]) => k === 'minSeq');
    try {
      await ddb().send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: config.tableName('userConversations'),
                Key: { userId, conversationId },
                UpdateExpression: `SET ${entries.map((_, i) => `#f${i} = :v${i}`).join(', ')}`,
                ConditionExpression: `attribute_exists(userId)${minIndex >= 0 ? ` AND (attribute_not_exists(#f${minIndex}) OR #f${minIndex} <= :v${minIndex})` : ''}`,
                ExpressionAttributeNames: names,
                ExpressionAttributeValues: values,
              },
            },
            {
              Update: {
                TableName: config.tableName('conversations'),
                Key: { conversationId },
                UpdateExpression: 'SET #ro = :ro ADD mv :one',
                ConditionExpression: 'attribute_exists(conversationId)',
                ExpressionAttributeNames: { '#ro': recvOptAttribute(userId) },
                ExpressionAttributeValues: { ':ro': changes.recvOpt ?? 0, ':one': 1 },
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

  /** Records the member's latest own message (forward only), for groups: one write, plus its `byConversation` index write. */
  async advanceOwn(userId: string, conversationId: string, seq: number): Promise<void> {
    try {
      await ddb().send(
        new UpdateCommand({
          TableName: config.tableName('userConversations'),
          Key: { userId, conversationId },
          UpdateExpression: 'SET ownSeq = :s',
          ConditionExpression: 'attribute_exists(userId) AND (attribute_not_exists(ownSeq) OR ownSeq < :s)',
          ExpressionAttributeValues: { ':s': seq },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  },

  /** Moves the delivered position forward only; returns false when it did not move. */
  async advanceDelivered(userId: string, conversationId: string, seq: number): Promise<boolean> {
    try {
      await ddb().send(
        new UpdateCommand({
          TableName: config.tableName('userConversations'),
          Key: { userId, conversationId },
          UpdateExpression: 'SET deliveredSeq = :s',
          ConditionExpression: 'attribute_exists(userId) AND (attribute_not_exists(deliveredSeq) OR deliveredSeq < :s)',
          ExpressionAttributeValues: { ':s': seq },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  },

  /**
   * Adds seqs to the messages a member deleted for themselves (a number set: adding one
   * twice changes nothing), keeping at most `max`; returns the whole set, or undefined
   * when that would pass `max` (or the member has no such conversation).
   */
  async addDeleted(userId: string, conversationId: string, seqs: readonly number[], max: number): Promise<Set<number> | undefined> {
    try {
      const res = await ddb().send(
        new UpdateCommand({
          TableName: config.tableName('userConversations'),
          Key: { userId, conversationId },
          UpdateExpression: 'ADD deletedSeqs :s',
          ConditionExpression: 'attribute_exists(userId) AND (attribute_not_exists(deletedSeqs) OR size(deletedSeqs) <= :room)',
          ExpressionAttributeValues: { ':s': new Set(seqs), ':room': max - seqs.length },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return (res.Attributes as MemberState).deletedSeqs ?? new Set();
    } catch (err) {
      if (isConditionFailure(err)) return undefined;
      throw err;
    }
  },

  /**
   * One page of the members' positions in a conversation, from the `byConversation`
   * index: all of them, or only those who have not read `readBelow`.
   */
  async positions(
    conversationId: string,
    options: { readBelow?: number; startKey?: Record<string, unknown>; limit?: number } = {},
  ): Promise<{ items: MemberPosition[]; lastKey?: Record<string, unknown> }> {
    const values: Record<string, unknown> = { ':c': conversationId };
    let condition = 'conversationId = :c';
    let filter: string | undefined;
    // Not read means readSeq < r (the sort key) and ownSeq < r (a filter: one's own later message counts as reading).
    if (options.readBelow !== undefined) {
      condition += ' AND readSeq < :r';
      filter = 'attribute_not_exists(ownSeq) OR ownSeq < :r';
      values[':r'] = options.readBelow;
    }
    const page = await ddb().send(
      new QueryCommand({
        TableName: config.tableName('userConversations'),
        IndexName: 'byConversation',
        KeyConditionExpression: condition,
        ...(filter ? { FilterExpression: filter } : {}),
        ExpressionAttributeValues: values,
        ProjectionExpression: POSITION_ATTRIBUTES,
        ExclusiveStartKey: options.startKey,
        ...(options.limit ? { Limit: options.limit } : {}),
      }),
    );
    return { items: (page.Items ?? []) as MemberPosition[], lastKey: page.LastEvaluatedKey };
  },

  /** Every member's positions in a conversation (paged through the index). */
  async allPositions(conversationId: string): Promise<MemberPosition[]> {
    const out: MemberPosition[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.positions(conversationId, { startKey });
      out.push(...page.items);
      startKey = page.lastKey;
    } while (startKey);
    return out;
  },

  /**
   * Moves the read position forward only; returns false when it did not move. With
   * `onlyIfCaughtUp`, only when everything before `seq` was read already: for the
   * notification a user's own action caused, which must not hide earlier unread messages.
   */
  async advanceRead(userId: string, conversationId: string, seq: number, options: { onlyIfCaughtUp?: boolean; ownSeq?: number } = {}): Promise<boolean> {
    // Their own latest message, recorded on the counter (1:1), is just before: caught up.
    if (options.onlyIfCaughtUp && (options.ownSeq ?? 0) >= seq - 1) options = { ...options, onlyIfCaughtUp: false };
    try {
      await ddb().send(
        new UpdateCommand({
          TableName: config.tableName('userConversations'),
          Key: { userId, conversationId },
          UpdateExpression: 'SET readSeq = :s',
          ConditionExpression: `attribute_exists(userId) AND readSeq < :s${options.onlyIfCaughtUp ? ' AND (readSeq >= :prev OR minSeq >= :prev OR ownSeq >= :prev)' : ''}`,
          ExpressionAttributeValues: { ':s': seq, ...(options.onlyIfCaughtUp ? { ':prev': seq - 1 } : {}) },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  },
};
