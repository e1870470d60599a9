/**
 * Notifications: relationship and group events as typed messages from `system`, stored
 * and synced like any message. Friend, blacklist and conversation events go to the
 * notification conversation (`n_<userId>`) of each user concerned; group events go to the
 * group's conversation, so every member (and every device) sees them in order with the
 * chat. An app backend's reliable business notification (2001) goes to each recipient's
 * notification conversation. Changes to a message (revoke 2101, delete 2102, edit 2103, reaction 2104) go to the message's own
 * conversation, 1:1 ones included. The acting user's own read position moves past the
 * notifications they caused.
 */
import * as z from 'zod/mini';
import { UserId, GroupId, ConversationId, Seq } from './schema';

const Op = { opUserId: z.string().check(z.describe('Who acted: a user id, or `@admin` for an admin token')) };

const GroupRole = z.enum(['owner', 'admin', 'member']);
const JoinPolicy = z.enum(['free', 'approval', 'invite']);

export const notificationTypes = {
  friendRequested: {
    contentType: 1201,
    to: 'both users',
    payload: z.object({ fromUserId: UserId, toUserId: UserId, message: z.string() }),
  },
  friendRequestAccepted: { contentType: 1202, to: 'both users', payload: z.object({ fromUserId: UserId, toUserId: UserId }) },
  friendRequestRefused: { contentType: 1203, to: 'both users', payload: z.object({ fromUserId: UserId, toUserId: UserId, message: z.optional(z.string()) }) },
  friendAdded: { contentType: 1204, to: 'both users', payload: z.object({ ...Op, userId: UserId, friendUserId: UserId }) },
  friendDeleted: { contentType: 1205, to: 'both users', payload: z.object({ ...Op, userId: UserId, friendUserId: UserId }) },
  friendRemarkSet: { contentType: 1206, to: 'the user (their other devices)', payload: z.object({ userId: UserId, friendUserId: UserId, remark: z.string() }) },
  blacklistAdded: { contentType: 1207, to: 'the blocking user', payload: z.object({ userId: UserId, blockedUserId: UserId }) },
  blacklistRemoved: { contentType: 1208, to: 'the blocking user', payload: z.object({ userId: UserId, blockedUserId: UserId }) },
  groupCreated: { contentType: 1501, to: 'the group', payload: z.object({ ...Op, groupId: GroupId, name: z.string(), ownerUserId: UserId, memberUserIds: z.array(UserId) }) },
  groupInfoSet: { contentType: 1502, to: 'the group', payload: z.object({ ...Op, groupId: GroupId, changes: z.record(z.string(), z.unknown()) }) },
  groupApplied: {
    contentType: 1503,
    to: "the group's owner and admins, and the applicant",
    payload: z.object({ groupId: GroupId, userId: UserId, message: z.string(), inviterUserId: z.optional(UserId) }),
  },
  groupApplicationAccepted: { contentType: 1504, to: 'the applicant', payload: z.object({ ...Op, groupId: GroupId, userId: UserId }) },
  groupApplicationRefused: { contentType: 1505, to: 'the applicant', payload: z.object({ ...Op, groupId: GroupId, userId: UserId, message: z.optional(z.string()) }) },
  groupOwnerTransferred: { contentType: 1506, to: 'the group', payload: z.object({ ...Op, groupId: GroupId, oldOwnerUserId: UserId, newOwnerUserId: UserId }) },
  groupMembersKicked: { contentType: 1507, to: 'the group (the kicked members see it as their last message)', payload: z.object({ ...Op, groupId: GroupId, userIds: z.array(UserId) }) },
  groupMembersInvited: { contentType: 1508, to: 'the group', payload: z.object({ ...Op, groupId: GroupId, userIds: z.array(UserId) }) },
  groupMemberJoined: { contentType: 1509, to: 'the group', payload: z.object({ ...Op, groupId: GroupId, userId: UserId }) },
  groupMemberQuit: { contentType: 1510, to: 'the group (the member sees it as their last message)', payload: z.object({ groupId: GroupId, userId: UserId }) },
  groupDismissed: { contentType: 1511, to: 'the group', payload: z.object({ ...Op, groupId: GroupId }) },
  groupMemberMuted: { contentType: 1512, to: 'the group', payload: z.object({ ...Op, groupId: GroupId, userId: UserId, mutedUntil: z.int().check(z.describe('ms since the epoch')) }) },
  groupMemberUnmuted: { contentType: 1513, to: 'the group', payload: z.object({ ...Op, groupId: GroupId, userId: UserId }) },
  groupMuted: { contentType: 1514, to: 'the group', payload: z.object({ ...Op, groupId: GroupId }) },
  groupUnmuted: { contentType: 1515, to: 'the group', payload: z.object({ ...Op, groupId: GroupId }) },
  groupMemberInfoSet: { contentType: 1516, to: 'the group', payload: z.object({ ...Op, groupId: GroupId, userId: UserId, nickname: z.optional(z.string()) }) },
  groupMemberRoleChanged: { contentType: 1517, to: 'the group', payload: z.object({ ...Op, groupId: GroupId, userId: UserId, role: GroupRole }) },
  groupJoinPolicySet: { contentType: 1518, to: 'the group', payload: z.object({ ...Op, groupId: GroupId, joinPolicy: JoinPolicy }) },
  messageRevoked: {
    contentType: 2101,
    to: 'the conversation of the message',
    payload: z.object({ conversationId: ConversationId, seq: Seq, serverMsgId: z.string(), revokedBy: z.string().check(z.describe('A user id, or `@admin`')), version: z.int().check(z.describe('The version of the marker')) }),
  },
  messageDeleted: {
    contentType: 2102,
    to: 'the conversation of the message',
    payload: z.object({ conversationId: ConversationId, seq: Seq, serverMsgId: z.string(), deletedBy: z.string().check(z.describe('A user id, or `@admin`')), version: z.int().check(z.describe('The version of the marker')) }),
  },
  messageEdited: {
    contentType: 2103,
    to: 'the conversation of the message (pull its seq for the new content)',
    payload: z.object({ conversationId: ConversationId, seq: Seq, serverMsgId: z.string(), editedBy: UserId, version: z.int().check(z.describe('The version the edit produced')) }),
  },
  messageReactionChanged: {
    contentType: 2104,
    to: 'the conversation of the message',
    payload: z.object({
      conversationId: ConversationId,
      seq: Seq,
      serverMsgId: z.string(),
      userId: UserId.check(z.describe('Who reacted')),
      emoji: z.string(),
      reacted: z.boolean().check(z.describe('true: added; false: removed')),
      counts: z.record(z.string(), z.int()).check(z.describe('Emoji → number of users, after the change')),
      version: z.int().check(z.describe('The version the change produced')),
    }),
  },
  messagesDeletedForMe: {
    contentType: 2105,
    to: 'the user (their other devices)',
    payload: z.object({ userId: UserId, conversationId: ConversationId, seqs: z.array(Seq).check(z.describe('Newly deleted for the user')) }),
  },
  businessNotification: {
    contentType: 2001,
    to: 'each recipient (their notification conversation), when sent with reliable: true',
    payload: z.object({ key: z.string().check(z.describe("The app's own kind of notification")), data: z.string().check(z.describe("The app's own payload, usually JSON")) }),
  },
} as const;

export type NotificationName = keyof typeof notificationTypes;
export type NotificationPayload<N extends NotificationName> = z.infer<(typeof notificationTypes)[N]['payload']>;

const byContentType = new Map<number, (typeof notificationTypes)[NotificationName]>(Object.values(notificationTypes).map((t) => [t.contentType, t]));

/** The payload schema of a notification content type, or undefined for other types. */
export function notificationSchema(contentType: number): z.ZodMiniType | undefined {
  return byContentType.get(contentType)?.payload;
}

export const isNotificationType = (contentType: number): boolean => byContentType.has(contentType);
