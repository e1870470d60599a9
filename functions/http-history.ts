/** The HTTP API's routes over the Aurora history: history pages, searches, statistics, purges, group retention. */
import { adminHistoryRoutes } from '../core/http/routes/admin-history';
import { adminStatsRoutes } from '../core/http/routes/admin-stats';
import { historyRoutes } from '../core/http/routes/history';
import { searchRoutes } from '../core/http/routes/search';
import { complianceRoutes } from '../core/http/routes/compliance';
import { historyOperations } from '../core/http/operations/history';
import { httpHandler } from '../core/runtime/http';

export const handler = httpHandler('httpHistory', [...historyRoutes, ...searchRoutes, ...adminStatsRoutes, ...adminHistoryRoutes, ...complianceRoutes], historyOperations);
