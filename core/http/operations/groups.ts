/** Operations: groups. */
import { addMembers, createGroup, removeMembers } from '../../services/groups';
import type { groupRoutes } from '../routes/groups';
import type { Operations } from '../routes/types';

export const groupOperations: Operations<typeof groupRoutes> = {
  createGroup: async ({ body }) => ({ group: await createGroup(body) }),
  addGroupMembers: ({ params, body }) => addMembers(params.groupId, body.userIds),
  removeGroupMembers: ({ params, body }) => removeMembers(params.groupId, body.userIds),
};
