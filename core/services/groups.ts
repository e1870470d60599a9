/**
 * Groups themselves: creating, reading, settings (info, join policy, history visibility,
 * slow mode, mute-all), ownership and dismissal, and the list of a user's groups. Members are in
 * groups-members.ts, applications in groups-applications.ts, permissions in
 * groups-access.ts. Every change is announced into the group's conversation.
 */
import { groupConversationId, newGroupId } from '../domain/ids';
import { CirrusError } from '../errors';
import { actorName, isAdmin, type Actor } from '../http/actor';
import { SessionType } from '../protocol/schema';
import { conversations } from '../store/conversations';
import { groups, type GroupItem, type GroupRole, type GroupSettings, type JoinPolicy, type MemberItem } from '../store/groups';
import { MAX_BATCH } from '../http/routes/types';
import { groupAccess, requireActive, requireRole } from './groups-access';
import { DEFAULT_PAGE, groupListStartKey } from './groups-paging';
import { directoryGroupOf, enqueueDirectory } from './directory-jobs';
import { notifyGroup } from './notify';
import { requireUsers } from './users';
import { notifyAfter } from '../webhooks/after';
import { config } from '../config';
import { shardsFor } from '../store/group-online';
import { buildIndex, dropIndex } from './online-index';
import { beforeCreateGroup, beforeSetGroupInfo } from '../webhooks/before-actions';

/** A group as the API shows it. */
export type GroupView = Omit<GroupItem, 'adminUserIds' | 'onlineIndex'> & { adminUserIds: string[] };

/** The API view of a group: the admin set as a sorted list. */
export function groupView(g: GroupItem): GroupView {
  const { adminUserIds, onlineIndex: _index, ...rest } = g;
  return { ...rest, adminUserIds: [...(adminUserIds ?? [])].sort() };
}

export interface CreateGroupInput {
  groupId?: string;
  name: string;
  /** Required with an admin token; a user token creates groups it owns. */
  ownerUserId?: string;
  memberUserIds?: string[];
  adminUserIds?: string[];
  faceUrl?: string;
  introduction?: string;
  announcement?: string;
  ex?: string;
  joinPolicy?: JoinPolicy;
  historyVisibleToNewMembers?: boolean;
  /** Slow mode (seconds between a member's messages; 0: off). */
  slowModeSeconds?: number;
  /** End-to-end encrypted: members send only MLS messages. */
  encrypted?: boolean;
}

/**
 * Creates a group with its owner and initial members (every one must be registered),
 * who see it from its first message, the groupCreated notification. Nobody has a row in
 * the new conversation yet, so rows and memberships go in batch writes.
 */
