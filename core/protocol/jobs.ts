/** Bodies of the jobs between functions (SQS messages, asynchronous invocations, Outbox items), validated on receipt. */
import * as z from 'zod/mini';
import { Message } from './schema';

/** An asynchronous invocation of the push function: one message for a slice of its recipients. */
export const PushJobSchema = z.object({
  userIds: z.array(z.string()),
  // Connections read from a large group's online index: [userId, connectionId, platformId, connectedAtMs, expiresAt, receive option].
  known: z.optional(z.array(z.tuple([z.string(), z.string(), z.number(), z.number(), z.number(), z.union([z.literal(0), z.literal(1), z.literal(2)])]))),
  message: Message,
  excludeConnectionId: z.optional(z.string()),
  correlationId: z.optional(z.string()),
});

/** What an edit replaced, kept in the history's `message_edits`. */
export const ReplacedContentSchema = z.object({ version: z.int().check(z.gte(0)), contentType: z.int(), content: z.unknown(), replacedAt: z.int() });
export type ReplacedContent = z.infer<typeof ReplacedContentSchema>;

export const MessageArchiveJobSchema = z.object({
  /** A new message (version 0) or a changed one (a newer version replaces an older row). */
  message: Message,
  /** An edit: the content it replaced. */
  replaced: z.optional(ReplacedContentSchema),
  correlationId: z.optional(z.string()),
});

/** A user as the history's `users` mirror keeps it; `updatedAt` orders the versions. */
export const DirectoryUserSchema = z.object({
  userId: z.string().check(z.minLength(1)),
  nickname: z.optional(z.string()),
  createdAt: z.int(),
  updatedAt: z.int(),
});
export type DirectoryUser = z.infer<typeof DirectoryUserSchema>;

/** A group as the history's `groups` mirror keeps it; `updatedAt` orders the versions. */
export const DirectoryGroupSchema = z.object({
  groupId: z.string().check(z.minLength(1)),
  name: z.string(),
  ownerUserId: z.string().check(z.minLength(1)),
  createdAt: z.int(),
  dismissedAt: z.optional(z.int()),
  updatedAt: z.int(),
});
export type DirectoryGroup = z.infer<typeof DirectoryGroupSchema>;

export const UserArchiveJobSchema = z.object({ kind: z.literal('user'), user: DirectoryUserSchema, correlationId: z.optional(z.string()) });
export const GroupArchiveJobSchema = z.object({ kind: z.literal('group'), group: DirectoryGroupSchema, correlationId: z.optional(z.string()) });

/**
 * What the archive copies into the history: a message version (read from the Messages
 * stream), or a user or group for the directory mirrors (an Outbox item's `kind`).
 */
