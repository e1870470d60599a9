/** Sending jobs to SQS in batches of ten (one request instead of ten). */
import { sendMessageBatch, sqsBody } from '../aws/sqs';
import { config } from '../config';
import type { QueueKey } from '../manifest';
import { chunk } from '../store/dynamo';

/**
 * Sends `bodies` (already tagged with an owner, e.g. the SQS record that produced them)
 * and returns the owners whose jobs could not be sent.
 */
export async function sendBatch(queue: QueueKey, jobs: readonly { owner: string; body: unknown }[]): Promise<Set<string>> {
  const failedOwners = new Set<string>();
  const url = config.queueUrl(queue);
  for (const part of chunk(jobs, 10)) {
    try {
      const res = await sendMessageBatch(url, part.map((job, i) => ({ Id: String(i), MessageBody: sqsBody(job.body) })));
      for (const failed of res.Failed) failedOwners.add(part[Number(failed.Id)].owner);
    } catch {
      for (const job of part) failedOwners.add(job.owner);
    }
  }
  return failedOwners;
}
