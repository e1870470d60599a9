/** HTTP routes: admin and user tokens, logout. */
import * as z from 'zod/mini';
import { PlatformId, UserId } from '../../protocol/schema';
import { AdminName, Token, type HttpRouteSpec } from './types';

export const authRoutes = [
  {
    operationId: 'getAdminToken',
    method: 'POST',
    path: '/auth/admin-token',
    summary:
      "Exchange the deployment's admin secret for an admin token (12 hours). Give name to say who the operator is: every audited action taken with the token records it (else `admin`), with the token's id. " +
      'Each call, granted or refused, is recorded in the audit log (action getAdminToken).',
    auth: 'none',
    body: z.strictObject({
      secret: z.string().check(z.minLength(1), z.maxLength(256)),
      name: z.optional(AdminName).check(z.describe('The operator, as the audit log names them (e.g. an e-mail address)')),
    }),
    response: z.extend(Token, { tokenId: z.string().check(z.describe("The token's id, recorded with each audited action it takes")) }),
  },
  {
    operationId: 'getUserToken',
    method: 'POST',
    path: '/auth/user-token',
    summary: 'Issue a token for a registered user on one platform; the app hands it to its client.',
    auth: 'admin',
    body: z.strictObject({
      userId: UserId,
      platformId: PlatformId,
      expireSeconds: z.optional(z.int().check(z.gte(60), z.lte(90 * 86400))).check(z.describe('Lifetime (default 7 days, at most 90 days)')),
    }),
    response: z.extend(Token, { sessionId: z.string() }),
  },
  {
    operationId: 'forceLogout',
    method: 'POST',
    path: '/auth/force-logout',
    summary: "Revoke a user's sessions (on one platform, or all): their tokens stop working at the next check.",
    auth: 'admin',
    body: z.strictObject({ userId: UserId, platformId: z.optional(PlatformId) }),
    response: z.strictObject({ revoked: z.int() }),
  },
  {
    operationId: 'logout',
    method: 'POST',
    path: '/auth/logout',
    summary:
      "Sign out with a user token: its session is revoked (the token stops working), the offline push devices registered with it are removed (and those of the same platform registered with the user's earlier sessions that have ended, e.g. an expired token the app replaced), and the live connections opened with it are closed. The user's other sessions are not affected.",
    auth: 'user',
    permissions: 'A user token, for its own session (an admin token has none: INVALID_ARGUMENT).',
    response: z.strictObject({ devicesRemoved: z.int().check(z.describe('Offline push devices removed')), closed: z.int().check(z.describe('Live connections closed')) }),
  },
] as const satisfies readonly HttpRouteSpec[];
