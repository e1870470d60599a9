/**
 * What the archive makes of a stream record: a new message, a change (an edit keeping the
 * content it replaced, from the old image), a directory row from the Outbox, nothing for
 * a REMOVE; an unreadable record is an error (the consumer dead-letters it).
 */
import { describe, expect, it } from 'vitest';
import type { DynamoDBRecord } from 'aws-lambda';
import { marshall } from '@aws-sdk/util-dynamodb';
import { isTransient, itemOfRecord } from '../../core/services/archive';
import { OUTBOX_USERS_PER_ITEM, outboxItemOf, outboxUsersItemOf } from '../../core/services/directory-jobs';

const arn = (table: string) => `arn:aws:dynamodb:us-east-1:000000000000:table/${table}/stream/2026-01-01T00:00:00.000`;
const record = (table: string, eventName: 'INSERT' | 'MODIFY' | 'REMOVE', image?: Record<string, unknown>, old?: Record<string, unknown>): DynamoDBRecord =>
  ({
    eventName,
    eventSourceARN: arn(table),
    dynamodb: {
      SequenceNumber: '42',
      ...(image ? { NewImage: marshall(image, { removeUndefinedValues: true }) } : {}),
      ...(old ? { OldImage: marshall(old, { removeUndefinedValues: true }) } : {}),
    },
  }) as DynamoDBRecord;

const sent = { conversationId: 'si_a_b', seq: 3, serverMsgId: 's3', clientMsgId: 'c3', senderId: 'a', recvId: 'b', sessionType: 1, contentType: 101, content: { text: 'helo' }, sendTime: 1000, expiresAt: 99 };

describe('a Messages stream record', () => {
  it('INSERT: the message, without its TTL, marked new (its afterSendMessage is due)', () => {
    expect(itemOfRecord(record('Messages', 'INSERT', sent))).toEqual({ id: '42', inserted: true, message: { ...sent, expiresAt: undefined } });
  });

  it('MODIFY of an edit: the new version, and the replaced content from the old image', () => {
    const edited = { ...sent, content: { text: 'hello' }, version: 1, edited: { at: 2000, version: 1 } };
    expect(itemOfRecord(record('Messages', 'MODIFY', edited, sent))).toMatchObject({
      message: { version: 1, content: { text: 'hello' } },
      replaced: { version: 0, contentType: 101, content: { text: 'helo' }, replacedAt: 2000 },
    });
  });

  it('MODIFY of a revoke or a reaction: the new version only, with no replaced content', () => {
    const marker = { ...sent, content: null, reactions: {}, version: 1, revoked: { by: 'a', at: 2000 } };
    const item = itemOfRecord(record('Messages', 'MODIFY', marker, sent));
    expect(item).toEqual({ id: '42', message: { ...marker, expiresAt: undefined, reactions: undefined } });
    // A later change of an edited message (a reaction) is not an edit again.
    const reacted = { ...sent, version: 2, edited: { at: 2000, version: 1 }, reactions: { '👍': ['b'] } };
    expect(itemOfRecord(record('Messages', 'MODIFY', reacted, { ...reacted, version: 1, reactions: {} }))).not.toHaveProperty('replaced');
  });

  it('MODIFY of a revoke as DynamoDB Local streams it (its emptied reactions map without a type): the marker', () => {
    const marker = { ...sent, content: null, reactions: {}, version: 1, revoked: { by: 'a', at: 2000 } };
    const local = record('Messages', 'MODIFY', marker, sent);
    (local.dynamodb!.NewImage as Record<string, unknown>).reactions = {};
    expect(itemOfRecord(local)).toEqual({ id: '42', message: { ...marker, expiresAt: undefined, reactions: undefined } });
  });

  it('REMOVE (TTL expiry, purge): nothing to archive', () => {
    expect(itemOfRecord(record('Messages', 'REMOVE', undefined, sent))).toBeUndefined();
  });

  it('an item that is not a message cannot be read', () => {
    expect(() => itemOfRecord(record('Messages', 'INSERT', { conversationId: 'si_a_b', content: 'x' }))).toThrow(/not a message/);
  });
});

describe('an Outbox stream record', () => {
  it('INSERT: the user or group row it carries', () => {
    const user = { userId: 'u1', nickname: 'U', createdAt: 1, updatedAt: 2 };
    expect(itemOfRecord(record('Outbox', 'INSERT', outboxItemOf({ kind: 'user', user }, 0)))).toEqual({ id: '42', user });
    const group = { groupId: 'g1', name: 'G', ownerUserId: 'u1', createdAt: 1, updatedAt: 3 };
    expect(itemOfRecord(record('Outbox', 'INSERT', outboxItemOf({ kind: 'group', group }, 0)))).toEqual({ id: '42', group });
  });

  it('INSERT of several users registered at once (one item, at most OUTBOX_USERS_PER_ITEM users): all their rows', () => {
    const users = Array.from({ length: 3 }, (_, i) => ({ userId: `u${i}`, createdAt: 1, updatedAt: 1 }));
    const item = outboxUsersItemOf(users, 0);
    expect(Buffer.byteLength(JSON.stringify(outboxUsersItemOf(Array.from({ length: OUTBOX_USERS_PER_ITEM }, (_, i) => ({ userId: 'x'.repeat(64) + i, nickname: 'n'.repeat(64), createdAt: 1, updatedAt: 1 })), 0)))).toBeLessThan(100_000);
    expect(itemOfRecord(record('Outbox', 'INSERT', item))).toEqual({ id: '42', users });
    expect(outboxUsersItemOf(users, 5).id).toBe(item.id);
  });

  it('names each row version once, so the same version written again changes nothing', () => {
    const user = { userId: 'u1', createdAt: 1, updatedAt: 2 };
    expect(outboxItemOf({ kind: 'user', user }, 10).id).toBe(outboxItemOf({ kind: 'user', user }, 20).id);
    expect(outboxItemOf({ kind: 'user', user: { ...user, updatedAt: 3 } }).id).not.toBe(outboxItemOf({ kind: 'user', user }).id);
  });

  it('an unknown kind cannot be read', () => {
    expect(() => itemOfRecord(record('Outbox', 'INSERT', { id: 'x', kind: 'mystery' }))).toThrow(/unknown outbox kind/);
  });
});

describe('the archive', () => {
  it('tells a Messages record from an Outbox record by its keys alone (the function is given no table name)', () => {
    expect(process.env.TABLE_OUTBOX).toBeUndefined();
    expect(itemOfRecord(record('AnyName', 'INSERT', sent))).toHaveProperty('message');
    expect(itemOfRecord(record('AnyName', 'INSERT', outboxItemOf({ kind: 'user', user: { userId: 'u', createdAt: 1, updatedAt: 1 } })))).toHaveProperty('user');
  });

  it('retries Aurora resuming and server errors, and dead-letters what the database refuses', () => {
    expect(isTransient({ name: 'DatabaseResumingException', $metadata: { httpStatusCode: 400 } })).toBe(true);
    expect(isTransient({ name: 'InternalServerErrorException', $metadata: { httpStatusCode: 500 } })).toBe(true);
    expect(isTransient({ name: 'BadRequestException', $metadata: { httpStatusCode: 400 } })).toBe(false);
    expect(isTransient(new TypeError('bad value'))).toBe(false);
  });
});
