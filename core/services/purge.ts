/**
 * Physical deletes (OpenIM's physical message deletion): messages removed for good from
 * both stores, the DynamoDB offline store and the Aurora history (with their edits).
 * Members then see holes where they were: a pull reports the seqs as missing and, their
 * write window long closed, as settled holes (core/domain/holes.ts).
 *
 * Order: the history first (tombstone, then rows), then the offline store, whose
 * messages' idempotency records are marked purged first (a resend of the same clientMsgId
 * is then acknowledged without storing the message again). The tombstone
 * stops every later insert of the same (conversation, seq) into the history, so a
 * delivery or archive job still in flight (or redelivered) cannot bring a purged message
 * back, whenever it runs: one whose insert is under way when the purge starts is waited for
 * (a per-conversation advisory lock, core/history/purge.ts) and its row deleted.
 */
import { QueryCommand, UpdateCommand, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import { ddb } from '../aws/dynamodb';
import { config } from '../config';
import { CirrusError } from '../errors';
import { historyPurge } from '../history/purge';
import { log } from '../log';
import { conversations } from '../store/conversations';
import { batchGet, batchWrite, chunk, isConditionFailure } from '../store/dynamo';
import { senderMsgKey } from '../store/messages';
import { forEachLimit } from '../domain/concurrency';
import { claimsOnCounter } from '../domain/claims';

/** Messages purged per call, at most: a `before` purge of more takes several calls (repeat while `purged` is this). */
export const MAX_PURGE = 1000;

/** What the offline store has of a message: enough to find its idempotency record. */
interface OfflineKey {
  seq: number;
  senderId: string;
  clientMsgId: string;
  serverMsgId: string;
  sendTime: number;
  expiresAt: number;
}

const OFFLINE_KEY_ATTRIBUTES = 'seq, sendTime, senderId, clientMsgId, serverMsgId, expiresAt';

const offlineKey = (item: Record<string, unknown>): OfflineKey => ({
  seq: Number(item.seq),
  senderId: String(item.senderId),
  clientMsgId: String(item.clientMsgId),
  serverMsgId: String(item.serverMsgId),
  sendTime: Number(item.sendTime),
  expiresAt: Number(item.expiresAt),
});

/** Messages in the offline store sent before `before`, oldest first, at most `limit`. */
async function offlineBefore(conversationId: string, before: number, limit: number): Promise<OfflineKey[]> {
  // seq order and sendTime order agree to within half the settle time (a message is
  // written at most seqSettleMs/2 after its seq is allocated): once a message was sent
  // that long after `before`, no later seq was sent before it.
  const stopAt = before + config.seqSettleMs() / 2;
  const out: OfflineKey[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page: QueryCommandOutput = await ddb().send(
      new QueryCommand({
        TableName: config.tableName('messages'),
        KeyConditionExpression: 'conversationId = :c',
        ExpressionAttributeValues: { ':c': conversationId },
        ProjectionExpression: OFFLINE_KEY_ATTRIBUTES,
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) {
      const sendTime = Number(item.sendTime);
      if (sendTime < before) out.push(offlineKey(item));
      if (out.length >= limit || sendTime >= stopAt) return out;
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return out;
}

/** Which of `seqs` have an item in the offline store (100 keys per request). */
async function offlinePresent(conversationId: string, seqs: readonly number[]): Promise<OfflineKey[]> {
  const table = config.tableName('messages');
  const found: OfflineKey[] = [];
  for (const part of chunk(seqs, 100)) {
    const res = await batchGet({ [table]: { Keys: part.map((seq) => ({ conversationId, seq })), ProjectionExpression: OFFLINE_KEY_ATTRIBUTES } });
    for (const item of res[table] ?? []) found.push(offlineKey(item));
  }
  return found;
}

/**
 * Marks the messages' idempotency records purged, so a resend of the same clientMsgId (a
 * client retrying, a batch page redelivered) is acknowledged without storing it again. A
 * message sent into a 1:1 or notification conversation over WebSocket has no record (its
 * claim is on the counter, core/domain/claims.ts): one is written, purged, for a resend
 * within the sender's window to find.
 */
async function markPurged(conversationId: string, keys: readonly OfflineKey[], now: number): Promise<void> {
  const windowed = claimsOnCounter(conversationId);
  await forEachLimit(keys, 16, async (k) => {
    try {
      await ddb().send(
        new UpdateCommand({
          TableName: config.tableName('messageIds'),
          Key: { senderMsgKey: senderMsgKey(k.senderId, k.clientMsgId) },
          ...(windowed
            ? {
                UpdateExpression:
                  'SET purgedAt = :now, conversationId = if_not_exists(conversationId, :c), seq = if_not_exists(seq, :seq), serverMsgId = if_not_exists(serverMsgId, :id), sendTime = if_not_exists(sendTime, :t), allocatedAt = if_not_exists(allocatedAt, :t), expiresAt = if_not_exists(expiresAt, :exp)',
                ConditionExpression: 'attribute_not_exists(senderMsgKey) OR seq = :seq',
                ExpressionAttributeValues: { ':now': now, ':c': conversationId, ':seq': k.seq, ':id': k.serverMsgId, ':t': k.sendTime, ':exp': k.expiresAt },
              }
            : {
                UpdateExpression: 'SET purgedAt = :now',
                ConditionExpression: 'attribute_exists(senderMsgKey) AND seq = :seq',
                ExpressionAttributeValues: { ':now': now, ':seq': k.seq },
              }),
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  });
}

export async function purgeMessages(conversationId: string, req: { seqs?: readonly number[]; before?: number }): Promise<{ purged: number }> {
  if ((req.seqs === undefined) === (req.before === undefined)) throw new CirrusError('INVALID_ARGUMENT', 'Give exactly one of seqs and before');
  const counter = await conversations.counter(conversationId);
  if (!counter) throw new CirrusError('CONVERSATION_NOT_FOUND', `No conversation ${conversationId}`);

  let seqs: number[];
  let offline: OfflineKey[];
  if (req.seqs !== undefined) {
    seqs = [...new Set(req.seqs)].filter((s) => s <= counter.maxSeq).sort((a, b) => a - b);
    offline = await offlinePresent(conversationId, seqs);
  } else {
    const [fromOffline, fromHistory] = await Promise.all([offlineBefore(conversationId, req.before!, MAX_PURGE), historyPurge.seqsBefore(conversationId, req.before!, MAX_PURGE)]);
    seqs = [...new Set([...fromOffline.map((k) => k.seq), ...fromHistory])].sort((a, b) => a - b).slice(0, MAX_PURGE);
    offline = fromOffline;
  }
  if (seqs.length === 0) return { purged: 0 };

  const archived = await historyPurge.purge(conversationId, seqs);
  const chosen = new Set(seqs);
  const inOffline = offline.filter((k) => chosen.has(k.seq));
  await markPurged(conversationId, inOffline, Date.now());
  await batchWrite(
    config.tableName('messages'),
    inOffline.map(({ seq }) => ({ DeleteRequest: { Key: { conversationId, seq } } })),
  );
  const purged = new Set([...archived, ...inOffline.map((k) => k.seq)]).size;
  log.info('messages purged', { conversationId, purged, fromSeq: seqs[0], toSeq: seqs[seqs.length - 1] });
  return { purged };
}
