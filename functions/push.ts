/** Push queue consumer: a job is retried whole if any of its connections failed (duplicates are harmless). */
import { sqsBatchHandler } from '../core/runtime/sqs';
import { pushToUsers } from '../core/services/push';
import { PushJobSchema } from '../core/protocol/jobs';
import { faultPoint } from '../core/faults';
import { log, withLogContext } from '../core/log';

export const handler = sqsBatchHandler('push', (body) => PushJobSchema.parse(body), async (items) => {
  const failed = new Set<string>();
  await Promise.all(
    items.map(({ id, job }) =>
      withLogContext({ correlationId: job.correlationId }, async () => {
        const outcome = await pushToUsers(job).catch((err) => {
          log.error('push job failed', { err });
          return { delivered: 0, gone: 0, failed: 1, tooLarge: 0 };
        });
        log.info('message pushed', { conversationId: job.message.conversationId, seq: job.message.seq, ...outcome });
        if (outcome.failed > 0) failed.add(id);
      }),
    ),
  );
  faultPoint('push.afterPost', { size: items.length });
  return failed;
});
