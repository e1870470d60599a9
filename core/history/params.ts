/**
 * Named parameters for the RDS Data API, which types them strictly: JSON and timestamps
 * need their type hints, and undefined becomes SQL NULL.
 */
import type { SqlParameter } from '@aws-sdk/client-rds-data';

/** Data API TIMESTAMP literal (UTC): `YYYY-MM-DD HH:MM:SS.mmm`. */
export function toSqlTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

export const str = (name: string, value: string | undefined): SqlParameter => ({ name, value: value === undefined ? { isNull: true } : { stringValue: value } });

export const long = (name: string, value: number | undefined): SqlParameter => ({ name, value: value === undefined ? { isNull: true } : { longValue: value } });

export const json = (name: string, value: unknown): SqlParameter =>
  value === undefined ? { name, value: { isNull: true } } : { name, value: { stringValue: JSON.stringify(value) }, typeHint: 'JSON' };

/** A time given in ms since the epoch. */
export const timestamp = (name: string, ms: number): SqlParameter => ({ name, value: { stringValue: toSqlTimestamp(ms) }, typeHint: 'TIMESTAMP' });
