/**
 * Multi-device login: a new connection kicks the user's connections that the deployment's
 * policy (`MULTI_LOGIN_POLICY`) does not let coexist with it, as OpenIM does at login.
 * A kicked connection gets a `kicked` event, its session is revoked (its token is refused
 * from then on), it is closed and its record deleted.
 */
import { config } from '../config';
import { connectionsToKick } from '../domain/login-policy';
import { log } from '../log';
import { connections, type ConnectionItem } from '../store/connections';
import { sessions } from '../store/sessions';
import { disconnect, pushEventTo } from './push';
import { afterJob, queueAfter } from '../webhooks/after';
import type { WebhookJob } from '../protocol/jobs';
import { removeLogoutDevices, removeSessionDevices } from './device-removal';

export type KickReason = 'loggedInElsewhere' | 'forcedLogout' | 'banned';

const isGone = (err: unknown): boolean =>
  (err as { name?: string }).name === 'GoneException' || (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 410;

/**
 * Ends one connection from the server: optionally revokes its session first (so a
 * reconnect with its token is refused even if the client is quick) and removes the offline
 * push devices that session registered, tells it why, closes it and deletes its record. A connection already gone (410) is just cleaned up. The
 * afterUserKicked callback (when enabled) is queued, or added to `opts.webhookJobs` for a
 * caller kicking several connections to queue in one batch.
 */
export async function kickConnection(conn: ConnectionItem, reason: KickReason, opts: { platformId?: number; revokeSession: boolean; webhookJobs?: (WebhookJob | undefined)[] }): Promise<void> {
  if (opts.revokeSession && conn.sessionId) {
    await sessions.revokeOne(conn.userId, conn.sessionId);
    // A session that ended tells nobody anything any more, not even offline.
    await removeSessionDevices(conn.userId, [conn.sessionId]);
  }
  const sent = await pushEventTo(conn, { push: 'kicked', data: { reason, ...(opts.platformId !== undefined ? { platformId: opts.platformId } : {}) } });
  if (sent.gone === 0) {
    try {
      await disconnect(conn.connectionId);
    } catch (err) {
      if (!isGone(err)) log.info('close after kick failed', { connectionId: conn.connectionId, err });
    }
  }
  await connections.delete(conn.userId, conn.connectionId);
  const job = afterJob('afterUserKicked', [conn.connectionId], { userId: conn.userId, platformId: conn.platformId, connectionId: conn.connectionId, reason, at: Date.now() }, { userIds: [conn.userId] });
  if (opts.webhookJobs) opts.webhookJobs.push(job);
  else await queueAfter(job);
  log.info('kicked', { userId: conn.userId, connectionId: conn.connectionId, platformId: conn.platformId, reason });
}

/**
 * A user signs out on one device (POST /auth/logout with that device's token): the session
 * is revoked, the offline push devices it registered are removed (with those of the same
 * platform left by its earlier, ended sessions), and the live connections opened with it are
 * closed (code 1000, no `kicked` event: the client asked for it).
 */
export async function logoutSession(userId: string, sessionId: string, platformId: number): Promise<{ devicesRemoved: number; closed: number }> {
  await sessions.revokeOne(userId, sessionId);
  const devicesRemoved = await removeLogoutDevices(userId, sessionId, platformId);
  const own = (await connections.ofUser(userId)).filter((c) => c.sessionId === sessionId);
  for (const conn of own) {
    try {
      await disconnect(conn.connectionId);
    } catch (err) {
      if (!isGone(err)) log.info('close after logout failed', { connectionId: conn.connectionId, err });
    }
    await connections.delete(userId, conn.connectionId);
  }
  log.info('logged out', { userId, sessionId, devicesRemoved, closed: own.length });
  return { devicesRemoved, closed: own.length };
}

/**
 * Applies the policy to a connection just recorded: one Query for the user's connections,
 * then each excluded one is kicked. Returns the kicked connections.
 */
export async function enforceLoginPolicy(conn: ConnectionItem): Promise<ConnectionItem[]> {
  const policy = config.multiLoginPolicy();
  if (policy === 'multiple') return [];
  const kick = connectionsToKick(policy, conn, await connections.ofUser(conn.userId));
  const webhookJobs: (WebhookJob | undefined)[] = [];
  await Promise.all(
    // A connection sharing the new one's session (the same token) is closed, but the session stays: the new connection holds it.
    kick.map((other) => kickConnection(other, 'loggedInElsewhere', { platformId: conn.platformId, revokeSession: other.sessionId !== conn.sessionId, webhookJobs })),
  );
  await queueAfter(...webhookJobs);
  return kick;
}
