/**
 * Friends, friend requests and the blacklist, as OpenIM has them: a request is pending
 * until the recipient accepts or refuses it; accepting makes both users friends (one item
 * per side); two users who ask each other become friends at once; a block stops messages
 * and friend requests from the blocked user and keeps an existing friendship.
 *
 * Every change is announced with a typed notification to the users concerned (their
 * `n_<userId>` conversations); `opUserId` is whoever acted (a user id, or `@admin`): an
 * acting user has read the notifications they caused (see core/services/notify.ts).
 */
import { CirrusError } from '../errors';
import { blacklist, friendRequests, friends, relations, type BlacklistItem, type FriendItem, type FriendRequestItem, type Page } from '../store/friends';
import { users } from '../store/users';
import { notifyUsers } from './notify';
import { itemError, requireUsers, type ItemResult } from './users';
import { forEachLimit } from '../domain/concurrency';
import { afterJob, notifyAfter, queueAfter } from '../webhooks/after';
import { beforeAddFriend } from '../webhooks/before-actions';

/** Default page size of the friend, request and blacklist lists. */
export const DEFAULT_PAGE = 50;

/** How many new friendships of an import announce themselves at once (two notifications each). */
const NOTIFY_CONCURRENCY = 8;

export interface FriendView {
  friendUserId: string;
  remark?: string;
  createdAt: number;
}

export interface BlockedView {
  blockedUserId: string;
  createdAt: number;
}

const friendView = ({ friendUserId, remark, createdAt }: FriendItem): FriendView => ({ friendUserId, ...(remark ? { remark } : {}), createdAt });
/** A request as the API shows it: the item, with its fields in a stable order. */
const requestView = ({ fromUserId, toUserId, message, status, createdAt, handledAt, handleMessage }: FriendRequestItem): FriendRequestItem => ({
  fromUserId,
  toUserId,
  message,
  status,
  createdAt,
  ...(handledAt !== undefined ? { handledAt } : {}),
  ...(handleMessage ? { handleMessage } : {}),
});

function requireOther(userId: string, otherUserId: string, what: string): void {
  if (userId === otherUserId) throw new CirrusError('INVALID_ARGUMENT', `A user cannot ${what} themselves`);
}

/**
 * Sends (or repeats) a friend request from `fromUserId` to `toUserId`.
 *
 * Refused when `toUserId` is not registered, is `fromUserId`, is a friend already, or has
 * blocked `fromUserId`. A repeated request while pending replaces its message. When
 * `toUserId` has a pending request to `fromUserId`, both become friends at once and the
 * returned request is `accepted`. Each decision is re-taken if the requests changed
 * concurrently (the writes are conditional).
 */
export async function sendFriendRequest(fromUserId: string, toUserId: string, message: string, opUserId: string): Promise<FriendRequestItem> {
  requireOther(fromUserId, toUserId, 'send a friend request to');
  message = await beforeAddFriend({ fromUserId, toUserId, message, opUserId });
  for (let attempt = 0; attempt < 3; attempt++) {
    const state = await relations.pairState(fromUserId, toUserId);
    const missing = [fromUserId, toUserId].filter((id) => !state.registered.has(id));
    if (missing.length > 0) throw new CirrusError('USER_NOT_FOUND', `Not registered: ${missing.join(', ')}`);
    if (state.fromSide && state.toSide) throw new CirrusError('ALREADY_EXISTS', `${fromUserId} and ${toUserId} are friends already`);
    if (state.blockedByTo) throw new CirrusError('BLOCKED', `${toUserId} does not accept friend requests from ${fromUserId}`);
    const now = Date.now();

    if (state.reverse?.status === 'pending') {
      // Both asked: the second request accepts the first.
      const own: FriendRequestItem = { toUserId, fromUserId, message, status: 'accepted', createdAt: now, handledAt: now };
      if (await friendRequests.acceptMutual(own, now)) {
        await notifyUsers([fromUserId, toUserId], 'friendRequestAccepted', { fromUserId: toUserId, toUserId: fromUserId }, opUserId);
        await notifyAfter('afterAddFriend', [fromUserId, toUserId, now], { userId: toUserId, friendUserId: fromUserId, opUserId, via: 'request', at: now }, { userIds: [fromUserId, toUserId] });
        return requestView(own);
      }
      continue;
    }

    if (state.request?.status === 'pending') {
      const updated = await friendRequests.updatePendingMessage(toUserId, fromUserId, message);
      if (updated) {
        await notifyUsers([fromUserId, toUserId], 'friendRequested', { fromUserId, toUserId, message }, opUserId);
        return requestView(updated);
      }
      continue;
    }

    const fresh: FriendRequestItem = { toUserId, fromUserId, message, status: 'pending', createdAt: now };
    if (await friendRequests.createPending(fresh)) {
      await notifyUsers([fromUserId, toUserId], 'friendRequested', { fromUserId, toUserId, message }, opUserId);
      return requestView(fresh);
    }
  }
  throw new CirrusError('INTERNAL', 'The friend request kept changing while being sent; retry');
}

