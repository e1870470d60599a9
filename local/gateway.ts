/**
 * API Gateway, locally: the WebSocket API (REQUEST authorizer on `$connect`, routing on
 * `$request.body.action`, route responses, MOCK integrations, `$disconnect`), its `@connections`
 * management endpoints in AWS's own shape (so the real ApiGatewayManagementApiClient
 * works), and the HTTP API (payload format 2.0). The events handed to the functions have
 * the fields the handlers read in AWS.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomBytes, randomUUID } from 'node:crypto';
import { WebSocketServer, WebSocket } from 'ws';
import { httpFunctionOf, wsAuthorizer, wsRoutes } from '../core/manifest';
import { matchRoute } from '../core/http/match';
import { renderMockReply } from '../core/protocol/heartbeat';
import { invoke } from './lambda';
import { metering } from './metering';
import { localMetrics } from './metrics';
import { FrameHeaderReader } from './ws-frames';
import { SigV4Error, verifyServiceRequest, type Credentials } from './aws/sigv4';

/**
 * API Gateway's hard WebSocket quotas: a frame is at most 32 KB and a message (one frame or
 * several fragments) at most 128 KB, in both directions; a connection is closed after 10
 * minutes without a message from the client and after 2 hours in any case.
 */
export const WS_LIMITS = { frameBytes: 32 * 1024, messageBytes: 128 * 1024, idleTimeoutMs: 10 * 60_000, maxConnectionMs: 2 * 60 * 60_000 } as const;
const MAX_MESSAGE_BYTES = WS_LIMITS.messageBytes;

interface LiveConnection {
  socket: WebSocket;
  connectedAt: number;
  lastActiveAt: number;
  sourceIp: string;
  userAgent: string;
  authorizer: Record<string, unknown>;
  /** Closing for breaking a limit: nothing more it sends is routed. */
  refused?: boolean;
  idleTimer?: NodeJS.Timeout;
  durationTimer?: NodeJS.Timeout;
}

export interface GatewayOptions {
  apiId: string;
  stage: string;
  region: string;
  /** Path prefix of the HTTP API (e.g. `/api`). */
  httpPrefix: string;
  log: (line: string) => void;
  /** Closes a connection after this long without a message from the client (API Gateway: 10 minutes). */
  idleTimeoutMs?: number;
  /** Closes every connection after this long (API Gateway: 2 hours). */
  maxConnectionMs?: number;
  /**
   * The credentials `@connections` requests must be signed with (SigV4, `execute-api`), as
   * API Gateway requires of them; unset, requests are not verified.
   */
  credentials?: Credentials;
}

const actionRoutes = new Map(wsRoutes.filter((r) => !r.routeKey.startsWith('$')).map((r) => [r.routeKey, r]));
const routeOf = (key: string) => wsRoutes.find((r) => r.routeKey === key)!;
/** The function of a route served by one (`$connect`, `$disconnect`). */
const functionOf = (key: string) => {
  const route = routeOf(key);
  if (!route.function) throw new Error(`${key} is not served by a function`);
  return route.function;
};

function newConnectionId(): string {
  // API Gateway ids are 16 base64 characters ending in '='.
  return randomBytes(11).toString('base64url').slice(0, 15) + '=';
}

