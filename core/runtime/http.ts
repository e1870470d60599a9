/**
 * The HTTP API functions: route, authenticate, validate, run, answer JSON. Errors use
 * the shared code table; unknown failures never leak their message. Each function
 * (httpRouteFunctions in core/manifest.ts) is this handler over its own routes and
 * operations, so it bundles their schemas and services alone.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type * as z from 'zod/mini';
import { CirrusError, toWireError } from '../errors';
import { newId } from '../domain/ids';
import { correlationId as currentCorrelationId, log, withLogContext } from '../log';
import { authenticate } from '../services/auth';
import type { Actor } from '../http/actor';
import { isPercentDecodable, routeMatcher } from '../http/matcher';
import { findRefusedString } from '../protocol/strings';
import type { HttpFunctionKey } from '../manifest';
import { AdminName, type HttpRouteSpec, type Operation, type RouteAuth } from '../http/routes/types';
import { isAudited, recordAdminAction } from '../services/audit';
import { limitHttpCaller } from '../services/limits';
import { count } from '../metrics';
import { observed } from './observe';
import '../protocol/zod-locale';

/** The operations that send a message: their refusals are counted by reason (`MessagesRefused`). */
const sendOperations = new Set(['sendMessage', 'batchSendMessages', 'sendBusinessNotification']);

