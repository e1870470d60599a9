/** HTTP routes: users, their profiles, settings and presence. */
import * as z from 'zod/mini';
import { PlatformId, UserId } from '../../protocol/schema';
import { NextCursor, PageQuery } from '../paging';
import { ItemResult, MAX_BATCH, type HttpRouteSpec } from './types';
import { Profile, RecvOpt } from '../profile';

export const UserProfileInput = z.strictObject({
  userId: UserId,
  nickname: z.optional(z.string().check(z.maxLength(64))),
  faceUrl: z.optional(z.string().check(z.maxLength(1024))),
  ex: z.optional(z.string().check(z.maxLength(4096))).check(z.describe("The app's own data, usually JSON")),
});

const UserPath = z.strictObject({ userId: UserId });
const UserIds = (max: number) => z.strictObject({ userIds: z.array(UserId).check(z.minLength(1), z.maxLength(max)) });

export const userRoutes = [
  {
    operationId: 'registerUsers',
    method: 'POST',
    path: '/users/register',
    summary: `Register or import users, up to ${MAX_BATCH} per call; each item succeeds or fails on its own.`,
    auth: 'admin',
    body: z.strictObject({ users: z.array(UserProfileInput).check(z.minLength(1), z.maxLength(MAX_BATCH)) }),
    response: z.strictObject({ results: z.array(ItemResult) }),
  },
  {
    operationId: 'listUsers',
    method: 'GET',
    path: '/users',
    summary: 'Page through every registered user, in registration order.',
    auth: 'admin',
    query: PageQuery,
    response: z.strictObject({ users: z.array(Profile), nextCursor: NextCursor }),
  },
  {
    operationId: 'getUser',
    method: 'GET',
    path: '/users/{userId}',
    summary: "A user's profile.",
    auth: 'user',
    params: UserPath,
    response: z.strictObject({ user: Profile }),
  },
  {
    operationId: 'getUsers',
    method: 'POST',
    path: '/users/query',
    summary: 'Profiles of several users (unregistered ones are left out).',
    auth: 'user',
    body: UserIds(MAX_BATCH),
    response: z.strictObject({ users: z.array(Profile) }),
  },
  {
    operationId: 'updateUser',
    method: 'PUT',
    path: '/users/{userId}',
    summary: "Update a user's profile; their live devices get a userInfoUpdated event.",
    auth: 'self',
    params: UserPath,
    body: z.strictObject({ nickname: z.optional(z.string().check(z.maxLength(64))), faceUrl: z.optional(z.string().check(z.maxLength(1024))), ex: z.optional(z.string().check(z.maxLength(4096))) }),
    response: z.strictObject({ user: Profile }),
  },
  {
    operationId: 'setGlobalRecvOpt',
    method: 'PUT',
    path: '/users/{userId}/settings',
    summary: "Set the user's receive option for all conversations (a conversation's own option applies too; the stricter wins).",
    auth: 'self',
    params: UserPath,
    body: z.strictObject({ globalRecvOpt: RecvOpt }),
    response: z.strictObject({ user: Profile }),
  },
  {
    operationId: 'checkUsers',
    method: 'POST',
    path: '/users/check',
    summary: 'Which of these user ids are registered.',
    auth: 'user',
    body: UserIds(MAX_BATCH),
    response: z.strictObject({ results: z.array(z.strictObject({ userId: UserId, registered: z.boolean() })) }),
  },
  {
    operationId: 'getOnlineStatus',
    method: 'POST',
    path: '/users/online',
    summary: 'Whether users are online, and on which platforms, from their live WebSocket connections.',
    auth: 'user',
    body: UserIds(100),
    response: z.strictObject({
      results: z.array(
        z.strictObject({
          userId: UserId,
          online: z.boolean(),
          platforms: z.array(z.strictObject({ platformId: PlatformId, connections: z.int() })),
        }),
      ),
    }),
  },
  {
    operationId: 'banUser',
    method: 'POST',
    path: '/users/{userId}/ban',
    summary:
      'Ban a user: no token is issued to them (USER_BANNED) until the ban is lifted or expires, every session is revoked, and every live connection gets a `kicked` event (reason `banned`) and is closed.',
    auth: 'admin',
    params: UserPath,
    body: z.strictObject({
      reason: z.optional(z.string().check(z.maxLength(256))).check(z.describe('Kept with the ban, shown to admins')),
      durationSeconds: z.optional(z.int().check(z.gte(1), z.lte(10 * 365 * 86400))).check(z.describe('The ban ends by itself after this long (default: until lifted)')),
    }),
    response: z.strictObject({ user: Profile, revoked: z.int().check(z.describe('Sessions revoked')), kicked: z.int().check(z.describe('Live connections closed')) }),
  },
  {
    operationId: 'unbanUser',
    method: 'DELETE',
    path: '/users/{userId}/ban',
    summary: 'Lift a ban: tokens can be issued again (the sessions revoked by the ban stay revoked).',
    auth: 'admin',
    params: UserPath,
    response: z.strictObject({ user: Profile }),
  },
  {
    operationId: 'eraseUser',
    method: 'POST',
    path: '/admin/users/{userId}/erase',
    summary:
      'Erase a user (right to be forgotten), as docs/operations.md "Compliance" describes: the profile goes (the user stays as a tombstone with `erased` and a ban, so the id cannot be registered again), ' +
      'every session is revoked and every live connection closed (`kicked`, reason `forcedLogout`), every offline push device removed, friendships (both sides), friend requests (both ways), their blocks and group applications deleted; ' +
      'they leave every group (one they own passes to its oldest admin, else its oldest member, and is dismissed when they are alone); every message they sent is deleted for everyone (content null, `deleted` by `admin`) in the offline store and the history, and so from search. ' +
      'confirmUserId must repeat the user id. Idempotent: call again to finish an erasure cut short, and while done is false (the messages of a user with very many took longer than one call may).',
    auth: 'admin',
    params: UserPath,
    body: z.strictObject({ confirmUserId: UserId.check(z.describe('The same user id, to confirm')) }),
    response: z.strictObject({
      userId: UserId,
      done: z.boolean().check(z.describe('false: messages remain to erase; call again')),
      revoked: z.int().check(z.describe('Sessions revoked')),
      kicked: z.int().check(z.describe('Live connections closed')),
      devices: z.int().check(z.describe('Offline push devices removed')),
      friends: z.int().check(z.describe('Friendships deleted')),
      requests: z.int().check(z.describe('Friend requests deleted (to and from them)')),
      blocks: z.int().check(z.describe('Blocks they made, removed')),
      groups: z.int().check(z.describe('Groups left')),
      messages: z.int().check(z.describe('Messages deleted for everyone in the offline store by this call: theirs, their own notifications, and those of their friend requests (the history follows within seconds)')),
    }),
  },
] as const satisfies readonly HttpRouteSpec[];
