/**
 * Removing the offline push devices of sessions that end: logout, force logout, a ban, a
 * kick by the multi-login policy. Kept apart from the registration (./devices.ts) so that
 * `$connect`, which kicks, bundles only the stores. Never fails the caller: a failure is
 * logged and the device stays until the next removal or until its provider calls it invalid.
 */
import { log } from '../log';
import { devices } from '../store/devices';
import { sessions } from '../store/sessions';

/**
 * Removes the devices registered by the given sessions (a logout, a kick); with `platformId`
 * also those registered for that platform. Returns how many. Never fails the caller's
 * logout or kick: a failure is logged and the device stays until the next attempt or prune.
 */
export async function removeSessionDevices(userId: string, sessionIds: readonly string[], platformId?: number): Promise<number> {
  const ended = new Set(sessionIds);
  try {
    const removed = await devices.removeWhere(userId, (d) => (d.sessionId !== undefined && ended.has(d.sessionId)) || (platformId !== undefined && d.platformId === platformId));
    if (removed.length > 0) log.info('devices removed with their session', { userId, devices: removed.map((d) => d.deviceId) });
    return removed.length;
  } catch (err) {
    log.error('removing the devices of an ended session failed', { userId, err });
    return 0;
  }
}

/**
 * The devices a logout on `platformId` ends: those registered with its session, and those of
 * the same platform whose session has ended since (a token that expired and was replaced by a
 * new one, on the same installation, whose device the app did not register again).
 */
export async function removeLogoutDevices(userId: string, sessionId: string, platformId: number): Promise<number> {
  try {
    const all = await devices.ofUser(userId);
    const stale = all.some((d) => d.sessionId !== undefined && d.sessionId !== sessionId && d.platformId === platformId);
    const live = stale ? await sessions.liveIds(userId) : new Set<string>();
    const chosen = all.filter((d) => d.sessionId === sessionId || (stale && d.sessionId !== undefined && d.platformId === platformId && !live.has(d.sessionId)));
    if (chosen.length === 0) return 0;
    const removed = await devices.remove(userId, chosen.map((d) => d.deviceId));
    log.info('devices removed at logout', { userId, devices: removed.map((d) => d.deviceId) });
    return removed.length;
  } catch (err) {
    log.error('removing the devices of a logout failed', { userId, err });
    return 0;
  }
}

/** Removes every device of a user (banned, or logged out everywhere). */
export async function removeAllDevices(userId: string): Promise<number> {
  try {
    const removed = await devices.removeWhere(userId, () => true);
    if (removed.length > 0) log.info('devices removed', { userId, devices: removed.map((d) => d.deviceId) });
    return removed.length;
  } catch (err) {
    log.error('removing the devices of a user failed', { userId, err });
    return 0;
  }
}