export async function createGroup(actor: Actor, input: CreateGroupInput): Promise<GroupView> {
  const ownerUserId = input.ownerUserId ?? (isAdmin(actor) ? undefined : actor.userId);
  if (!ownerUserId) throw new CirrusError('INVALID_ARGUMENT', 'ownerUserId is required with an admin token');
  if (!isAdmin(actor) && ownerUserId !== actor.userId) throw new CirrusError('FORBIDDEN', `A token of ${actor.userId} cannot create a group owned by ${ownerUserId}`);
  // As in OpenIM, admins are listed apart from the other members; both become members.
  const memberIds = [...new Set([ownerUserId, ...(input.memberUserIds ?? []), ...(input.adminUserIds ?? [])])];
  if (memberIds.length > MAX_BATCH + 1) throw new CirrusError('INVALID_ARGUMENT', `A group starts with at most ${MAX_BATCH} members besides its owner; add more later`);
  const admins = new Set((input.adminUserIds ?? []).filter((id) => id !== ownerUserId));
  await requireUsers(memberIds);
  const groupId = input.groupId ?? newGroupId();
  input = { ...input, ...(await beforeCreateGroup({ ...input, groupId, ownerUserId, memberUserIds: memberIds, opUserId: actorName(actor) })) };
  const now = Date.now();
  const group: GroupItem = {
    groupId,
    name: input.name,
    ownerUserId,
    ...(input.faceUrl !== undefined ? { faceUrl: input.faceUrl } : {}),
    ...(input.introduction !== undefined ? { introduction: input.introduction } : {}),
    ...(input.announcement !== undefined ? { announcement: input.announcement } : {}),
    ...(input.ex !== undefined ? { ex: input.ex } : {}),
    joinPolicy: input.joinPolicy ?? 'approval',
    historyVisibleToNewMembers: input.historyVisibleToNewMembers ?? false,
    status: 'active',
    muteAll: false,
    ...(input.slowModeSeconds ? { slowModeSeconds: input.slowModeSeconds } : {}),
    ...(input.encrypted ? { encrypted: true as const } : {}),
    memberCount: memberIds.length,
    ...(admins.size ? { adminUserIds: admins } : {}),
    createdAt: now,
  };
  // Claim the id first: the batch writes below must never land on another group's rows.
  await groups.create(group);
  const conversationId = groupConversationId(group.groupId);
  await conversations.createLinked(conversationId, SessionType.group, group.encrypted === true);
  await groups.createConversationRows(conversationId, memberIds);
  const role = (userId: string): GroupRole => (userId === ownerUserId ? 'owner' : admins.has(userId) ? 'admin' : 'member');
  await groups.putMembers(memberIds.map((userId): MemberItem => ({ groupId: group.groupId, userId, role: role(userId), joinedAt: now })));
  if (memberIds.length >= config.onlineIndexMinMembers()) await buildIndex(group.groupId, shardsFor(memberIds.length));
  const opUserId = actorName(actor);
  await notifyGroup(group.groupId, 'groupCreated', { opUserId, groupId: group.groupId, name: group.name, ownerUserId, memberUserIds: memberIds }, opUserId);
  await enqueueDirectory([{ kind: 'group', group: directoryGroupOf(group) }]);
  await notifyAfter('afterCreateGroup', [group.groupId], { group: groupView(group), memberUserIds: memberIds, opUserId, at: now }, { userIds: [opUserId, ...memberIds], groupId: group.groupId });
  return groupView(group);
}

/** Any user may read a group's profile, dismissed or not. */
export async function getGroup(groupId: string): Promise<GroupView> {
  const group = await groups.get(groupId);
  if (!group) throw new CirrusError('GROUP_NOT_FOUND', `Group ${groupId} does not exist`);
  return groupView(group);
}

/**
 * The owner or an admin changes the group's info and settings. A changed join policy is
 * announced as groupJoinPolicySet, everything else that changed as one groupInfoSet;
 * values equal to the current ones change nothing and announce nothing.
 */
export async function setGroupInfo(actor: Actor, groupId: string, input: Omit<GroupSettings, 'muteAll'>): Promise<GroupView> {
  const access = await groupAccess(actor, groupId);
  requireActive(access.group);
  requireRole(access, 'admin', "change the group's info");
  const current = access.group as unknown as Record<string, unknown>;
  const changes = await beforeSetGroupInfo({ groupId, opUserId: actorName(actor), changes: Object.fromEntries(Object.entries(input).filter(([k, v]) => v !== undefined && current[k] !== v)) as Omit<GroupSettings, 'muteAll'> });
  if (Object.keys(changes).length === 0) return groupView(access.group);
  const updated = await groups.update(groupId, changes);
  if (changes.name !== undefined) await enqueueDirectory([{ kind: 'group', group: directoryGroupOf(updated) }]);
  const opUserId = actorName(actor);
  const { joinPolicy, ...info } = changes;
  if (joinPolicy) await notifyGroup(groupId, 'groupJoinPolicySet', { opUserId, groupId, joinPolicy }, opUserId);
  if (Object.keys(info).length) await notifyGroup(groupId, 'groupInfoSet', { opUserId, groupId, changes: info }, opUserId);
  const at = Date.now();
  await notifyAfter('afterSetGroupInfo', [groupId, at], { groupId, opUserId, changes, at }, { userIds: [opUserId], groupId });
  return groupView(updated);
}

