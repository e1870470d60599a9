/**
 * Suite 2b: what the stack costs while nobody chats, read from the synthesized template.
 * Every resource type is listed with what it bills at rest; storage is left out.
 */
import { App } from 'aws-cdk-lib';
import { CirrusStack, type CirrusStackProps } from '../../lib/cirrus-stack';
import { assumptions, prices } from '../prices';

export interface IdleLine {
  type: string;
  count: number;
  monthlyUsd: number;
  why: string;
}

const HOURS = 730;

/** The metrics an alarm reads: its one metric, or every metric (not expression) of its math expression. */
export function alarmMetricCount(properties: Record<string, any>): number {
  if (Array.isArray(properties.Metrics)) return properties.Metrics.filter((m: Record<string, unknown>) => m.MetricStat !== undefined).length;
  return properties.MetricName !== undefined ? 1 : 0;
}

/** A template value as text: a `Ref` or `Fn::GetAtt` as `<<Ref:Id>>` / `<<GetAtt:Id.Attr>>`. */
function templateText(value: unknown): string {
  if (typeof value === 'string') return value;
  const token = value as Record<string, any>;
  if (token.Ref !== undefined) return `<<Ref:${token.Ref}>>`;
  if (token['Fn::GetAtt'] !== undefined) return `<<GetAtt:${[token['Fn::GetAtt']].flat().join('.')}>>`;
  throw new Error(`A dashboard body part this model cannot read: ${JSON.stringify(value)}`);
}

/** A dashboard's body as JSON, its tokens shown as `<<Ref:Id>>` / `<<GetAtt:Id.Attr>>` inside its strings. */
export function dashboardBody(properties: Record<string, any>): { widgets: { type: string; properties: Record<string, any> }[] } {
  const body = properties.DashboardBody;
  const parts: unknown[] = typeof body === 'string' ? [body] : body['Fn::Join'][1];
  return JSON.parse(parts.map(templateText).join(''));
}

/**
 * The metrics a dashboard reads, as CloudWatch's free tier ("3 dashboards for up to 50 metrics
 * per month") counts them in the strictest reading: every metric row of every graph, counted in
 * each graph it appears in, the hidden inputs of a metric-math expression included (each is a
 * row of its own); an alarm's metrics where a graph draws the alarm (`annotations.alarms`). An
 * expression adds none of its own, except SEARCH, which reads an unknown number and is refused.
 * An alarm status widget (`type: alarm`) reads no metric: it shows the alarms' states.
 */
