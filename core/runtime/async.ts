/**
 * Functions invoked asynchronously (Lambda `Invoke`, InvocationType `Event`): parse the
 * event, run the work. A malformed event is logged and dropped (retrying cannot fix it);
 * an error thrown by the work makes Lambda retry the event (twice), then hand it to the
 * on-failure destination, the shared dead-letter queue.
 */
import type { Context } from 'aws-lambda';
import { log, withLogContext } from '../log';

export function asyncHandler<T extends { correlationId?: string }>(fn: string, parse: (event: unknown) => T, run: (job: T, context: Context) => Promise<void>) {
  return async (event: unknown, context: Context): Promise<void> =>
    withLogContext({ fn }, async () => {
      let job: T;
      try {
        job = parse(event);
      } catch (err) {
        log.error('malformed event, dropped', { err });
        return;
      }
      await withLogContext({ correlationId: job.correlationId }, () => run(job, context));
    });
}
