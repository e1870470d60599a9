/** HTTP routes: friend requests, friends and the blacklist (OpenIM's friend API). */
import * as z from 'zod/mini';
import { UserId } from '../../protocol/schema';
import { NextCursor, PageQuery } from '../paging';
import { MAX_FRIEND_REQUEST_MESSAGE } from '../../domain/friends';
import { ItemResult, MAX_BATCH, type HttpRouteSpec } from './types';

/** OpenIM's limit on request and answer messages (a beforeAddFriend modification is held to it too). */
export const MAX_MESSAGE = MAX_FRIEND_REQUEST_MESSAGE;
const MAX_REMARK = 255;

const Time = (what: string) => z.int().check(z.describe(`${what}, ms since the epoch`));

export const FriendRequest = z.strictObject({
  fromUserId: UserId.check(z.describe('Who asked')),
  toUserId: UserId.check(z.describe('Who was asked')),
  message: z.string().check(z.describe("The requester's message")),
  status: z.enum(['pending', 'accepted', 'refused']),
  createdAt: Time('When the request was made'),
  handledAt: z.optional(Time('When it was accepted or refused')),
  handleMessage: z.optional(z.string()).check(z.describe("The recipient's message when refusing")),
});

export const Friend = z.strictObject({
  friendUserId: UserId,
  remark: z.optional(z.string()).check(z.describe("The user's private name for the friend")),
  createdAt: Time('When they became friends'),
});

export const BlockedUser = z.strictObject({
  blockedUserId: UserId,
  createdAt: Time('When the user was blocked'),
});

const Self = z.strictObject({ userId: UserId });
const SelfAndFriend = z.strictObject({ userId: UserId, friendUserId: UserId });
const SelfAndRequester = z.strictObject({ userId: UserId.check(z.describe('The recipient of the request')), fromUserId: UserId.check(z.describe('Who sent the request')) });
const Done = z.strictObject({ ok: z.literal(true) });

