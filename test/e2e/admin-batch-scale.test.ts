/**
 * A batch send of 2,000 recipients (CIRRUS_BATCH_SCALE=10000 runs the 10,000 the benchmark
 * measures, `npm run bench -- --suite batch`) as asynchronous invocations of the batch pages function
 * (one per page of 100, no queue) in the local runtime: every recipient
 * gets exactly one message (checked in the offline store for all of them, and over the
 * WebSocket for the online ones, who also get the push), the counters add up, and the
 * archive ends with one row per recipient.
 */
import { describe, expect, it } from 'vitest';
import { ScanCommand, type ScanCommandOutput } from '@aws-sdk/lib-dynamodb';
import { eventually, syncConversation } from '../support/cirrus';
import { admin, cirrus, device, useCirrus } from '../support/harness';
import { ddb } from '../../core/aws/dynamodb';
import { singleConversationId } from '../../core/domain/ids';
import { batchClientMsgId } from '../../core/services/batch';
import { forEachLimit } from '../../core/domain/concurrency';
import { chunk } from '../../core/store/dynamo';
import { metering } from '../../local/metering';

const RECIPIENTS = Number(process.env.CIRRUS_BATCH_SCALE || 2_000);
const PAGES = Math.ceil(RECIPIENTS / 100);
const SENDER = 'scale-sender';
const ids = Array.from({ length: RECIPIENTS }, (_, i) => `scale-${String(i).padStart(5, '0')}`);

useCirrus();

/** The sender's messages in the offline store: conversationId -> clientMsgIds (a parallel Scan, from the test only). */
async function sentBySender(): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const segments = 4;
  await Promise.all(
    Array.from({ length: segments }, async (_, segment) => {
      let startKey: Record<string, unknown> | undefined;
      do {
        const page: ScanCommandOutput = await ddb().send(
          new ScanCommand({
            TableName: cirrus.tableNames.messages,
            Segment: segment,
            TotalSegments: segments,
            FilterExpression: 'senderId = :s',
            ExpressionAttributeValues: { ':s': SENDER },
            ProjectionExpression: 'conversationId, clientMsgId',
            ExclusiveStartKey: startKey,
          }),
        );
        for (const item of page.Items ?? []) {
          const list = out.get(item.conversationId as string) ?? [];
          list.push(item.clientMsgId as string);
          out.set(item.conversationId as string, list);
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    }),
  );
  return out;
}

describe(`a batch of ${RECIPIENTS.toLocaleString('en-US')} recipients`, () => {
  it('completes through asynchronous page invocations with exactly one message per recipient', async () => {
    const registerStarted = Date.now();
    await admin.register(SENDER);
    await forEachLimit(chunk(ids, 1000), 2, async (part) => {
      const res = await admin.call('POST', '/users/register', { users: part.map((userId) => ({ userId })) });
      expect(res.status).toBe(200);
    });
    const onlineIds = [ids[0], ids[Math.floor(RECIPIENTS * 0.4321)], ids[RECIPIENTS - 1]];
    const online = await Promise.all(onlineIds.map((id) => device(id)));
    console.log(`registered ${RECIPIENTS} users in ${((Date.now() - registerStarted) / 1000).toFixed(1)} s`);

    const started = Date.now();
    const meteredBefore = metering.snapshot();
    const res = await admin.call('POST', '/messages/batch', { sendId: SENDER, recvIds: ids, contentType: 101, content: { text: 'to everyone' }, batchId: 'scale-batch' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ batchId: 'scale-batch', recipients: RECIPIENTS, pages: PAGES });
    const accepted = Date.now();
    let lastReport = accepted;
    const done = await eventually(
      async () => {
        const progress = await admin.call('GET', '/messages/batch/scale-batch');
        if (Date.now() - lastReport > 10_000) {
          lastReport = Date.now();
          console.log(`${((lastReport - started) / 1000).toFixed(0)} s: ${progress.body.sent} sent, ${progress.body.pagesDone} pages done`);
        }
        return progress.body.status === 'done' && progress.body;
      },
      600_000,
      1000,
    );
    const finished = Date.now();
    console.log(`batch of ${RECIPIENTS}: accepted in ${((accepted - started) / 1000).toFixed(1)} s, done in ${((finished - started) / 1000).toFixed(1)} s`);
    expect(done).toMatchObject({ status: 'done', recipients: RECIPIENTS, sent: RECIPIENTS, failed: 0, pages: PAGES, pagesDone: PAGES });
    // One invocation per page at least (a page short of time continues in another); nothing on a queue but the archive's.
    expect(metering.since(meteredBefore).invocations.batchPages?.count).toBeGreaterThanOrEqual(PAGES);
    expect(cirrus.sqs.listQueues().sort()).toEqual(['DeadLetters', 'Webhook', 'Webhook-dlq']);

    // Every recipient: exactly one message, in their own conversation, with the batch's clientMsgId.
    const stored = await sentBySender();
    expect(stored.size).toBe(RECIPIENTS);
    const wrong = ids.filter((id) => {
      const list = stored.get(singleConversationId(SENDER, id));
      return !list || list.length !== 1 || list[0] !== batchClientMsgId('scale-batch', id);
    });
    expect(wrong).toEqual([]);

    // The online devices got the push, and a sync shows one message.
    for (const [i, d] of online.entries()) {
      const clientMsgId = batchClientMsgId('scale-batch', onlineIds[i]);
      await d.until(() => d.pushes.some((m) => m.clientMsgId === clientMsgId), 30_000, 'the push');
      const conv = singleConversationId(SENDER, onlineIds[i]);
      const synced = await syncConversation(d, conv, 1);
      expect(synced.messages.map((m) => m.clientMsgId)).toEqual([clientMsgId]);
      expect(d.pushes.filter((m) => m.conversationId === conv).length).toBeGreaterThanOrEqual(1);
    }

    // The archive catches up with one row per recipient.
    await eventually(async () => {
      const rows = await cirrus.dataApi.query(`SELECT count(*)::int AS n, count(DISTINCT conversation_id)::int AS c FROM messages WHERE sender_id = '${SENDER}'`);
      return rows[0].n === RECIPIENTS && rows[0].c === RECIPIENTS;
    }, 180_000, 1000);
    console.log(`archived ${RECIPIENTS} rows ${((Date.now() - finished) / 1000).toFixed(1)} s after the batch was done`);
  }, 900_000);
});
