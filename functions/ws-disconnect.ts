/** `$disconnect` (best effort in API Gateway; push deletes what it misses on 410). */
import { identityOf, type WsRouteEvent } from '../core/runtime/identity';
import { connections } from '../core/store/connections';
import { log } from '../core/log';
import { observed } from '../core/runtime/observe';
import { notifyAfter } from '../core/webhooks/after';

export const handler = observed(
  'wsDisconnect',
  async (event: WsRouteEvent): Promise<{ statusCode: number }> => {
    const id = identityOf(event);
    await connections.delete(id.userId, id.connectionId);
    await notifyAfter('afterUserOffline', [id.connectionId], { userId: id.userId, platformId: id.platformId, connectionId: id.connectionId, at: Date.now() }, { userIds: [id.userId] });
    log.info('disconnected', { userId: id.userId });
    return { statusCode: 200 };
  },
  (event) => ({ connectionId: event.requestContext.connectionId }),
);
