/** Every HTTP operation, by operationId. */
import type { OperationId } from '../routes';
import type { Operation } from '../routes/types';
import { metaOperations } from './meta';
import { authOperations } from './auth';
import { userOperations } from './users';
import { groupOperations } from './groups';
import { messageOperations } from './messages';
import { friendOperations } from './friends';
import { conversationOperations } from './conversations';
import { searchOperations } from './search';
import { receiptReactionOperations } from './receipts-reactions';
import { mediaOperations } from './media';
import { adminStatsOperations } from './admin-stats';
import { webhookOperations } from './webhooks';
import { adminOpsOperations } from './admin-ops';

export const operations: Record<OperationId, Operation> = {
  ...metaOperations,
  ...authOperations,
  ...userOperations,
  ...groupOperations,
  ...friendOperations,
  ...conversationOperations,
  ...messageOperations,
  ...receiptReactionOperations,
  ...searchOperations,
  ...mediaOperations,
  ...adminStatsOperations,
  ...webhookOperations,
  ...adminOpsOperations,
};
