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
 * object's dimensions to every metric in it.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { currentFunction } from './log';

export const METRICS_NAMESPACE = 'Cirrus';

/** The metrics Cirrus writes (docs/operations.md lists what each counts). */
export type CirrusMetric =
  | 'MessagesRefused'
  | 'PushesGone'
  | 'PushesThrottled'
  | 'PushesFailed'
  | 'PushesTooLarge'
  | 'NotificationsSent'
  | 'NotificationsFailed'
  | 'NotificationsPruned'
  | 'NotificationsRetried'
  | 'Kicks'
  | 'WebhookCallbacksDelivered'
  | 'WebhookCallbacksFailed'
  | 'WebhookBeforeFailed';

/** One Metrics per function, as with the loggers (one per bundle when deployed). */
const instances = new Map<string, Metrics>();

export function metricsFor(fn: string): Metrics {
  let metrics = instances.get(fn);
  if (!metrics) {
    metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: process.env.POWERTOOLS_SERVICE_NAME || 'cirrus' });
    instances.set(fn, metrics);
  }
  return metrics;
}

/**
 * Counts `value` (nothing if 0) of `name` in the running invocation; with `dimensions`, writes it
 * at once as a line of its own. Outside an invocation (tests calling services directly), nothing.
 */
export function count(name: CirrusMetric, value = 1, dimensions?: Record<string, string>): void {
  const fn = currentFunction();
  if (!fn || !(value > 0)) return;
  if (process.env.LOG_LEVEL === 'silent') return;
  const metrics = metricsFor(fn);
  if (dimensions) {
    const single = metrics.singleMetric();
    for (const [key, dim] of Object.entries(dimensions)) single.addDimension(key, dim);
    single.addMetric(name, MetricUnit.Count, value);
    return;
  }
  metrics.addMetric(name, MetricUnit.Count, value);
}

/** Writes the invocation's counts as one EMF line, if there are any. */
export function publishMetrics(fn: string): void {
  const metrics = instances.get(fn);
  if (metrics?.hasStoredMetrics()) metrics.publishStoredMetrics();
}
