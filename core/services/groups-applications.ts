/**
 * Joining a group by asking: the join policy decides. 'free' admits at once, 'approval'
 * files an application for the owner and admins to accept or refuse, 'invite' refuses
 * (members are only added by others). Applications are deleted when handled, so the
 * lists show what is pending.
 */
import { CirrusError } from '../errors';
import { actorName, type Actor } from '../http/actor';
import { groups, type ApplicationItem } from '../store/groups';
import { groupAccess, requireActive, requireRole } from './groups-access';
import { admitMembers } from './groups-members';
import { DEFAULT_PAGE, groupListStartKey } from './groups-paging';
import { notifyGroup, notifyUsers } from './notify';
import { beforeJoinGroup } from '../webhooks/before-actions';

/** An application as the API shows it. */
export type ApplicationView = Pick<ApplicationItem, 'groupId' | 'userId' | 'message' | 'inviterUserId' | 'createdAt'>;

const applicationView = (a: ApplicationItem): ApplicationView => ({
  groupId: a.groupId,
  userId: a.userId,
  message: a.message,
  ...(a.inviterUserId ? { inviterUserId: a.inviterUserId } : {}),
  createdAt: a.createdAt,
});

/**
 * A user asks to join. Free groups admit them (groupMemberJoined into the group);
 * approval groups record an application and tell the owner, the admins and the
 * applicant (groupApplied); invite-only groups refuse with JOIN_NOT_ALLOWED.
 */
export async function applyToGroup(userId: string, groupId: string, message: string): Promise<{ status: 'joined' | 'applied'; memberCount: number }> {
  const { group, member } = await groups.withMember(groupId, userId);
  if (!group) throw new CirrusError('GROUP_NOT_FOUND', `Group ${groupId} does not exist`);
  requireActive(group);
  if (member) throw new CirrusError('ALREADY_EXISTS', `${userId} is a member of group ${groupId} already`);
  if (group.joinPolicy !== 'invite') message = await beforeJoinGroup({ groupId, userId, message, joinPolicy: group.joinPolicy });
  switch (group.joinPolicy) {
    case 'free': {
      const memberCount = await admitMembers(group, [userId]);
      await notifyGroup(groupId, 'groupMemberJoined', { opUserId: userId, groupId, userId }, userId);
      return { status: 'joined', memberCount };
    }
    case 'approval': {
      if (!(await groups.putApplication({ groupId, userId, message, createdAt: Date.now() }))) {
        throw new CirrusError('ALREADY_EXISTS', `${userId} has a pending application to group ${groupId}`);
      }
      await notifyUsers([group.ownerUserId, ...(group.adminUserIds ?? []), userId], 'groupApplied', { groupId, userId, message }, userId);
      return { status: 'applied', memberCount: group.memberCount };
    }
    default:
      throw new CirrusError('JOIN_NOT_ALLOWED', `Group ${groupId} admits members only by invitation from its owner or admins`);
  }
}

/**
 * The owner or an admin accepts a pending application: the applicant joins
 * (groupMemberJoined into the group) and is told (groupApplicationAccepted).
 */
export async function acceptApplication(actor: Actor, groupId: string, userId: string): Promise<{ memberCount: number }> {
  const access = await groupAccess(actor, groupId);
  requireActive(access.group);
  requireRole(access, 'admin', 'handle applications');
  const application = await groups.takeApplication(groupId, userId);
  if (!application) throw new CirrusError('REQUEST_NOT_FOUND', `${userId} has no pending application to group ${groupId}`);
  if ((await groups.members(groupId, [userId])).has(userId)) {
    throw new CirrusError('ALREADY_EXISTS', `${userId} is a member of group ${groupId} already; the application was removed`);
  }
  const memberCount = await admitMembers(access.group, [userId], application.inviterUserId);
  const opUserId = actorName(actor);
  await notifyUsers([userId], 'groupApplicationAccepted', { opUserId, groupId, userId }, opUserId);
  await notifyGroup(groupId, 'groupMemberJoined', { opUserId, groupId, userId }, opUserId);
  return { memberCount };
}

/** The owner or an admin refuses a pending application; the applicant is told (groupApplicationRefused). */
export async function refuseApplication(actor: Actor, groupId: string, userId: string, message?: string): Promise<{ application: ApplicationView }> {
  const access = await groupAccess(actor, groupId);
  requireActive(access.group);
  requireRole(access, 'admin', 'handle applications');
  const application = await groups.takeApplication(groupId, userId);
  if (!application) throw new CirrusError('REQUEST_NOT_FOUND', `${userId} has no pending application to group ${groupId}`);
  const opUserId = actorName(actor);
  await notifyUsers([userId], 'groupApplicationRefused', { opUserId, groupId, userId, ...(message ? { message } : {}) }, opUserId);
  return { application: applicationView(application) };
}

/** A page of the group's pending applications, for its owner, admins and admin tokens. */
export async function listGroupApplications(actor: Actor, groupId: string, page: { limit?: number; cursor?: string }): Promise<{ applications: ApplicationView[]; lastKey?: Record<string, unknown> }> {
  const startKey = groupListStartKey(page.cursor, { groupId });
  requireRole(await groupAccess(actor, groupId), 'admin', 'see applications');
  const { items, lastKey } = await groups.applicationPage(groupId, page.limit ?? DEFAULT_PAGE, startKey);
  return { applications: items.map(applicationView), lastKey };
}

/** A page of a user's own pending applications (one Query on the byUser index). */
export async function listUserApplications(userId: string, page: { limit?: number; cursor?: string }): Promise<{ applications: ApplicationView[]; lastKey?: Record<string, unknown> }> {
  const { items, lastKey } = await groups.userApplicationPage(userId, page.limit ?? DEFAULT_PAGE, groupListStartKey(page.cursor, { userId }));
  return { applications: items.map(applicationView), lastKey };
}
