/**
 * Messages (the offline store clients sync from, with a TTL) and MessageIds (the
 * idempotency records that map a sender's clientMsgId to the seq it was given).
 */
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ddb } from '../aws/dynamodb';
import { config } from '../config';
import type { Message } from '../protocol/schema';
import { batchGet, chunk, isConditionFailure, nowSeconds } from './dynamo';

export interface MessageItem extends Message {
  /** Epoch seconds; the TTL attribute. */
  expiresAt: number;
  /**
   * A user's own send (sendMsg, or POST /messages as the user), which the archive function
   * counts in the sender's sending window (core/services/limits.ts). Not part of the message.
   */
  limited?: true;
}

export interface MessageIdItem {
  senderMsgKey: string;
  conversationId: string;
  seq: number;
  serverMsgId: string;
  sendTime: number;
  /** When `seq` was allocated (ms): a message may be written at it only within the settle window. */
  allocatedAt: number;
  expiresAt: number;
  /** Set when an admin purged the message (ms): a resend acknowledges it and stores nothing. */
  purgedAt?: number;
}

export function senderMsgKey(senderId: string, clientMsgId: string): string {
  return `${senderId}#${clientMsgId}`;
}

export function toMessage(item: MessageItem): Message {
  const { expiresAt: _ttl, limited: _limited, reactions, ...message } = item;
  return reactions && Object.keys(reactions).length > 0 ? { ...message, reactions } : message;
}

export const messages = {
  /** Writes a message at its seq; false when that seq holds a message already. */
  async put(item: MessageItem): Promise<boolean> {
    try {
      await ddb().send(new PutCommand({ TableName: config.tableName('messages'), Item: item, ConditionExpression: 'attribute_not_exists(seq)' }));
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  },

  async get(conversationId: string, seq: number): Promise<MessageItem | undefined> {
    const res = await ddb().send(new GetCommand({ TableName: config.tableName('messages'), Key: { conversationId, seq }, ConsistentRead: true }));
    const item = res.Item as MessageItem | undefined;
    return item && item.expiresAt > nowSeconds() ? item : undefined;
  },

  /**
   * Changes a stored message in place (revoke, delete, edit) if it is still at
   * `fromVersion`, setting `version` to `fromVersion + 1`; returns the new item, or
   * undefined when it changed meanwhile or is gone.
   */
  async change(conversationId: string, seq: number, fromVersion: number, set: Record<string, unknown>): Promise<MessageItem | undefined> {
    const names: Record<string, string> = { '#version': 'version' };
    const values: Record<string, unknown> = { ':from': fromVersion, ':next': fromVersion + 1, ':now': nowSeconds() };
    const sets = ['#version = :next'];
    Object.entries(set).forEach(([field, value], i) => {
      names[`#f${i}`] = field;
      values[`:v${i}`] = value;
      sets.push(`#f${i} = :v${i}`);
    });
    try {
      const res = await ddb().send(
        new UpdateCommand({
          TableName: config.tableName('messages'),
          Key: { conversationId, seq },
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: `attribute_exists(seq) AND expiresAt > :now AND ${fromVersion === 0 ? '(attribute_not_exists(#version) OR #version = :from)' : '#version = :from'}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return res.Attributes as MessageItem;
    } catch (err) {
      if (isConditionFailure(err)) return undefined;
      throw err;
    }
  },

  /** Several messages by key (100 per request); expired ones are left out. */
  async getMany(keys: readonly { conversationId: string; seq: number }[]): Promise<MessageItem[]> {
    const table = config.tableName('messages');
    const out: MessageItem[] = [];
    const now = nowSeconds();
    for (const part of chunk(keys, 100)) {
      const res = await batchGet({ [table]: { Keys: part.map(({ conversationId, seq }) => ({ conversationId, seq })) } });
      for (const item of (res[table] ?? []) as unknown as MessageItem[]) if (item.expiresAt > now) out.push(item);
    }
    return out;
  },

  /**
   * The newest live message with fromSeq <= seq <= toSeq that is not in `skip`, if any
   * among the newest 20 (one Query, newest first).
   */
  async latest(conversationId: string, fromSeq: number, toSeq: number, skip?: ReadonlySet<number>): Promise<MessageItem | undefined> {
    const res = await ddb().send(
      new QueryCommand({
        TableName: config.tableName('messages'),
        KeyConditionExpression: 'conversationId = :c AND seq BETWEEN :a AND :b',
        FilterExpression: 'expiresAt > :now',
        ExpressionAttributeValues: { ':c': conversationId, ':a': fromSeq, ':b': toSeq, ':now': nowSeconds() },
        ScanIndexForward: false,
        Limit: 20,
      }),
    );
    return (res.Items as MessageItem[] | undefined)?.find((m) => !skip?.has(m.seq));
  },

  /** Messages with fromSeq <= seq <= toSeq, ascending, including expired ones (the caller filters). */
  async range(conversationId: string, fromSeq: number, toSeq: number): Promise<MessageItem[]> {
    const out: MessageItem[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await ddb().send(
        new QueryCommand({
          TableName: config.tableName('messages'),
          KeyConditionExpression: 'conversationId = :c AND seq BETWEEN :a AND :b',
          ExpressionAttributeValues: { ':c': conversationId, ':a': fromSeq, ':b': toSeq },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      out.push(...((page.Items ?? []) as MessageItem[]));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return out;
  },
};

export const messageIds = {
  /** Claims (sender, clientMsgId) for a seq; false when another send claimed it first. */
  async claim(item: MessageIdItem): Promise<boolean> {
    try {
      await ddb().send(new PutCommand({ TableName: config.tableName('messageIds'), Item: item, ConditionExpression: 'attribute_not_exists(senderMsgKey)' }));
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  },

  async get(key: string): Promise<MessageIdItem | undefined> {
    const res = await ddb().send(new GetCommand({ TableName: config.tableName('messageIds'), Key: { senderMsgKey: key }, ConsistentRead: true }));
    return res.Item as MessageIdItem | undefined;
  },

  /** Moves a claim whose seq settled as a hole to a new seq; false when someone else moved it. */
  async reassign(key: string, fromSeq: number, next: Pick<MessageIdItem, 'seq' | 'serverMsgId' | 'sendTime' | 'allocatedAt'>): Promise<boolean> {
    try {
      await ddb().send(
        new UpdateCommand({
          TableName: config.tableName('messageIds'),
          Key: { senderMsgKey: key },
          UpdateExpression: 'SET seq = :seq, serverMsgId = :id, sendTime = :t, allocatedAt = :a',
          ConditionExpression: 'seq = :from',
          ExpressionAttributeValues: { ':seq': next.seq, ':id': next.serverMsgId, ':t': next.sendTime, ':a': next.allocatedAt, ':from': fromSeq },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  },
};
