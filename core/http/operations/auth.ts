/** Operations: tokens and logout. */
import { log } from '../../log';
import { issueAdminToken, issueUserToken } from '../../services/auth';
import { disconnect } from '../../services/push';
import { requireUsers } from '../../services/users';
import { connections } from '../../store/connections';
import { sessions } from '../../store/sessions';
import type { authRoutes } from '../routes/auth';
import type { Operations } from '../routes/types';

export const authOperations: Operations<typeof authRoutes> = {
  getAdminToken: ({ body }) => issueAdminToken(body.secret),
  getUserToken: async ({ body }) => {
    await requireUsers([body.userId]);
    return issueUserToken(body.userId, body.platformId, body.expireSeconds);
  },
  forceLogout: async ({ body }) => {
    const revoked = await sessions.revoke(body.userId, body.platformId);
    // Close the live connections too; a failed close is harmless, the session check refuses the next connect.
    for (const conn of await connections.ofUser(body.userId)) {
      if (body.platformId !== undefined && conn.platformId !== body.platformId) continue;
      await disconnect(conn.connectionId).catch((err) => log.info('close after logout failed', { connectionId: conn.connectionId, err }));
      await connections.delete(conn.userId, conn.connectionId);
    }
    return { revoked };
  },
};
