/**
 * Custom resource (through the CDK Provider framework): applies the history schema
 * migrations at deploy. Idempotent; a delete leaves the data in place.
 *
 * When the directory mirrors are created (0005_directory), or when invoked with
 * `ResourceProperties.BackfillDirectory` set, every user and group is copied from DynamoDB
 * into them, so statistics and the admin user search cover what existed before.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { backfillDirectory } from '../core/history/directory';
import { history } from '../core/history/history';
import { log, withLogContext } from '../core/log';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function handler(event: CloudFormationCustomResourceEvent): Promise<{ PhysicalResourceId: string; Data: Record<string, string> }> {
  return withLogContext({ fn: 'migrate', correlationId: event.RequestId }, async () => {
    const physicalId = 'PhysicalResourceId' in event ? event.PhysicalResourceId : 'cirrus-history-schema';
    if (event.RequestType === 'Delete') return { PhysicalResourceId: physicalId, Data: {} as Record<string, string> };
    // A new or auto-paused cluster answers DatabaseResumingException until it is up.
    for (let attempt = 0; ; attempt++) {
      try {
        const applied = await history.migrate();
        log.info('migrations applied', { applied });
        if (applied.includes('0005_directory') || event.ResourceProperties?.BackfillDirectory) {
          const copied = await backfillDirectory();
          log.info('directory backfilled', copied);
        }
        return { PhysicalResourceId: physicalId, Data: { applied: applied.join(',') } };
      } catch (err) {
        const name = (err as { name?: string }).name;
        if ((name === 'DatabaseResumingException' || name === 'DatabaseNotFoundException' || name === 'BadRequestException' && String((err as Error).message).includes('not available')) && attempt < 20) {
          await sleep(10_000);
          continue;
        }
        throw err;
      }
    }
  });
}
