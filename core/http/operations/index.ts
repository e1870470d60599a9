/**
 * The operations of the `http` function, by operationId: every route but those of the media
 * and history functions (./media.ts, ./history.ts; see httpRouteFunctions in core/manifest.ts).
 */
import type { httpRouteFunctions } from '../../manifest';
import type { OperationId } from '../routes';
import type { Operation } from '../routes/types';
import { metaOperations } from './meta';
import { authOperations } from './auth';
import { userOperations } from './users';
import { groupOperations } from './groups';
import { messageOperations } from './messages';
import { friendOperations } from './friends';
import { conversationOperations } from './conversations';
import { receiptReactionOperations } from './receipts-reactions';
import { webhookOperations } from './webhooks';
import { adminOpsOperations } from './admin-ops';
import { deviceOperations } from './devices';

export const operations: Record<Exclude<OperationId, (typeof httpRouteFunctions)[keyof typeof httpRouteFunctions][number]>, Operation> = {
  ...metaOperations,
  ...authOperations,
  ...userOperations,
  ...deviceOperations,
  ...groupOperations,
  ...friendOperations,
  ...conversationOperations,
  ...messageOperations,
  ...receiptReactionOperations,
  ...webhookOperations,
  ...adminOpsOperations,
};
