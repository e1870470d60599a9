/**
 * Suite 6: a batch send at scale. An admin sends one message to 10,000 users
 * (POST /messages/batch), three of them online: the time from the request to the batch's
 * `done` status, and everything it cost per recipient (the page invocations, each
 * recipient's counter, message and push, the archive). The end-to-end suite runs the same
 * send with fewer recipients (test/e2e/admin-batch-scale.test.ts; CIRRUS_BATCH_SCALE sets its size).
 */
import type { LocalCirrus } from '../../local/runtime';
import { Api, connectMany, eventually, ids, measure, settle, type Measurement } from '../support';
import type { Scenario } from './requests';

export interface BatchResult {
  recipients: number;
  pages: number;
  /** From the request to the batch's `done` status. */
  doneMs: number;
  /** Recipients per second over that time. */
  perSecond: number;
  /** Priced per recipient, as a message scenario. */
  scenario: Scenario;
}

export async function runBatch(cirrus: LocalCirrus, options: { recipients: number }): Promise<BatchResult> {
  const api = new Api(cirrus);
  const users = ids('bt', options.recipients);
  await api.register(['bt-sender', ...users]);
  const online = await connectMany(api, [users[0], users[Math.floor(users.length / 2)], users[users.length - 1]]);
  await settle(cirrus);
  let doneMs = 0;
  let pages = 0;
  const measurement: Measurement = await measure(async () => {
    const started = performance.now();
    const accepted = await api.call<{ pages: number }>('POST', '/messages/batch', { sendId: 'bt-sender', recvIds: users, contentType: 101, content: { text: 'to everyone' }, batchId: 'bench-batch' });
    pages = accepted.pages;
    const done = await eventually(async () => {
      const progress = await api.call<{ status: string; sent: number; failed: number }>('GET', '/messages/batch/bench-batch');
      return progress.status === 'done' && progress;
    }, 1_200_000);
    doneMs = performance.now() - started;
    if (done.sent !== options.recipients || done.failed !== 0) throw new Error(`batch: ${done.sent} sent, ${done.failed} failed of ${options.recipients}`);
  }, cirrus);
  await Promise.all(online.map((c) => c.close()));
  return {
    recipients: options.recipients,
    pages,
    doneMs,
    perSecond: options.recipients / (doneMs / 1000),
    scenario: { id: 'batch', title: `Batch send to ${options.recipients.toLocaleString('en-US')} users, 3 online (per recipient)`, unit: 'message', units: options.recipients, measurement },
  };
}
