/**
 * The before-callbacks on users, friends and groups. Each returns what the action should
 * use (the caller's input, or the app's modification of it) and throws REFUSED_BY_APP /
 * APP_UNAVAILABLE as `callBefore` does. The modifiable fields carry the same limits as the
 * routes that take them, so a modification can never store what a client could not.
 */
import { MAX_SLOW_MODE_SECONDS } from '../domain/limits';
import * as z from 'zod/mini';
import { config } from '../config';
import { forEachLimit } from '../domain/concurrency';
import { CirrusError, errorCodes } from '../errors';
import { MAX_FRIEND_REQUEST_MESSAGE } from '../domain/friends';
import { callBefore } from './before';

const Nickname = z.string().check(z.maxLength(64));
const FaceUrl = z.string().check(z.maxLength(1024));
const Ex = z.string().check(z.maxLength(4096));
const JoinPolicy = z.enum(['free', 'approval', 'invite']);

/** A user about to be registered (`registerUsers`, per user). The app may change nickname, faceUrl and ex. */
export interface UserRegisterData {
  userId: string;
  nickname?: string;
  faceUrl?: string;
  ex?: string;
}
const UserFields = z.strictObject({ nickname: z.optional(Nickname), faceUrl: z.optional(FaceUrl), ex: z.optional(Ex) });

export async function beforeUserRegister<U extends UserRegisterData>(user: U, deadline?: number): Promise<U> {
  const modified = await callBefore('beforeUserRegister', user, {
    involved: { userIds: [user.userId] },
    idParts: [user.userId],
    modify: UserFields,
    what: `the registration of ${user.userId}`,
    ...(deadline !== undefined ? { deadline } : {}),
  });
  return modified ? { ...user, ...modified } : user;
}

/** How many registrations are put to the app at once. */
const REGISTER_CONCURRENCY = 16;
/**
 * How long one `registerUsers` call may spend asking the app (the HTTP function has 15 s,
 * and the users and their directory rows are written after, which takes the rest for a
 * thousand users on a busy table). Users it could not ask in time count as a failure of
 * the callback: registered unchanged under the open policy, APP_UNAVAILABLE under the
 * closed one (retry those items).
 */
export const REGISTER_CALLBACK_BUDGET_MS = 8_000;

/**
 * `beforeUserRegister` for each user about to be registered: returns the users to write
 * (possibly modified) and turns the result of each refused (or, under the closed policy,
 * failed) one into that item's error, with the app's code. Other items are not affected.
 */
export async function beforeUsersRegister<U extends UserRegisterData>(
  fresh: readonly U[],
  results: { userId: string; ok: boolean; error?: { code: number; reason: string; message: string; appCode?: number } }[],
): Promise<U[]> {
  if (fresh.length === 0 || !config.webhookCallback('beforeUserRegister')) return [...fresh];
  const judged = new Map<string, U>();
  const deadline = Date.now() + REGISTER_CALLBACK_BUDGET_MS;
  await forEachLimit(fresh, REGISTER_CONCURRENCY, async (user) => {
    try {
      judged.set(user.userId, await beforeUserRegister(user, deadline));
    } catch (err) {
      if (!(err instanceof CirrusError)) throw err;
      const at = results.findIndex((r) => r.userId === user.userId && r.ok);
      results[at] = { userId: user.userId, ok: false, error: { code: errorCodes[err.reason].code, reason: err.reason, message: err.message, ...(err.appCode !== undefined ? { appCode: err.appCode } : {}) } };
    }
  });
  return fresh.filter((u) => judged.has(u.userId)).map((u) => judged.get(u.userId)!);
}

/** A profile change (`updateUser`). The app may replace the changes (same fields). */
export type UserChanges = z.infer<typeof UserFields>;
export async function beforeUpdateUserInfo(userId: string, changes: UserChanges): Promise<UserChanges> {
  const modified = await callBefore('beforeUpdateUserInfo', { userId, changes }, {
    involved: { userIds: [userId] },
    idParts: [userId, JSON.stringify(changes)],
    modify: z.strictObject({ changes: UserFields }),
    what: `the change of ${userId}'s profile`,
  });
  return modified?.changes ?? changes;
}

