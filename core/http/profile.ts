/** A user's profile as the HTTP API answers it, shared by the routes of several functions (core/http/routes/). */
import * as z from 'zod/mini';
import { UserId } from '../protocol/schema';

export const RecvOpt = z.union([z.literal(0), z.literal(1), z.literal(2)]).check(z.describe('0 receive, 1 do not receive (no push, not in the total unread), 2 receive silently (pushed with silent: true, not in the total unread)'));

export const Profile = z.strictObject({
  userId: UserId,
  nickname: z.optional(z.string()),
  faceUrl: z.optional(z.string()),
  ex: z.optional(z.string()),
  globalRecvOpt: z.optional(RecvOpt).check(z.describe('Shown to the user themselves and admins only')),
  banned: z.optional(z.strictObject({ at: z.int(), until: z.optional(z.int()), reason: z.optional(z.string()) })).check(z.describe('Set while banned (ms since the epoch; no `until`: until lifted). Shown to admins only')),
  erased: z.optional(z.strictObject({ at: z.int() })).check(z.describe('Set once the user was erased (eraseUser): the profile is gone, the id stays taken')),
  createdAt: z.int(),
  updatedAt: z.optional(z.int()),
});
