/**
 * Who may do what in a group. Roles rank as in OpenIM (owner 100, admin 60, member 20);
 * an admin token outranks everyone but cannot make the owner a target of rules that
 * exist to keep a group owned (the owner is never kicked or muted, and never quits).
 */
import { isAdmin, type Actor } from '../http/actor';
import { CirrusError } from '../errors';
import { groups, type GroupItem, type GroupRole, type MemberItem } from '../store/groups';

const rank: Record<GroupRole, number> = { owner: 100, admin: 60, member: 20 };

/** A group as seen by the caller: the group, and the caller's membership when a user token calls. */
export interface GroupAccess {
  group: GroupItem;
  actor: Actor;
  /** The calling user's membership; undefined for admin tokens and for non-members. */
  me?: MemberItem;
}

/** Loads the group (GROUP_NOT_FOUND when there is none) with the caller's membership, in one request. */
export async function groupAccess(actor: Actor, groupId: string): Promise<GroupAccess> {
  if (isAdmin(actor)) {
    const group = await groups.get(groupId);
    if (!group) throw new CirrusError('GROUP_NOT_FOUND', `Group ${groupId} does not exist`);
    return { group, actor };
  }
  const { group, member } = await groups.withMember(groupId, actor.userId);
  if (!group) throw new CirrusError('GROUP_NOT_FOUND', `Group ${groupId} does not exist`);
  return { group, actor, me: member };
}

/** Refuses changes to a dismissed group. */
export function requireActive(group: GroupItem): void {
  if (group.status === 'dismissed') throw new CirrusError('GROUP_DISMISSED', `Group ${group.groupId} was dismissed`);
}

/** Refuses callers that are not members (admin tokens pass). */
export function requireMember(access: GroupAccess): void {
  if (!isAdmin(access.actor) && !access.me) throw new CirrusError('NOT_GROUP_MEMBER', `${access.actor.userId} is not a member of group ${access.group.groupId}`);
}

/**
 * Refuses callers below `minimum` (admin tokens pass): NOT_GROUP_MEMBER for non-members,
 * FORBIDDEN naming who may `what` otherwise.
 */
export function requireRole(access: GroupAccess, minimum: 'owner' | 'admin', what: string): void {
  requireMember(access);
  if (isAdmin(access.actor)) return;
  if (rank[access.me!.role] < rank[minimum]) {
    throw new CirrusError('FORBIDDEN', `Only the group's owner${minimum === 'admin' ? ' or an admin' : ''} may ${what}`);
  }
}

/** Whether the caller is the owner or an admin of the group, or an admin token. */
export function isManager(access: GroupAccess): boolean {
  return isAdmin(access.actor) || access.me?.role === 'owner' || access.me?.role === 'admin';
}

const participle = { remove: 'removed', mute: 'muted' } as const;

/** What a manager does to another member that the owner is protected from. */
export type TargetAction = keyof typeof participle;

/**
 * Why the caller may not `action` a member of `role`, or undefined when they may: the
 * owner is never a target; the owner and admin tokens act on admins and members, an admin
 * on ordinary members only.
 */
export function targetRefusal(access: GroupAccess, role: GroupRole, action: TargetAction): string | undefined {
  if (role === 'owner') return `The group's owner cannot be ${participle[action]}`;
  if (isAdmin(access.actor) || access.me?.role === 'owner') return undefined;
  if (access.me?.role === 'admin' && role === 'member') return undefined;
  return access.me?.role === 'admin' ? `An admin may ${action} only ordinary members` : `Only the group's owner or an admin may ${action} members`;
}
