/**
 * The HTTP API: every route but those of the media, e2ee and history functions (see
 * httpRouteFunctions in core/manifest.ts), with only its own routes' schemas.
 */
import { metaRoutes } from '../core/http/routes/meta';
import { authRoutes } from '../core/http/routes/auth';
import { userRoutes } from '../core/http/routes/users';
import { deviceRoutes } from '../core/http/routes/devices';
import { friendRoutes } from '../core/http/routes/friends';
import { groupRoutes } from '../core/http/routes/groups';
import { conversationRoutes } from '../core/http/routes/conversations';
import { messageRoutes } from '../core/http/routes/messages';
import { receiptReactionRoutes } from '../core/http/routes/receipts-reactions';
import { webhookRoutes } from '../core/http/routes/webhooks';
import { adminOpsRoutes } from '../core/http/routes/admin-ops';
import { operations } from '../core/http/operations';
import { httpHandler } from '../core/runtime/http';

export const handler = httpHandler(
  'http',
  [...metaRoutes, ...authRoutes, ...userRoutes, ...deviceRoutes, ...friendRoutes, ...groupRoutes, ...conversationRoutes, ...messageRoutes, ...receiptReactionRoutes, ...webhookRoutes, ...adminOpsRoutes],
  operations,
);
