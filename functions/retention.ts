/** The daily retention run of the history (an EventBridge schedule): see core/services/retention.ts. */
import type { Context } from 'aws-lambda';
import { log } from '../core/log';
import { observed } from '../core/runtime/observe';
import { runRetention, type RetentionResult } from '../core/services/retention';

export const handler = observed(
  'retention',
  async (_event: unknown, context: Context): Promise<RetentionResult> => {
    try {
      return await runRetention({ remainingMs: () => context.getRemainingTimeInMillis() });
    } catch (err) {
      log.error('retention run failed', { err });
      throw err;
    }
  },
  (_event, context) => ({ correlationId: context.awsRequestId }),
);
