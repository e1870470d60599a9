/**
 * Records administrative actions in the audit log: every call an admin token makes that
 * changes something (any method but GET) or reads what users wrote (routes with
 * `auditReads`), and every request for an admin token, granted or refused.
 */
import type { Actor } from '../http/actor';
import { auditedForAdmins, type HttpRouteSpec } from '../http/routes/types';
import { log } from '../log';
import { auditLog, type AuditEntry } from '../store/audit';

/** Whether a call by `actor` to `route` is recorded. */
export function isAudited(route: HttpRouteSpec, actor: Actor): boolean {
  return auditedForAdmins(route) && (route.operationId === 'getAdminToken' || actor.kind === 'admin');
}

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
      if (name === 'secret' || name in details) continue;
      if (/(Id|Key)$/.test(name) && typeof value === 'string') details[name] = value;
      else if (Array.isArray(value)) details[`${name}.length`] = value.length;
      else if (typeof value === 'boolean' || typeof value === 'number') details[name] = value;
    }
  }
  let target: string | undefined;
  for (const source of sources) {
    for (const [name, kind] of targetKinds) {
      const value = source[name];
      if (typeof value === 'string') {
        target = `${kind}:${value}`;
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
export async function recordAdminAction(input: { action: string; actor: Actor; outcome: string; correlationId: string; params?: unknown; body?: unknown; query?: unknown; actorName?: string }): Promise<AuditEntry | undefined> {
  const admin = input.actor.kind === 'admin' ? input.actor : undefined;
  const { target, details } = describeTarget(input.params, input.body, input.query);
  const entry = {
    actor: input.actorName ?? admin?.name ?? 'admin',
    ...(admin?.tokenId ? { tokenId: admin.tokenId } : {}),
    action: input.action,
    ...(target ? { target } : {}),
    outcome: input.outcome,
    correlationId: input.correlationId,
    ...(details ? { details } : {}),
  };
  try {
    return await auditLog.put(entry);
  } catch (err) {
    log.error('audit log write failed', { err, audit: entry });
    return undefined;
  }
}
