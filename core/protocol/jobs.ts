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

export const MessageArchiveJobSchema = z.object({
  /** A new message (version 0) or a changed one (a newer version replaces an older row). */
  message: Message,
  /** An edit: the content it replaced. */
  replaced: ReplacedContentSchema.optional(),
  correlationId: z.string().optional(),
});

/** A user as the history's `users` mirror keeps it; `updatedAt` orders the versions. */
export const DirectoryUserSchema = z.object({
  userId: z.string().min(1),
  nickname: z.string().optional(),
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
});
export type DirectoryUser = z.infer<typeof DirectoryUserSchema>;

/** A group as the history's `groups` mirror keeps it; `updatedAt` orders the versions. */
export const DirectoryGroupSchema = z.object({
  groupId: z.string().min(1),
  name: z.string(),
  ownerUserId: z.string().min(1),
  createdAt: z.number().int(),
  dismissedAt: z.number().int().optional(),
  updatedAt: z.number().int(),
});
export type DirectoryGroup = z.infer<typeof DirectoryGroupSchema>;

export const UserArchiveJobSchema = z.object({ kind: z.literal('user'), user: DirectoryUserSchema, correlationId: z.string().optional() });
export const GroupArchiveJobSchema = z.object({ kind: z.literal('group'), group: DirectoryGroupSchema, correlationId: z.string().optional() });

/**
 * A job of the archive queue: a message (jobs without `kind`, as before the directory
 * existed), or a user or group to upsert into the history's directory mirrors.
 */
export const ArchiveJobSchema = z.union([UserArchiveJobSchema, GroupArchiveJobSchema, MessageArchiveJobSchema]);
export type ArchiveJob = z.infer<typeof ArchiveJobSchema>;
export type DirectoryJob = z.infer<typeof UserArchiveJobSchema> | z.infer<typeof GroupArchiveJobSchema>;

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
