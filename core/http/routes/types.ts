/** The shape of an HTTP route's contract, shared by every area's route file. */
import * as z from 'zod/mini';
import type { Actor } from '../actor';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/**
 * Who may call a route:
 * - `none`: anyone;
 * - `admin`: admin tokens only;
 * - `self`: the user named by the `{userId}` path parameter, or an admin;
 * - `user`: any user or admin; the operation checks what the caller may do (group roles, membership).
 */
export type RouteAuth = 'none' | 'admin' | 'self' | 'user';

export interface HttpRouteSpec {
  readonly operationId: string;
  readonly method: HttpMethod;
  /** API Gateway path syntax: `/groups/{groupId}/members`. */
  readonly path: string;
  readonly summary: string;
  readonly auth: RouteAuth;
  /** What a `user`-auth route lets whom do, for the docs. */
  readonly permissions?: string;
  readonly params?: z.ZodMiniType;
  readonly query?: z.ZodMiniType;
  readonly body?: z.ZodMiniType;
  readonly response: z.ZodMiniType;
  /**
   * Recorded in the audit log when an admin token calls it even though it is a GET: a read
   * that reveals what users wrote or hold (every admin call that is not a GET is recorded).
   */
  readonly auditReads?: boolean;
}

export interface OperationInput {
  actor: Actor;
  params: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  query: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export type Operation = (input: OperationInput) => Promise<unknown>;

/** One operation per route of an area, checked by operationId; `Elsewhere`: those served from another module. */
export type Operations<R extends readonly HttpRouteSpec[], Elsewhere extends string = never> = { [K in Exclude<R[number]['operationId'], Elsewhere>]: Operation };

export const MAX_BATCH = 1000;

/** An operator's name on an admin token, as the audit log records it. */
export const AdminName = z.string().check(
  z.regex(/^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/, 'letters, digits, ".", "_", "@", "+" or "-", 1-128 characters, not starting with a symbol'),
  z.describe("An operator's name"),
);

export const ItemResult = z.strictObject({
  userId: z.string(),
  ok: z.boolean(),
  error: z.optional(z.strictObject({ code: z.int(), reason: z.string(), message: z.string(), appCode: z.optional(z.int()).check(z.describe("REFUSED_BY_APP: the app backend's own code")) })),
});

export const Token = z.strictObject({
  token: z.string(),
  expiresAt: z.int().check(z.describe('Expiry, seconds since the epoch')),
});

/** Whether an admin token's call to the route is recorded in the audit log (a request for an admin token always is). */
export const auditedForAdmins = (route: HttpRouteSpec): boolean =>
  route.operationId === 'getAdminToken' || (route.auth !== 'none' && (route.method !== 'GET' || route.auditReads === true));