export const friendRoutes = [
  {
    operationId: 'sendFriendRequest',
    method: 'POST',
    path: '/users/{userId}/friend-requests',
    summary:
      'Ask toUserId to become friends. Repeating a pending request replaces its message. If toUserId has asked the user already, both become friends at once and the request comes back accepted. Refused when toUserId is not registered (USER_NOT_FOUND), is the user (INVALID_ARGUMENT), is a friend already (ALREADY_EXISTS) or has blocked the user (BLOCKED). Notifies both users (friendRequested, or friendRequestAccepted).',
    auth: 'self',
    params: Self,
    body: z.strictObject({ toUserId: UserId, message: z._default(z.string().check(z.maxLength(MAX_MESSAGE)), '').check(z.describe(`Shown to the recipient, up to ${MAX_MESSAGE} characters`)) }),
    response: z.strictObject({ request: FriendRequest }),
  },
  {
    operationId: 'listFriendRequests',
    method: 'GET',
    path: '/users/{userId}/friend-requests',
    summary: 'Page through the friend requests the user received (incoming, by sender id) or sent (outgoing, by recipient id), in every status.',
    auth: 'self',
    params: Self,
    query: z.extend(PageQuery, { direction: z._default(z.enum(['incoming', 'outgoing']), 'incoming').check(z.describe('incoming (default): sent to the user; outgoing: sent by the user')) }),
    response: z.strictObject({ requests: z.array(FriendRequest), nextCursor: NextCursor }),
  },
  {
    operationId: 'countUnhandledFriendRequests',
    method: 'GET',
    path: '/users/{userId}/friend-requests/unhandled-count',
    summary: 'How many friend requests to the user are pending.',
    auth: 'self',
    params: Self,
    response: z.strictObject({ count: z.int().check(z.gte(0)) }),
  },
  {
    operationId: 'acceptFriendRequest',
    method: 'POST',
    path: '/users/{userId}/friend-requests/{fromUserId}/accept',
    summary: "Accept fromUserId's pending request (REQUEST_NOT_FOUND otherwise): both become friends, the user's side with the optional remark. Notifies both users (friendRequestAccepted).",
    auth: 'self',
    permissions: 'The user is the recipient of the request.',
    params: SelfAndRequester,
    body: z.strictObject({ remark: z.optional(z.string().check(z.maxLength(MAX_REMARK))).check(z.describe("The user's private name for the new friend")) }),
    response: z.strictObject({ request: FriendRequest }),
  },
  {
    operationId: 'refuseFriendRequest',
    method: 'POST',
    path: '/users/{userId}/friend-requests/{fromUserId}/refuse',
    summary: "Refuse fromUserId's pending request (REQUEST_NOT_FOUND otherwise), optionally saying why. The requester may ask again later. Notifies both users (friendRequestRefused).",
    auth: 'self',
    permissions: 'The user is the recipient of the request.',
    params: SelfAndRequester,
    body: z.strictObject({ message: z.optional(z.string().check(z.maxLength(MAX_MESSAGE))).check(z.describe('Shown to the requester')) }),
    response: z.strictObject({ request: FriendRequest }),
  },
  {
    operationId: 'listFriends',
    method: 'GET',
    path: '/users/{userId}/friends',
    summary: "Page through the user's friends, by friend id.",
    auth: 'self',
    params: Self,
    query: PageQuery,
    response: z.strictObject({ friends: z.array(Friend), nextCursor: NextCursor }),
  },
  {
    operationId: 'checkFriend',
    method: 'GET',
    path: '/users/{userId}/friends/{friendUserId}',
    summary: "Whether friendUserId is the user's friend (both sides of the friendship exist), with the user's remark.",
    auth: 'self',
    params: SelfAndFriend,
    response: z.strictObject({ isFriend: z.boolean(), remark: z.optional(z.string()) }),
  },
  {
    operationId: 'setFriendRemark',
    method: 'PUT',
    path: '/users/{userId}/friends/{friendUserId}',
    summary: "Set the user's private name for a friend; an empty remark clears it. RELATION_NOT_FOUND when friendUserId is not in the friend list. Notifies the user (friendRemarkSet), so their other devices follow.",
    auth: 'self',
    params: SelfAndFriend,
    body: z.strictObject({ remark: z.string().check(z.maxLength(MAX_REMARK)) }),
    response: z.strictObject({ friend: Friend }),
  },
  {
    operationId: 'deleteFriend',
    method: 'DELETE',
    path: '/users/{userId}/friends/{friendUserId}',
    summary: 'End a friendship, on both sides. RELATION_NOT_FOUND when they are not friends. Notifies both users (friendDeleted).',
    auth: 'self',
    params: SelfAndFriend,
    response: Done,
  },
  {
    operationId: 'importFriends',
    method: 'POST',
    path: '/friends/import',
    summary: `Make userId friends with up to ${MAX_BATCH} users at once, without requests; each item succeeds or fails on its own (USER_NOT_FOUND, INVALID_ARGUMENT for the user themselves or a repeat, ALREADY_EXISTS). Notifies both users of each new friendship (friendAdded).`,
    auth: 'admin',
    body: z.strictObject({ userId: UserId, friendUserIds: z.array(UserId).check(z.minLength(1), z.maxLength(MAX_BATCH)) }),
    response: z.strictObject({ results: z.array(ItemResult).check(z.describe('One per friendUserIds item, in order; userId is the friend')) }),
  },
  {
    operationId: 'addToBlacklist',
    method: 'POST',
    path: '/users/{userId}/blacklist',
    summary: "Block a user: their one-to-one messages and friend requests to the user are refused (BLOCKED). An existing friendship stays. ALREADY_EXISTS when blocked already, USER_NOT_FOUND when not registered. Notifies the user (blacklistAdded).",
    auth: 'self',
    params: Self,
    body: z.strictObject({ blockedUserId: UserId }),
    response: z.strictObject({ blocked: BlockedUser }),
  },
  {
    operationId: 'removeFromBlacklist',
    method: 'DELETE',
    path: '/users/{userId}/blacklist/{blockedUserId}',
    summary: 'Unblock a user. RELATION_NOT_FOUND when they are not in the blacklist. Notifies the user (blacklistRemoved).',
    auth: 'self',
    params: z.strictObject({ userId: UserId, blockedUserId: UserId }),
    response: Done,
  },
  {
    operationId: 'listBlacklist',
    method: 'GET',
    path: '/users/{userId}/blacklist',
    summary: 'Page through the users the user has blocked, by their id.',
    auth: 'self',
    params: Self,
    query: PageQuery,
    response: z.strictObject({ blacklist: z.array(BlockedUser), nextCursor: NextCursor }),
  },
] as const satisfies readonly HttpRouteSpec[];
