/** HTTP routes: groups, members, roles, applications. */
import * as z from 'zod';
import { GroupId, UserId } from '../../protocol/schema';
import { ItemResult, MAX_BATCH, type HttpRouteSpec } from './types';

export const Group = z.strictObject({
  groupId: GroupId,
  name: z.string(),
  ownerUserId: UserId,
  faceUrl: z.string().optional(),
  introduction: z.string().optional(),
  ex: z.string().optional(),
  memberCount: z.number().int(),
  createdAt: z.number().int(),
});

export const groupRoutes = [
  {
    operationId: 'createGroup',
    method: 'POST',
    path: '/groups',
    summary: 'Create a group with its owner and initial members.',
    auth: 'admin',
    body: z.strictObject({
      groupId: GroupId.optional().describe('Chosen by the app; generated when absent'),
      name: z.string().min(1).max(128),
      ownerUserId: UserId,
      memberUserIds: z.array(UserId).max(MAX_BATCH).optional(),
      faceUrl: z.string().max(1024).optional(),
      introduction: z.string().max(2048).optional(),
      ex: z.string().max(4096).optional(),
    }),
    response: z.strictObject({ group: Group }),
  },
  {
    operationId: 'addGroupMembers',
    method: 'POST',
    path: '/groups/{groupId}/members',
    summary: 'Add members; they see messages sent from now on.',
    auth: 'admin',
    params: z.strictObject({ groupId: GroupId }),
    body: z.strictObject({ userIds: z.array(UserId).min(1).max(MAX_BATCH) }),
    response: z.strictObject({ results: z.array(ItemResult), memberCount: z.number().int() }),
  },
  {
    operationId: 'removeGroupMembers',
    method: 'POST',
    path: '/groups/{groupId}/members/remove',
    summary: 'Remove members; they keep the messages up to their removal.',
    auth: 'admin',
    params: z.strictObject({ groupId: GroupId }),
    body: z.strictObject({ userIds: z.array(UserId).min(1).max(MAX_BATCH) }),
    response: z.strictObject({ results: z.array(ItemResult), memberCount: z.number().int() }),
  },
] as const satisfies readonly HttpRouteSpec[];
