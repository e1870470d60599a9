/** Registering and importing users. */
import { SYSTEM_SENDER } from '../domain/ids';
import { CirrusError, errorCodes, type ErrorReason } from '../errors';
import { users, type UserItem } from '../store/users';
import { directoryUserOf, enqueueDirectory } from './directory-jobs';
import { beforeUsersRegister } from '../webhooks/before-actions';

export interface ItemResult {
  userId: string;
  ok: boolean;
  error?: { code: number; reason: string; message: string; appCode?: number };
}

export const itemError = (userId: string, reason: ErrorReason, message: string): ItemResult => ({ userId, ok: false, error: { code: errorCodes[reason].code, reason, message } });

export async function registerUsers(input: readonly Pick<UserItem, 'userId' | 'nickname' | 'faceUrl' | 'ex'>[]): Promise<ItemResult[]> {
  const existing = await users.existing(input.map((u) => u.userId));
  const seen = new Set<string>();
  const results: ItemResult[] = [];
  const fresh: Omit<UserItem, 'listKey'>[] = [];
  const now = Date.now();
  for (const user of input) {
    if (user.userId === SYSTEM_SENDER) results.push(itemError(user.userId, 'INVALID_ARGUMENT', `"${SYSTEM_SENDER}" is reserved`));
    else if (seen.has(user.userId)) results.push(itemError(user.userId, 'INVALID_ARGUMENT', 'Listed twice in this request'));
    else if (existing.has(user.userId)) results.push(itemError(user.userId, 'ALREADY_EXISTS', `User ${user.userId} is registered already`));
    else {
      fresh.push({ ...user, createdAt: now });
      results.push({ userId: user.userId, ok: true });
    }
    seen.add(user.userId);
  }
  const accepted = await beforeUsersRegister(fresh, results);
  await users.putMany(accepted);
  // The history's directory (statistics, admin user search).
  await enqueueDirectory(accepted.map((u) => ({ kind: 'user' as const, user: directoryUserOf(u) })));
  return results;
}

export async function requireUsers(userIds: readonly string[]): Promise<void> {
  const found = await users.existing(userIds);
  const missing = [...new Set(userIds)].filter((id) => !found.has(id));
  if (missing.length > 0) throw new CirrusError('USER_NOT_FOUND', `Not registered: ${missing.slice(0, 20).join(', ')}${missing.length > 20 ? ', …' : ''}`);
}
