/**
 * Operations over the Aurora history, served by their own function (httpHistory in
 * core/manifest.ts): history pages, the searches, the statistics, purges.
 */
import { CirrusError } from '../../errors';
import { history } from '../../history/history';
import { searchMessages } from '../../history/search';
import { purgeMessages } from '../../services/purge';
import { conversations } from '../../store/conversations';
import type { adminHistoryRoutes } from '../routes/admin-history';
import type { complianceRoutes } from '../routes/compliance';
import { historyRetention } from '../../history/retention';
import { auditOperations } from './compliance';
import { config } from '../../config';
import { groups } from '../../store/groups';
import type { historyRoutes } from '../routes/history';
import type { httpRouteFunctions } from '../../manifest';
import type { Operation, Operations } from '../routes/types';
import { adminStatsOperations } from './admin-stats';
import { searchCursorOf, searchOperations, searchPositionOf } from './search';

const DEFAULT_SEARCH_LIMIT = 20;

const historyPages: Operations<typeof historyRoutes> = {
  getHistory: async ({ actor, params, query }) => {
    let bounds: { afterSeq: number; throughSeq?: number; skip?: number[] } = { afterSeq: 0 };
    if (actor.kind === 'user') {
      const { state } = await conversations.stateAndCounter(actor.userId, params.conversationId);
      if (!state) throw new CirrusError('CONVERSATION_NOT_FOUND', `No conversation ${params.conversationId} for ${actor.userId}`);
      bounds = { afterSeq: state.minSeq ?? 0, throughSeq: state.leftSeq, skip: state.deletedSeqs ? [...state.deletedSeqs] : undefined };
    }
    return history.page(params.conversationId, query.beforeSeq, query.limit ?? 50, bounds);
  },
};

const adminHistory: Operations<typeof adminHistoryRoutes> = {
  purgeMessages: ({ params, body }) => purgeMessages(params.conversationId, body),
  searchAllMessages: async ({ query }) => {
    if (query.from !== undefined && query.to !== undefined && query.from > query.to) throw new CirrusError('INVALID_ARGUMENT', 'from must not be after to');
    const page = await searchMessages({
      q: query.q,
      conversationId: query.conversationId,
      senderId: query.senderId,
      contentType: query.contentType,
      from: query.from,
      to: query.to,
      after: searchPositionOf(query.cursor),
      limit: query.limit ?? DEFAULT_SEARCH_LIMIT,
    });
    return { messages: page.messages, nextCursor: searchCursorOf(page.next) };
  },
};

async function groupRetention(groupId: string, days?: number | null): Promise<{ groupId: string; days: number | null; effectiveDays: number | null }> {
  if (!(await groups.get(groupId))) throw new CirrusError('GROUP_NOT_FOUND', `No group ${groupId}`);
  if (days !== undefined) await historyRetention.setGroupDays(groupId, days);
  const own = days === undefined ? ((await historyRetention.groupDays(groupId)) ?? null) : days;
  return { groupId, days: own, effectiveDays: own ?? config.historyRetentionDays() ?? null };
}

const retention: Operations<typeof complianceRoutes, 'listAuditLog' | 'getLimits'> = {
  getGroupRetention: ({ params }) => groupRetention(params.groupId),
  setGroupRetention: ({ params, body }) => groupRetention(params.groupId, body.days),
};

/** The operations of the httpHistory function. */
export const historyOperations: Record<(typeof httpRouteFunctions)['httpHistory'][number], Operation> = { ...historyPages, ...searchOperations, ...adminStatsOperations, ...adminHistory, ...retention, ...auditOperations };
