/**
 * Records administrative actions in the audit log (table AuditLog): every call an admin token makes that
 * changes something (any method but GET) or reads what users wrote (routes with
 * `auditReads`), and every request for an admin token, granted or refused.
 */
import type { Actor } from '../http/actor';
import { auditedForAdmins, type HttpRouteSpec } from '../http/routes/types';
import { log } from '../log';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { ddb } from '../aws/dynamodb';
import { config } from '../config';
import { functions, type FunctionKey, type TableKey } from '../manifest';
import { auditLog, newAuditEntry, type AuditEntry } from '../store/audit';
import { nowSeconds } from '../store/dynamo';

/** Outbox items outlive the stream's 24 hours a little (as directory jobs). */
const OUTBOX_TTL_SECONDS = 2 * 86_400;

/**
 * Stores the entry: directly when the function `fn` may write the AuditLog table (per the
 * manifest); else (the `http` function, whose environment has no room for one more table name
 * within Lambda's 4 KB) as an Outbox item, which the archive function copies into AuditLog
 * within seconds.
 */
async function store(fn: FunctionKey, entry: AuditEntry): Promise<void> {
  if ((functions[fn].tables as Partial<Record<TableKey, readonly string[]>>).auditLog?.includes('PutItem')) return auditLog.put(entry);
  await ddb().send(new PutCommand({ TableName: config.tableName('outbox'), Item: { id: `audit#${entry.id}`, kind: 'audit', entry, expiresAt: nowSeconds() + OUTBOX_TTL_SECONDS } }));
}

/** Whether a call by `actor` to `route` is recorded. */
export function isAudited(route: HttpRouteSpec, actor: Actor): boolean {
  return auditedForAdmins(route) && (route.operationId === 'getAdminToken' || actor.kind === 'admin');
}

/** Longest id kept (longer ones, only in refused requests, are cut) and most details kept. */
const MAX_DETAIL_CHARS = 256;
const MAX_DETAILS = 32;

/** At most MAX_DETAIL_CHARS of an id, well-formed (a refused request may hold lone surrogates, which DynamoDB refuses). */
const cut = (value: string): string => value.slice(0, MAX_DETAIL_CHARS).replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');

/** The kind of target each id names, in the order a target is looked for. */
const targetKinds: readonly [string, string][] = [
  ['userId', 'user'],
  ['groupId', 'group'],
  ['conversationId', 'conversation'],
  ['batchId', 'batch'],
  ['recvId', 'user'],
  ['sendId', 'user'],
  ['senderId', 'user'],
];

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * What the action acted on, and the request's ids and counts as details: path parameters
 * first, then the body's and the query's ids (media object keys included). Only ids, booleans and numbers are kept, and arrays as their
 * length: never message contents, profile fields or secrets.
 */
export function describeTarget(params: unknown, body: unknown, query?: unknown): { target?: string; details?: Record<string, string | number | boolean> } {
  const details: Record<string, string | number | boolean> = {};
  const sources = [params, body, query].filter(isObject);
  for (const source of sources) {
    for (const [name, value] of Object.entries(source)) {
      // A refused request's body is as the caller sent it: its size is bounded here.
      if (name === 'secret' || name in details || name.length > MAX_DETAIL_CHARS || Object.keys(details).length >= MAX_DETAILS) continue;
      if (/(Id|Key)$/.test(name) && typeof value === 'string') details[name] = cut(value);
      else if (Array.isArray(value)) details[`${name}.length`] = value.length;
      else if (typeof value === 'boolean' || typeof value === 'number') details[name] = value;
    }
  }
  let target: string | undefined;
  for (const source of sources) {
    for (const [name, kind] of targetKinds) {
      const value = source[name];
      if (typeof value === 'string') {
        target = `${kind}:${cut(value)}`;
        break;
      }
    }
    if (target) break;
  }
  return { target, ...(Object.keys(details).length ? { details } : {}) };
}

/**
 * Records one action; a failed write is logged (at error, with the entry) and does not undo
 * or fail the action, which has already happened.
 */
export async function recordAdminAction(input: { fn: FunctionKey; action: string; actor: Actor; outcome: string; correlationId: string; params?: unknown; body?: unknown; query?: unknown; actorName?: string }): Promise<AuditEntry | undefined> {
  const admin = input.actor.kind === 'admin' ? input.actor : undefined;
  const { target, details } = describeTarget(input.params, input.body, input.query);
  const entry = newAuditEntry({
    actor: input.actorName ?? admin?.name ?? 'admin',
    ...(admin?.tokenId ? { tokenId: admin.tokenId } : {}),
    action: input.action,
    ...(target ? { target } : {}),
    outcome: input.outcome,
    correlationId: input.correlationId,
    ...(details ? { details } : {}),
  });
  try {
    await store(input.fn, entry);
    return entry;
  } catch (err) {
    log.error('audit log write failed', { err, audit: entry });
    return undefined;
  }
}
