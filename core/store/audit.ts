/**
 * The audit log (table AuditLog): one item per administrative action. Every item sits under
 * `log = 'audit'`, sorted by `sk = <at, 13 digits>#<id>`, so a time range is one Query; the
 * byTarget index lists one target's entries. Admin actions are rare, so one partition holds
 * them all with room to spare.
 */
import { PutCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { batchWrite } from './dynamo';
import { ddb } from '../aws/dynamodb';
import { config } from '../config';
import { newId } from '../domain/ids';

const LOG = 'audit';
/** Items a filtered page reads per Query, and Queries per page at most. */
const READ_PAGE = 100;
const MAX_READS = 10;

export interface AuditEntry {
  /** ms since the epoch. */
  at: number;
  id: string;
  /** The operator named by the admin token (`admin` when it names none). */
  actor: string;
  /** The admin token's id, when it has one. */
  tokenId?: string;
  /** The operation (operationId), e.g. banUser. */
  action: string;
  /** What it acted on: `user:<id>`, `group:<id>`, `conversation:<id>`, `batch:<id>`, … */
  target?: string;
  /** `ok`, or the error code's reason. */
  outcome: string;
  /** The request id (API Gateway's), as in the logs. */
  correlationId: string;
  /** The request's ids and counts (never message contents or secrets). */
  details?: Record<string, string | number | boolean>;
}

interface AuditItem extends AuditEntry {
  log: string;
  sk: string;
}

const sortKey = (at: number, id: string) => `${String(at).padStart(13, '0')}#${id}`;

export interface AuditFilter {
  actor?: string;
  action?: string;
  target?: string;
  /** ms since the epoch, inclusive. */
  from?: number;
  /** ms since the epoch, exclusive. */
  to?: number;
}

/** The entry with its time and id, as it will be stored. */
export const newAuditEntry = (entry: Omit<AuditEntry, 'at' | 'id'>): AuditEntry => ({ ...entry, at: Date.now(), id: newId() });

function itemOf(entry: AuditEntry): AuditItem {
  const item: AuditItem = { log: LOG, sk: sortKey(entry.at, entry.id), ...entry };
  // An item without a target stays out of the byTarget index.
  if (item.target === undefined) delete item.target;
  return item;
}

export const auditLog = {
  /** Stores an entry; storing it again (same id) changes nothing. */
  async put(entry: AuditEntry): Promise<void> {
    await ddb().send(new PutCommand({ TableName: config.tableName('auditLog'), Item: itemOf(entry) }));
  },

  /** Stores entries, 25 per request (the archive function, from the Outbox). */
  async putMany(entries: readonly AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await batchWrite(config.tableName('auditLog'), entries.map((e) => ({ PutRequest: { Item: itemOf(e) } })));
  },

  /**
   * One page of entries matching the filter, newest first. The time range and the target are
   * the Query's key condition; actor and action filter what it reads, so a filtered page reads
   * on (up to MAX_READS Queries of READ_PAGE items) until it has `limit` entries; then it may
   * hold fewer while more follow (`nextKey`).
   */
  async page(filter: AuditFilter, limit: number, startKey?: Record<string, unknown>): Promise<{ entries: AuditEntry[]; nextKey?: Record<string, unknown> }> {
    const names: Record<string, string> = { '#sk': 'sk' };
    const values: Record<string, unknown> = {
      ':from': sortKey(filter.from ?? 0, ''),
      // `<to>#` sorts before every entry at `to`: the range excludes them, and includes those at `from`.
      ':to': sortKey(filter.to ?? 9_999_999_999_999, ''),
    };
    const byTarget = filter.target !== undefined;
    names['#p'] = byTarget ? 'target' : 'log';
    values[':p'] = byTarget ? filter.target : LOG;
    const filters: string[] = [];
    if (filter.actor !== undefined) {
      names['#actor'] = 'actor';
      values[':actor'] = filter.actor;
      filters.push('#actor = :actor');
    }
    if (filter.action !== undefined) {
      names['#action'] = 'action';
      values[':action'] = filter.action;
      filters.push('#action = :action');
    }
    const base: QueryCommandInput = {
      TableName: config.tableName('auditLog'),
      ...(byTarget ? { IndexName: 'byTarget' } : {}),
      KeyConditionExpression: '#p = :p AND #sk BETWEEN :from AND :to',
      ...(filters.length ? { FilterExpression: filters.join(' AND ') } : {}),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ScanIndexForward: false,
    };
    const keyOf = (item: AuditItem): Record<string, unknown> => ({ log: item.log, sk: item.sk, ...(byTarget ? { target: item.target } : {}) });
    const items: AuditItem[] = [];
    let key = startKey;
    for (let reads = 0; reads < MAX_READS; reads++) {
      const res = await ddb().send(new QueryCommand({ ...base, Limit: filters.length ? Math.max(READ_PAGE, limit) : limit - items.length, ExclusiveStartKey: key }));
      const found = (res.Items ?? []) as AuditItem[];
      key = res.LastEvaluatedKey;
      const room = limit - items.length;
      if (found.length > room) {
        // More matches than the page holds: it ends at its last entry.
        items.push(...found.slice(0, room));
        key = keyOf(items[items.length - 1]!);
        break;
      }
      items.push(...found);
      if (!key || items.length >= limit) break;
    }
    const entries = items.map(({ log: _log, sk: _sk, ...entry }) => entry as AuditEntry);
    return { entries, nextKey: key };
  },
};
