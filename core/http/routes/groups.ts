/** HTTP routes: groups, members, roles, mutes, applications. */
import * as z from 'zod/mini';
import { GroupId, UserId } from '../../protocol/schema';
import { NextCursor, PageQuery } from '../paging';
import { ItemResult, MAX_BATCH, type HttpRouteSpec } from './types';
import { MAX_SLOW_MODE_SECONDS } from '../../domain/limits';

/** Longest mute, 30 days (the service checks the same bound: core/services/groups-members.ts). */
const MAX_MUTE_SECONDS = 30 * 86400;

export const GroupRole = z.enum(['owner', 'admin', 'member']).check(z.describe('owner (one per group), admin, member'));
export const JoinPolicy = z.enum(['free', 'approval', 'invite']).check(z.describe("How users join: 'free' (asking is joining; members add anyone), 'approval' (the owner or an admin accepts applications and members' invitations), 'invite' (only the owner and admins add members)"));

export const Group = z.strictObject({
  groupId: GroupId,
  name: z.string(),
  ownerUserId: UserId,
  adminUserIds: z.array(UserId).check(z.describe("The group's admins (the owner not included)")),
  faceUrl: z.optional(z.string()),
  introduction: z.optional(z.string()),
  announcement: z.optional(z.string()),
  ex: z.optional(z.string()),
  joinPolicy: JoinPolicy,
  historyVisibleToNewMembers: z.boolean().check(z.describe('New members see messages sent before they joined')),
  status: z.enum(['active', 'dismissed']),
  muteAll: z.boolean().check(z.describe('Only the owner and admins may send')),
  slowModeSeconds: z.optional(z.int()).check(z.describe('Slow mode: a member other than the owner and admins may send one message per this many seconds (a faster one is refused with THROTTLED and retryAfterMs); absent or 0: off')),
  encrypted: z.optional(z.literal(true)).check(z.describe('End-to-end encrypted (MLS): members send only content types 150, 151 and 152; set at creation, never unset')),
  memberCount: z.int(),
  createdAt: z.int(),
  updatedAt: z.optional(z.int()),
});

export const GroupMember = z.strictObject({
  userId: UserId,
  role: GroupRole,
  nickname: z.optional(z.string()).check(z.describe('Name in this group')),
  mutedUntil: z.optional(z.int()).check(z.describe('Muted until this time (ms since the epoch); absent when not muted')),
  inviterUserId: z.optional(UserId).check(z.describe('Who added the member, when someone else did')),
  joinedAt: z.int(),
});

export const GroupApplication = z.strictObject({
  groupId: GroupId,
  userId: UserId.check(z.describe('Who would join')),
  message: z.string(),
  inviterUserId: z.optional(z.string()).check(z.describe("The member who invited the user (an invitation awaiting approval), or '@admin'")),
  createdAt: z.int(),
});

const InviteResult = z.extend(ItemResult, {
  status: z.optional(z.enum(['joined', 'applied'])).check(z.describe("On success: 'joined', or 'applied' when an ordinary member's invitation awaits approval")),
});

const GroupPath = z.strictObject({ groupId: GroupId });
const MemberPath = z.strictObject({ groupId: GroupId, userId: UserId });
const UserPath = z.strictObject({ userId: UserId });
const UserGroupPath = z.strictObject({ userId: UserId, groupId: GroupId });
const OneGroup = z.strictObject({ group: Group });
const OneMember = z.strictObject({ member: GroupMember });
const UserIds = z.strictObject({ userIds: z.array(UserId).check(z.minLength(1), z.maxLength(MAX_BATCH)) });

const GroupInfo = {
  name: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
  faceUrl: z.optional(z.string().check(z.maxLength(1024))),
  introduction: z.optional(z.string().check(z.maxLength(2048))),
  announcement: z.optional(z.string().check(z.maxLength(4096))),
  ex: z.optional(z.string().check(z.maxLength(4096))).check(z.describe("The app's own data, usually JSON")),
  joinPolicy: z.optional(JoinPolicy),
  historyVisibleToNewMembers: z.optional(z.boolean()),
  slowModeSeconds: z.optional(z.int().check(z.gte(0), z.lte(MAX_SLOW_MODE_SECONDS))).check(z.describe(`Slow mode: members other than the owner and admins may send one message per this many seconds (0: off; at most ${MAX_SLOW_MODE_SECONDS}, a day)`)),
};

