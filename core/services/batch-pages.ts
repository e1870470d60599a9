/**
 * The page worker of batch sends, run by the delivery function for `batchPage` jobs.
 * Each recipient's message goes through the ordinary send path (`sendMessage`: checks,
 * seq, idempotency record, offline store) with a clientMsgId derived from (batchId,
 * recipient), so a redelivered page stores nothing twice. The delivery jobs of a page's
 * messages are queued ten per request once its sends are done, and only then is the page
 * counted (once: `Batches.donePages`), so a crash anywhere makes SQS redeliver the page
 * and the retry finishes what is missing.
 *
 * An invocation starts sends for `PAGE_TIME_BUDGET_MS`; recipients it did not get to go
 * back on the queue as a continuation of their page, carrying the counts so far, so a
 * slow moment never runs a page into the function's timeout.
 */
import { forEachLimit } from '../domain/concurrency';
import { CirrusError } from '../errors';
import { faultPoint } from '../faults';
import { log, withLogContext } from '../log';
import type { BatchPageJob } from '../protocol/jobs';
import { batchClientMsgId, batches } from './batch';
import { sendBatch } from './queues';
import { sendMessage, type DeliveryJob } from './send';

/**
 * Sends in flight per invocation, over all its pages. Low on purpose: the pages of a batch
 * arrive ten per invocation, so a full batch runs about ten invocations at once (40 sends in
 * flight, some 800 sends a second on DynamoDB), and the messages' own delivery jobs share the
 * queue; more would only queue requests and stretch each send towards its seq's write window.
 */
export const PAGE_SEND_CONCURRENCY = 4;
/** How long an invocation keeps starting sends (the delivery function's timeout is 10 s). */
export const PAGE_TIME_BUDGET_MS = 4_000;

export interface BatchPageItem {
  /** SQS messageId of the record carrying the job. */
  id: string;
  job: BatchPageJob;
}

interface PageState {
  item: BatchPageItem;
  sent: number;
  failed: number;
  handled: boolean[];
  /** A send failed in a way worth retrying: the whole page goes back to SQS. */
  broken: boolean;
  deliveryJobs: DeliveryJob[];
}

/** Runs a batch's pages; returns the ids of the records to retry. */
export async function runBatchPages(items: readonly BatchPageItem[], started = Date.now()): Promise<Set<string>> {
  const retry = new Set<string>();
  const states: PageState[] = items.map((item) => ({ item, sent: 0, failed: 0, handled: item.job.recvIds.map(() => false), broken: false, deliveryJobs: [] }));
  // Page by page, so an invocation short of time finishes whole pages and hands on the rest.
  const tasks = states.flatMap((state) => state.item.job.recvIds.map((recvId, index) => ({ state, recvId, index })));

  await forEachLimit(tasks, PAGE_SEND_CONCURRENCY, ({ state, recvId, index }) =>
    withLogContext({ correlationId: state.item.job.correlationId }, async () => {
      const { job } = state.item;
      if (state.broken || Date.now() - started > PAGE_TIME_BUDGET_MS) return;
      try {
        await sendMessage({
          sender: { userId: job.senderId },
          clientMsgId: batchClientMsgId(job.batchId, recvId),
          recvId,
          contentType: job.contentType,
          content: job.content,
          deliveryJobs: state.deliveryJobs,
        });
        state.sent++;
        state.handled[index] = true;
        faultPoint('batch.afterSend', { batchId: job.batchId, page: job.page, index });
      } catch (err) {
        if (err instanceof CirrusError && !err.retryable && !state.handled[index]) {
          // Refused for good (blocked, not friends, refused by the app, user gone): counted as failed.
          log.warn('batch message refused', { batchId: job.batchId, page: job.page, recvId, reason: err.reason });
          state.failed++;
          state.handled[index] = true;
          return;
        }
        log.error('batch page failed; it will be retried', { batchId: job.batchId, page: job.page, recvId, err });
        state.broken = true;
      }
    }),
  );

  // Delivery (push, archive) of what was stored, broken pages included: their retry queues it again, harmlessly.
  const deliveryJobs = states.flatMap((s) => s.deliveryJobs.map((body) => ({ owner: s.item.id, body })));
  for (const owner of await sendBatch('delivery', deliveryJobs)) retry.add(owner);
  for (const s of states) if (s.broken) retry.add(s.item.id);

  const live = states.filter((s) => !retry.has(s.item.id));
  const continuations = live.flatMap((s) => {
    const rest = s.item.job.recvIds.filter((_, i) => !s.handled[i]);
    if (rest.length === 0) return [];
    const { job } = s.item;
    const body: BatchPageJob = { ...job, recvIds: rest, sent: job.sent + s.sent, failed: job.failed + s.failed };
    return [{ owner: s.item.id, body }];
  });
  if (continuations.length > 0) log.info('batch pages continued', { pages: continuations.map((c) => c.body.page), recipients: continuations.reduce((n, c) => n + c.body.recvIds.length, 0) });
  for (const owner of await sendBatch('delivery', continuations)) retry.add(owner);

  const continued = new Set(continuations.map((c) => c.owner));
  await Promise.all(
    live
      .filter((s) => !continued.has(s.item.id) && !retry.has(s.item.id))
      .map(async (s) => {
        const { job } = s.item;
        try {
          const after = await batches.countPage(job.batchId, job.page, job.sent + s.sent, job.failed + s.failed);
          if (after && after.pagesDone >= after.pages) {
            await batches.markDone(job.batchId);
            log.info('batch done', { batchId: job.batchId, sent: after.sent, failed: after.failed });
          }
        } catch (err) {
          log.error('batch page could not be counted; it will be retried', { batchId: job.batchId, page: job.page, err });
          retry.add(s.item.id);
        }
      }),
  );
  return retry;
}
