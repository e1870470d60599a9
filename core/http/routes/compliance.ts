/** HTTP routes: compliance (the audit log of administrative actions, retention of the history). */
import * as z from 'zod';
import { NextCursor, PageQuery } from '../paging';
import { GroupId, UserId } from '../../protocol/schema';
import { AdminName, type HttpRouteSpec } from './types';

/** Kept in step with core/history/retention.ts (checked by the routes' tests). */
const MAX_RETENTION_DAYS = 36_500;

const GroupRetention = z.strictObject({
  groupId: GroupId,
  days: z.number().int().nullable().describe("The group's own retention in days; null: the deployment's applies"),
  effectiveDays: z.number().int().nullable().describe("What applies to the group's history: its own days, else the deployment's historyRetentionDays; null: kept for good"),
});

const Ms = z.coerce.number().int().min(0).max(9_999_999_999_999);

export const AuditEntry = z.strictObject({
  at: z.number().int().describe('When, ms since the epoch'),
  id: z.string(),
  actor: z.string().describe('The operator named by the admin token (`admin` when it names none)'),
  tokenId: z.string().optional().describe("The admin token's id"),
  action: z.string().describe('The operation (its operationId), e.g. banUser'),
  target: z.string().optional().describe('What it acted on: `user:<id>`, `group:<id>`, `conversation:<id>`, `batch:<id>`'),
  outcome: z.string().describe('`ok`, or the reason of the error it answered (e.g. USER_NOT_FOUND)'),
  correlationId: z.string().describe("The request's id, as in the logs (correlationId)"),
  details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional().describe("The request's ids, numbers and flags, and the length of its lists; never contents or secrets"),
});

const Rate = z.strictObject({ perSecond: z.number().describe('Tokens a second (0: no limit)'), burst: z.number().int().describe('Tokens kept at most: the burst allowed above the rate') });

export const LimitsView = z.strictObject({
  limits: z
    .strictObject({
      connection: Rate.describe('sendMsg and changes of messages (editMsg, revokeMsg, deleteMsg, reactMsg) over one WebSocket connection (held in each container)'),
      user: Rate.describe('Sends by one user: sendMsg and changes of messages on any connection, and POST /messages as the user (held in each container)'),
      window: z
        .strictObject({ messages: z.number().int(), seconds: z.number().int(), throttleSeconds: z.number().int() })
        .describe('Held across containers: more than `messages` sends within `seconds` (counted by the archive function) throttles the user for `throttleSeconds` (0 messages: off)'),
      http: Rate.describe('HTTP requests per user token, or per source address without a token (admin tokens are not limited)'),
      typing: Rate.describe('Typing indicators over one WebSocket connection (held in each container)'),
    })
    .nullable()
    .describe('The limits in force; null: the deployment has none'),
  throttled: z
    .array(
      z.strictObject({
        userId: UserId,
        until: z.number().int().describe('Refused every send until then (ms since the epoch)'),
        at: z.number().int().describe('When the archive function throttled them'),
        messages: z.number().int().describe('Messages counted within the window'),
        windowSeconds: z.number().int(),
        groupIds: z.array(GroupId).describe('The groups whose memberships carry the throttle (the groups they flooded)'),
      }),
    )
    .describe('Users throttled across containers now, latest end first (at most 100); a container\'s own token buckets are not listed'),
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
    query: PageQuery.extend({
      actor: AdminName.optional().describe('Only actions of this operator (`admin`: tokens that name none)'),
      action: z.string().regex(/^[A-Za-z]{1,64}$/, 'an operationId').optional().describe('Only this operation (operationId), e.g. banUser'),
      target: z
        .string()
        .regex(/^(user|group|conversation|batch):[^\s]{1,128}$/, 'user:<id>, group:<id>, conversation:<id> or batch:<id>')
        .optional()
        .describe('Only actions on this target'),
      from: Ms.optional().describe('From this time (ms since the epoch, inclusive)'),
      to: Ms.optional().describe('Until this time (ms since the epoch, exclusive)'),
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
    body: z.strictObject({ days: z.number().int().min(1).max(MAX_RETENTION_DAYS).nullable().describe(`Days (1-${MAX_RETENTION_DAYS}), or null`) }),
    response: GroupRetention,
  },
] as const satisfies readonly HttpRouteSpec[];

export const complianceLimits = { MAX_RETENTION_DAYS };
