/** Delivery queue consumer. */
import { sqsBatchHandler } from '../core/runtime/sqs';
import { deliver } from '../core/services/delivery';
import { DeliveryJobSchema } from '../core/protocol/jobs';

export const handler = sqsBatchHandler('delivery', (body) => DeliveryJobSchema.parse(body), deliver);
