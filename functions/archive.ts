/** Archive queue consumer: messages, users and groups into the Aurora history. */
import { sqsBatchHandler } from '../core/runtime/sqs';
import { archive, type ArchiveItem } from '../core/services/archive';
import { ArchiveJobSchema, type ArchiveJob } from '../core/protocol/jobs';
import { faultPoint } from '../core/faults';

function itemOf(id: string, job: ArchiveJob): ArchiveItem {
  if ('kind' in job && job.kind === 'user') return { id, user: job.user, correlationId: job.correlationId };
  if ('kind' in job && job.kind === 'group') return { id, group: job.group, correlationId: job.correlationId };
  const { message, replaced, correlationId } = job as Extract<ArchiveJob, { message: unknown }>;
  return { id, message, replaced, correlationId };
}

export const handler = sqsBatchHandler('archive', (body) => ArchiveJobSchema.parse(body), async (items) => {
  const failed = await archive(items.map(({ id, job }) => itemOf(id, job)));
  faultPoint('archive.afterInsert', { size: items.length });
  return failed;
});
