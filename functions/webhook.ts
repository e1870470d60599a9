/** Webhook queue consumer: after-callbacks to the app backend; a non-2xx or timeout is retried by SQS. */
import { sqsBatchHandler } from '../core/runtime/sqs';
import { WebhookJobSchema } from '../core/protocol/jobs';
import { sendCallbacks } from '../core/webhooks/after-send';
import { count } from '../core/metrics';
import '../core/protocol/zod-locale';

export const handler = sqsBatchHandler(
  'webhook',
  (body) => WebhookJobSchema.parse(body),
  async (items) => {
    const failed = await sendCallbacks(items);
    count('WebhookCallbacksDelivered', items.length - failed.size);
    count('WebhookCallbacksFailed', failed.size);
    return failed;
  },
);
