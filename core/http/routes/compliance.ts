/** HTTP routes: compliance (the audit log of administrative actions, retention of the history). */
import * as z from 'zod';
import { NextCursor, PageQuery } from '../paging';
import { GroupId } from '../../protocol/schema';
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

export const complianceRoutes = [
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
