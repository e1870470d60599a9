/** HTTP routes: the webhook dead-letter queue, for operators. */
import * as z from 'zod/mini';
import type { HttpRouteSpec } from './types';

const DeadLetter = z.strictObject({
  receiptId: z.string().check(z.describe('The SQS message id, stable while the callback stays in the dead-letter queue')),
  callback: z.string().check(z.describe('The after-callback, e.g. afterSendMessage')),
  deliveryId: z.string().check(z.describe('The delivery id the callback carries on every attempt (x-cirrus-delivery-id)')),
  data: z.unknown().check(z.describe("The callback's data, as it would be POSTed")),
  sentAt: z.optional(z.int()).check(z.describe('When the callback was first queued, epoch milliseconds')),
  receiveCount: z.optional(z.int()).check(z.describe('Receives so far, over the webhook queue and its dead-letter queue')),
});

export const webhookRoutes = [
  {
    operationId: 'listWebhookDeadLetters',
    method: 'GET',
    path: '/admin/webhooks/dead-letters',
    summary:
      "Peek at the after-callbacks the app backend never accepted (the webhook dead-letter queue): they stay in the queue. Also how many are still pending in the webhook queue. configured is false (and everything empty) when webhooks are not configured.",
    auth: 'admin',
    query: z.strictObject({ limit: z.optional(z.coerce.number().check(z.int(), z.gte(1), z.lte(100))).check(z.describe('At most this many (default 10, at most 100)')) }),
    response: z.strictObject({
      configured: z.boolean(),
      approximateCount: z.int().check(z.describe("SQS's approximate number of callbacks in the dead-letter queue")),
      pending: z.strictObject({
          waiting: z.int().check(z.describe('Queued, not yet picked up')),
          inFlight: z.int().check(z.describe('Being sent, or failed and hidden until their next try')),
        }).check(z.describe("The webhook queue itself (SQS's approximate counts): after-callbacks not yet delivered nor dead-lettered")),
      messages: z.array(DeadLetter),
    }),
  },
  {
    operationId: 'redriveWebhookDeadLetters',
    method: 'POST',
    path: '/admin/webhooks/dead-letters/redrive',
    summary:
      'Move the dead-lettered after-callbacks back to the webhook queue, to be POSTed again with their delivery ids (up to 1000 per call; call again while moved > 0). Moves nothing when webhooks are not configured.',
    auth: 'admin',
    response: z.strictObject({ moved: z.int() }),
  },
] as const satisfies readonly HttpRouteSpec[];