export const groupRoutes = [
  {
    operationId: 'createGroup',
    method: 'POST',
    path: '/groups',
    summary: `Create a group with its owner and up to ${MAX_BATCH} initial members (all registered); groupCreated is its first message.`,
    auth: 'user',
    permissions: 'A user token creates a group it owns (ownerUserId, if given, must be the caller); an admin token names the owner.',
    body: z.strictObject({
      groupId: z.optional(GroupId).check(z.describe('Chosen by the app; generated when absent')),
      ...GroupInfo,
      name: z.string().check(z.minLength(1), z.maxLength(128)),
      ownerUserId: z.optional(UserId).check(z.describe('Defaults to the calling user; required with an admin token')),
      memberUserIds: z.optional(z.array(UserId).check(z.maxLength(MAX_BATCH))),
      adminUserIds: z.optional(z.array(UserId).check(z.maxLength(MAX_BATCH))).check(z.describe(`Initial admins, besides memberUserIds (at most ${MAX_BATCH} members in all, the owner not counted)`)),
      joinPolicy: z.optional(JoinPolicy).check(z.describe("Default 'approval'")),
      historyVisibleToNewMembers: z.optional(z.boolean()).check(z.describe('Default false')),
      encrypted: z.optional(z.boolean()).check(z.describe('true: an end-to-end encrypted group (MLS): its members may send only encrypted content types (150, 151, 152), anything else is ENCRYPTED_CONVERSATION; cannot be changed later. Default false')),
    }),
    response: OneGroup,
  },
  {
    operationId: 'getGroup',
    method: 'GET',
    path: '/groups/{groupId}',
    summary: "A group's profile and settings.",
    auth: 'user',
    permissions: 'Any user.',
    params: GroupPath,
    response: OneGroup,
  },
  {
    operationId: 'setGroupInfo',
    method: 'PUT',
    path: '/groups/{groupId}',
    summary: "Change the group's info and slow mode (groupInfoSet) and join policy (groupJoinPolicySet); unchanged values announce nothing.",
    auth: 'user',
    permissions: 'The owner and admins.',
    params: GroupPath,
    body: z.strictObject(GroupInfo).check(z.refine((b) => Object.values(b).some((v) => v !== undefined), 'Give at least one field to change')),
    response: OneGroup,
  },
  {
    operationId: 'dismissGroup',
    method: 'DELETE',
    path: '/groups/{groupId}',
    summary: 'Dismiss the group: groupDismissed is its last message; members keep their history, and sends and changes are refused with GROUP_DISMISSED.',
    auth: 'user',
    permissions: 'The owner.',
    params: GroupPath,
    response: OneGroup,
  },
  {
    operationId: 'transferGroup',
    method: 'POST',
    path: '/groups/{groupId}/transfer',
    summary: 'Hand the group to another member (groupOwnerTransferred); the old owner becomes an ordinary member.',
    auth: 'user',
    permissions: 'The owner.',
    params: GroupPath,
    body: z.strictObject({ newOwnerUserId: UserId }),
    response: OneGroup,
  },
  {
    operationId: 'muteGroup',
    method: 'POST',
    path: '/groups/{groupId}/mute',
    summary: 'Mute the whole group (groupMuted: only the owner and admins may send) or lift it (groupUnmuted).',
    auth: 'user',
    permissions: 'The owner and admins.',
    params: GroupPath,
    body: z.strictObject({ muted: z.boolean() }),
    response: OneGroup,
  },
  {
    operationId: 'listGroupMembers',
    method: 'GET',
    path: '/groups/{groupId}/members',
    summary: 'A page of the members, in user id order (one Query per page).',
    auth: 'user',
    permissions: "The group's members.",
    params: GroupPath,
    query: PageQuery,
    response: z.strictObject({ members: z.array(GroupMember), nextCursor: NextCursor }),
  },
  {
    operationId: 'addGroupMembers',
    method: 'POST',
    path: '/groups/{groupId}/members',
    summary: 'Invite users (groupMembersInvited); they see messages sent from their joining on, unless history is visible to new members. Each user succeeds or fails on its own.',
    auth: 'user',
    permissions:
      "The owner and admins add users at once. An ordinary member adds them at once when the join policy is 'free', files applications for the owner and admins to accept when it is 'approval' (groupApplied), and is refused (FORBIDDEN) when it is 'invite'.",
    params: GroupPath,
    body: UserIds,
    response: z.strictObject({ results: z.array(InviteResult), memberCount: z.int() }),
  },
  {
    operationId: 'removeGroupMembers',
    method: 'POST',
    path: '/groups/{groupId}/members/remove',
    summary: 'Kick members (groupMembersKicked): they keep the messages up to and including that notification and see nothing after. Each user succeeds or fails on its own.',
    auth: 'user',
    permissions: 'The owner removes anyone but themselves; an admin removes ordinary members only; nobody removes the owner.',
    params: GroupPath,
    body: UserIds,
    response: z.strictObject({ results: z.array(ItemResult), memberCount: z.int() }),
  },
  {
    operationId: 'setGroupMemberInfo',
    method: 'PUT',
    path: '/groups/{groupId}/members/{userId}',
    summary: "Set a member's nickname in the group ('' clears it) (groupMemberInfoSet).",
    auth: 'user',
    permissions: "The member themselves, the owner, or an admin (for ordinary members).",
    params: MemberPath,
    body: z.strictObject({ nickname: z.string().check(z.maxLength(64)) }),
    response: OneMember,
  },
  {
    operationId: 'setGroupMemberRole',
    method: 'PUT',
    path: '/groups/{groupId}/members/{userId}/role',
    summary: 'Make a member an admin, or an ordinary member again (groupMemberRoleChanged). Ownership moves only by transfer.',
    auth: 'user',
    permissions: 'The owner.',
    params: MemberPath,
    body: z.strictObject({ role: z.enum(['admin', 'member']) }),
    response: OneMember,
  },
  {
    operationId: 'muteGroupMember',
    method: 'POST',
    path: '/groups/{groupId}/members/{userId}/mute',
    summary: 'Mute a member for a number of seconds (groupMemberMuted), or unmute with 0 (groupMemberUnmuted). A muted member\'s sends are refused with MEMBER_MUTED.',
    auth: 'user',
    permissions: 'The owner mutes admins and members; an admin mutes ordinary members only; nobody mutes the owner.',
    params: MemberPath,
    body: z.strictObject({ seconds: z.int().check(
      z.gte(0),
      z.lte(MAX_MUTE_SECONDS),
      z.describe(`Duration, at most ${MAX_MUTE_SECONDS} (30 days); 0 unmutes`),
    ) }),
    response: OneMember,
  },
  {
    operationId: 'listGroupApplications',
    method: 'GET',
    path: '/groups/{groupId}/applications',
    summary: "A page of the group's pending applications and invitations awaiting approval, in user id order.",
    auth: 'user',
    permissions: 'The owner and admins.',
    params: GroupPath,
    query: PageQuery,
    response: z.strictObject({ applications: z.array(GroupApplication), nextCursor: NextCursor }),
  },
  {
    operationId: 'acceptGroupApplication',
    method: 'POST',
    path: '/groups/{groupId}/applications/{userId}/accept',
    summary: 'Accept a pending application: the user joins (groupMemberJoined into the group) and is told (groupApplicationAccepted).',
    auth: 'user',
    permissions: 'The owner and admins.',
    params: MemberPath,
    response: z.strictObject({ memberCount: z.int() }),
  },
  {
    operationId: 'refuseGroupApplication',
    method: 'POST',
    path: '/groups/{groupId}/applications/{userId}/refuse',
    summary: 'Refuse a pending application; the user is told (groupApplicationRefused).',
    auth: 'user',
    permissions: 'The owner and admins.',
    params: MemberPath,
    body: z.strictObject({ message: z.optional(z.string().check(z.maxLength(1024))).check(z.describe('Why, for the applicant')) }),
    response: z.strictObject({ application: GroupApplication }),
  },
  {
    operationId: 'applyToGroup',
    method: 'POST',
    path: '/users/{userId}/groups/{groupId}/apply',
    summary:
      "Ask to join a group. 'free': joined at once (groupMemberJoined); 'approval': an application for the owner and admins (groupApplied to them and the applicant); 'invite': refused with JOIN_NOT_ALLOWED.",
    auth: 'self',
    params: UserGroupPath,
    body: z.strictObject({ message: z._default(z.string().check(z.maxLength(1024)), '').check(z.describe('For the owner and admins')) }),
    response: z.strictObject({ status: z.enum(['joined', 'applied']), memberCount: z.int() }),
  },
  {
    operationId: 'quitGroup',
    method: 'POST',
    path: '/users/{userId}/groups/{groupId}/quit',
    summary: 'Leave a group (groupMemberQuit): the user keeps the messages up to and including that notification. The owner cannot quit (FORBIDDEN): transfer the group first.',
    auth: 'self',
    params: UserGroupPath,
    response: z.strictObject({ memberCount: z.int() }),
  },
  {
    operationId: 'listJoinedGroups',
    method: 'GET',
    path: '/users/{userId}/groups',
    summary: "A page of the user's groups (dismissed ones included) with their role, in group id order.",
    auth: 'self',
    params: UserPath,
    query: PageQuery,
    response: z.strictObject({ groups: z.array(z.strictObject({ group: Group, role: GroupRole, joinedAt: z.int() })), nextCursor: NextCursor }),
  },
  {
    operationId: 'listUserGroupApplications',
    method: 'GET',
    path: '/users/{userId}/group-applications',
    summary: "A page of the user's pending applications to groups, in group id order.",
    auth: 'self',
    params: UserPath,
    query: PageQuery,
    response: z.strictObject({ applications: z.array(GroupApplication), nextCursor: NextCursor }),
  },
] as const satisfies readonly HttpRouteSpec[];
