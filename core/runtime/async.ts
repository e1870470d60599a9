/**
 * Functions invoked asynchronously (Lambda `Invoke`, InvocationType `Event`): parse the
 * event, run the work. A malformed event is logged and dropped (retrying cannot fix it);
 * an error thrown by the work makes Lambda retry the event (twice), then hand it to the
 * on-failure destination, the shared dead-letter queue. The invocation's buffered debug lines
 * are written out with the error (core/runtime/observe.ts).
 */
import type { Context } from 'aws-lambda';
import { log, withLogContext } from '../log';
import { observed } from './observe';

export function asyncHandler<T extends { correlationId?: string }>(fn: string, parse: (event: unknown) => T, run: (job: T, context: Context) => Promise<void>) {
  return observed(fn, async (event: unknown, context: Context): Promise<void> => {
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
