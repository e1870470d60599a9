/** Bodies of the SQS jobs between functions, validated on receipt. */
import * as z from 'zod';
import { Message } from './schema';

export const DeliveryJobSchema = z.object({
  message: Message,
  originConnectionId: z.string().optional(),
  correlationId: z.string().optional(),
  readBy: z.string().optional(),
});

export const PushJobSchema = z.object({
  userIds: z.array(z.string()).min(1),
  message: Message,
  excludeConnectionId: z.string().optional(),
  correlationId: z.string().optional(),
});

export const ArchiveJobSchema = z.object({
  message: Message,
  correlationId: z.string().optional(),
});
