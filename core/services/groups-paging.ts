/**
 * Cursors of the group lists. Members and applications are keyed (groupId, userId) in
 * their tables and in the byUser indexes alike, so every group list's cursor is such a
 * key. A cursor is checked before it reaches DynamoDB: a tampered one, or one from
 * another group's (or user's) list, is INVALID_ARGUMENT rather than a server error.
 */
import { CirrusError } from '../errors';
import { decodeCursor } from '../http/paging';

/** Default page size of the group lists, as PageQuery documents. */
export const DEFAULT_PAGE = 50;

/** The ExclusiveStartKey a cursor stands for, in the list of `within` (a group's, or a user's). */
export function groupListStartKey(cursor: string | undefined, within: { groupId: string } | { userId: string }): Record<string, unknown> | undefined {
  const key = decodeCursor(cursor);
  if (!key) return undefined;
  const names = Object.keys(key).sort();
  const [field, value] = Object.entries(within)[0];
  if (names.join(',') !== 'groupId,userId' || typeof key.groupId !== 'string' || typeof key.userId !== 'string' || key[field] !== value) {
    throw new CirrusError('INVALID_ARGUMENT', 'The cursor is not one this list returned');
  }
  return key;
}