/**
 * The recipient `toUserId` accepts the pending request of `fromUserId`: the request is
 * marked accepted and both sides of the friendship are written in one transaction, the
 * acceptor's side with `remark`.
 */
export async function acceptFriendRequest(toUserId: string, fromUserId: string, remark: string | undefined, opUserId: string): Promise<FriendRequestItem> {
  const request = await friendRequests.get(toUserId, fromUserId);
  const accepted = request?.status === 'pending' ? await friendRequests.accept(request, Date.now(), remark) : undefined;
  if (!accepted) throw new CirrusError('REQUEST_NOT_FOUND', `No pending friend request from ${fromUserId} to ${toUserId}`);
  await notifyUsers([fromUserId, toUserId], 'friendRequestAccepted', { fromUserId, toUserId }, opUserId);
  const at = accepted.handledAt ?? Date.now();
  await notifyAfter('afterAddFriend', [fromUserId, toUserId, at], { userId: toUserId, friendUserId: fromUserId, opUserId, via: 'request', at }, { userIds: [fromUserId, toUserId] });
  return requestView(accepted);
}

/** The recipient `toUserId` refuses the pending request of `fromUserId`, optionally saying why. */
export async function refuseFriendRequest(toUserId: string, fromUserId: string, message: string | undefined, opUserId: string): Promise<FriendRequestItem> {
  const refused = await friendRequests.refuse(toUserId, fromUserId, Date.now(), message);
  if (!refused) throw new CirrusError('REQUEST_NOT_FOUND', `No pending friend request from ${fromUserId} to ${toUserId}`);
  await notifyUsers([fromUserId, toUserId], 'friendRequestRefused', { fromUserId, toUserId, ...(message ? { message } : {}) }, opUserId);
  return requestView(refused);
}

/** One page of the requests the user received (`incoming`) or sent (`outgoing`), in any status. */
export async function listFriendRequests(userId: string, direction: 'incoming' | 'outgoing', limit: number, startKey?: Record<string, unknown>): Promise<Page<FriendRequestItem>> {
  const page = direction === 'incoming' ? await friendRequests.incoming(userId, limit, startKey) : await friendRequests.outgoing(userId, limit, startKey);
  return { items: page.items.map(requestView), lastKey: page.lastKey };
}

/** How many requests to the user are pending. */
export function unhandledFriendRequestCount(userId: string): Promise<number> {
  return friendRequests.pendingCount(userId);
}

/** One page of the user's friends. */
export async function listFriends(userId: string, limit: number, startKey?: Record<string, unknown>): Promise<Page<FriendView>> {
  const page = await friends.page(userId, limit, startKey);
  return { items: page.items.map(friendView), lastKey: page.lastKey };
}

/** Whether the two are friends (both sides hold the item), with the user's remark. */
export async function checkFriend(userId: string, friendUserId: string): Promise<{ isFriend: boolean; remark?: string }> {
  const sides = await friends.getMany([
    { userId, friendUserId },
    { userId: friendUserId, friendUserId: userId },
  ]);
  const mine = sides.find((s) => s.userId === userId);
  const theirs = sides.find((s) => s.userId === friendUserId);
  return { isFriend: mine !== undefined && theirs !== undefined, ...(mine?.remark ? { remark: mine.remark } : {}) };
}

/** Sets (or, with an empty string, clears) the user's remark for a friend; their other devices learn it by notification. */
export async function setFriendRemark(userId: string, friendUserId: string, remark: string, opUserId: string): Promise<FriendView> {
  const updated = await friends.setRemark(userId, friendUserId, remark);
  if (!updated) throw new CirrusError('RELATION_NOT_FOUND', `${friendUserId} is not in the friend list of ${userId}`);
  await notifyUsers([userId], 'friendRemarkSet', { userId, friendUserId, remark }, opUserId);
  return friendView(updated);
}

