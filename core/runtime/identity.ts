/**
 * Who is on a WebSocket connection: what the `$connect` authorizer put in its context,
 * which API Gateway hands to every route of the connection. Kept free of the protocol
 * schemas so that `$connect` and `$disconnect` bundle small.
 */
/** What the REQUEST authorizer put in the connection's context. */
export interface ConnectionIdentity {
  userId: string;
  platformId: number;
  sessionId: string;
  connectionId: string;
}

export interface WsRouteEvent {
  body?: string | null;
  isBase64Encoded?: boolean;
  requestContext: {
    routeKey: string;
    connectionId: string;
    requestId?: string;
    authorizer?: Record<string, unknown> | null;
    [key: string]: unknown;
  };
}

export function identityOf(event: WsRouteEvent): ConnectionIdentity {
  const auth = event.requestContext.authorizer ?? {};
  const userId = auth.userId;
  if (typeof userId !== 'string' || !userId) throw new Error('Connection has no authorizer context');
  return { userId, platformId: Number(auth.platformId), sessionId: String(auth.sessionId ?? ''), connectionId: event.requestContext.connectionId };
}
