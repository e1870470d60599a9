/** Operations: the webhook dead-letter queue. */
import { peekDeadLetters, redriveDeadLetters } from '../../webhooks/dead-letters';
import type { webhookRoutes } from '../routes/webhooks';
import type { Operations } from '../routes/types';

export const webhookOperations: Operations<typeof webhookRoutes> = {
  listWebhookDeadLetters: ({ query }) => peekDeadLetters(query.limit ?? 10),
  redriveWebhookDeadLetters: () => redriveDeadLetters(),
};
