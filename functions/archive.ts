/**
 * Consumer of the Messages and Outbox streams: messages, edits, users and groups into the
 * Aurora history, the afterSendMessage callback of each new message, and each user's count
 * of sends against the limits (core/services/limits.ts).
 *
 * Reports `batchItemFailures` (Lambda then retries from the first one, in shard order);
 * a record that can never be archived is sent whole to the shared dead-letter queue first
 * and counted as done.
 */
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { faultPoint } from '../core/faults';
import { log } from '../core/log';
import { observed } from '../core/runtime/observe';
import { archive, isMessage, itemOfRecord, queueAfterSend, sendToDeadLetters, type ArchiveItem } from '../core/services/archive';
import { countSends } from '../core/services/limits';

export const handler = observed('archive', async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    const items: ArchiveItem[] = [];
    const records = new Map<string, DynamoDBRecord>();
    const failed = new Set<string>();
    const poison = new Map<string, string>();
    for (const record of event.Records) {
      const id = record.dynamodb?.SequenceNumber ?? '';
      records.set(id, record);
      try {
        const item = itemOfRecord(record);
        if (item) items.push(item);
      } catch (err) {
        poison.set(id, `unreadable record: ${(err as Error).message}`);
      }
    }
    const outcome = await archive(items);
    for (const id of outcome.retry) failed.add(id);
    for (const [id, reason] of outcome.poison) poison.set(id, reason);
    faultPoint('archive.afterInsert', { size: items.length, messages: items.filter(isMessage).length });

    // The callbacks of the messages now in the history (their delivery ids are fixed: a retry queues the same ones).
    const archived = items.filter((i) => outcome.done.has(i.id)).filter(isMessage);
    // Each user's sends over the window (in memory); a user over it is throttled (writes only then).
    await countSends(items.filter(isMessage).flatMap((i) => (i.inserted ? [{ ...i.message, limited: i.limited === true }] : []))).catch((err) => log.warn('counting sends failed', { err }));
    for (const id of await queueAfterSend(archived)) failed.add(id);

    for (const [id, reason] of poison) {
      const record = records.get(id)!;
      try {
        await sendToDeadLetters('archive', record, reason);
        log.error('stream record dead-lettered', { sequenceNumber: id, eventSourceARN: record.eventSourceARN, reason });
      } catch (err) {
        log.error('stream record could not be dead-lettered; retrying it', { sequenceNumber: id, err });
        failed.add(id);
      }
    }
    // Lambda restarts from the first failure reported, so the order does not matter.
    return { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })) };
});
