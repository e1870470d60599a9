/**
 * Physical deletes (OpenIM's physical message deletion): messages removed for good from
 * both stores, the DynamoDB offline store and the Aurora history (with their edits).
 * Members then see holes where they were: a pull reports the seqs as missing and, their
 * write window long closed, as settled holes (core/domain/holes.ts).
 *
 * Order: the history first (tombstone, then rows), then the offline store. The tombstone
 * stops every later insert of the same (conversation, seq) into the history, so a
 * delivery or archive job still in flight (or redelivered) cannot bring a purged message
 * back, whenever it runs.
 */
import { QueryCommand, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import { ddb } from '../aws/dynamodb';
import { config } from '../config';
import { CirrusError } from '../errors';
import { historyPurge } from '../history/purge';
import { log } from '../log';
import { conversations } from '../store/conversations';
import { batchGet, batchWrite, chunk } from '../store/dynamo';

/** Messages purged per call, at most: a `before` purge of more takes several calls (repeat while `purged` is this). */
export const MAX_PURGE = 1000;

/** Seqs of messages in the offline store sent before `before`, oldest first, at most `limit`. */
async function offlineSeqsBefore(conversationId: string, before: number, limit: number): Promise<number[]> {
  // seq order and sendTime order agree to within half the settle time (a message is
  // written at most seqSettleMs/2 after its seq is allocated): once a message was sent
  // that long after `before`, no later seq was sent before it.
  const stopAt = before + config.seqSettleMs() / 2;
  const out: number[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page: QueryCommandOutput = await ddb().send(
      new QueryCommand({
        TableName: config.tableName('messages'),
        KeyConditionExpression: 'conversationId = :c',
        ExpressionAttributeValues: { ':c': conversationId },
        ProjectionExpression: 'seq, sendTime',
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) {
      const sendTime = Number(item.sendTime);
      if (sendTime < before) out.push(Number(item.seq));
      if (out.length >= limit || sendTime >= stopAt) return out;
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return out;
}

/** Which of `seqs` have an item in the offline store (100 keys per request). */
async function offlinePresent(conversationId: string, seqs: readonly number[]): Promise<Set<number>> {
  const table = config.tableName('messages');
  const found = new Set<number>();
  for (const part of chunk(seqs, 100)) {
    const res = await batchGet({ [table]: { Keys: part.map((seq) => ({ conversationId, seq })), ProjectionExpression: 'seq' } });
    for (const item of res[table] ?? []) found.add(Number(item.seq));
  }
  return found;
}

export async function purgeMessages(conversationId: string, req: { seqs?: readonly number[]; before?: number }): Promise<{ purged: number }> {
  if ((req.seqs === undefined) === (req.before === undefined)) throw new CirrusError('INVALID_ARGUMENT', 'Give exactly one of seqs and before');
  const counter = await conversations.counter(conversationId);
  if (!counter) throw new CirrusError('CONVERSATION_NOT_FOUND', `No conversation ${conversationId}`);

  let seqs: number[];
  let offline: Set<number>;
  if (req.seqs !== undefined) {
    seqs = [...new Set(req.seqs)].filter((s) => s <= counter.maxSeq).sort((a, b) => a - b);
    offline = await offlinePresent(conversationId, seqs);
  } else {
    const [fromOffline, fromHistory] = await Promise.all([offlineSeqsBefore(conversationId, req.before!, MAX_PURGE), historyPurge.seqsBefore(conversationId, req.before!, MAX_PURGE)]);
    seqs = [...new Set([...fromOffline, ...fromHistory])].sort((a, b) => a - b).slice(0, MAX_PURGE);
    offline = new Set(fromOffline);
  }
  if (seqs.length === 0) return { purged: 0 };

  const archived = await historyPurge.purge(conversationId, seqs);
  const inOffline = seqs.filter((s) => offline.has(s));
  await batchWrite(
    config.tableName('messages'),
    inOffline.map((seq) => ({ DeleteRequest: { Key: { conversationId, seq } } })),
  );
  const purged = new Set([...archived, ...inOffline]).size;
  log.info('messages purged', { conversationId, purged, fromSeq: seqs[0], toSeq: seqs[seqs.length - 1] });
  return { purged };
}
