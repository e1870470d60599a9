/**
 * Named parameters for the RDS Data API, which types them strictly: JSON and timestamps
 * need their type hints, and undefined becomes SQL NULL.
 */
import type { SqlParameter } from '@aws-sdk/client-rds-data';

/**
 * The last millisecond a TIMESTAMP literal can name (9999-12-31 23:59:59.999 UTC). The API
 * takes times up to Number.MAX_SAFE_INTEGER (a search's `to`, a purge's `before`, a
 * cursor): later ones are clamped here, which compares the same against any stored time,
 * instead of an invalid literal (or a RangeError) failing the statement with a 500.
 */
export const MAX_SQL_TIMESTAMP_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** Data API TIMESTAMP literal (UTC): `YYYY-MM-DD HH:MM:SS.mmm`; times are clamped to 1970..9999. */
export function toSqlTimestamp(ms: number): string {
  return new Date(Math.min(Math.max(ms, 0), MAX_SQL_TIMESTAMP_MS)).toISOString().replace('T', ' ').replace('Z', '');
}

export const str = (name: string, value: string | undefined): SqlParameter => ({ name, value: value === undefined ? { isNull: true } : { stringValue: value } });

export const long = (name: string, value: number | undefined): SqlParameter => ({ name, value: value === undefined ? { isNull: true } : { longValue: value } });

/**
 * NUL characters are dropped from strings: PostgreSQL's jsonb cannot hold them (`\u0000`),
 * and the statement would fail. The API refuses NUL in every string (core/protocol/strings.ts);
 * this keeps messages stored before it did from failing their archive job.
 */
const withoutNul = (_key: string, v: unknown): unknown => (typeof v === 'string' && v.includes('\u0000') ? v.replaceAll('\u0000', '') : v);

export const json = (name: string, value: unknown): SqlParameter =>
  value === undefined ? { name, value: { isNull: true } } : { name, value: { stringValue: JSON.stringify(value, withoutNul) }, typeHint: 'JSON' };

/** A time given in ms since the epoch. */
export const timestamp = (name: string, ms: number): SqlParameter => ({ name, value: { stringValue: toSqlTimestamp(ms) }, typeHint: 'TIMESTAMP' });
