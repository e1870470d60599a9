/**
 * Cirrus's own CloudWatch metrics, in the embedded metric format (EMF) written by Powertools
 * for AWS Lambda's Metrics: a JSON line in the function's log that CloudWatch turns into
 * metrics, with no API call and no IAM permission. Namespace `Cirrus`, dimension `service` (the
 * stack's name, `POWERTOOLS_SERVICE_NAME`).
 *
 * Only what AWS's own metrics do not say is counted here, and only when there is something to
 * say: an invocation's counts are written as one line when it ends (core/runtime/observe.ts),
 * none when nothing was counted, so a message that goes through writes no metric line. A count
 * with a dimension of its own (the reason of a refusal) is a line of its own, as EMF applies an
 * object's dimensions to every metric in it: counted by service, and by service and reason.
 * Powertools' Metrics is loaded only by an invocation that has something to write.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Metrics } from '@aws-lambda-powertools/metrics';

export const METRICS_NAMESPACE = 'Cirrus';

/** The metrics Cirrus writes (docs/operations.md says what each counts). */
export const CIRRUS_METRICS = [
  'MessagesRefused',
  'PushesGone',
  'PushesThrottled',
  'PushesFailed',
  'PushesTooLarge',
  'NotificationsSent',
  'NotificationsFailed',
  'NotificationsPruned',
  'NotificationsRetried',
  'Kicks',
  'WebhookCallbacksDelivered',
  'WebhookCallbacksFailed',
  'WebhookBeforeFailed',
] as const;

export type CirrusMetric = (typeof CIRRUS_METRICS)[number];

/** The metrics also counted by a dimension of their own, with its name. */
export const CIRRUS_METRIC_DIMENSIONS: Partial<Record<CirrusMetric, string>> = { MessagesRefused: 'reason', WebhookBeforeFailed: 'callback' };

/** Powertools' Metrics, loaded by the first invocation that has something to write (most never do). */
let powertools: Promise<typeof import('@aws-lambda-powertools/metrics')> | undefined;
const loadMetrics = () => (powertools ??= import('@aws-lambda-powertools/metrics'));

/** One Metrics per function, as with the loggers (one per bundle when deployed). */
const instances = new Map<string, Metrics>();

function metricsFor(fn: string, { Metrics }: typeof import('@aws-lambda-powertools/metrics')): Metrics {
  let metrics = instances.get(fn);
  if (!metrics) {
    metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: process.env.POWERTOOLS_SERVICE_NAME || 'cirrus' });
    instances.set(fn, metrics);
  }
  return metrics;
}

/** The running invocation's function and counts, summed here so each metric is one value in the line. */
interface Invocation {
  fn: string;
  counts: Map<CirrusMetric, number>;
  /** The counts with a dimension of their own, each a line of its own. */
  singles: { name: CirrusMetric; value: number; dimensions: Record<string, string> }[];
}

const invocations = new AsyncLocalStorage<Invocation>();

/** Runs an invocation of `fn` (core/runtime/observe.ts) with counts of its own. */
export function withMetrics<T>(fn: string, work: () => T): T {
  return invocations.run({ fn, counts: new Map(), singles: [] }, work);
}

/**
 * Counts `value` (nothing if 0) of `name` in the running invocation; with `dimensions`, as a line
 * of its own. Outside an invocation (tests calling services directly), nothing.
 */
export function count(name: CirrusMetric, value = 1, dimensions?: Record<string, string>): void {
  const invocation = invocations.getStore();
  if (!invocation || !(value > 0) || process.env.LOG_LEVEL === 'silent') return;
  if (dimensions) invocation.singles.push({ name, value, dimensions });
  else invocation.counts.set(name, (invocation.counts.get(name) ?? 0) + value);
}

/** Writes the running invocation's counts as one EMF line (and one per count with dimensions), if there are any, and starts them over. */
export async function publishMetrics(): Promise<void> {
  const invocation = invocations.getStore();
  if (!invocation || (invocation.counts.size === 0 && invocation.singles.length === 0)) return;
  const { counts, singles } = invocation;
  invocation.counts = new Map();
  invocation.singles = [];
  const module = await loadMetrics();
  const metrics = metricsFor(invocation.fn, module);
  for (const { name, value, dimensions } of singles) {
    // Two dimension sets: the total by service (the empty set adds the default dimension only), and by service and the given dimensions.
    const single = metrics.singleMetric();
    single.addDimensions({}).addDimensions(dimensions);
    single.addMetric(name, module.MetricUnit.Count, value);
  }
  if (counts.size === 0) return;
  for (const [name, value] of counts) metrics.addMetric(name, module.MetricUnit.Count, value);
  metrics.publishStoredMetrics();
}
