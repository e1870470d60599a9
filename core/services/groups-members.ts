/**
 * Group members: joining, inviting, kicking, quitting, roles, mutes and nicknames, and
 * the paged member list.
 *
 * Read diffusion decides the order of writes. A joining member's conversation row comes
 * first (visible from the group's current maxSeq, or from the start when history is
 * visible to new members), then the membership, which is what lets them send and be
 * pushed to. A leaving member is told first: the kick or quit notification is sent while
 * they are still a member, and its seq becomes their leftSeq, so it is the last message
 * they see; then the membership goes.
 */
import { groupConversationId } from '../domain/ids';
import { CirrusError } from '../errors';
import { actorName, isAdmin, type Actor } from '../http/actor';
import type { SendMsgResult } from '../protocol/schema';
import { conversations } from '../store/conversations';
import { groups, type GroupItem, type GroupRole, type MemberItem, type Page } from '../store/groups';
import { users } from '../store/users';
import { groupAccess, isManager, requireActive, requireMember, requireRole, targetRefusal } from './groups-access';
import { DEFAULT_PAGE, groupListStartKey } from './groups-paging';
import { notifyGroup, notifyUsers } from './notify';
import { itemError, type ItemResult } from './users';
import { forEachLimit } from '../domain/concurrency';
import { notifyAfter } from '../webhooks/after';
import { beforeInviteToGroup } from '../webhooks/before-actions';
import { afterJoin, unindexMembers } from './online-index';

/** Concurrent single-item requests (conversation rows) per operation, below the SDK's socket pool. */
const ROW_CONCURRENCY = 25;

/** Longest mute: 30 days. */
export const MAX_MUTE_SECONDS = 30 * 86400;

/** A membership as the API shows it; a mute that has run out is not shown. */
export interface MemberView {
  userId: string;
  role: GroupRole;
  nickname?: string;
  mutedUntil?: number;
  inviterUserId?: string;
  joinedAt: number;
}

/** The API view of a membership. */
export function memberView(m: MemberItem, now = Date.now()): MemberView {
  return {
    userId: m.userId,
    role: m.role,
    ...(m.nickname ? { nickname: m.nickname } : {}),
    ...(m.mutedUntil && m.mutedUntil > now ? { mutedUntil: m.mutedUntil } : {}),
    ...(m.inviterUserId ? { inviterUserId: m.inviterUserId } : {}),
    joinedAt: m.joinedAt,
  };
}

/**
 * Makes users who are not members (checked by the caller) members: conversation rows
 * from the join point, then memberships, then the count. A single user's membership is
 * written conditionally, so two concurrent joins of one user count once (ALREADY_EXISTS
 * for the second). Bulk adds use batch writes, 25 memberships a request: the price is
 * that two invitations of the same user racing each other count them twice in
 * memberCount (the member list itself stays right). Returns the new member count.
 */
export async function admitMembers(group: GroupItem, userIds: readonly string[], inviterUserId?: string): Promise<number> {
  const conversationId = groupConversationId(group.groupId);
  const counter = await conversations.counter(conversationId);
  const minSeq = group.historyVisibleToNewMembers ? 0 : (counter?.maxSeq ?? 0);
  const now = Date.now();
  // rejoin: a former member's row keeps its settings and read position but becomes
  // visible from the new join point, without the leftSeq of their last departure.
  const recvOpts = new Map<string, 0 | 1 | 2>();
  await forEachLimit(userIds, ROW_CONCURRENCY, async (userId) => void recvOpts.set(userId, (await conversations.join(userId, conversationId, minSeq, true)).recvOpt));
  const items = userIds.map((userId): MemberItem => ({ groupId: group.groupId, userId, role: 'member', ...(inviterUserId && inviterUserId !== userId ? { inviterUserId } : {}), joinedAt: now }));
  if (items.length === 1) {
    if (!(await groups.putMember(items[0]))) throw new CirrusError('ALREADY_EXISTS', `${userIds[0]} is a member of group ${group.groupId} already`);
  } else {
    await groups.putMembers(items);
  }
  const { memberCount, onlineIndex } = await groups.adjustMembers(group.groupId, items.length);
  // The count is adjusted after the memberships are written: a build that starts later
  // pages them, and a build that started earlier shows in onlineIndex here.
  await afterJoin(group.groupId, userIds.map((userId) => ({ userId, recvOpt: recvOpts.get(userId) })), memberCount, onlineIndex);
  await notifyAfter('afterJoinGroup', [group.groupId, now, ...userIds], { groupId: group.groupId, userIds: [...userIds], ...(inviterUserId ? { inviterUserId } : {}), at: now }, { userIds: [inviterUserId, ...userIds], groupId: group.groupId });
  return memberCount;
}