/** The owner or an admin mutes the whole group (only owner and admins may send) or lifts it. */
export async function muteGroup(actor: Actor, groupId: string, muted: boolean): Promise<GroupView> {
  const access = await groupAccess(actor, groupId);
  requireActive(access.group);
  requireRole(access, 'admin', 'mute the group');
  if (access.group.muteAll === muted) return groupView(access.group);
  const updated = await groups.update(groupId, { muteAll: muted });
  const opUserId = actorName(actor);
  await notifyGroup(groupId, muted ? 'groupMuted' : 'groupUnmuted', { opUserId, groupId }, opUserId);
  return groupView(updated);
}

/**
 * The owner dismisses the group: groupDismissed is its last message. Members keep their
 * rows and history; sends and changes are refused with GROUP_DISMISSED from then on.
 */
export async function dismissGroup(actor: Actor, groupId: string): Promise<GroupView> {
  const access = await groupAccess(actor, groupId);
  requireActive(access.group);
  requireRole(access, 'owner', 'dismiss the group');
  const opUserId = actorName(actor);
  await notifyGroup(groupId, 'groupDismissed', { opUserId, groupId }, opUserId);
  if (!(await groups.dismiss(groupId))) throw new CirrusError('GROUP_DISMISSED', `Group ${groupId} was dismissed meanwhile`);
  if (access.group.onlineIndex) await dropIndex(groupId);
  await enqueueDirectory([{ kind: 'group', group: directoryGroupOf({ ...access.group, status: 'dismissed', updatedAt: Date.now() }) }]);
  await notifyAfter('afterDismissGroup', [groupId], { groupId, opUserId, at: Date.now() }, { userIds: [opUserId], groupId });
  return groupView({ ...access.group, status: 'dismissed' });
}

/** The owner hands the group to another member and becomes an ordinary member. */
export async function transferGroup(actor: Actor, groupId: string, newOwnerUserId: string): Promise<GroupView> {
  const access = await groupAccess(actor, groupId);
  const { group } = access;
  requireActive(group);
  requireRole(access, 'owner', 'transfer the group');
  if (newOwnerUserId === group.ownerUserId) throw new CirrusError('INVALID_ARGUMENT', `${newOwnerUserId} owns group ${groupId} already`);
  if (!(await groups.members(groupId, [newOwnerUserId])).has(newOwnerUserId)) throw new CirrusError('NOT_GROUP_MEMBER', `${newOwnerUserId} is not a member of group ${groupId}`);
  if (!(await groups.transferOwner(groupId, group.ownerUserId, newOwnerUserId))) {
    throw new CirrusError('FORBIDDEN', `Group ${groupId} changed meanwhile (owner, membership or status); look again and retry`);
  }
  const opUserId = actorName(actor);
  await notifyGroup(groupId, 'groupOwnerTransferred', { opUserId, groupId, oldOwnerUserId: group.ownerUserId, newOwnerUserId }, opUserId);
  await enqueueDirectory([{ kind: 'group', group: directoryGroupOf({ ...group, ownerUserId: newOwnerUserId, updatedAt: Date.now() }) }]);
  const admins = new Set(group.adminUserIds ?? []);
  admins.delete(newOwnerUserId);
  return groupView({ ...group, ownerUserId: newOwnerUserId, adminUserIds: admins });
}

/** One of the user's groups, with their role in it. */
export interface JoinedGroup {
  group: GroupView;
  role: GroupRole;
  joinedAt: number;
}

/**
 * A page of the user's groups, dismissed ones included: one Query on the byUser index,
 * then the groups in one BatchGetItem (a page holds at most 100).
 */
export async function listJoinedGroups(userId: string, page: { limit?: number; cursor?: string }): Promise<{ groups: JoinedGroup[]; lastKey?: Record<string, unknown> }> {
  const { items, lastKey } = await groups.membershipPage(userId, page.limit ?? DEFAULT_PAGE, groupListStartKey(page.cursor, { userId }));
  const found = await groups.getMany(items.map((m) => m.groupId));
  const out: JoinedGroup[] = [];
  for (const m of items) {
    const group = found.get(m.groupId);
    if (group) out.push({ group: groupView(group), role: m.role, joinedAt: m.joinedAt });
  }
  return { groups: out, lastKey };
}
