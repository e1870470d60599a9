/**
 * The HTTP API contract: every route with its schemas. The HTTP function validates with
 * them, the CDK construct creates one API Gateway route per entry, and
 * `docs/openapi.json` is generated from them. Handlers live in `core/http/handlers.ts`.
 */
import * as z from 'zod';
import { ClientMsgId, ConversationId, GroupId, Message, PlatformId, SendMsgResult, UserId } from '../protocol/schema';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** Who may call a route: anyone, or the holder of an admin token. */
export type RouteAuth = 'none' | 'admin';

export interface HttpRouteSpec {
  readonly operationId: string;
  readonly method: HttpMethod;
  /** API Gateway path syntax: `/groups/{groupId}/members`. */
  readonly path: string;
  readonly summary: string;
  readonly auth: RouteAuth;
  readonly params?: z.ZodType;
  readonly query?: z.ZodType;
  readonly body?: z.ZodType;
  readonly response: z.ZodType;
}

export const MAX_BATCH = 1000;

const Token = z.strictObject({
  token: z.string(),
  expiresAt: z.number().int().describe('Expiry, seconds since the epoch'),
});

export const UserProfileInput = z.strictObject({
  userId: UserId,
  nickname: z.string().max(64).optional(),
  faceUrl: z.string().max(1024).optional(),
  ex: z.string().max(4096).optional().describe("The app's own data, usually JSON"),
});

const ItemResult = z.strictObject({
  userId: z.string(),
  ok: z.boolean(),
  error: z.strictObject({ code: z.number().int(), reason: z.string(), message: z.string() }).optional(),
});

export const Group = z.strictObject({
  groupId: GroupId,
  name: z.string(),
  ownerUserId: UserId,
  faceUrl: z.string().optional(),
  introduction: z.string().optional(),
  ex: z.string().optional(),
  memberCount: z.number().int(),
  createdAt: z.number().int(),
});

const Content = z.unknown().describe('Shape depends on contentType: {text} for 101, {data, description?, extension?} for 110');

export const httpRoutes = [
  {
    operationId: 'health',
    method: 'GET',
    path: '/health',
    summary: 'Liveness check.',
    auth: 'none',
    response: z.strictObject({ ok: z.literal(true), serverTime: z.number().int() }),
  },
  {
    operationId: 'getOpenApi',
    method: 'GET',
    path: '/openapi.json',
    summary: 'This API as an OpenAPI 3.1 document.',
    auth: 'none',
    response: z.record(z.string(), z.unknown()),
  },
  {
    operationId: 'getAdminToken',
    method: 'POST',
    path: '/auth/admin-token',
    summary: "Exchange the deployment's admin secret for an admin token (12 hours).",
    auth: 'none',
    body: z.strictObject({ secret: z.string().min(1).max(256) }),
    response: Token,
  },
  {
    operationId: 'getUserToken',
    method: 'POST',
    path: '/auth/user-token',
    summary: 'Issue a token for a registered user on one platform; the app hands it to its client.',
    auth: 'admin',
    body: z.strictObject({
      userId: UserId,
      platformId: PlatformId,
      expireSeconds: z.number().int().min(60).max(90 * 86400).optional().describe('Lifetime (default 7 days, at most 90 days)'),
    }),
    response: Token.extend({ sessionId: z.string() }),
  },
  {
    operationId: 'forceLogout',
    method: 'POST',
    path: '/auth/force-logout',
    summary: "Revoke a user's sessions (on one platform, or all): their tokens stop working at the next check.",
    auth: 'admin',
    body: z.strictObject({ userId: UserId, platformId: PlatformId.optional() }),
    response: z.strictObject({ revoked: z.number().int() }),
  },
  {
    operationId: 'registerUsers',
    method: 'POST',
    path: '/users/register',
    summary: `Register or import users, up to ${MAX_BATCH} per call; each item succeeds or fails on its own.`,
    auth: 'admin',
    body: z.strictObject({ users: z.array(UserProfileInput).min(1).max(MAX_BATCH) }),
    response: z.strictObject({ results: z.array(ItemResult) }),
  },
  {
    operationId: 'createGroup',
    method: 'POST',
    path: '/groups',
    summary: 'Create a group with its owner and initial members.',
    auth: 'admin',
    body: z.strictObject({
      groupId: GroupId.optional().describe('Chosen by the app; generated when absent'),
      name: z.string().min(1).max(128),
      ownerUserId: UserId,
      memberUserIds: z.array(UserId).max(MAX_BATCH).optional(),
      faceUrl: z.string().max(1024).optional(),
      introduction: z.string().max(2048).optional(),
      ex: z.string().max(4096).optional(),
    }),
    response: z.strictObject({ group: Group }),
  },
  {
    operationId: 'addGroupMembers',
    method: 'POST',
    path: '/groups/{groupId}/members',
    summary: 'Add members; they see messages sent from now on.',
    auth: 'admin',
    params: z.strictObject({ groupId: GroupId }),
    body: z.strictObject({ userIds: z.array(UserId).min(1).max(MAX_BATCH) }),
    response: z.strictObject({ results: z.array(ItemResult), memberCount: z.number().int() }),
  },
  {
    operationId: 'removeGroupMembers',
    method: 'POST',
    path: '/groups/{groupId}/members/remove',
    summary: 'Remove members; they keep the messages up to their removal.',
    auth: 'admin',
    params: z.strictObject({ groupId: GroupId }),
    body: z.strictObject({ userIds: z.array(UserId).min(1).max(MAX_BATCH) }),
    response: z.strictObject({ results: z.array(ItemResult), memberCount: z.number().int() }),
  },
  {
    operationId: 'sendMessage',
    method: 'POST',
    path: '/messages',
    summary: 'Send a message as a user (sendId) or as the system (asSystem), to a user (recvId) or a group (groupId). System messages to a user go to their notification conversation n_<userId>.',
    auth: 'admin',
    body: z.strictObject({
      sendId: UserId.optional().describe('Sender; required unless asSystem'),
      asSystem: z.boolean().optional().describe('Send as `system`'),
      recvId: UserId.optional(),
      groupId: GroupId.optional(),
      clientMsgId: ClientMsgId.optional().describe('For idempotent retries; generated when absent'),
      contentType: z.number().int(),
      content: Content,
    }),
    response: SendMsgResult,
  },
  {
    operationId: 'getHistory',
    method: 'GET',
    path: '/conversations/{conversationId}/messages',
    summary: 'Page backwards through the full history of a conversation (from Aurora; beyond the offline TTL).',
    auth: 'admin',
    params: z.strictObject({ conversationId: ConversationId }),
    query: z.strictObject({
      beforeSeq: z.coerce.number().int().min(1).optional().describe('Return messages with a lower seq (default: the newest)'),
      limit: z.coerce.number().int().min(1).max(200).optional().describe('Page size (default 50, at most 200)'),
    }),
    response: z.strictObject({
      messages: z.array(Message).describe('Newest first'),
      nextBeforeSeq: z.number().int().nullable().describe('Pass as beforeSeq for the next page; null at the start'),
    }),
  },
] as const satisfies readonly HttpRouteSpec[];

export type HttpRoute = (typeof httpRoutes)[number];
export type OperationId = HttpRoute['operationId'];