/** The operator a request for an admin token names, if it is a well-formed name. */
function adminNameOf(body: unknown): string | undefined {
  const name = (body as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' && AdminName.safeParse(name).success ? name : undefined;
}

const json = (statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

function validate(schema: z.ZodMiniType | undefined, value: unknown, what: string): unknown {
  if (!schema) return undefined;
  const refused = findRefusedString(value);
  if (refused) throw new CirrusError('INVALID_ARGUMENT', `Invalid ${what}: ${refused.path ? `${refused.path}: ` : ''}${refused.problem}`);
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CirrusError('INVALID_ARGUMENT', `Invalid ${what}: ${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`);
  }
  return parsed.data;
}

function bearer(event: APIGatewayProxyEventV2): string | undefined {
  const header = event.headers?.authorization ?? event.headers?.Authorization;
  if (!header) return undefined;
  const m = /^Bearer\s+(.+)$/i.exec(header.trim());
  return m ? m[1] : header.trim();
}

export type HttpHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * The handler of the function `fn`, serving those of `routes` that `operations` has an
 * operation for; any other route is NOT_FOUND (API Gateway sends it elsewhere).
 */
export function httpHandler(fn: HttpFunctionKey, routes: readonly HttpRouteSpec[], operations: Readonly<Record<string, Operation>>): HttpHandler {
  const routing = routeMatcher(routes.filter((route) => Object.hasOwn(operations, route.operationId)));
  return observed(fn, (event: APIGatewayProxyEventV2) => handle(fn, routing, operations, event), (event) => ({ correlationId: event.requestContext?.requestId ?? newId() }));
}

async function handle(fn: HttpFunctionKey, routing: ReturnType<typeof routeMatcher>, operations: Readonly<Record<string, Operation>>, event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  // The one the wrapper set (core/runtime/observe.ts).
  const correlationId = currentCorrelationId() ?? newId();
  return withLogContext({ fn, correlationId }, async () => {
    // Set once the caller is known: an audited call is recorded whatever its outcome.
    let audit: { route: HttpRouteSpec; actor: Actor; params?: unknown; body?: unknown; query?: unknown } | undefined;
    const record = (outcome: string) =>
      audit &&
      recordAdminAction({
        fn,
        action: audit.route.operationId,
        actor: audit.actor,
        outcome,
        correlationId,
        params: audit.params,
        body: audit.body,
        query: audit.query,
        // A request for an admin token names its operator in the body.
        ...(audit.route.operationId === 'getAdminToken' ? { actorName: adminNameOf(audit.body) } : {}),
      });
    let operationId: string | undefined;
    try {
      const method = event.requestContext.http.method;
      const byKey = event.routeKey && event.routeKey !== '$default' ? routing.byKey(event.routeKey) : undefined;
      const match = byKey ? { route: byKey, pathParameters: event.pathParameters ?? {} } : routing.match(method, event.rawPath);
      if (!match) throw new CirrusError('NOT_FOUND', `No route ${method} ${event.rawPath}`);
      const { route } = match;
      operationId = route.operationId;
      const auth = route.auth as RouteAuth;
      let actor: Actor = { kind: 'admin' };
      // The per-caller limit (core/services/limits.ts): a request without a token by its source address.
      if (auth === 'none') await limitHttpCaller({ sourceIp: event.requestContext.http.sourceIp ?? '' });
      if (auth !== 'none') {
        const claims = await authenticate(bearer(event));
        actor =
          claims.kind === 'admin'
            ? { kind: 'admin', ...(claims.name ? { name: claims.name } : {}), ...(claims.jti ? { tokenId: claims.jti } : {}) }
            : { kind: 'user', userId: claims.sub, platformId: claims.plt, sessionId: claims.sid };
        if (actor.kind === 'user') await limitHttpCaller({ userId: actor.userId });
        if (auth === 'admin' && actor.kind !== 'admin') throw new CirrusError('ADMIN_REQUIRED');
        if (auth === 'self' && actor.kind === 'user' && actor.userId !== match.pathParameters.userId) {
          throw new CirrusError('FORBIDDEN', `A token of ${actor.userId} cannot act for ${match.pathParameters.userId}`);
        }
      }
      if (isAudited(route, actor)) audit = { route, actor, params: match.pathParameters, query: event.queryStringParameters };
      const spec = route as { params?: z.ZodMiniType; query?: z.ZodMiniType; body?: z.ZodMiniType };
      // A path segment or query string that is not valid percent-encoded UTF-8 has no value to validate.
      for (const [name, value] of Object.entries(match.pathParameters ?? {})) {
        if (value !== undefined && !isPercentDecodable(value)) throw new CirrusError('INVALID_ARGUMENT', `Invalid path: ${name}: not valid percent-encoded UTF-8`);
      }
      if (event.rawQueryString && !isPercentDecodable(event.rawQueryString)) throw new CirrusError('INVALID_ARGUMENT', 'Invalid query: not valid percent-encoded UTF-8');
      let body: unknown;
      if (spec.body) {
        let text: string;
        try {
          // Fatal: invalid UTF-8 would otherwise become U+FFFD, silently altering what was sent.
          text = event.isBase64Encoded ? new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(event.body ?? '', 'base64')) : (event.body ?? '');
        } catch {
          throw new CirrusError('MALFORMED_FRAME', 'The body is not valid UTF-8');
        }
        try {
          // A route whose body fields are all optional may be called without a body.
          body = text.trim() === '' ? {} : JSON.parse(text);
        } catch {
          throw new CirrusError('MALFORMED_FRAME', 'The body is not valid JSON');
        }
      }
      if (audit) audit.body = body;
      const input = {
        actor,
        params: validate(spec.params, match.pathParameters, 'path'),
        query: validate(spec.query, event.queryStringParameters ?? {}, 'query'),
        body: validate(spec.body, body, 'body'),
      };
      if (audit) Object.assign(audit, { params: input.params, body: input.body, query: input.query });
      const result = await operations[route.operationId](input);
      // A new admin token is recorded under its own id.
      if (audit && route.operationId === 'getAdminToken') audit.actor = { kind: 'admin', tokenId: (result as { tokenId?: string }).tokenId };
      await record('ok');
      return json(200, result);
    } catch (err) {
      const wire = toWireError(err);
      await record(wire.reason);
      if (wire.reason === 'INTERNAL') log.error('request failed', { err });
      if (operationId && sendOperations.has(operationId)) count('MessagesRefused', 1, { reason: wire.reason });
      const answer = json(err instanceof CirrusError ? err.status : wire.reason === 'INTERNAL' ? 500 : wire.reason === 'THROTTLED' ? 429 : 503, { error: wire });
      // A limit's refusal says when to come back, in whole seconds (RFC 9110 Retry-After).
      if (wire.retryAfterMs !== undefined) answer.headers = { ...answer.headers, 'retry-after': String(Math.ceil(wire.retryAfterMs / 1000)) };
      return answer;
    }
  });
}