export const ArchiveJobSchema = z.union([UserArchiveJobSchema, GroupArchiveJobSchema, MessageArchiveJobSchema]);
export type ArchiveJob = z.infer<typeof ArchiveJobSchema>;
export type DirectoryJob = z.infer<typeof UserArchiveJobSchema> | z.infer<typeof GroupArchiveJobSchema>;
/** What each after-callback tells the app backend (the envelope's `data`). */
const at = z.int().check(z.describe('When it happened, epoch milliseconds'));
export const AfterCallbackData = {
  /** A message accepted and stored, as recipients get it. */
  afterSendMessage: Message,
  /** A user's read position in a conversation moved forward (markRead, readConversation). */
  afterMarkRead: z.object({ userId: z.string(), conversationId: z.string(), readSeq: z.int(), groupId: z.optional(z.string()), at }),
  /** A message was revoked: the marker as stored (content gone) and who revoked it. */
  afterRevokeMessage: z.object({ message: Message, revokedBy: z.string(), at }),
  /** A WebSocket connection of a user opened. */
  afterUserOnline: z.object({ userId: z.string(), platformId: z.int(), connectionId: z.string(), at }),
  /** A WebSocket connection of a user closed (by the client, the network, or a kick). */
  afterUserOffline: z.object({ userId: z.string(), platformId: z.int(), connectionId: z.string(), at }),
  /** The server ended a connection: another login took its place, a forced logout, or a ban. */
  afterUserKicked: z.object({ userId: z.string(), platformId: z.int(), connectionId: z.string(), reason: z.enum(['loggedInElsewhere', 'forcedLogout', 'banned']), at }),
  /** Two users became friends: a request accepted (or mutual), or an admin import. */
  afterAddFriend: z.object({ userId: z.string(), friendUserId: z.string(), opUserId: z.string(), via: z.enum(['request', 'import']), at }),
  /** A friendship ended on both sides. */
  afterDeleteFriend: z.object({ userId: z.string(), friendUserId: z.string(), opUserId: z.string(), at }),
  /** A group was created, with its first members. */
  afterCreateGroup: z.object({ group: z.looseObject({ groupId: z.string(), name: z.string(), ownerUserId: z.string() }), memberUserIds: z.array(z.string()), opUserId: z.string(), at }),
  /** Users became members by any path: invited, joined a free group, application accepted. */
  afterJoinGroup: z.object({ groupId: z.string(), userIds: z.array(z.string()), inviterUserId: z.optional(z.string()), at }),
  /** A member left. */
  afterQuitGroup: z.object({ groupId: z.string(), userId: z.string(), at }),
  /** Members were removed by the owner, an admin or an admin token. */
  afterKickGroupMember: z.object({ groupId: z.string(), userIds: z.array(z.string()), opUserId: z.string(), at }),
  /** The owner (or an admin token) dismissed the group. */
  afterDismissGroup: z.object({ groupId: z.string(), opUserId: z.string(), at }),
  /** The group's info or settings changed (only the changed fields). */
  afterSetGroupInfo: z.object({ groupId: z.string(), opUserId: z.string(), changes: z.record(z.string(), z.unknown()), at }),
} as const;
export type AfterCallbackName = keyof typeof AfterCallbackData;
export type AfterData<N extends AfterCallbackName> = z.infer<(typeof AfterCallbackData)[N]>;

const jobOf = <N extends AfterCallbackName>(callback: N) =>
  z.object({ callback: z.literal(callback), id: z.string().check(z.minLength(1)), data: AfterCallbackData[callback], correlationId: z.optional(z.string()) });

/**
 * An after-callback to POST to the app backend. `id` is its delivery id, fixed when the
 * job is made so every retry carries it; the signature timestamp is taken per attempt.
 */
export const WebhookJobSchema = z.discriminatedUnion('callback', [
  jobOf('afterSendMessage'),
  jobOf('afterMarkRead'),
  jobOf('afterRevokeMessage'),
  jobOf('afterUserOnline'),
  jobOf('afterUserOffline'),
  jobOf('afterUserKicked'),
  jobOf('afterAddFriend'),
  jobOf('afterDeleteFriend'),
  jobOf('afterCreateGroup'),
  jobOf('afterJoinGroup'),
  jobOf('afterQuitGroup'),
  jobOf('afterKickGroupMember'),
  jobOf('afterDismissGroup'),
  jobOf('afterSetGroupInfo'),
]);
export type WebhookJob = z.infer<typeof WebhookJobSchema>;

/**
 * One page of a batch send (POST /messages/batch), an asynchronous invocation of the batch
 * pages function, which sends the message to each of `recvIds`. A page it has no time to
 * finish goes to a new invocation as a continuation (the recipients left, with the counts so far).
 */
export const BatchPageJobSchema = z.object({
  kind: z.literal('batchPage'),
  batchId: z.string().check(z.minLength(1)),
  page: z.int().check(z.gte(0)),
  /** A user id, or `system`. */
  senderId: z.string().check(z.minLength(1)),
  recvIds: z.array(z.string()).check(z.minLength(1)),
  contentType: z.int(),
  content: z.unknown(),
  /** The batch's own offline push title, body, sound and data (schema `OfflinePush`). */
  offlinePush: z.optional(z.object({ title: z.optional(z.string()), body: z.optional(z.string()), sound: z.optional(z.string()), ex: z.optional(z.string()), disabled: z.optional(z.boolean()) })),
  /** Counts of this page's recipients handled by earlier parts (a continuation). */
  sent: z._default(z.int().check(z.gte(0)), 0),
  failed: z._default(z.int().check(z.gte(0)), 0),
  correlationId: z.optional(z.string()),
});
export type BatchPageJob = z.infer<typeof BatchPageJobSchema>;