/**
 * Removes members after telling the group: `notify` sends the kick or quit notification
 * while they are still members, its seq becomes their leftSeq, then the memberships go.
 * Returns the new member count.
 */
async function expelMembers(group: GroupItem, leaving: readonly MemberItem[], notify: () => Promise<SendMsgResult>): Promise<number> {
  const conversationId = groupConversationId(group.groupId);
  const ack = await notify();
  await forEachLimit(leaving, ROW_CONCURRENCY, (m) => conversations.leave(m.userId, conversationId, ack.seq));
  const userIds = leaving.map((m) => m.userId);
  // Out of the online index before the membership goes: no push of the group reaches them after.
  if (group.onlineIndex) await unindexMembers(group.groupId, userIds);
  await groups.deleteMembers(group.groupId, userIds);
  const { memberCount, onlineIndex } = await groups.adjustMembers(group.groupId, -leaving.length, leaving.filter((m) => m.role === 'admin').map((m) => m.userId));
  // A build that started after the group was read may have indexed them from the member list.
  if (onlineIndex && !group.onlineIndex) await unindexMembers(group.groupId, userIds);
  return memberCount;
}

/** A per-user outcome of an invitation: joined now, or an application awaiting approval. */
export type InviteResult = ItemResult & { status?: 'joined' | 'applied' };

/**
 * Invites users. Owners, admins and admin tokens add them at once; an ordinary member
 * adds them at once when the join policy is 'free', files applications for the owner and
 * admins to approve when it is 'approval', and may not invite when it is 'invite'.
 * Each user succeeds or fails on their own (unregistered, a member already, pending).
 */
export async function inviteMembers(actor: Actor, groupId: string, userIds: readonly string[]): Promise<{ results: InviteResult[]; memberCount: number }> {
  const access = await groupAccess(actor, groupId);
  const { group } = access;
  requireActive(group);
  requireMember(access);
  const direct = isManager(access) || group.joinPolicy === 'free';
  if (!direct && group.joinPolicy === 'invite') throw new CirrusError('FORBIDDEN', `Only the owner or an admin may invite to group ${groupId}: its join policy is 'invite'`);
  const unique = [...new Set(userIds)];
  const [registered, members, pending] = await Promise.all([
    users.existing(unique),
    groups.members(groupId, unique),
    groups.applications(groupId, unique),
  ]);
  const results: InviteResult[] = [];
  const accepted: string[] = [];
  for (const userId of unique) {
    if (!registered.has(userId)) results.push(itemError(userId, 'USER_NOT_FOUND', `User ${userId} is not registered`));
    else if (members.has(userId)) results.push(itemError(userId, 'ALREADY_EXISTS', `${userId} is a member already`));
    else if (pending.has(userId) && !direct) results.push(itemError(userId, 'ALREADY_EXISTS', `${userId} has a pending application to join`));
    else {
      accepted.push(userId);
      results.push({ userId, ok: true, status: direct ? 'joined' : 'applied' });
    }
  }
  if (accepted.length === 0) return { results, memberCount: group.memberCount };
  const opUserId = actorName(actor);
  // The app may narrow the invitation: the users it leaves out fail with REFUSED_BY_APP.
  const allowed = new Set(await beforeInviteToGroup({ groupId, opUserId, userIds: accepted, direct }));
  for (const [i, r] of results.entries()) if (r.ok && !allowed.has(r.userId)) results[i] = itemError(r.userId, 'REFUSED_BY_APP', `The app left ${r.userId} out of the invitation`);
  accepted.splice(0, accepted.length, ...accepted.filter((id) => allowed.has(id)));
  if (accepted.length === 0) return { results, memberCount: group.memberCount };
  if (direct) {
    const memberCount = await admitMembers(group, accepted, isAdmin(actor) ? undefined : opUserId);
    // A pending application of someone now admitted is settled: drop it from the lists.
    await groups.deleteApplications(groupId, accepted.filter((userId) => pending.has(userId)));
    await notifyGroup(groupId, 'groupMembersInvited', { opUserId, groupId, userIds: accepted }, opUserId);
    return { results, memberCount };
  }
  const now = Date.now();
  await groups.putApplications(accepted.map((userId) => ({ groupId, userId, message: '', inviterUserId: opUserId, createdAt: now })));
  const managers = [group.ownerUserId, ...(group.adminUserIds ?? [])];
  await forEachLimit(accepted, 4, async (userId) => {
    await notifyUsers([...managers, userId], 'groupApplied', { groupId, userId, message: '', inviterUserId: opUserId }, opUserId);
  });
  return { results, memberCount: group.memberCount };
}

