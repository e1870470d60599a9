/** `$disconnect` (best effort in API Gateway; push deletes what it misses on 410). */
import { identityOf, type WsRouteEvent } from '../core/runtime/identity';
import { connections } from '../core/store/connections';
import { log, withLogContext } from '../core/log';
import { notifyAfter } from '../core/webhooks/after';

export async function handler(event: WsRouteEvent): Promise<{ statusCode: number }> {
  return withLogContext({ fn: 'wsDisconnect', connectionId: event.requestContext.connectionId }, async () => {
    const id = identityOf(event);
    await connections.delete(id.userId, id.connectionId);
    await notifyAfter('afterUserOffline', [id.connectionId], { userId: id.userId, platformId: id.platformId, connectionId: id.connectionId, at: Date.now() }, { userIds: [id.userId] });
    log.info('disconnected', { userId: id.userId });
    return { statusCode: 200 };
  });
}
