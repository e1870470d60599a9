/**
 * Banning a user: the ban is recorded on the user first, so that no token is issued from
 * then on (`getUserToken` answers USER_BANNED), then every session is revoked and every live
 * connection gets a `kicked` event (reason `banned`) and is closed, and every offline push
 * device of the user is removed (lifting the ban does not bring them back: the app
 * registers again after its next sign-in). In that order a token
 * issued while the ban is being applied is revoked with the others. A ban may expire
 * (`until`); lifting it lets tokens be issued again (the revoked ones stay revoked).
 */
import { CirrusError } from '../errors';
import { log } from '../log';
import { connections } from '../store/connections';
import { sessions } from '../store/sessions';
import { isBanned, users, type Ban, type UserProfile } from '../store/users';
import { kickConnection } from './login';
import { queueAfter } from '../webhooks/after';
import type { WebhookJob } from '../protocol/jobs';
import { removeAllDevices } from './device-removal';

export async function banUser(userId: string, options: { reason?: string; durationSeconds?: number }): Promise<{ user: UserProfile; revoked: number; kicked: number }> {
  const at = Date.now();
  const ban: Ban = { at, ...(options.durationSeconds ? { until: at + options.durationSeconds * 1000 } : {}), ...(options.reason ? { reason: options.reason } : {}) };
  const user = await users.setBan(userId, ban);
  if (!user) throw new CirrusError('USER_NOT_FOUND', `User ${userId} is not registered`);
  const revoked = await sessions.revoke(userId);
  await removeAllDevices(userId);
  const live = await connections.ofUser(userId);
  const webhookJobs: (WebhookJob | undefined)[] = [];
  for (const conn of live) await kickConnection(conn, 'banned', { revokeSession: false, webhookJobs });
  await queueAfter(...webhookJobs);
  log.info('user banned', { userId, until: ban.until, revoked, kicked: live.length });
  return { user, revoked, kicked: live.length };
}

export async function unbanUser(userId: string): Promise<{ user: UserProfile }> {
  const user = await users.setBan(userId, undefined);
  if (!user) throw new CirrusError('USER_NOT_FOUND', `User ${userId} is not registered`);
  log.info('user unbanned', { userId });
  return { user };
}

/** Refuses a token to a banned user (the one check `getUserToken` adds). */
export async function requireNotBanned(userId: string): Promise<void> {
  const [user] = await users.getMany([userId], 'userId, banned, erased');
  if (!user) throw new CirrusError('USER_NOT_FOUND', `User ${userId} is not registered`);
  if (user.erased) throw new CirrusError('USER_NOT_FOUND', `User ${userId} was erased`);
  if (isBanned(user.banned)) {
    throw new CirrusError('USER_BANNED', `User ${userId} is banned${user.banned?.until ? ` until ${new Date(user.banned.until).toISOString()}` : ''}`);
  }
}
