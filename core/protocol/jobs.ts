/** Bodies of the SQS jobs between functions, validated on receipt. */
import * as z from 'zod';
import { Message } from './schema';

export const DeliveryJobSchema = z.object({
  message: Message,
  originConnectionId: z.string().optional(),
  correlationId: z.string().optional(),
  readBy: z.string().optional(),
});

export const PushJobSchema = z.object({
  userIds: z.array(z.string()).min(1),
  message: Message,
  excludeConnectionId: z.string().optional(),
  correlationId: z.string().optional(),
});

/** What an edit replaced, kept in the history's `message_edits`. */
export const ReplacedContentSchema = z.object({ version: z.number().int().min(0), contentType: z.number().int(), content: z.unknown(), replacedAt: z.number().int() });
export type ReplacedContent = z.infer<typeof ReplacedContentSchema>;

export const ArchiveJobSchema = z.object({
  /** A new message (version 0) or a changed one (a newer version replaces an older row). */
  message: Message,
  /** An edit: the content it replaced. */
  replaced: ReplacedContentSchema.optional(),
  correlationId: z.string().optional(),
});

/**
 * An after-callback to POST to the app backend. `id` is its delivery id, fixed when the
 * job is made so every retry carries it; the signature timestamp is taken per attempt.
 */
export const WebhookJobSchema = z.object({
  callback: z.literal('afterSendMessage'),
  id: z.string().min(1),
  data: Message,
  correlationId: z.string().optional(),
});
export type WebhookJob = z.infer<typeof WebhookJobSchema>;

/**
 * One page of a batch send (POST /messages/batch), on the delivery queue: the delivery
 * function sends the message to each of `recvIds`. A page it has no time to finish comes
 * back as a continuation (the recipients left, with the counts so far).
 */
export const BatchPageJobSchema = z.object({
  kind: z.literal('batchPage'),
  batchId: z.string().min(1),
  page: z.number().int().min(0),
  /** A user id, or `system`. */
  senderId: z.string().min(1),
  recvIds: z.array(z.string()).min(1),
  contentType: z.number().int(),
  content: z.unknown(),
  /** Counts of this page's recipients handled by earlier parts (a continuation). */
  sent: z.number().int().min(0).default(0),
  failed: z.number().int().min(0).default(0),
  correlationId: z.string().optional(),
});
export type BatchPageJob = z.infer<typeof BatchPageJobSchema>;
