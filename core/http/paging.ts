/**
 * Paged lists: `?limit=&cursor=` in, `{ …, nextCursor }` out. The cursor is DynamoDB's
 * LastEvaluatedKey, opaque to callers (base64url JSON); every page is one Query.
 */
import * as z from 'zod/mini';
import { CirrusError } from '../errors';

export const PageQuery = z.strictObject({
  limit: z.optional(z.coerce.number().check(z.int(), z.gte(1), z.lte(100))).check(z.describe('Page size (default 50, at most 100)')),
  cursor: z.optional(z.string().check(z.maxLength(2048))).check(z.describe('nextCursor of the previous page')),
});
export type PageQuery = z.infer<typeof PageQuery>;

export const NextCursor = z.nullable(z.string()).check(z.describe('Pass as cursor for the next page; null on the last page'));

export function encodeCursor(key: Record<string, unknown> | undefined): string | null {
  return key ? Buffer.from(JSON.stringify(key)).toString('base64url') : null;
}

export function decodeCursor(cursor: string | undefined): Record<string, unknown> | undefined {
  if (!cursor) return undefined;
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (key && typeof key === 'object' && !Array.isArray(key)) return key as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new CirrusError('INVALID_ARGUMENT', 'The cursor is not one this API returned');
}
