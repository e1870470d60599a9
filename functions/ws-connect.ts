/** `$connect`: record the connection under its user. */
import { identityOf, type WsRouteEvent } from '../core/runtime/identity';
import { connections } from '../core/store/connections';
import { config } from '../core/config';
import { log, withLogContext } from '../core/log';
import { nowSeconds } from '../core/store/dynamo';

export async function handler(event: WsRouteEvent): Promise<{ statusCode: number }> {
  return withLogContext({ fn: 'wsConnect', connectionId: event.requestContext.connectionId }, async () => {
    const id = identityOf(event);
    const now = nowSeconds();
    await connections.put({ userId: id.userId, connectionId: id.connectionId, platformId: id.platformId, sessionId: id.sessionId, connectedAt: now, expiresAt: now + config.connectionTtlSeconds() });
    log.info('connected', { userId: id.userId, platformId: id.platformId });
    return { statusCode: 200 };
  });
}
