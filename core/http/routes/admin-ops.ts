/** HTTP routes: admin operations on messages: batch sends and business notifications (physical deletes and the moderation search: ./admin-history.ts). */
import * as z from 'zod/mini';
import { idPattern, MAX_CONTENT_BYTES, SendableContentType, UserId, OfflinePush } from '../../protocol/schema';
import { NextCursor } from '../paging';
import type { HttpRouteSpec } from './types';

/** Kept in step with core/services (checked by the routes' tests). */
const MAX_BATCH_RECIPIENTS = 10_000;
const MAX_BUSINESS_RECIPIENTS = 1000;

const Ms = z.coerce.number().check(z.int(), z.gte(0), z.lte(Number.MAX_SAFE_INTEGER));
const BatchId = z.string().check(z.regex(idPattern, 'letters, digits, ".", "@" or "-", 1-64 characters, not starting with a symbol'), z.describe('Batch id'));

const BatchProgress = z.strictObject({
  batchId: BatchId,
  status: z.enum(['running', 'done']).check(z.describe('done: every page was sent')),
  recipients: z.int().check(z.describe('Distinct recipients')),
  sent: z.int().check(z.describe('Messages stored (one per recipient)')),
  failed: z.int().check(z.describe('Recipients whose message was refused (blocked, not friends, refused by the app backend)')),
  pages: z.int(),
  pagesDone: z.int(),
  createdAt: z.int().check(z.describe('ms since the epoch')),
});

export const adminOpsRoutes = [
  {
    operationId: 'batchSendMessages',
    method: 'POST',
    path: '/messages/batch',
    summary:
      `Send one message to up to ${MAX_BATCH_RECIPIENTS} users, each in their own conversation: 1:1 with sendId, or from \`system\` (asSystem) into their notification conversation n_<userId>. ` +
      'The whole request is checked first (content as in sendMessage; every recipient must be registered, else USER_NOT_FOUND and nothing is sent); then the batch is sent in the background, in pages of 100 (each an asynchronous invocation, retried). ' +
      'Follow it with getMessageBatch. The same batchId again with the same request answers the same and sends nothing twice; with another request it is refused (ALREADY_EXISTS).',
    auth: 'admin',
    body: z.strictObject({
      sendId: z.optional(UserId).check(z.describe('Sender; required unless asSystem')),
      asSystem: z.optional(z.boolean()).check(z.describe('Send as `system`, into each recipient\'s notification conversation')),
      recvIds: z.array(UserId).check(
        z.minLength(1),
        z.maxLength(MAX_BATCH_RECIPIENTS),
        z.describe(`Recipients (1-${MAX_BATCH_RECIPIENTS}; duplicates count once)`),
      ),
      contentType: SendableContentType.check(z.describe('Any sendable content type except quote (106 mention without atAll)')),
      content: z.unknown().check(z.describe(`Shape depends on contentType, as in sendMessage; at most ${MAX_CONTENT_BYTES} bytes as JSON`)),
      offlinePush: z.optional(OfflinePush),
      batchId: z.optional(BatchId).check(z.describe('For idempotent retries; generated when absent')),
    }),
    response: z.strictObject({
      batchId: BatchId,
      recipients: z.int().check(z.describe('Distinct recipients')),
      pages: z.int().check(z.describe('Pages queued (100 recipients each)')),
    }),
  },
  {
    operationId: 'getMessageBatch',
    method: 'GET',
    path: '/messages/batch/{batchId}',
    summary: 'Progress of a batch send (kept 30 days).',
    auth: 'admin',
    params: z.strictObject({ batchId: BatchId }),
    response: BatchProgress,
  },
  {
    operationId: 'sendBusinessNotification',
    method: 'POST',
    path: '/notifications/business',
    summary:
      "Send the app's own notification (OpenIM's business notification): a live `businessNotification` event to the recipients' connected devices; " +
      "with reliable also stored, as content type 2001 from `system`, in each recipient's notification conversation n_<userId>, so devices offline now get it on sync. " +
      'Every recipient must be registered (else USER_NOT_FOUND and nothing is sent).',
    auth: 'admin',
    body: z.strictObject({
      recvIds: z.array(UserId).check(
        z.minLength(1),
        z.maxLength(MAX_BUSINESS_RECIPIENTS),
        z.describe(`Recipients (1-${MAX_BUSINESS_RECIPIENTS}; duplicates count once)`),
      ),
      key: z.string().check(z.minLength(1), z.maxLength(128), z.describe("The app's own kind of notification")),
      data: z.string().check(z.maxLength(8192), z.describe("The app's own payload, usually JSON")),
      reliable: z.optional(z.boolean()).check(z.describe('Also store it for devices offline now (default false)')),
      notificationId: z.optional(z.string().check(z.regex(idPattern, 'letters, digits, ".", "@" or "-", 1-64 characters, not starting with a symbol'))).check(z.describe('The app\'s id for this notification: with reliable, retrying the call with the same id stores nothing new (the live event is sent again)')),
    }),
    response: z.strictObject({
      online: z.int().check(z.describe('Recipients with at least one device reached live')),
      stored: z.int().check(z.describe('Messages stored (reliable: one per recipient; else 0)')),
    }),
  },
] as const satisfies readonly HttpRouteSpec[];

export const adminOpsLimits = { MAX_BATCH_RECIPIENTS, MAX_BUSINESS_RECIPIENTS };
