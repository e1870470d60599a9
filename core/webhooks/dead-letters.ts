/**
 * The webhook dead-letter queue, for operators: after-callbacks the app backend never
 * answered 2xx within the queue's receive count. Peeking receives messages with a short
 * visibility and makes them visible again at once, so nothing is consumed; redriving
 * sends them back to the webhook queue and deletes them from the DLQ. Their delivery ids
 * travel with them, so a callback sent twice (a redrive interrupted between send and
 * delete) is recognisable by the backend.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type Message as SqsMessage,
} from '@aws-sdk/client-sqs';
import { sqs } from '../aws/sqs-client';
import { config } from '../config';
import { log } from '../log';
import { queues } from '../manifest';
import { WebhookJobSchema } from '../protocol/jobs';
import '../protocol/zod-locale';

/** Seconds a peeked message stays hidden if making it visible again fails. */
const PEEK_VISIBILITY_SECONDS = 5;
/** Seconds a message being moved stays hidden in the DLQ before its delete. */
const MOVE_VISIBILITY_SECONDS = 60;
/** The most a redrive moves in one call; the caller repeats it for more. */
export const MAX_REDRIVE = 1000;
/** How long one redrive call may keep moving (the HTTP function has 15 s). */
const REDRIVE_BUDGET_MS = 8000;

export interface DeadLetter {
  /** The SQS message id: stable while the message stays in the DLQ. */
  receiptId: string;
  callback: string;
  deliveryId: string;
  data: unknown;
  /** When the job was first queued (epoch ms). */
  sentAt?: number;
  /** How many times it was received, over both queues. */
  receiveCount?: number;
}

const dlqUrl = (): string => {
  const name = queues.webhook.deadLetterEnvVar;
  const url = process.env[name];
  if (!url) throw new Error(`${name} is not set`);
  return url;
};

function describe(m: SqsMessage): DeadLetter {
  let body: unknown;
  try {
    body = JSON.parse(m.Body ?? '');
  } catch {
    body = undefined;
  }
  const job = WebhookJobSchema.safeParse(body);
  const loose = (body ?? {}) as { callback?: unknown; id?: unknown; data?: unknown };
  const sentAt = Number(m.Attributes?.SentTimestamp);
  const receiveCount = Number(m.Attributes?.ApproximateReceiveCount);
  return {
    receiptId: m.MessageId ?? '',
    // A body that is not a valid job (a newer or older shape) is shown as it is.
    callback: job.success ? job.data.callback : typeof loose.callback === 'string' ? loose.callback : 'unknown',
    deliveryId: job.success ? job.data.id : typeof loose.id === 'string' ? loose.id : '',
    data: job.success ? job.data.data : (loose.data ?? m.Body),
    ...(Number.isFinite(sentAt) ? { sentAt } : {}),
    ...(Number.isFinite(receiveCount) ? { receiveCount } : {}),
  };
}

async function receive(url: string, max: number, visibilitySeconds: number): Promise<SqsMessage[]> {
  const res = await sqs().send(
    new ReceiveMessageCommand({
      QueueUrl: url,
      MaxNumberOfMessages: Math.min(10, max),
      VisibilityTimeout: visibilitySeconds,
      WaitTimeSeconds: 0,
      MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
    }),
  );
  return res.Messages ?? [];
}

/** SQS's approximate counts of a queue: visible (waiting) and not visible (in flight, or hidden until a retry). */
async function depth(url: string): Promise<{ waiting: number; inFlight: number }> {
  const res = await sqs().send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  return { waiting: Number(res.Attributes?.ApproximateNumberOfMessages ?? 0), inFlight: Number(res.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0) };
}

/** Callbacks not yet delivered and not dead-lettered: queued, being sent, or waiting for their next try. */
export interface PendingCallbacks {
  waiting: number;
  inFlight: number;
}

export interface DeadLetterView {
  configured: boolean;
  approximateCount: number;
  pending: PendingCallbacks;
  messages: DeadLetter[];
}

/**
 * Up to `limit` dead letters, oldest first as SQS hands them out, left in the queue. With
 * webhooks not configured: nothing, and no request.
 */
export async function peekDeadLetters(limit: number): Promise<DeadLetterView> {
  if (!config.webhooks()) return { configured: false, approximateCount: 0, pending: { waiting: 0, inFlight: 0 }, messages: [] };
  const url = dlqUrl();
  const [dead, pending] = await Promise.all([depth(url), depth(config.queueUrl('webhook'))]);
  const count = dead.waiting + dead.inFlight;
  const seen = new Map<string, SqsMessage>();
  try {
    while (seen.size < limit) {
      const batch = (await receive(url, limit - seen.size, PEEK_VISIBILITY_SECONDS)).filter((m) => !seen.has(m.MessageId ?? ''));
      if (batch.length === 0) break;
      for (const m of batch) seen.set(m.MessageId ?? '', m);
    }
  } finally {
    // Visible again at once: a peek consumes nothing (and counts as one more receive).
    await release(url, [...seen.values()]);
  }
  return { configured: true, approximateCount: count, pending, messages: [...seen.values()].map(describe) };
}

async function release(url: string, received: readonly SqsMessage[]): Promise<void> {
  for (let i = 0; i < received.length; i += 10) {
    const part = received.slice(i, i + 10);
    try {
      await sqs().send(
        new ChangeMessageVisibilityBatchCommand({ QueueUrl: url, Entries: part.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 })) }),
      );
    } catch (err) {
      log.warn('peeked dead letters stay hidden for a few seconds', { count: part.length, err });
    }
  }
}

/**
 * Moves dead letters back to the webhook queue, ten at a time: receive, send, delete the
 * ones sent. Stops when the DLQ looks empty, after `limit` messages, or after a few
 * seconds; returns how many moved. With webhooks not configured nothing moves (nothing
 * would consume them).
 */
export async function redriveDeadLetters(limit = MAX_REDRIVE): Promise<{ moved: number }> {
  if (!config.webhooks()) return { moved: 0 };
  const from = dlqUrl();
  const to = config.queueUrl('webhook');
  const started = Date.now();
  const moved = new Set<string>();
  while (moved.size < limit && Date.now() - started < REDRIVE_BUDGET_MS) {
    const batch = (await receive(from, limit - moved.size, MOVE_VISIBILITY_SECONDS)).filter((m) => !moved.has(m.MessageId ?? ''));
    if (batch.length === 0) break;
    const sent = await sqs().send(new SendMessageBatchCommand({ QueueUrl: to, Entries: batch.map((m, i) => ({ Id: String(i), MessageBody: m.Body ?? '' })) }));
    const failed = new Set((sent.Failed ?? []).map((f) => Number(f.Id)));
    const done = batch.filter((_, i) => !failed.has(i));
    if (done.length > 0) {
      const deleted = await sqs().send(new DeleteMessageBatchCommand({ QueueUrl: from, Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
      // Sent but not deleted: it comes back into the DLQ view later; its delivery id lets the backend drop the duplicate.
      if (deleted.Failed?.length) log.warn('redriven dead letters not deleted', { count: deleted.Failed.length });
    }
    for (const m of done) moved.add(m.MessageId ?? '');
    if (failed.size > 0) {
      await release(from, batch.filter((_, i) => failed.has(i)));
      log.warn('dead letters not redriven', { count: failed.size });
      break;
    }
  }
  if (moved.size > 0) log.info('webhook dead letters redriven', { moved: moved.size });
  return { moved: moved.size };
}