/**
 * Kicks members. The owner removes anyone but themselves, an admin only ordinary
 * members, an admin token anyone but the owner; each user succeeds or fails on their own.
 * The kicked see the groupMembersKicked notification as their last message.
 */
export async function kickMembers(actor: Actor, groupId: string, userIds: readonly string[]): Promise<{ results: ItemResult[]; memberCount: number }> {
  const access = await groupAccess(actor, groupId);
  const { group } = access;
  requireActive(group);
  requireRole(access, 'admin', 'remove members');
  const unique = [...new Set(userIds)];
  const members = await groups.members(groupId, unique);
  const results: ItemResult[] = [];
  const leaving: MemberItem[] = [];
  for (const userId of unique) {
    const member = members.get(userId);
    const refusal = member && targetRefusal(access, member.role, 'remove');
    if (!member) results.push(itemError(userId, 'NOT_GROUP_MEMBER', `${userId} is not a member`));
    else if (refusal) results.push(itemError(userId, 'FORBIDDEN', refusal));
    else {
      leaving.push(member);
      results.push({ userId, ok: true });
    }
  }
  if (leaving.length === 0) return { results, memberCount: group.memberCount };
  const opUserId = actorName(actor);
  const memberCount = await expelMembers(group, leaving, () => notifyGroup(groupId, 'groupMembersKicked', { opUserId, groupId, userIds: leaving.map((m) => m.userId) }, opUserId));
  const at = Date.now();
  await notifyAfter('afterKickGroupMember', [groupId, at, ...leaving.map((m) => m.userId)], { groupId, userIds: leaving.map((m) => m.userId), opUserId, at }, { userIds: [opUserId, ...leaving.map((m) => m.userId)], groupId });
  return { results, memberCount };
}

/** A member leaves. The owner cannot: they transfer the group first (or dismiss it). */
export async function quitGroup(userId: string, groupId: string): Promise<{ memberCount: number }> {
  const { group, member } = await groups.withMember(groupId, userId);
  if (!group) throw new CirrusError('GROUP_NOT_FOUND', `Group ${groupId} does not exist`);
  requireActive(group);
  if (!member) throw new CirrusError('NOT_GROUP_MEMBER', `${userId} is not a member of group ${groupId}`);
  if (member.role === 'owner') throw new CirrusError('FORBIDDEN', `${userId} owns group ${groupId}: transfer ownership before quitting, or dismiss the group`);
  const memberCount = await expelMembers(group, [member], () => notifyGroup(groupId, 'groupMemberQuit', { groupId, userId }, userId));
  const at = Date.now();
  await notifyAfter('afterQuitGroup', [groupId, userId, at], { groupId, userId, at }, { userIds: [userId], groupId });
  return { memberCount };
}

/** The owner makes a member an admin or an ordinary member again. */
export async function setMemberRole(actor: Actor, groupId: string, userId: string, role: 'admin' | 'member'): Promise<{ member: MemberView }> {
  const access = await groupAccess(actor, groupId);
  requireActive(access.group);
  requireRole(access, 'owner', "change members' roles");
  const target = (await groups.members(groupId, [userId])).get(userId);
  if (!target) throw new CirrusError('NOT_GROUP_MEMBER', `${userId} is not a member of group ${groupId}`);
  if (target.role === 'owner') throw new CirrusError('FORBIDDEN', "The owner's role changes only by transferring the group");
  if (target.role === role) return { member: memberView(target) };
  if (!(await groups.setRole(groupId, userId, role))) throw new CirrusError('NOT_GROUP_MEMBER', `${userId} left group ${groupId} or it was dismissed meanwhile`);
  const opUserId = actorName(actor);
  await notifyGroup(groupId, 'groupMemberRoleChanged', { opUserId, groupId, userId, role }, opUserId);
  return { member: memberView({ ...target, role }) };
}

