/** The daily retention run of the history (an EventBridge schedule): see core/services/retention.ts. */
import type { Context } from 'aws-lambda';
import { log, withLogContext } from '../core/log';
import { runRetention, type RetentionResult } from '../core/services/retention';

export const handler = (_event: unknown, context: Context): Promise<RetentionResult> =>
  withLogContext({ fn: 'retention', correlationId: context.awsRequestId }, async () => {
    try {
      return await runRetention({ remainingMs: () => context.getRemainingTimeInMillis() });
    } catch (err) {
      log.error('retention run failed', { err });
      throw err;
    }
  });
