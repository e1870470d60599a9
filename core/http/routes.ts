/**
 * The HTTP API contract: every route with its schemas, one file per area under
 * `routes/`. The HTTP function validates with them, the CDK construct creates one API
 * Gateway route per entry, and `docs/openapi.json` is generated from them.
 */
import { metaRoutes } from './routes/meta';
import { authRoutes } from './routes/auth';
import { userRoutes } from './routes/users';
import { groupRoutes } from './routes/groups';
import { messageRoutes } from './routes/messages';
import { historyRoutes } from './routes/history';
import { friendRoutes } from './routes/friends';
import { conversationRoutes } from './routes/conversations';
import { searchRoutes } from './routes/search';
import { receiptReactionRoutes } from './routes/receipts-reactions';
import { mediaRoutes } from './routes/media';
import { adminStatsRoutes } from './routes/admin-stats';
import { webhookRoutes } from './routes/webhooks';
import { adminOpsRoutes } from './routes/admin-ops';
import { adminHistoryRoutes } from './routes/admin-history';
import { deviceRoutes } from './routes/devices';
import { complianceRoutes } from './routes/compliance';
import { e2eeRoutes } from './routes/e2ee';

export type { HttpMethod, HttpRouteSpec, RouteAuth } from './routes/types';
export { MAX_BATCH } from './routes/types';

export const httpRoutes = [...metaRoutes, ...authRoutes, ...userRoutes, ...deviceRoutes, ...friendRoutes, ...groupRoutes, ...conversationRoutes, ...messageRoutes, ...historyRoutes, ...receiptReactionRoutes, ...searchRoutes, ...mediaRoutes, ...adminStatsRoutes, ...webhookRoutes, ...adminOpsRoutes, ...adminHistoryRoutes, ...complianceRoutes, ...e2eeRoutes] as const;

export type HttpRoute = (typeof httpRoutes)[number];
export type OperationId = HttpRoute['operationId'];