/**
 * Mutes a member for `seconds` (0 unmutes): the owner mutes admins and members, an admin
 * members only; the owner is never muted.
 */
export async function muteMember(actor: Actor, groupId: string, userId: string, seconds: number): Promise<{ member: MemberView }> {
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_MUTE_SECONDS) throw new CirrusError('INVALID_ARGUMENT', `seconds must be 0 (unmute) to ${MAX_MUTE_SECONDS} (30 days)`);
  const access = await groupAccess(actor, groupId);
  requireActive(access.group);
  requireRole(access, 'admin', 'mute members');
  const target = (await groups.members(groupId, [userId])).get(userId);
  if (!target) throw new CirrusError('NOT_GROUP_MEMBER', `${userId} is not a member of group ${groupId}`);
  const refusal = targetRefusal(access, target.role, 'mute');
  if (refusal) throw new CirrusError('FORBIDDEN', refusal);
  const now = Date.now();
  const wasMuted = (target.mutedUntil ?? 0) > now;
  if (seconds === 0 && !wasMuted) return { member: memberView(target, now) };
  const mutedUntil = seconds > 0 ? now + seconds * 1000 : null;
  // Conditioned on the role checked above, so a promotion racing this mute wins.
  const updated = await groups.updateMember(groupId, userId, [target.role], { mutedUntil });
  if (!updated) throw new CirrusError('FORBIDDEN', `${userId}'s membership of group ${groupId} changed meanwhile; look again and retry`);
  const opUserId = actorName(actor);
  if (mutedUntil) await notifyGroup(groupId, 'groupMemberMuted', { opUserId, groupId, userId, mutedUntil }, opUserId);
  else await notifyGroup(groupId, 'groupMemberUnmuted', { opUserId, groupId, userId }, opUserId);
  return { member: memberView(updated, now) };
}

/**
 * Sets a member's nickname in the group ('' clears it): the member themselves, the
 * owner, an admin token, or an admin for ordinary members.
 */
export async function setMemberInfo(actor: Actor, groupId: string, userId: string, nickname: string): Promise<{ member: MemberView }> {
  const access = await groupAccess(actor, groupId);
  requireActive(access.group);
  requireMember(access);
  const self = !isAdmin(actor) && actor.userId === userId;
  const target = self ? access.me! : (await groups.members(groupId, [userId])).get(userId);
  if (!target) throw new CirrusError('NOT_GROUP_MEMBER', `${userId} is not a member of group ${groupId}`);
  const allowed = self || isAdmin(actor) || access.me?.role === 'owner' || (access.me?.role === 'admin' && target.role === 'member');
  if (!allowed) {
    throw new CirrusError('FORBIDDEN', access.me?.role === 'admin' ? "An admin may set only ordinary members' nicknames" : "Only the member, the group's owner or an admin may set a member's nickname");
  }
  const updated = await groups.updateMember(groupId, userId, [target.role], { nickname: nickname === '' ? null : nickname });
  if (!updated) throw new CirrusError('FORBIDDEN', `${userId}'s membership of group ${groupId} changed meanwhile; look again and retry`);
  const opUserId = actorName(actor);
  await notifyGroup(groupId, 'groupMemberInfoSet', { opUserId, groupId, userId, ...(nickname ? { nickname } : {}) }, opUserId);
  return { member: memberView(updated) };
}

/** A page of the group's members in user id order, for its members and admin tokens. */
export async function listMembers(actor: Actor, groupId: string, page: { limit?: number; cursor?: string }): Promise<{ members: MemberView[]; lastKey?: Record<string, unknown> }> {
  const startKey = groupListStartKey(page.cursor, { groupId });
  const access = await groupAccess(actor, groupId);
  requireMember(access);
  const { items, lastKey }: Page<MemberItem> = await groups.memberPage(groupId, page.limit ?? DEFAULT_PAGE, startKey);
  const now = Date.now();
  return { members: items.map((m) => memberView(m, now)), lastKey };
}
