/** Operations: groups, members, roles, mutes, applications. Permissions are checked by the services. */
import { acceptApplication, applyToGroup, listGroupApplications, listUserApplications, refuseApplication } from '../../services/groups-applications';
import { inviteMembers, kickMembers, listMembers, muteMember, quitGroup, setMemberInfo, setMemberRole } from '../../services/groups-members';
import { createGroup, dismissGroup, getGroup, listJoinedGroups, muteGroup, setGroupInfo, transferGroup } from '../../services/groups';
import { encodeCursor } from '../paging';
import type { groupRoutes } from '../routes/groups';
import type { Operations } from '../routes/types';

/** A service page as the API returns it: the items under `field`, and the opaque cursor of the next page. */
function paged<F extends string, T>(field: F, page: { lastKey?: Record<string, unknown> } & Record<F, T[]>): Record<F, T[]> & { nextCursor: string | null } {
  return { [field]: page[field], nextCursor: encodeCursor(page.lastKey) } as Record<F, T[]> & { nextCursor: string | null };
}

export const groupOperations: Operations<typeof groupRoutes> = {
  createGroup: async ({ actor, body }) => ({ group: await createGroup(actor, body) }),
  getGroup: async ({ params }) => ({ group: await getGroup(params.groupId) }),
  setGroupInfo: async ({ actor, params, body }) => ({ group: await setGroupInfo(actor, params.groupId, body) }),
  dismissGroup: async ({ actor, params }) => ({ group: await dismissGroup(actor, params.groupId) }),
  transferGroup: async ({ actor, params, body }) => ({ group: await transferGroup(actor, params.groupId, body.newOwnerUserId) }),
  muteGroup: async ({ actor, params, body }) => ({ group: await muteGroup(actor, params.groupId, body.muted) }),
  listGroupMembers: async ({ actor, params, query }) => paged('members', await listMembers(actor, params.groupId, query)),
  addGroupMembers: ({ actor, params, body }) => inviteMembers(actor, params.groupId, body.userIds),
  removeGroupMembers: ({ actor, params, body }) => kickMembers(actor, params.groupId, body.userIds),
  setGroupMemberInfo: ({ actor, params, body }) => setMemberInfo(actor, params.groupId, params.userId, body.nickname),
  setGroupMemberRole: ({ actor, params, body }) => setMemberRole(actor, params.groupId, params.userId, body.role),
  muteGroupMember: ({ actor, params, body }) => muteMember(actor, params.groupId, params.userId, body.seconds),
  listGroupApplications: async ({ actor, params, query }) => paged('applications', await listGroupApplications(actor, params.groupId, query)),
  acceptGroupApplication: ({ actor, params }) => acceptApplication(actor, params.groupId, params.userId),
  refuseGroupApplication: ({ actor, params, body }) => refuseApplication(actor, params.groupId, params.userId, body.message),
  applyToGroup: ({ params, body }) => applyToGroup(params.userId, params.groupId, body.message),
  quitGroup: ({ params }) => quitGroup(params.userId, params.groupId),
  listJoinedGroups: async ({ params, query }) => paged('groups', await listJoinedGroups(params.userId, query)),
  listUserGroupApplications: async ({ params, query }) => paged('applications', await listUserApplications(params.userId, query)),
};