export class LocalGateway {
  readonly connections = new Map<string, LiveConnection>();
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });

  constructor(private readonly opts: GatewayOptions) {}

  private requestContext(extra: Record<string, unknown>) {
    const now = Date.now();
    return {
      apiId: this.opts.apiId,
      stage: this.opts.stage,
      domainName: `${this.opts.apiId}.execute-api.${this.opts.region}.amazonaws.com`,
      requestId: randomUUID(),
      requestTimeEpoch: now,
      ...extra,
    };
  }

  private wsEvent(routeKey: string, eventType: 'CONNECT' | 'MESSAGE' | 'DISCONNECT', connectionId: string, conn: Pick<LiveConnection, 'connectedAt' | 'authorizer' | 'sourceIp' | 'userAgent'>, body?: string) {
    return {
      requestContext: this.requestContext({
        routeKey,
        eventType,
        connectionId,
        messageId: eventType === 'MESSAGE' ? randomBytes(6).toString('base64url') : undefined,
        connectedAt: conn.connectedAt,
        messageDirection: 'IN',
        identity: { sourceIp: conn.sourceIp, userAgent: conn.userAgent },
        authorizer: conn.authorizer,
      }),
      ...(body !== undefined ? { body, isBase64Encoded: false } : {}),
    };
  }

  /** The WebSocket upgrade: authorizer, then `$connect`, then the socket. */
  async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const token = url.searchParams.get('token');
    const refuse = (status: number, message: string) => {
      if (status >= 500) localMetrics.wsIntegrationError();
      else localMetrics.wsClientError();
      socket.write(`HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Internal Server Error'}\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n${JSON.stringify({ message })}`);
      socket.destroy();
    };
    // API Gateway refuses a request missing the identity source without calling the authorizer.
    if (!token) return refuse(401, 'Unauthorized');
    const connectionId = newConnectionId();
    const sourceIp = req.socket.remoteAddress ?? '127.0.0.1';
    const userAgent = String(req.headers['user-agent'] ?? '');
    const connectedAt = Date.now();
    const queryStringParameters = Object.fromEntries(url.searchParams);
    let authorizer: Record<string, unknown>;
    try {
      const policy = await invoke<{ principalId: string; policyDocument: { Statement: { Effect: string }[] }; context?: Record<string, unknown> }>(wsAuthorizer.function, {
        type: 'REQUEST',
        methodArn: `arn:aws:execute-api:${this.opts.region}:000000000000:${this.opts.apiId}/${this.opts.stage}/$connect`,
        headers: req.headers,
        queryStringParameters,
        stageVariables: {},
        requestContext: this.requestContext({ routeKey: '$connect', eventType: 'CONNECT', connectionId, connectedAt }),
      });
      if (!policy.policyDocument.Statement.every((s) => s.Effect === 'Allow')) return refuse(403, 'Forbidden');
      authorizer = { ...(policy.context ?? {}), principalId: policy.principalId };
    } catch (err) {
      if ((err as Error).message === 'Unauthorized') return refuse(401, 'Unauthorized');
      this.opts.log(`authorizer failed: ${(err as Error).message}`);
      return refuse(500, 'Internal server error');
    }
    const conn = { connectedAt, authorizer, sourceIp, userAgent };
    try {
      const res = await invoke<{ statusCode?: number } | undefined>(functionOf('$connect'), {
        ...this.wsEvent('$connect', 'CONNECT', connectionId, conn),
        headers: req.headers,
        queryStringParameters,
      });
      if ((res?.statusCode ?? 200) >= 300) return refuse(res!.statusCode!, 'Forbidden');
    } catch (err) {
      this.opts.log(`$connect failed: ${(err as Error).message}`);
      return refuse(500, 'Internal server error');
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const live: LiveConnection = { socket: ws, connectedAt, lastActiveAt: connectedAt, sourceIp, userAgent, authorizer };
      this.connections.set(connectionId, live);
      metering.connected();
      localMetrics.connected();
      this.enforceFrameLimits(socket, live);
      live.idleTimer = setTimeout(() => this.refuse(live, 1001, 'Going away'), this.opts.idleTimeoutMs ?? WS_LIMITS.idleTimeoutMs).unref();
      live.durationTimer = setTimeout(() => this.refuse(live, 1001, 'Going away'), this.opts.maxConnectionMs ?? WS_LIMITS.maxConnectionMs).unref();
      ws.on('message', (data, isBinary) => {
        if (live.refused) return;
        live.lastActiveAt = Date.now();
        live.idleTimer?.refresh();
        metering.received(Buffer.isBuffer(data) ? data.length : Buffer.byteLength(String(data)));
        localMetrics.wsReceived();
        void this.onMessage(connectionId, live, data.toString());
      });
      ws.on('close', () => {
        clearTimeout(live.idleTimer);
        clearTimeout(live.durationTimer);
        this.connections.delete(connectionId);
        invoke(functionOf('$disconnect'), this.wsEvent('$disconnect', 'DISCONNECT', connectionId, live)).catch((err) => this.opts.log(`$disconnect failed: ${(err as Error).message}`));
      });
      // ws has already sent its close frame (1009 for a message over maxPayload); let it go out.
      ws.on('error', () => setTimeout(() => ws.terminate(), 1_000).unref());
    });
  }

  /**
   * API Gateway's frame rules, which ws cannot express: a data frame over 32 KB or a message
   * over 128 KB closes the connection with 1009, a binary frame with 1003 (no binary media
   * types are configured). The headers are read before ws parses the same bytes, so a frame
   * that breaks a rule is never routed.
   */
  private enforceFrameLimits(socket: Duplex, live: LiveConnection): void {
    let messageBytes = 0;
    const reader = new FrameHeaderReader((frame) => {
      if (frame.opcode >= 8) return true;
      if (frame.opcode === 2) return this.refuse(live, 1003, 'Binary frames are not supported');
      messageBytes = frame.opcode === 0 ? messageBytes + frame.length : frame.length;
      if (frame.length > WS_LIMITS.frameBytes || messageBytes > WS_LIMITS.messageBytes) return this.refuse(live, 1009, 'Message too big');
      return true;
    });
    socket.prependListener('data', (chunk: Buffer) => reader.push(chunk));
  }

  /** Closes the connection as API Gateway does when a limit is reached; returns false (stop reading). */
  private refuse(live: LiveConnection, code: number, reason: string): false {
    if (!live.refused) {
      live.refused = true;
      if (live.socket.readyState === WebSocket.OPEN) live.socket.close(code, reason);
    }
    return false;
  }

  private async onMessage(connectionId: string, live: LiveConnection, body: string): Promise<void> {
    let routeKey = '$default';
    try {
      const action = (JSON.parse(body) as { action?: unknown })?.action;
      if (typeof action === 'string' && actionRoutes.has(action)) routeKey = action;
    } catch {
      // Not JSON: API Gateway cannot evaluate the selection expression and uses $default.
    }
    const route = routeOf(routeKey);
    const event = this.wsEvent(routeKey, 'MESSAGE', connectionId, live, body);
    if (route.mock) {
      // API Gateway answers itself (a MOCK integration): no function runs, the frame is not read.
      const reply = renderMockReply(route.mock.responseTemplate, event.requestContext as Record<string, string | number>);
      if (live.socket.readyState === WebSocket.OPEN) {
        metering.sent(Buffer.byteLength(reply));
        live.socket.send(reply);
      }
      return;
    }
    try {
      const res = await invoke<{ statusCode?: number; body?: string } | undefined>(route.function, event);
      if (route.routeResponse && res?.body !== undefined && live.socket.readyState === WebSocket.OPEN) {
        const bytes = Buffer.byteLength(res.body);
        // A route response is a message too: API Gateway does not deliver one over 128 KB.
        if (bytes > MAX_MESSAGE_BYTES) return this.opts.log(`${routeKey}: route response of ${bytes} bytes is over the 128 KB message limit and was not delivered`);
        metering.sent(bytes);
        localMetrics.wsSent();
        live.socket.send(res.body);
      }
    } catch (err) {
      this.opts.log(`${routeKey} failed: ${(err as Error).message}`);
      localMetrics.wsIntegrationError();
      // What API Gateway sends when the integration fails.
      if (live.socket.readyState === WebSocket.OPEN) {
        live.socket.send(JSON.stringify({ message: 'Internal server error', connectionId, requestId: event.requestContext.requestId }));
      }
    }
  }

  /** `@connections/{id}`: POST sends, GET describes, DELETE closes; 410 when gone; 403 when not signed (with `credentials`). */
  async handleConnections(req: IncomingMessage, res: ServerResponse, path: string, body: Buffer): Promise<void> {
    const connectionId = decodeURIComponent(path.slice('/@connections/'.length));
    const live = this.connections.get(connectionId);
    const send = (status: number, payload?: unknown, errorType?: string) => {
      res.writeHead(status, { 'content-type': 'application/json', ...(errorType ? { 'x-amzn-errortype': errorType } : {}) });
      res.end(payload === undefined ? '' : JSON.stringify(payload));
    };
    if (this.opts.credentials) {
      const headers: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(',') : v;
      try {
        verifyServiceRequest({ method: req.method ?? 'GET', target: req.url ?? path, headers, body }, this.opts.credentials, this.opts.region, 'execute-api');
      } catch (err) {
        if (!(err instanceof SigV4Error)) throw err;
        // API Gateway's answers to a request without a signature, with an unknown key, or with a bad signature.
        if (!headers.authorization) return send(403, { message: 'Missing Authentication Token' }, 'MissingAuthenticationTokenException');
        return send(403, { message: err.message }, err.code === 'InvalidAccessKeyId' ? 'UnrecognizedClientException' : 'InvalidSignatureException');
      }
    }
    if (!live || live.socket.readyState !== WebSocket.OPEN) return send(410, { message: null }, 'GoneException');
    if (req.method === 'POST') {
      if (body.length > MAX_MESSAGE_BYTES) return send(413, { message: 'Payload too large' }, 'PayloadTooLargeException');
      metering.sent(body.length);
      localMetrics.wsSent();
      live.socket.send(body.toString('utf8'));
      return send(200);
    }
    if (req.method === 'GET') {
      return send(200, {
        ConnectedAt: new Date(live.connectedAt).toISOString(),
        LastActiveAt: new Date(live.lastActiveAt).toISOString(),
        Identity: { SourceIp: live.sourceIp, UserAgent: live.userAgent },
      });
    }
    if (req.method === 'DELETE') {
      live.socket.close(1000);
      return send(204);
    }
    return send(403, { message: 'Forbidden' }, 'ForbiddenException');
  }

  /** The HTTP API: payload format 2.0, route matching as API Gateway does. */
  async handleHttpApi(req: IncomingMessage, res: ServerResponse, url: URL, body: Buffer): Promise<void> {
    const cors = {
      'access-control-allow-origin': '*',
      'access-control-allow-headers': 'authorization,content-type',
      'access-control-allow-methods': 'GET,POST,PUT,DELETE,OPTIONS',
      'access-control-expose-headers': 'retry-after',
    };
    const method = req.method ?? 'GET';
    if (method === 'OPTIONS') {
      res.writeHead(204, cors);
      return void res.end();
    }
    const rawPath = url.pathname.slice(this.opts.httpPrefix.length) || '/';
    const match = matchRoute(method, rawPath);
    if (!match) {
      localMetrics.httpAnswered(404);
      res.writeHead(404, { 'content-type': 'application/json', ...cors });
      return void res.end(JSON.stringify({ message: 'Not Found' }));
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
    const query = url.searchParams.size > 0 ? Object.fromEntries(url.searchParams) : undefined;
    const event = {
      version: '2.0',
      routeKey: match.routeKey,
      rawPath,
      rawQueryString: url.search.slice(1),
      headers,
      ...(query ? { queryStringParameters: query } : {}),
      ...(Object.keys(match.pathParameters).length ? { pathParameters: match.pathParameters } : {}),
      requestContext: this.requestContext({
        accountId: '000000000000',
        http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: req.socket.remoteAddress ?? '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
        routeKey: match.routeKey,
        time: new Date().toISOString(),
        timeEpoch: Date.now(),
      }),
      body: body.length ? body.toString('utf8') : undefined,
      isBase64Encoded: false,
    };
    try {
      // The route's own function, as API Gateway's integration of the route.
      const out = await invoke<{ statusCode: number; headers?: Record<string, string>; body?: string }>(httpFunctionOf(match.route.operationId), event);
      // API Gateway names the request in `apigw-requestid` (the handler's correlationId).
      res.writeHead(out.statusCode, { ...cors, ...(out.headers ?? {}), 'apigw-requestid': event.requestContext.requestId as string });
      localMetrics.httpAnswered(out.statusCode);
      res.end(out.body ?? '');
    } catch (err) {
      this.opts.log(`http failed: ${(err as Error).message}`);
      localMetrics.httpAnswered(500);
      res.writeHead(500, { 'content-type': 'application/json', ...cors });
      res.end(JSON.stringify({ message: 'Internal Server Error' }));
    }
  }

  async close(): Promise<void> {
    for (const live of this.connections.values()) live.socket.close(1001, 'Going away');
    // Give $disconnect invocations a moment, as API Gateway does best-effort.
    await new Promise((r) => setTimeout(r, 50));
    for (const live of this.connections.values()) live.socket.terminate();
    this.wss.close();
  }
}