/** A friend request (`sendFriendRequest`). The app may change the request's message. */
export async function beforeAddFriend(data: { fromUserId: string; toUserId: string; message: string; opUserId: string }): Promise<string> {
  const modified = await callBefore('beforeAddFriend', data, {
    involved: { userIds: [data.fromUserId, data.toUserId] },
    idParts: [data.fromUserId, data.toUserId, data.message],
    modify: z.strictObject({ message: z.string().check(z.maxLength(MAX_FRIEND_REQUEST_MESSAGE)) }),
    what: 'the friend request',
  });
  return modified?.message ?? data.message;
}

/** The group info fields the app may change at creation. */
const GroupInfoFields = z.strictObject({
  name: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
  faceUrl: z.optional(FaceUrl),
  introduction: z.optional(z.string().check(z.maxLength(2048))),
  announcement: z.optional(z.string().check(z.maxLength(4096))),
  ex: z.optional(Ex),
});
export type GroupInfoModification = z.infer<typeof GroupInfoFields>;

/** A group about to be created (`createGroup`). The app may change name, faceUrl, introduction, announcement and ex. */
export async function beforeCreateGroup(data: { groupId: string; name: string; ownerUserId: string; memberUserIds: readonly string[]; opUserId: string; [field: string]: unknown }): Promise<GroupInfoModification> {
  const modified = await callBefore('beforeCreateGroup', data, {
    involved: { userIds: [data.opUserId, data.ownerUserId, ...data.memberUserIds], groupId: data.groupId },
    idParts: [data.groupId],
    modify: GroupInfoFields,
    what: 'the group',
  });
  return modified ?? {};
}

/** An application to join a group (`applyToGroup`). The app may change the application's message. */
export async function beforeJoinGroup(data: { groupId: string; userId: string; message: string; joinPolicy: string }): Promise<string> {
  const modified = await callBefore('beforeJoinGroup', data, {
    involved: { userIds: [data.userId], groupId: data.groupId },
    idParts: [data.groupId, data.userId, data.message],
    modify: z.strictObject({ message: z.string().check(z.maxLength(1024)) }),
    what: `${data.userId} joining group ${data.groupId}`,
  });
  return modified?.message ?? data.message;
}

/**
 * Users about to be added to a group (`addGroupMembers`, the ones that could be). A
 * refusal refuses the whole call; the app may narrow `userIds` to some of them.
 */
export async function beforeInviteToGroup(data: { groupId: string; opUserId: string; userIds: readonly string[]; direct: boolean }): Promise<readonly string[]> {
  const modified = await callBefore('beforeInviteToGroup', data, {
    involved: { userIds: [data.opUserId, ...data.userIds], groupId: data.groupId },
    idParts: [data.groupId, data.opUserId, ...data.userIds],
    modify: z.strictObject({ userIds: z.array(z.string()) }),
    apply: ({ userIds }) => {
      const stranger = userIds.find((id) => !data.userIds.includes(id));
      if (stranger !== undefined) throw new Error(`userIds may only leave out invited users; ${stranger} was not invited`);
      return [...new Set(userIds)];
    },
    what: `the invitation to group ${data.groupId}`,
  });
  return modified ?? data.userIds;
}

/** A change of a group's info or settings (`setGroupInfo`, only the fields that change). The app may replace the changes. */
export type GroupChanges = GroupInfoModification & { joinPolicy?: 'free' | 'approval' | 'invite'; historyVisibleToNewMembers?: boolean };
export async function beforeSetGroupInfo<C extends GroupChanges>(data: { groupId: string; opUserId: string; changes: C }): Promise<C> {
  if (Object.keys(data.changes).length === 0) return data.changes;
  const modified = await callBefore('beforeSetGroupInfo', data, {
    involved: { userIds: [data.opUserId], groupId: data.groupId },
    idParts: [data.groupId, data.opUserId, JSON.stringify(data.changes)],
    modify: z.strictObject({ changes: z.extend(GroupInfoFields, { joinPolicy: z.optional(JoinPolicy), historyVisibleToNewMembers: z.optional(z.boolean()), slowModeSeconds: z.optional(z.int().check(z.gte(0), z.lte(MAX_SLOW_MODE_SECONDS))) }) }),
    what: `the change of group ${data.groupId}`,
  });
  return (modified?.changes as C | undefined) ?? data.changes;
}
