/** Operations: tokens and logout. */
import { issueAdminToken, issueUserToken } from '../../services/auth';
import { kickConnection, logoutSession } from '../../services/login';
import { CirrusError } from '../../errors';
import { requireNotBanned } from '../../services/ban';
import { connections } from '../../store/connections';
import { sessions } from '../../store/sessions';
import { queueAfter } from '../../webhooks/after';
import type { WebhookJob } from '../../protocol/jobs';
import { removeAllDevices, removeSessionDevices } from '../../services/device-removal';
import type { authRoutes } from '../routes/auth';
import type { Operations } from '../routes/types';

export const authOperations: Operations<typeof authRoutes> = {
  getAdminToken: ({ body }) => issueAdminToken(body.secret, body.name),
  getUserToken: async ({ body }) => {
    await requireNotBanned(body.userId);
    return issueUserToken(body.userId, body.platformId, body.expireSeconds);
  },
  forceLogout: async ({ body }) => {
    const revoked = await sessions.revokeSessions(body.userId, body.platformId);
    // The offline push devices go with the sessions: all of them, or those of the revoked sessions and of the platform.
    if (body.platformId === undefined) await removeAllDevices(body.userId);
    else await removeSessionDevices(body.userId, revoked, body.platformId);
    // Tell the live connections why, then close them; a failed close is harmless, the session check refuses the next connect.
    const webhookJobs: (WebhookJob | undefined)[] = [];
    for (const conn of await connections.ofUser(body.userId)) {
      if (body.platformId !== undefined && conn.platformId !== body.platformId) continue;
      await kickConnection(conn, 'forcedLogout', { revokeSession: false, webhookJobs });
    }
    await queueAfter(...webhookJobs);
    return { revoked: revoked.length };
  },
  logout: async ({ actor }) => {
    // Admin tokens are not sessions (they expire after 12 hours): nothing to end.
    if (actor.kind !== 'user' || !actor.sessionId) throw new CirrusError('INVALID_ARGUMENT', 'Only a user token has a session to end');
    return logoutSession(actor.userId, actor.sessionId, actor.platformId);
  },
};
