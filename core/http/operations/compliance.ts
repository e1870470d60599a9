/** Operations: the audit log and the limits in force (served by the httpHistory function, with group retention: ./history.ts). */
import { CirrusError } from '../../errors';
import { auditLog } from '../../store/audit';
import { limitsInForce } from '../../services/limits';
import { decodeCursor, encodeCursor } from '../paging';
import type { complianceRoutes } from '../routes/compliance';
import type { Operations } from '../routes/types';

const DEFAULT_LIMIT = 50;

export const auditOperations: Operations<typeof complianceRoutes, 'getGroupRetention' | 'setGroupRetention'> = {
  getLimits: () => limitsInForce(),
  listAuditLog: async ({ query }) => {
    if (query.from !== undefined && query.to !== undefined && query.from > query.to) throw new CirrusError('INVALID_ARGUMENT', `from (${query.from}) must not be after to (${query.to})`);
    const startKey = decodeCursor(query.cursor);
    // A cursor is the last key read: the table's (log, sk) or, by target, the index's (target, sk) too.
    if (startKey && (typeof startKey.sk !== 'string' || typeof startKey.log !== 'string' || (query.target !== undefined && startKey.target !== query.target))) {
      throw new CirrusError('INVALID_ARGUMENT', 'The cursor is not one this API returned for these filters');
    }
    const page = await auditLog.page({ actor: query.actor, action: query.action, target: query.target, from: query.from, to: query.to }, query.limit ?? DEFAULT_LIMIT, startKey);
    return { entries: page.entries, nextCursor: encodeCursor(page.nextKey) };
  },
};
