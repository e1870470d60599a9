/**
 * Custom resource (through the CDK Provider framework): applies the history schema
 * migrations at deploy. Idempotent; a delete leaves the data in place.
 *
 * Until a backfill of the directory mirrors (0005_directory) has completed, or when invoked
 * with `ResourceProperties.BackfillDirectory` set, every user and group is copied from
 * DynamoDB into them, so statistics and the admin user search cover what existed before.
 * Its completion is recorded (`schema_migrations` row `directory_backfill`): a run that
 * failed in the backfill (a DynamoDB error, a rollback) leaves it owed to the next run
 * instead of skipping it for good once the migration itself is recorded.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { backfillDirectory } from '../core/history/directory';
import { execute, history } from '../core/history/history';
import { str } from '../core/history/params';
import { log, withLogContext } from '../core/log';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The `schema_migrations` id recording a completed directory backfill. */
const BACKFILL_DONE = 'directory_backfill';

export async function handler(event: CloudFormationCustomResourceEvent): Promise<{ PhysicalResourceId: string; Data: Record<string, string> }> {
  return withLogContext({ fn: 'migrate', correlationId: event.RequestId }, async () => {
    const physicalId = 'PhysicalResourceId' in event ? event.PhysicalResourceId : 'cirrus-history-schema';
    if (event.RequestType === 'Delete') return { PhysicalResourceId: physicalId, Data: {} as Record<string, string> };
    // A new or auto-paused cluster answers DatabaseResumingException until it is up.
    for (let attempt = 0; ; attempt++) {
      try {
        const applied = await history.migrate();
        log.info('migrations applied', { applied });
        const done = (await execute(`SELECT 1 FROM schema_migrations WHERE id = :id`, [str('id', BACKFILL_DONE)])).length > 0;
        if (!done || event.ResourceProperties?.BackfillDirectory) {
          const copied = await backfillDirectory();
          await execute(`INSERT INTO schema_migrations (id) VALUES (:id) ON CONFLICT (id) DO NOTHING`, [str('id', BACKFILL_DONE)]);
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
