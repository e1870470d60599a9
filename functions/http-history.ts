/** The HTTP API's routes over the Aurora history: history pages, searches, statistics, purges, group retention. */
import { adminOpsRoutes } from '../core/http/routes/admin-ops';
import { adminStatsRoutes } from '../core/http/routes/admin-stats';
import { messageRoutes } from '../core/http/routes/messages';
import { searchRoutes } from '../core/http/routes/search';
import { complianceRoutes } from '../core/http/routes/compliance';
import { historyOperations } from '../core/http/operations/history';
import { httpHandler } from '../core/runtime/http';

export const handler = httpHandler('httpHistory', [...messageRoutes, ...searchRoutes, ...adminStatsRoutes, ...adminOpsRoutes, ...complianceRoutes], historyOperations);
