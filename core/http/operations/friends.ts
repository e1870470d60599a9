/** Operations: friend requests, friends and the blacklist. */
import {
  acceptFriendRequest,
  addToBlacklist,
  checkFriend,
  DEFAULT_PAGE,
  deleteFriend,
  importFriends,
  listBlacklist,
  listFriendRequests,
  listFriends,
  refuseFriendRequest,
  removeFromBlacklist,
  sendFriendRequest,
  setFriendRemark,
  unhandledFriendRequestCount,
} from '../../services/friends';
import { actorName } from '../actor';
import { decodeCursor, encodeCursor, type PageQuery } from '../paging';
import type { friendRoutes } from '../routes/friends';
import type { Operations } from '../routes/types';

/** The page size and start key a paged list's query asks for. */
const pageOf = (query: PageQuery) => [query.limit ?? DEFAULT_PAGE, decodeCursor(query.cursor)] as const;

export const friendOperations: Operations<typeof friendRoutes> = {
  sendFriendRequest: async ({ actor, params, body }) => ({ request: await sendFriendRequest(params.userId, body.toUserId, body.message, actorName(actor)) }),

  listFriendRequests: async ({ params, query }) => {
    const page = await listFriendRequests(params.userId, query.direction, ...pageOf(query));
    return { requests: page.items, nextCursor: encodeCursor(page.lastKey) };
  },

  countUnhandledFriendRequests: async ({ params }) => ({ count: await unhandledFriendRequestCount(params.userId) }),

  acceptFriendRequest: async ({ actor, params, body }) => ({ request: await acceptFriendRequest(params.userId, params.fromUserId, body.remark, actorName(actor)) }),

  refuseFriendRequest: async ({ actor, params, body }) => ({ request: await refuseFriendRequest(params.userId, params.fromUserId, body.message, actorName(actor)) }),

  listFriends: async ({ params, query }) => {
    const page = await listFriends(params.userId, ...pageOf(query));
    return { friends: page.items, nextCursor: encodeCursor(page.lastKey) };
  },

  checkFriend: ({ params }) => checkFriend(params.userId, params.friendUserId),

  setFriendRemark: async ({ actor, params, body }) => ({ friend: await setFriendRemark(params.userId, params.friendUserId, body.remark, actorName(actor)) }),

  deleteFriend: async ({ actor, params }) => {
    await deleteFriend(params.userId, params.friendUserId, actorName(actor));
    return { ok: true };
  },

  importFriends: async ({ actor, body }) => ({ results: await importFriends(body.userId, body.friendUserIds, actorName(actor)) }),

  addToBlacklist: async ({ actor, params, body }) => ({ blocked: await addToBlacklist(params.userId, body.blockedUserId, actorName(actor)) }),

  removeFromBlacklist: async ({ actor, params }) => {
    await removeFromBlacklist(params.userId, params.blockedUserId, actorName(actor));
    return { ok: true };
  },

  listBlacklist: async ({ params, query }) => {
    const page = await listBlacklist(params.userId, ...pageOf(query));
    return { blacklist: page.items, nextCursor: encodeCursor(page.lastKey) };
  },
};
