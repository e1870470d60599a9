/** HTTP routes: compliance (the audit log of administrative actions, retention of the history). */
import * as z from 'zod/mini';
import { NextCursor, PageQuery } from '../paging';
import { GroupId, UserId } from '../../protocol/schema';
import { AdminName, type HttpRouteSpec } from './types';

/** Kept in step with core/history/retention.ts (checked by the routes' tests). */
const MAX_RETENTION_DAYS = 36_500;

const GroupRetention = z.strictObject({
  groupId: GroupId,
  days: z.nullable(z.int()).check(z.describe("The group's own retention in days; null: the deployment's applies")),
  effectiveDays: z.nullable(z.int()).check(z.describe("What applies to the group's history: its own days, else the deployment's historyRetentionDays; null: kept for good")),
});

const Ms = z.coerce.number().check(z.int(), z.gte(0), z.lte(9_999_999_999_999));

export const AuditEntry = z.strictObject({
  at: z.int().check(z.describe('When, ms since the epoch')),
  id: z.string(),
  actor: z.string().check(z.describe('The operator named by the admin token (`admin` when it names none)')),
  tokenId: z.optional(z.string()).check(z.describe("The admin token's id")),
  action: z.string().check(z.describe('The operation (its operationId), e.g. banUser')),
  target: z.optional(z.string()).check(z.describe('What it acted on: `user:<id>`, `group:<id>`, `conversation:<id>`, `batch:<id>`')),
  outcome: z.string().check(z.describe('`ok`, or the reason of the error it answered (e.g. USER_NOT_FOUND)')),
  correlationId: z.string().check(z.describe("The request's id, as in the logs (correlationId)")),
  details: z.optional(z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]))).check(z.describe("The request's ids, numbers and flags, and the length of its lists; never contents or secrets")),
});

const Rate = z.strictObject({ perSecond: z.number().check(z.describe('Tokens a second (0: no limit)')), burst: z.int().check(z.describe('Tokens kept at most: the burst allowed above the rate')) });

export const LimitsView = z.strictObject({
  limits: z.nullable(z.strictObject({
      connection: Rate.check(z.describe('sendMsg and changes of messages (editMsg, revokeMsg, deleteMsg, reactMsg) over one WebSocket connection (held in each container)')),
      user: Rate.check(z.describe('Sends by one user: sendMsg and changes of messages on any connection, and POST /messages as the user (held in each container)')),
      window: z.strictObject({ messages: z.int(), seconds: z.int(), throttleSeconds: z.int() }).check(z.describe('Held across containers: more than `messages` sends within `seconds` (counted by the archive function) throttles the user for `throttleSeconds` (0 messages: off)')),
      http: Rate.check(z.describe('HTTP requests per user token, or per source address without a token (admin tokens are not limited)')),
      typing: Rate.check(z.describe('Typing indicators over one WebSocket connection (held in each container)')),
    })).check(z.describe('The limits in force; null: the deployment has none')),
  throttled: z.array(
      z.strictObject({
        userId: UserId,
        until: z.int().check(z.describe('Refused every send until then (ms since the epoch)')),
        at: z.int().check(z.describe('When the archive function throttled them')),
        messages: z.int().check(z.describe('Messages counted within the window')),
        windowSeconds: z.int(),
        groupIds: z.array(GroupId).check(z.describe('The groups whose memberships carry the throttle (the groups they flooded)')),
      }),
    ).check(z.describe('Users throttled across containers now, latest end first (at most 100); a container\'s own token buckets are not listed')),
});

export const complianceRoutes = [
  {
    operationId: 'getLimits',
    method: 'GET',
    path: '/admin/limits',
    summary:
      'The limits against abuse in force (per connection, per user, the window held across containers, per HTTP caller) and the users throttled now for going over the window. ' +
      "A group's slow mode is its slowModeSeconds (GET /groups/{groupId}).",
    auth: 'admin',
    response: LimitsView,
  },
  {
    operationId: 'listAuditLog',
    method: 'GET',
    path: '/admin/audit',
    summary:
      'The audit log of administrative actions, newest first: every call an admin token made that changes something (every method but GET) or reads what users wrote ' +
      '(history pages, the moderation search, media downloads), and every request for an admin token, granted or refused; each with who, what, target, when, outcome and correlation id. ' +
      'Filter by target, time range, actor and action; a filtered page may hold fewer than limit entries while nextCursor says more follow. Entries are kept for good.',
    auth: 'admin',
    query: z.extend(PageQuery, {
      actor: z.optional(AdminName).check(z.describe('Only actions of this operator (`admin`: tokens that name none)')),
      action: z.optional(z.string().check(z.regex(/^[A-Za-z]{1,64}$/, 'an operationId'))).check(z.describe('Only this operation (operationId), e.g. banUser')),
      target: z.optional(z.string().check(z.regex(/^(user|group|conversation|batch):[^\s]{1,128}$/, 'user:<id>, group:<id>, conversation:<id> or batch:<id>'))).check(z.describe('Only actions on this target')),
      from: z.optional(Ms).check(z.describe('From this time (ms since the epoch, inclusive)')),
      to: z.optional(Ms).check(z.describe('Until this time (ms since the epoch, exclusive)')),
    }),
    response: z.strictObject({ entries: z.array(AuditEntry), nextCursor: NextCursor }),
  },
  {
    operationId: 'getGroupRetention',
    method: 'GET',
    path: '/admin/groups/{groupId}/retention',
    summary: "How long the history keeps a group's messages: the group's own retention, and what applies.",
    auth: 'admin',
    params: z.strictObject({ groupId: GroupId }),
    response: GroupRetention,
  },
  {
    operationId: 'setGroupRetention',
    method: 'PUT',
    path: '/admin/groups/{groupId}/retention',
    summary:
      "Set a group's own retention: the daily retention run deletes its messages sent more than days ago from the history (and so from search), " +
      "whatever the deployment's historyRetentionDays (shorter or longer); null: the deployment's applies again. The offline store keeps its own TTL (messageRetentionDays).",
    auth: 'admin',
    params: z.strictObject({ groupId: GroupId }),
    body: z.strictObject({ days: z.nullable(z.int().check(z.gte(1), z.lte(MAX_RETENTION_DAYS))).check(z.describe(`Days (1-${MAX_RETENTION_DAYS}), or null`)) }),
    response: GroupRetention,
  },
] as const satisfies readonly HttpRouteSpec[];

export const complianceLimits = { MAX_RETENTION_DAYS };
