/** Operations: batch sends and business notifications (purges and the search over every conversation: ./history.ts). */
import { createBatch, getBatch } from '../../services/batch';
import { sendBusinessNotification } from '../../services/business';
import type { adminOpsRoutes } from '../routes/admin-ops';
import type { Operations } from '../routes/types';

export const adminOpsOperations: Operations<typeof adminOpsRoutes> = {
  batchSendMessages: ({ body }) => createBatch(body),
  getMessageBatch: ({ params }) => getBatch(params.batchId),
  sendBusinessNotification: ({ body }) => sendBusinessNotification(body),
};
