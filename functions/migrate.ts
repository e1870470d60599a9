/**
 * Custom resource (through the CDK Provider framework, as both its onEvent and its isComplete
 * handler): applies the history schema migrations at deploy, then runs the long data
 * migrations in slices, one per poll. Idempotent; a delete leaves the data in place.
 *
 * onEvent (a CloudFormation event) applies the schema migrations not yet applied (quick DDL,
 * each recorded as it completes) and answers with `Poll: 'migrations'`, which the framework
 * merges into the event it then polls with. Each poll copies pages of the directory backfill
 * (every user and group from DynamoDB into the history's mirrors, owed until its completion is
 * recorded as the `schema_migrations` row `directory_backfill`) until the invocation's time is
 * nearly up, saving its position after every page, and answers `IsComplete` when it is done.
 * So a backfill of any size completes across polls, and one cut short (a failed poll, a
 * rollback, the deploy's time budget) continues where it stopped on the next run.
 *
 * `ResourceProperties.BackfillDirectory` set on an onEvent restarts the backfill from the
 * first user. Operators invoke the function directly the same way (docs/operations.md).
 */
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { directoryBackfill } from '../core/history/directory';
import { history } from '../core/history/history';
import { migrationPolling } from '../core/history/migrations';
import { functions } from '../core/manifest';
import { log } from '../core/log';
import { observed } from '../core/runtime/observe';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What onEvent adds to the event: the polls carry it back. */
export interface PollFields {
  /** Marks a poll (isComplete) invocation. */
  readonly Poll: 'migrations';
  /** When onEvent ran (epoch ms): the polls stop working after `migrationPolling.workMinutes`. */
  readonly StartedAt?: number;
}

export type MigrateEvent = CloudFormationCustomResourceEvent | (Partial<CloudFormationCustomResourceEvent> & PollFields);

export interface OnEventResult extends PollFields {
  readonly PhysicalResourceId: string;
  readonly Data: Record<string, string>;
}

export interface IsCompleteResult {
  readonly IsComplete: boolean;
  /** Only with `IsComplete` true: the framework refuses Data on an incomplete answer. */
  readonly Data?: Record<string, string>;
}

const PHYSICAL_ID = 'cirrus-history-schema';

/** Time left for work in a poll: the page in progress, and saving its position, must fit after it. */
const SAFETY_MARGIN_MS = 30_000;

const isPoll = (event: MigrateEvent): event is Partial<CloudFormationCustomResourceEvent> & PollFields => (event as Partial<PollFields>).Poll === 'migrations';

export const handler = observed(
  'migrate',
  async (event: MigrateEvent, context: Context): Promise<OnEventResult | IsCompleteResult> => {
    if (isPoll(event)) return isComplete(event, context);
    return onEvent(event as CloudFormationCustomResourceEvent);
  },
  (event) => ({ correlationId: event.RequestId ?? 'poll' }),
) as (event: MigrateEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>) => Promise<OnEventResult | IsCompleteResult>;

async function onEvent(event: CloudFormationCustomResourceEvent): Promise<OnEventResult> {
  const physicalId = 'PhysicalResourceId' in event ? event.PhysicalResourceId : PHYSICAL_ID;
  if (event.RequestType === 'Delete') return { PhysicalResourceId: physicalId, Data: {}, Poll: 'migrations' };
  const applied = await whileResuming(() => history.migrate());
  log.info('migrations applied', { applied });
  if (event.ResourceProperties?.BackfillDirectory) {
    await directoryBackfill.restart();
    log.info('directory backfill restarted');
  }
  return { PhysicalResourceId: physicalId, Data: { applied: applied.join(',') }, Poll: 'migrations', StartedAt: Date.now() };
}

async function isComplete(event: Partial<CloudFormationCustomResourceEvent> & PollFields, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<IsCompleteResult> {
  if (event.RequestType === 'Delete') return { IsComplete: true };
  const started = Date.now();
  const remaining = context?.getRemainingTimeInMillis?.() ?? functions.migrate.timeoutSeconds * 1000;
  const deadline = started + remaining - SAFETY_MARGIN_MS;
  const slice = await whileResuming(() => directoryBackfill.slice({ deadline }));
  log.info('directory backfill', { ...slice });
  if (slice.done) return { IsComplete: true };
  // The deploy waits an hour at most for this resource: past the work budget it completes, and
  // the backfill, whose position is saved, continues on the next run (docs/operations.md).
  if (event.StartedAt !== undefined && Date.now() - event.StartedAt > migrationPolling.workMinutes * 60_000) {
    log.warn('directory backfill paused: it continues on the next run of the migrate function', { ...slice });
    return { IsComplete: true, Data: { directoryBackfill: 'paused' } };
  }
  return { IsComplete: false };
}

/** A new or auto-paused cluster answers DatabaseResumingException (and the like) until it is up. */
async function whileResuming<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const name = (err as { name?: string }).name;
      const resuming =
        name === 'DatabaseResumingException' || name === 'DatabaseNotFoundException' || (name === 'BadRequestException' && String((err as Error).message).includes('not available'));
      if (resuming && attempt < 20) {
        await sleep(10_000);
        continue;
      }
      throw err;
    }
  }
}