export function dashboardMetricCount(properties: Record<string, any>, resources: Record<string, { Type: string; Properties?: Record<string, any> }>): number {
  let count = 0;
  for (const widget of dashboardBody(properties).widgets) {
    if (widget.type !== 'metric') continue;
    for (const row of (widget.properties.metrics ?? []) as unknown[][]) {
      if (typeof row[0] === 'string') {
        count += 1;
        continue;
      }
      const expression = String((row[0] as { expression?: string }).expression ?? '');
      if (/SEARCH\s*\(/i.test(expression)) throw new Error(`A SEARCH expression reads an unknown number of metrics: ${expression}`);
    }
    for (const arn of (widget.properties.annotations?.alarms ?? []) as string[]) {
      const id = /^<<GetAtt:([^.>]+)\.Arn>>$/.exec(arn)?.[1];
      const alarm = id === undefined ? undefined : resources[id];
      if (alarm?.Type !== 'AWS::CloudWatch::Alarm') throw new Error(`A graphed alarm this model cannot find: ${arn}`);
      count += alarmMetricCount(alarm.Properties ?? {});
    }
  }
  return count;
}

export function idleCost(props: CirrusStackProps = {}): { lines: IdleLine[]; totalUsd: number; freeTierSqsUsd: number } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new CirrusStack(app, 'Cirrus', props);
  const template = app.synth().getStackByName(stack.stackName).template as { Resources: Record<string, { Type: string; Properties?: Record<string, any> }> };
  const byType = new Map<string, { Type: string; Properties?: Record<string, any> }[]>();
  for (const r of Object.values(template.Resources)) byType.set(r.Type, [...(byType.get(r.Type) ?? []), r]);

  const lines: IdleLine[] = [];
  let sqsIdleRequests = 0;
  for (const [type, resources] of [...byType].sort(([a], [b]) => a.localeCompare(b))) {
    const count = resources.length;
    let monthlyUsd = 0;
    let why = 'bills only when used';
    switch (type) {
      case 'AWS::SecretsManager::Secret':
        monthlyUsd = count * prices.secretMonth.usd;
        why = `$${prices.secretMonth.usd} per secret a month`;
        break;
      case 'Custom::CirrusSecureParameters': {
        // The signing key, admin secret and webhook secret: SecureString parameters in the standard tier.
        const parameters = resources.reduce((n, r) => n + ((r.Properties?.Parameters as unknown[] | undefined)?.length ?? 0), 0);
        monthlyUsd = parameters * prices.ssmStandardParameterMonth.usd;
        why = `${parameters} standard-tier SecureString parameters: no monthly fee (the AWS managed aws/ssm key has none either)`;
        break;
      }
      case 'AWS::CloudWatch::Alarm': {
        // Billed per metric an alarm reads: a metric-math alarm over ten metrics costs ten.
        const metrics = resources.reduce((n, r) => n + alarmMetricCount(r.Properties ?? {}), 0);
        monthlyUsd = metrics * prices.cloudWatchAlarmMetricMonth.usd;
        why = `${metrics} alarm metric${metrics === 1 ? "" : "s"} at $${prices.cloudWatchAlarmMetricMonth.usd} each a month (math-expression alarms count each metric they read)`;
        break;
      }
      case 'AWS::CloudWatch::Dashboard': {
        // Free among the account's first three only when reading at most 50 metrics.
        const metrics = resources.map((r) => dashboardMetricCount(r.Properties ?? {}, template.Resources));
        const free = Math.min(metrics.filter((n) => n <= assumptions.freeDashboardMetrics).length, assumptions.freeDashboards);
        monthlyUsd = (count - free) * prices.cloudWatchDashboardMonth.usd;
        const over = metrics.filter((n) => n > assumptions.freeDashboardMetrics).length;
        why =
          `reading ${metrics.join(' + ')} metrics: ` +
          (over > 0
            ? `$${prices.cloudWatchDashboardMonth.usd} a month for each over the free tier's ${assumptions.freeDashboardMetrics} metrics per dashboard`
            : `free as one of the account's first ${assumptions.freeDashboards} dashboards of up to ${assumptions.freeDashboardMetrics} metrics; $${prices.cloudWatchDashboardMonth.usd} a month beyond`);
        break;
      }
      case 'AWS::KMS::Key':
        monthlyUsd = count * prices.kmsKeyMonth.usd;
        why = `$${prices.kmsKeyMonth.usd} per key a month`;
        break;
      case 'AWS::RDS::DBCluster': {
        const min = Math.max(...resources.map((r) => Number(r.Properties?.ServerlessV2ScalingConfiguration?.MinCapacity ?? 0.5)));
        monthlyUsd = min * HOURS * prices.auroraAcuHour.usd;
        why = min === 0 ? 'Serverless v2 at 0 ACU pauses when idle (storage extra)' : `${min} ACU always on`;
        break;
      }
      case 'AWS::Lambda::EventSourceMapping': {
        // A disabled event source (the webhook queue's while webhooks are off) does not poll; the
        // DynamoDB Streams event sources (the archive's) poll for free: Lambda's GetRecords are not billed.
        const sqs = resources.filter((r) => JSON.stringify(r.Properties?.EventSourceArn ?? '').includes('Queue') && r.Properties?.Enabled !== false);
        sqsIdleRequests = sqs.length * assumptions.idlePollersPerEventSource * ((HOURS * 3600) / assumptions.idlePollSeconds);
        monthlyUsd = sqsIdleRequests * prices.sqsRequest.usd;
        why = `Lambda long-polls each SQS queue (~${assumptions.idlePollersPerEventSource} pollers × one ${assumptions.idlePollSeconds} s ReceiveMessage): ${Math.round(sqsIdleRequests).toLocaleString('en-US')} requests a month; its reads of the DynamoDB Streams are free`;
        break;
      }
      case 'AWS::EC2::NatGateway':
        monthlyUsd = count * 0.045 * HOURS;
        why = 'NAT gateway hours';
        break;
    }
    lines.push({ type, count, monthlyUsd, why });
  }
  const totalUsd = lines.reduce((n, l) => n + l.monthlyUsd, 0);
  // The SQS free tier (1 M requests a month) covers part of the idle polling.
  const freeTierSqsUsd = Math.min(sqsIdleRequests, 1_000_000) * prices.sqsRequest.usd;
  return { lines, totalUsd, freeTierSqsUsd };
}
