/** The OpenAPI 3.1 document, generated from the same schemas that validate requests. */
import * as z from 'zod/mini';
import { errorCodes } from '../errors';
import { httpRoutes, type HttpRouteSpec, type RouteAuth } from './routes';
import { auditedForAdmins } from './routes/types';

type JsonSchema = Record<string, unknown>;

const schemaOf = (schema: z.ZodMiniType, io: 'input' | 'output'): JsonSchema => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
};

function parametersOf(schema: z.ZodMiniType | undefined, where: 'path' | 'query'): unknown[] {
  if (!schema) return [];
  const json = schemaOf(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, prop]) => ({
    name,
    in: where,
    required: where === 'path' || (json.required ?? []).includes(name),
    ...(prop.description ? { description: prop.description } : {}),
    schema: prop,
  }));
}

const authText: Record<RouteAuth, string> = {
  none: 'anyone, without a token.',
  admin: 'admin tokens only.',
  self: 'the user named by `userId` in the path (with their own user token), or an admin.',
  user: 'any user token or an admin token.',
};

export function whoMayCall(route: HttpRouteSpec): string {
  return authText[route.auth] + (route.permissions ? ` ${route.permissions}` : '');
}

export function buildOpenApi(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of httpRoutes) {
    const spec = route as { params?: z.ZodMiniType; query?: z.ZodMiniType; body?: z.ZodMiniType };
    const errorReasons = Object.entries(errorCodes);
    (paths[route.path] ??= {})[route.method.toLowerCase()] = {
      operationId: route.operationId,
      summary: route.summary,
      description: `Who may call: ${whoMayCall(route)}${auditedForAdmins(route) ? (route.auth === 'none' ? ' Recorded in the audit log (GET /admin/audit).' : " An admin token's call is recorded in the audit log (GET /admin/audit).") : ''}`,
      'x-cirrus-auth': route.auth,
      'x-cirrus-audited': auditedForAdmins(route),
      ...(route.auth === 'none' ? { security: [] } : { security: [{ bearer: [] }] }),
      parameters: [...parametersOf(spec.params, 'path'), ...parametersOf(spec.query, 'query')],
      ...(spec.body ? { requestBody: { required: true, content: { 'application/json': { schema: schemaOf(spec.body, 'input') } } } } : {}),
      responses: {
        200: { description: 'Success', content: { 'application/json': { schema: schemaOf(route.response, 'output') } } },
        429: { $ref: '#/components/responses/Throttled' },
        default: {
          description: `An error: ${[...new Set(errorReasons.map(([, e]) => e.status))].sort().join(', ')}; the body names the code`,
          content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorBody' } } },
        },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Cirrus IM HTTP API',
      version: '1',
      description:
        "For app backends, administrators and apps. Authenticate with `Authorization: Bearer <token>`: an admin token (from POST /auth/admin-token with the deployment's admin secret) may act for anyone; a user token (from POST /auth/user-token) acts only as its user. Each operation says who may call it (also in `x-cirrus-auth`). Every string of a request (path and query parameters, body fields and keys) must be well-formed Unicode without U+0000 (no lone UTF-16 surrogates), and a path or query string must be valid percent-encoded UTF-8: otherwise 400 INVALID_ARGUMENT, naming the field. A body that is not valid UTF-8 is refused with 400 MALFORMED_FRAME. Error codes are listed in docs/protocol.md.",
    },
    servers: [{ url: '/' }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        ErrorBody: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'reason', 'message', 'retryable'],
              properties: {
                code: { type: 'integer', enum: Object.values(errorCodes).map((e) => e.code) },
                reason: { type: 'string', enum: Object.keys(errorCodes) },
                message: { type: 'string' },
                retryable: { type: 'boolean' },
                appCode: { type: 'integer', description: "REFUSED_BY_APP: the app backend's own code (10000–19999)" },
                retryAfterMs: { type: 'integer', description: 'THROTTLED by a limit of the deployment or a group\'s slow mode: milliseconds until a retry can succeed' },
              },
            },
          },
        },
      },
      responses: {
        Throttled: {
          description:
            "THROTTLED: the caller went over a limit of the deployment (HTTP requests per user token or, without a token, per source address; a user's sends; a group's slow mode) or API Gateway's stage throttle. Retry after the Retry-After header's seconds (the body's `retryAfterMs` is the same in milliseconds); API Gateway's own 429 has no such header: retry with backoff.",
          headers: { 'Retry-After': { description: 'Seconds until a retry can succeed (rounded up).', schema: { type: 'integer', minimum: 1 } } },
          content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorBody' } } },
        },
      },
    },
  };
}
