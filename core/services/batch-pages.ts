/**
 * The page worker of batch sends, the batch pages function: each page is an asynchronous
 * invocation (queued by `createBatch`), which Lambda keeps until it succeeds and retries
 * if it fails. Each recipient's message goes through the ordinary send path
 * (`sendMessage`: checks, seq, idempotency record, offline store, push, archive) with a
 * clientMsgId derived from (batchId, recipient), so a retried page stores nothing twice.
 * Only when every recipient of the page is handled is the page counted (once:
 * `Batches.donePages`), so a crash anywhere makes Lambda run the page again and the retry
 * finishes what is missing; the Batches item is the record of progress.
 *
 * An invocation starts sends for `PAGE_TIME_BUDGET_MS`; recipients it did not get to go
 * to a new invocation of the function, a continuation of their page carrying the counts so
 * far, so a slow moment never runs a page into the function's timeout.
 */
import { invokeAsync } from '../aws/lambda';
import { forEachLimit } from '../domain/concurrency';
import { CirrusError } from '../errors';
import { faultPoint } from '../faults';
import { correlationId, log } from '../log';
import type { NotifyTarget } from '../offline-push/rules';
import { invokeNotify } from '../offline-push/targets';
import type { Message } from '../protocol/schema';
import type { BatchPageJob } from '../protocol/jobs';
import { batchClientMsgId, batches } from './batch';
import { sendMessage } from './send';

/**
 * Sends in flight per page. A full batch runs its hundred pages as concurrent invocations,
 * so a few per page already make hundreds of sends a second on DynamoDB; more would only
 * stretch each send towards its seq's write window.
 */
export const PAGE_SEND_CONCURRENCY = 4;
/** How long an invocation keeps starting sends (the batch pages function's timeout is 10 s). */
export const PAGE_TIME_BUDGET_MS = 4_000;

/** Runs (the rest of) one page; throws for Lambda to retry the page when a send failed in a way worth retrying. */
export async function runBatchPage(job: BatchPageJob, started = Date.now()): Promise<void> {
  const handled = job.recvIds.map(() => false);
  let sent = 0;
  let failed = 0;
  let broken: unknown;
  // The offline-push targets of the page's messages: one notify invocation per slice of the page, not one per message.
  const offline: { message: Message; targets: NotifyTarget[] }[] = [];
  await forEachLimit(
    job.recvIds.map((recvId, index) => ({ recvId, index })),
    PAGE_SEND_CONCURRENCY,
    async ({ recvId, index }) => {
      if (broken !== undefined || Date.now() - started > PAGE_TIME_BUDGET_MS) return;
      try {
        await sendMessage({
          sender: { userId: job.senderId },
          clientMsgId: batchClientMsgId(job.batchId, recvId),
          recvId,
          contentType: job.contentType,
          content: job.content,
          ...(job.offlinePush ? { offlinePush: job.offlinePush } : {}),
          offline: (message, targets) => offline.push({ message, targets }),
        });
        sent++;
        handled[index] = true;
        faultPoint('batch.afterSend', { batchId: job.batchId, page: job.page, index });
      } catch (err) {
        if (err instanceof CirrusError && !err.retryable && !handled[index]) {
          // Refused for good (blocked, not friends, refused by the app, user gone): counted as failed.
          log.warn('batch message refused', { batchId: job.batchId, page: job.page, recvId, reason: err.reason });
          failed++;
          handled[index] = true;
          return;
        }
        log.error('batch page failed; it will be retried', { batchId: job.batchId, page: job.page, recvId, err });
        broken = err;
      }
    },
  );
  // Before a failure is thrown: a retried page resends what it stored, which notifies nobody again.
  await notifyPage(offline, job);
  if (broken !== undefined) throw new Error(`Page ${job.page} of batch ${job.batchId} failed`, { cause: broken });

  const counts = { sent: job.sent + sent, failed: job.failed + failed };
  const rest = job.recvIds.filter((_, i) => !handled[i]);
  if (rest.length > 0) {
    // If this invocation is refused, the page fails and Lambda runs it again whole (idempotent).
    await invokeAsync('batchPages', { ...job, recvIds: rest, ...counts } satisfies BatchPageJob, { self: true });
    log.info('batch page continued', { batchId: job.batchId, page: job.page, recipients: rest.length });
    return;
  }
  const after = await batches.countPage(job.batchId, job.page, counts.sent, counts.failed);
  if (after && after.pagesDone >= after.pages) {
    await batches.markDone(job.batchId);
    log.info('batch done', { batchId: job.batchId, sent: after.sent, failed: after.failed });
  }
}

/** The page's offline-push targets, each with its own message's conversation, seq and ids, to the notify function. */
async function notifyPage(offline: { message: Message; targets: NotifyTarget[] }[], job: BatchPageJob): Promise<void> {
  if (offline.length === 0) return;
  const template = offline[0].message;
  const targets = offline.flatMap(({ message, targets }) =>
    targets.map((t): NotifyTarget => ({ ...t, m: { conversationId: message.conversationId, seq: message.seq, serverMsgId: message.serverMsgId, sendTime: message.sendTime, ...(message.recvId !== undefined ? { recvId: message.recvId } : {}) } })),
  );
  const invoked = await invokeNotify({ message: template, targets, correlationId: correlationId() });
  log.debug('batch page offline push', { batchId: job.batchId, page: job.page, targets: targets.length, invocations: invoked });
}