/** Ends a friendship on both sides. */
export async function deleteFriend(userId: string, friendUserId: string, opUserId: string): Promise<void> {
  requireOther(userId, friendUserId, 'unfriend');
  const existed = await friends.deleteBoth(userId, friendUserId);
  if (!existed.userSide && !existed.friendSide) throw new CirrusError('RELATION_NOT_FOUND', `${friendUserId} is not in the friend list of ${userId}`);
  await notifyUsers([userId, friendUserId], 'friendDeleted', { opUserId, userId, friendUserId }, opUserId);
  const at = Date.now();
  await notifyAfter('afterDeleteFriend', [userId, friendUserId, at], { userId, friendUserId, opUserId, at }, { userIds: [userId, friendUserId] });
}

/**
 * Admin import: makes `userId` friends with each of `friendUserIds`, without requests.
 * Each item succeeds or fails on its own (unregistered, the user themselves, listed
 * twice, friends already); a half friendship (one side missing) is completed.
 */
export async function importFriends(userId: string, friendUserIds: readonly string[], opUserId: string): Promise<ItemResult[]> {
  await requireUsers([userId]);
  const unique = [...new Set(friendUserIds)].filter((id) => id !== userId);
  const [registered, sides] = await Promise.all([
    users.existing(unique),
    friends.getMany(unique.flatMap((id) => [{ userId, friendUserId: id }, { userId: id, friendUserId: userId }])),
  ]);
  const present = new Set(sides.map((s) => `${s.userId}\n${s.friendUserId}`));
  const has = (a: string, b: string) => present.has(`${a}\n${b}`);
  const now = Date.now();
  const results: ItemResult[] = [];
  const writes: FriendItem[] = [];
  const added: string[] = [];
  const seen = new Set<string>();
  for (const friendUserId of friendUserIds) {
    if (friendUserId === userId) results.push(itemError(friendUserId, 'INVALID_ARGUMENT', 'A user cannot befriend themselves'));
    else if (seen.has(friendUserId)) results.push(itemError(friendUserId, 'INVALID_ARGUMENT', 'Listed twice in this request'));
    else if (!registered.has(friendUserId)) results.push(itemError(friendUserId, 'USER_NOT_FOUND', `User ${friendUserId} is not registered`));
    else if (has(userId, friendUserId) && has(friendUserId, userId)) results.push(itemError(friendUserId, 'ALREADY_EXISTS', `${userId} and ${friendUserId} are friends already`));
    else {
      if (!has(userId, friendUserId)) writes.push({ userId, friendUserId, createdAt: now });
      if (!has(friendUserId, userId)) writes.push({ userId: friendUserId, friendUserId: userId, createdAt: now });
      added.push(friendUserId);
      results.push({ userId: friendUserId, ok: true });
    }
    seen.add(friendUserId);
  }
  await friends.putMany(writes);
  await forEachLimit(added, NOTIFY_CONCURRENCY, (friendUserId) => notifyUsers([userId, friendUserId], 'friendAdded', { opUserId, userId, friendUserId }, opUserId));
  await queueAfter(...added.map((friendUserId) => afterJob('afterAddFriend', [userId, friendUserId, now], { userId, friendUserId, opUserId, via: 'import', at: now }, { userIds: [userId, friendUserId] })));
  return results;
}

/** Blocks `blockedUserId`: their messages and friend requests to the user are refused with BLOCKED. */
export async function addToBlacklist(userId: string, blockedUserId: string, opUserId: string): Promise<BlockedView> {
  requireOther(userId, blockedUserId, 'block');
  await requireUsers([userId, blockedUserId]);
  const item: BlacklistItem = { userId, blockedUserId, createdAt: Date.now() };
  if (!(await blacklist.add(item))) throw new CirrusError('ALREADY_EXISTS', `${blockedUserId} is in the blacklist of ${userId} already`);
  await notifyUsers([userId], 'blacklistAdded', { userId, blockedUserId }, opUserId);
  return { blockedUserId, createdAt: item.createdAt };
}

/** Unblocks `blockedUserId`. */
export async function removeFromBlacklist(userId: string, blockedUserId: string, opUserId: string): Promise<void> {
  if (!(await blacklist.remove(userId, blockedUserId))) throw new CirrusError('RELATION_NOT_FOUND', `${blockedUserId} is not in the blacklist of ${userId}`);
  await notifyUsers([userId], 'blacklistRemoved', { userId, blockedUserId }, opUserId);
}

/** One page of the users the user has blocked. */
export async function listBlacklist(userId: string, limit: number, startKey?: Record<string, unknown>): Promise<Page<BlockedView>> {
  const page = await blacklist.page(userId, limit, startKey);
  return { items: page.items.map(({ blockedUserId, createdAt }) => ({ blockedUserId, createdAt })), lastKey: page.lastKey };
}
