/** Operations: users. */
import { CirrusError } from '../../errors';
import { pushEvent } from '../../services/push';
import { banUser, unbanUser } from '../../services/ban';
import { eraseUser } from '../../services/erasure';
import { registerUsers } from '../../services/users';
import { directoryUserOf, enqueueDirectory } from '../../services/directory-jobs';
import { beforeUpdateUserInfo } from '../../webhooks/before-actions';
import { connections } from '../../store/connections';
import { users, type UserProfile } from '../../store/users';
import { isAdmin, userIdOf, type Actor } from '../actor';
import { decodeCursor, encodeCursor } from '../paging';
import type { userRoutes } from '../routes/users';
import type { Operations } from '../routes/types';
import { globalRecvOptChanged } from '../../services/online-index';

/** Settings are the user's own business: others see the public profile only. */
function visibleTo(actor: Actor, user: UserProfile): UserProfile {
  if (isAdmin(actor)) return user;
  const { banned: _ban, ...own } = user;
  if (userIdOf(actor) === user.userId) return own;
  const { globalRecvOpt: _private, ...rest } = own;
  return rest;
}

async function requireProfile(userId: string): Promise<UserProfile> {
  const [user] = await users.getMany([userId]);
  if (!user) throw new CirrusError('USER_NOT_FOUND', `User ${userId} is not registered`);
  return user;
}

export const userOperations: Operations<typeof userRoutes> = {
  registerUsers: async ({ body }) => ({ results: await registerUsers(body.users) }),
  banUser: ({ params, body }) => banUser(params.userId, body ?? {}),
  unbanUser: ({ params }) => unbanUser(params.userId),
  eraseUser: ({ actor, params, body }) => {
    if (body.confirmUserId !== params.userId) throw new CirrusError('INVALID_ARGUMENT', `confirmUserId must repeat the user id ${params.userId}`);
    if (!isAdmin(actor)) throw new CirrusError('FORBIDDEN', 'Only an admin token may erase a user');
    return eraseUser(params.userId, actor);
  },
  listUsers: async ({ query }) => {
    const page = await users.page(query.limit ?? 50, decodeCursor(query.cursor));
    return { users: page.users, nextCursor: encodeCursor(page.lastKey) };
  },
  getUser: async ({ actor, params }) => ({ user: visibleTo(actor, await requireProfile(params.userId)) }),
  getUsers: async ({ actor, body }) => ({ users: (await users.getMany(body.userIds)).map((u) => visibleTo(actor, u)) }),
  updateUser: async ({ params, body }) => {
    const changes = await beforeUpdateUserInfo(params.userId, body);
    const user = await users.update(params.userId, changes);
    if (!user) throw new CirrusError('USER_NOT_FOUND', `User ${params.userId} is not registered`);
    if (changes.nickname !== undefined) await enqueueDirectory([{ kind: 'user', user: directoryUserOf(user) }]);
    await pushEvent(params.userId, { push: 'userInfoUpdated', data: { userId: params.userId, changes } });
    return { user };
  },
  setGlobalRecvOpt: async ({ params, body }) => {
    const user = await users.update(params.userId, { globalRecvOpt: body.globalRecvOpt });
    if (!user) throw new CirrusError('USER_NOT_FOUND', `User ${params.userId} is not registered`);
    // Large groups' online index carries the effective receive option of each entry.
    await globalRecvOptChanged(params.userId);
    return { user };
  },
  checkUsers: async ({ body }) => {
    const found = await users.existing(body.userIds);
    return { results: body.userIds.map((userId: string) => ({ userId, registered: found.has(userId) })) };
  },
  getOnlineStatus: async ({ body }) => ({
    results: await Promise.all(
      [...new Set<string>(body.userIds)].map(async (userId) => {
        const perPlatform = new Map<number, number>();
        for (const c of await connections.ofUser(userId)) perPlatform.set(c.platformId, (perPlatform.get(c.platformId) ?? 0) + 1);
        const platforms = [...perPlatform].sort(([a], [b]) => a - b).map(([platformId, n]) => ({ platformId, connections: n }));
        return { userId, online: platforms.length > 0, platforms };
      }),
    ),
  }),
};
