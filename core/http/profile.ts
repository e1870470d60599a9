/** A user's profile as the HTTP API answers it, shared by the routes of several functions (core/http/routes/). */
import * as z from 'zod';
import { UserId } from '../protocol/schema';

export const RecvOpt = z.union([z.literal(0), z.literal(1), z.literal(2)]).describe('0 receive, 1 do not receive (no push, not in the total unread), 2 receive silently (pushed with silent: true, not in the total unread)');

export const Profile = z.strictObject({
  userId: UserId,
  nickname: z.string().optional(),
  faceUrl: z.string().optional(),
  ex: z.string().optional(),
  globalRecvOpt: RecvOpt.optional().describe('Shown to the user themselves and admins only'),
  banned: z
    .strictObject({ at: z.number().int(), until: z.number().int().optional(), reason: z.string().optional() })
    .optional()
    .describe('Set while banned (ms since the epoch; no `until`: until lifted). Shown to admins only'),
  erased: z.strictObject({ at: z.number().int() }).optional().describe('Set once the user was erased (eraseUser): the profile is gone, the id stays taken'),
  createdAt: z.number().int(),
  updatedAt: z.number().int().optional(),
});
