/** Archive queue consumer: messages into the Aurora history. */
import { sqsBatchHandler } from '../core/runtime/sqs';
import { archive } from '../core/services/archive';
import { ArchiveJobSchema } from '../core/protocol/jobs';
import { faultPoint } from '../core/faults';

export const handler = sqsBatchHandler('archive', (body) => ArchiveJobSchema.parse(body), async (items) => {
  const failed = await archive(items.map(({ id, job }) => ({ id, message: job.message, replaced: job.replaced, correlationId: job.correlationId })));
  faultPoint('archive.afterInsert', { size: items.length });
  return failed;
});
