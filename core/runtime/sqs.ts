/**
 * SQS consumers: parse each record's job, process the batch, and report the records
 * to retry as `batchItemFailures` so one bad record does not redeliver the others.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { log } from '../log';
import { observed } from './observe';

export function sqsBatchHandler<T>(fn: string, parse: (body: unknown) => T, processBatch: (items: { id: string; job: T }[]) => Promise<Set<string>>) {
  return observed(fn, async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const items: { id: string; job: T }[] = [];
    const failures = new Set<string>();
    for (const record of event.Records) {
      try {
        items.push({ id: record.messageId, job: parse(JSON.parse(record.body)) });
      } catch (err) {
        // A malformed job never succeeds: it goes round until the DLQ takes it (alarmed).
        log.error('malformed job', { messageId: record.messageId, err });
        failures.add(record.messageId);
      }
    }
    if (items.length > 0) for (const id of await processBatch(items)) failures.add(id);
    return { batchItemFailures: [...failures].map((itemIdentifier) => ({ itemIdentifier })) };
  });
}
