/** `$connect`: record the connection under its user, then apply the multi-login policy. */
import { identityOf, type WsRouteEvent } from '../core/runtime/identity';
import { connections, type ConnectionItem } from '../core/store/connections';
import { enforceLoginPolicy } from '../core/services/login';
import { config } from '../core/config';
import { log } from '../core/log';
import { count } from '../core/metrics';
import { observed } from '../core/runtime/observe';
import { nowSeconds } from '../core/store/dynamo';
import { notifyAfter } from '../core/webhooks/after';

export const handler = observed(
  'wsConnect',
  async (event: WsRouteEvent): Promise<{ statusCode: number }> => {
    const id = identityOf(event);
    const now = nowSeconds();
    const openedAt = Number(event.requestContext.connectedAt);
    const item: ConnectionItem = {
      userId: id.userId,
      connectionId: id.connectionId,
      platformId: id.platformId,
      sessionId: id.sessionId,
      connectedAt: now,
      connectedAtMs: Number.isFinite(openedAt) && openedAt > 0 ? openedAt : Date.now(),
      expiresAt: now + config.connectionTtlSeconds(),
    };
    await connections.put(item);
    const kicked = await enforceLoginPolicy(item);
    // Only for a connection that is accepted: a failed $connect rejects the upgrade, and
    // API Gateway never runs $disconnect for it (no afterUserOffline would follow).
    await notifyAfter('afterUserOnline', [id.connectionId], { userId: id.userId, platformId: id.platformId, connectionId: id.connectionId, at: item.connectedAtMs ?? Date.now() }, { userIds: [id.userId] });
    log.info('connected', { userId: id.userId, platformId: id.platformId, kicked: kicked.length });
    count('Kicks', kicked.length);
    return { statusCode: 200 };
  },
  (event) => ({ connectionId: event.requestContext.connectionId }),
);
