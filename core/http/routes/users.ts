/** HTTP routes: users, their profiles, settings and presence. */
import * as z from 'zod';
import { UserId } from '../../protocol/schema';
import { ItemResult, MAX_BATCH, type HttpRouteSpec } from './types';

export const UserProfileInput = z.strictObject({
  userId: UserId,
  nickname: z.string().max(64).optional(),
  faceUrl: z.string().max(1024).optional(),
  ex: z.string().max(4096).optional().describe("The app's own data, usually JSON"),
});

export const userRoutes = [
  {
    operationId: 'registerUsers',
    method: 'POST',
    path: '/users/register',
    summary: `Register or import users, up to ${MAX_BATCH} per call; each item succeeds or fails on its own.`,
    auth: 'admin',
    body: z.strictObject({ users: z.array(UserProfileInput).min(1).max(MAX_BATCH) }),
    response: z.strictObject({ results: z.array(ItemResult) }),
  },
] as const satisfies readonly HttpRouteSpec[];
