/** Delivery queue consumer: accepted messages, and the pages of batch sends. */
import { sqsBatchHandler } from '../core/runtime/sqs';
import { deliver, type DeliveryItem } from '../core/services/delivery';
import { runBatchPages, type BatchPageItem } from '../core/services/batch-pages';
import { BatchPageJobSchema, DeliveryJobSchema } from '../core/protocol/jobs';
import type { BatchPageJob } from '../core/protocol/jobs';
import type { DeliveryJob } from '../core/services/send';

type Job = { kind: 'message'; job: DeliveryJob } | { kind: 'batchPage'; job: BatchPageJob };

const parse = (body: unknown): Job =>
  (body as { kind?: unknown } | null)?.kind === 'batchPage' ? { kind: 'batchPage', job: BatchPageJobSchema.parse(body) } : { kind: 'message', job: DeliveryJobSchema.parse(body) };

export const handler = sqsBatchHandler('delivery', parse, async (items) => {
  const messages: DeliveryItem[] = [];
  const pages: BatchPageItem[] = [];
  for (const { id, job } of items) {
    if (job.kind === 'batchPage') pages.push({ id, job: job.job });
    else messages.push({ id, job: job.job });
  }
  const [a, b] = await Promise.all([messages.length > 0 ? deliver(messages) : new Set<string>(), pages.length > 0 ? runBatchPages(pages) : new Set<string>()]);
  return new Set([...a, ...b]);
});
