/**
 * The dashboard and the failure-signal alarms, read from the synthesized template: every
 * metric they name is one AWS publishes, with dimensions naming resources of this stack, and
 * every function, table, index, stream consumer and queue of the manifest is watched.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { CirrusStack } from '../../lib/cirrus-stack';
import { functions as functionSpecs, streamConsumers, tables as tableSpecs, type IndexSpec } from '../../core/manifest';
import { CirrusIm, type CirrusImProps } from '../../lib/cirrus-im';
import { DEFAULT_ALARM_THRESHOLDS } from '../../lib/cirrus-im-props';
import { logicalId, synthesizeCirrusStack, synthTimeout, type Synthesized } from './support';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { dashboardMetricCount } from '../../bench/suites/idle';
import { CIRRUS_METRICS, CIRRUS_METRIC_DIMENSIONS, METRICS_NAMESPACE } from '../../core/metrics';

type Resource = { Type: string; Properties?: Record<string, any> };
type Resources = Record<string, Resource>;

/** A metric as a dashboard or an alarm names it, with tokens shown as `<<Ref:Id>>` / `<<GetAtt:Id.Attr>>`. */
interface NamedMetric {
  namespace: string;
  metricName: string;
  dimensions: Record<string, string>;
}

/**
 * The metrics AWS publishes that Cirrus graphs or alarms on, by namespace and dimension set
 * (Lambda, API Gateway WebSocket and HTTP APIs, DynamoDB, SQS, Aurora user guides).
 */
const published: Record<string, Record<string, readonly string[]>> = {
  'AWS/Lambda': { FunctionName: ['Invocations', 'Errors', 'Throttles', 'Duration', 'IteratorAge', 'ConcurrentExecutions'] },
  'AWS/ApiGateway': { 'ApiId,Stage': ['MessageCount', 'ConnectCount', 'IntegrationError', 'ExecutionError', 'ClientError', 'IntegrationLatency', 'Count', '4xx', '5xx', 'Latency'] },
  'AWS/DynamoDB': {
    TableName: ['ConsumedReadCapacityUnits', 'ConsumedWriteCapacityUnits', 'ReadThrottleEvents', 'WriteThrottleEvents'],
    'GlobalSecondaryIndexName,TableName': ['ConsumedReadCapacityUnits', 'ConsumedWriteCapacityUnits', 'ReadThrottleEvents', 'WriteThrottleEvents'],
  },
  'AWS/SQS': { QueueName: ['ApproximateNumberOfMessagesVisible', 'ApproximateAgeOfOldestMessage'] },
  'AWS/RDS': { DBClusterIdentifier: ['ServerlessDatabaseCapacity', 'ACUUtilization'] },
  // Cirrus's own, which its functions write (EMF, core/metrics.ts): by service, and some by a dimension of their own too.
  [METRICS_NAMESPACE]: {
    service: CIRRUS_METRICS,
    ...Object.fromEntries(Object.entries(CIRRUS_METRIC_DIMENSIONS).map(([metric, dimension]) => [[dimension, 'service'].sort().join(','), [metric]])),
  },
};
const webSocketOnly = ['MessageCount', 'ConnectCount', 'IntegrationError', 'ExecutionError', 'ClientError'];
const httpOnly = ['Count', '4xx', '5xx', 'Latency'];

/** A token of the template as a marker string. */
function tokenText(value: unknown): string {
  if (typeof value === 'string') return value;
  const token = value as Record<string, any>;
  if (token.Ref !== undefined) return `<<Ref:${token.Ref}>>`;
  if (token['Fn::GetAtt'] !== undefined) return `<<GetAtt:${token['Fn::GetAtt'].join('.')}>>`;
  throw new Error(`Unexpected token ${JSON.stringify(value)}`);
}

function dashboardParts(resources: Resources): unknown[] {
  const dashboards = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Dashboard');
  expect(dashboards).toHaveLength(1);
  const body = dashboards[0].Properties!.DashboardBody;
  return typeof body === 'string' ? [body] : (body['Fn::Join'][1] as unknown[]);
}

function dashboardBody(resources: Resources): { widgets: { type: string; properties: Record<string, any> }[] } {
  return JSON.parse(dashboardParts(resources).map(tokenText).join(''));
}

function dashboardMetrics(resources: Resources): { title: string; metrics: NamedMetric[] }[] {
  return dashboardBody(resources)
    .widgets.filter((w) => w.type === 'metric')
    .map((widget) => ({
      title: widget.properties.title as string,
      metrics: (widget.properties.metrics as unknown[][]).filter((row) => typeof row[0] === 'string').map((row) => {
        const [namespace, metricName, ...rest] = row;
        const pairs = rest.filter((x) => typeof x === 'string') as string[];
        const dimensions: Record<string, string> = {};
        for (let i = 0; i < pairs.length; i += 2) dimensions[pairs[i]] = pairs[i + 1];
        return { namespace: namespace as string, metricName: metricName as string, dimensions };
      }),
    }));
}

function alarmMetrics(alarm: Resource): NamedMetric[] {
  const p = alarm.Properties!;
  const named = (m: Record<string, any>, ...dims: { Name: string; Value: unknown }[]) => ({
    namespace: m.Namespace ?? m.namespace,
    metricName: m.MetricName,
    dimensions: Object.fromEntries(dims.map((d) => [d.Name, tokenText(d.Value)])),
  });
  if (p.MetricName !== undefined) return [named(p, ...(p.Dimensions ?? []))];
  return (p.Metrics as Record<string, any>[]).filter((m) => m.MetricStat).map((m) => named(m.MetricStat.Metric, ...(m.MetricStat.Metric.Dimensions ?? [])));
}

/** The logical id a `<<Ref:Id>>` or `<<GetAtt:Id.Attr>>` marker names. */
const refOf = (text: string) => /^<<(?:Ref:([^>]+)|GetAtt:([^.>]+)\.[^>]+)>>$/.exec(text)?.slice(1).find(Boolean);

/** Fails unless the metric is published by AWS and its dimensions name resources of this stack of the right kind. */
function expectPublished(metric: NamedMetric, resources: Resources): void {
  const where = `${metric.namespace} ${metric.metricName} ${JSON.stringify(metric.dimensions)}`;
  const schema = Object.keys(metric.dimensions).sort().join(',');
  expect(published[metric.namespace]?.[schema] ?? [], where).toContain(metric.metricName);
  const resourceOf = (dimension: string, type: string) => {
    const id = refOf(metric.dimensions[dimension]);
    expect(id && resources[id]?.Type, where).toBe(type);
    return resources[id!];
  };
  switch (metric.namespace) {
    case 'AWS/Lambda':
      resourceOf('FunctionName', 'AWS::Lambda::Function');
      break;
    case 'AWS/ApiGateway': {
      const api = resourceOf('ApiId', 'AWS::ApiGatewayV2::Api');
      const protocol = api.Properties!.ProtocolType;
      if (webSocketOnly.includes(metric.metricName)) expect(protocol, where).toBe('WEBSOCKET');
      if (httpOnly.includes(metric.metricName)) expect(protocol, where).toBe('HTTP');
      const apiId = refOf(metric.dimensions.ApiId);
      const stages = Object.values(resources).filter((r) => r.Type === 'AWS::ApiGatewayV2::Stage' && r.Properties!.ApiId?.Ref === apiId);
      expect(stages.map((s) => s.Properties!.StageName), where).toContain(metric.dimensions.Stage);
      break;
    }
    case 'AWS/DynamoDB': {
      const table = resourceOf('TableName', 'AWS::DynamoDB::Table');
      if (metric.dimensions.GlobalSecondaryIndexName !== undefined) {
        expect((table.Properties!.GlobalSecondaryIndexes ?? []).map((i: { IndexName: string }) => i.IndexName), where).toContain(metric.dimensions.GlobalSecondaryIndexName);
      }
      break;
    }
    case 'AWS/SQS':
      expect(metric.dimensions.QueueName, where).toMatch(/^<<GetAtt:[^.]+\.QueueName>>$/);
      resourceOf('QueueName', 'AWS::SQS::Queue');
      break;
    case 'AWS/RDS':
      resourceOf('DBClusterIdentifier', 'AWS::RDS::DBCluster');
      break;
    case METRICS_NAMESPACE:
      // The service the functions write: the stack's name, compiled into their bundles.
      expect(metric.dimensions.service, where).toBe('Cirrus');
      break;
  }
}

const key = (m: NamedMetric) => `${m.namespace}|${m.metricName}|${Object.entries(m.dimensions).sort().map(([k, v]) => `${k}=${v}`).join(',')}`;

/** Everything a deployment's monitoring must cover, as metric keys. */
function manifestCoverage(synthesized: Synthesized) {
  const im = synthesized.stack.im;
  const ref = (construct: Parameters<typeof logicalId>[0]) => `<<Ref:${logicalId(construct)}>>`;
  const fn = (name: keyof typeof functionSpecs) => ref(im.functions[name]);
  const lambda = (metricName: string, name: keyof typeof functionSpecs) => key({ namespace: 'AWS/Lambda', metricName, dimensions: { FunctionName: fn(name) } });
  const tableThrottles = Object.entries(tableSpecs).flatMap(([name, spec]) => {
    const table = ref(im.tables[name as keyof typeof tableSpecs]);
    const indexes = ('indexes' in spec ? (spec.indexes as readonly IndexSpec[]) : []).map((i) => i.name);
    return ['ReadThrottleEvents', 'WriteThrottleEvents'].flatMap((metricName) => [
      key({ namespace: 'AWS/DynamoDB', metricName, dimensions: { TableName: table } }),
      ...indexes.map((index) => key({ namespace: 'AWS/DynamoDB', metricName, dimensions: { TableName: table, GlobalSecondaryIndexName: index } })),
    ]);
  });
  const consumers = [...new Set(Object.values(streamConsumers).map((c) => c.consumer))];
  return {
    functionErrors: Object.keys(functionSpecs).map((name) => lambda('Errors', name as keyof typeof functionSpecs)),
    functionThrottles: Object.keys(functionSpecs).map((name) => lambda('Throttles', name as keyof typeof functionSpecs)),
    functionDuration: Object.keys(functionSpecs).map((name) => lambda('Duration', name as keyof typeof functionSpecs)),
    iteratorAge: consumers.map((name) => lambda('IteratorAge', name)),
    tableThrottles,
    consumed: Object.keys(tableSpecs).flatMap((name) =>
      ['ConsumedReadCapacityUnits', 'ConsumedWriteCapacityUnits'].map((metricName) => key({ namespace: 'AWS/DynamoDB', metricName, dimensions: { TableName: ref(im.tables[name as keyof typeof tableSpecs]) } })),
    ),
    aurora: key({ namespace: 'AWS/RDS', metricName: 'ServerlessDatabaseCapacity', dimensions: { DBClusterIdentifier: ref(im.cluster) } }),
    deadLetters: key({ namespace: 'AWS/SQS', metricName: 'ApproximateNumberOfMessagesVisible', dimensions: { QueueName: `<<GetAtt:${logicalId(im.deadLetters)}.QueueName>>` } }),
  };
}

function monitoringAlarms(resources: Resources): [string, Resource][] {
  return Object.entries(resources).filter(([id, r]) => r.Type === 'AWS::CloudWatch::Alarm' && id.startsWith('CirrusMonitoring'));
}

/** The metrics of the only dashboard of the template, counted as CloudWatch's free tier counts them. */
function metricCount(resources: Resources): number {
  const dashboard = Object.values(resources).find((r) => r.Type === 'AWS::CloudWatch::Dashboard');
  return dashboardMetricCount(dashboard!.Properties!, resources);
}

describe('When an alarmTopic is given, with the detailed dashboard', () => {
  let synthesized: Synthesized;
  let resources: Resources;
  let topicArn: string;

  beforeAll(() => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    topicArn = 'arn:aws:sns:eu-west-1:123456789012:cirrus-alarms';
    const topics = new Stack(app, 'Topics');
    new sns.Topic(topics, 'Other');
    const topic = sns.Topic.fromTopicArn(topics, 'Alarms', topicArn);
    const stack = new CirrusStack(app, 'Cirrus', { alarmTopic: topic, aurora: { maxCapacity: 4 }, monitoring: { dashboard: 'detailed' } });
    synthesized = { app, stack, template: Template.fromStack(stack) };
    resources = synthesized.template.toJSON().Resources;
  }, synthTimeout);

  it('should alarm on every failure signal of every function, table, index and stream consumer of the manifest', () => {
    // Arrange
    const coverage = manifestCoverage(synthesized);
    const watched = new Set(monitoringAlarms(resources).flatMap(([, alarm]) => alarmMetrics(alarm).map(key)));

    // Assess
    for (const expected of [...coverage.functionErrors, ...coverage.functionThrottles, ...coverage.iteratorAge, ...coverage.tableThrottles, coverage.aurora]) {
      expect(watched, expected).toContain(expected);
    }
    const apiMetrics = [...watched].filter((k) => k.startsWith('AWS/ApiGateway|')).map((k) => k.split('|')[1]);
    expect(apiMetrics.sort()).toEqual(['5xx', 'ExecutionError', 'IntegrationError']);
    // The webhook queue is idle without webhooks: no age alarm on it.
    expect([...watched].filter((k) => k.startsWith('AWS/SQS|'))).toEqual([]);
  });

  it('should read as many metrics as docs/operations.md and docs/deploy.md bill for', () => {
    const all = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    const metrics = all.reduce((n, alarm) => n + alarmMetrics(alarm).length, 0);
    const operations = readFileSync('docs/operations.md', 'utf8');
    const stated = /In the default deployment with an `alarmTopic`: (\d+) alarms reading (\d+) metrics, \*\*\$([\d.]+) a month\*\*/.exec(operations);
    expect(stated, 'the alarm count sentence of docs/operations.md').not.toBeNull();
    expect([Number(stated![1]), Number(stated![2]), Number(stated![3])]).toEqual([all.length, metrics, Math.round(metrics * 10) / 100]);
    const deploy = readFileSync('docs/deploy.md', 'utf8');
    expect(deploy).toContain(`(${metrics} metrics, $${(metrics / 10).toFixed(2)}, in the default deployment`);
    expect(deploy).toContain(`the failure-signal alarms add ${monitoringAlarms(resources).reduce((n, [, alarm]) => n + alarmMetrics(alarm).length, 0)} metrics: $${(metrics / 10).toFixed(2)}/month in all`);
  });

  it('should name only metrics AWS publishes, with dimensions naming resources of this stack', () => {
    for (const [, alarm] of monitoringAlarms(resources)) for (const metric of alarmMetrics(alarm)) expectPublished(metric, resources);
  });

  it('should read at most 10 metrics per alarm, summed or maximised with missing periods as 0, in 5-minute periods', () => {
    for (const [id, alarm] of monitoringAlarms(resources)) {
      const p = alarm.Properties!;
      // CloudWatch refuses an alarm whose expression reads more than 10 metrics.
      expect(alarmMetrics(alarm).length, id).toBeLessThanOrEqual(10);
      if (p.Metrics) {
        const expression = (p.Metrics as { Expression?: string; ReturnData?: boolean }[]).find((m) => m.ReturnData !== false);
        expect(expression?.Expression, id).toMatch(/^(SUM|MAX)\(FILL\(METRICS\(\), 0\)\)$/);
        for (const m of p.Metrics.filter((x: any) => x.MetricStat)) expect(m.MetricStat.Period, id).toBe(300);
      } else {
        expect(p.Period, id).toBe(300);
      }
    }
  });

  it("should not page on noise: 2 of 3 periods, missing data not breaching, default thresholds; and notify the topic of alarm and recovery", () => {
    // Arrange
    const thresholdOf = (prefix: string) => monitoringAlarms(resources).filter(([id]) => id.startsWith(`CirrusMonitoring${prefix}`)).map(([, a]) => a.Properties!.Threshold);

    // Assess
    expect(monitoringAlarms(resources).length).toBeGreaterThanOrEqual(8);
    for (const [id, alarm] of monitoringAlarms(resources)) {
      expect(alarm.Properties, id).toMatchObject({
        EvaluationPeriods: 3,
        DatapointsToAlarm: 2,
        TreatMissingData: 'notBreaching',
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: [topicArn],
        OKActions: [topicArn],
      });
      expect(alarm.Properties!.AlarmDescription, id).toMatch(/docs\/operations\.md, "[^"]+"/);
    }
    expect(new Set(thresholdOf('FunctionErrors'))).toEqual(new Set([DEFAULT_ALARM_THRESHOLDS.functionErrors]));
    expect(new Set(thresholdOf('FunctionThrottles'))).toEqual(new Set([DEFAULT_ALARM_THRESHOLDS.functionThrottles]));
    expect(new Set(thresholdOf('TableThrottles'))).toEqual(new Set([DEFAULT_ALARM_THRESHOLDS.tableThrottles]));
    expect(thresholdOf('StreamIteratorAge')).toEqual([DEFAULT_ALARM_THRESHOLDS.streamIteratorAgeSeconds * 1000]);
    // Aurora: at the maximum capacity of this deployment.
    expect(thresholdOf('AuroraCapacityAtMax')).toEqual([4]);
  });

  it('should keep the existing dead-letter alarm', () => {
    const deadLetters = Object.entries(resources).filter(([id, r]) => r.Type === 'AWS::CloudWatch::Alarm' && id.startsWith('CirrusDeadLettersAlarm'));
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0][1].Properties!.AlarmActions).toEqual([topicArn]);
  });

  it('should graph every function, table, index, stream consumer, dead-letter queue and the cluster on the detailed dashboard', () => {
    // Arrange
    const coverage = manifestCoverage(synthesized);
    const graphed = new Set(dashboardMetrics(resources).flatMap((w) => w.metrics.map(key)));

    // Assess
    for (const expected of [
      ...coverage.functionErrors,
      ...coverage.functionThrottles,
      ...coverage.functionDuration,
      ...coverage.iteratorAge,
      ...coverage.tableThrottles,
      ...coverage.consumed,
      coverage.aurora,
      coverage.deadLetters,
    ]) {
      expect(graphed, expected).toContain(expected);
    }
    const apiMetrics = new Set([...graphed].filter((k) => k.startsWith('AWS/ApiGateway|')).map((k) => k.split('|')[1]));
    for (const metricName of ['MessageCount', 'ConnectCount', 'IntegrationError', 'ExecutionError', 'Count', '5xx']) expect(apiMetrics).toContain(metricName);
    // Messages: the send function's invocations.
    expect(graphed).toContain(key({ namespace: 'AWS/Lambda', metricName: 'Invocations', dimensions: { FunctionName: `<<Ref:${logicalId(synthesized.stack.im.functions.wsMessage)}>>` } }));
    // Cirrus's own metrics, all but the webhooks' (off here).
    const own = [...graphed].filter((k) => k.startsWith('Cirrus|')).map((k) => k.split('|')[1]);
    expect(new Set(own)).toEqual(new Set(CIRRUS_METRICS.filter((m) => !m.startsWith('Webhook'))));
  });

  it("should name only published metrics of this stack's resources on the dashboard, with the p99 of durations", () => {
    for (const widget of dashboardMetrics(resources)) for (const metric of widget.metrics) expectPublished(metric, resources);
    const durations = dashboardBody(resources).widgets.find((w) => w.properties.title?.startsWith('Function duration'));
    expect((durations!.properties.metrics as unknown[][]).every((row) => (row.at(-1) as { stat: string }).stat === 'p99')).toBe(true);
  });

  it('should show the state of every alarm on the dashboard, the dead-letter alarms included', () => {
    const status = dashboardBody(resources).widgets.find((w) => w.type === 'alarm');
    const shown = (status!.properties.alarms as string[]).map((arn) => /<<GetAtt:([^.]+)\.Arn>>/.exec(arn)?.[1]);
    const every = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm').map(([id]) => id);
    expect(shown.sort()).toEqual(every.sort());
    expect(every.some((id) => id.startsWith('CirrusDeadLettersAlarm'))).toBe(true);
  });

  it("should stay within CloudWatch's dashboard limits even with the longest resource names", () => {
    // Arrange: every token at the longest name CloudFormation may generate (table names reach 255 characters).
    const worstCase = dashboardParts(resources)
      .map((part) => (typeof part === 'string' ? part : 'x'.repeat(255)))
      .join('');
    const widgets = dashboardBody(resources).widgets;
    const metricWidgets = dashboardMetrics(resources);

    // Assess: a body of at most 1 MB, 500 widgets, 500 metrics per graph, 2,500 per dashboard.
    expect(Buffer.byteLength(worstCase)).toBeLessThan(1_000_000);
    expect(widgets.length).toBeLessThanOrEqual(500);
    for (const widget of metricWidgets) expect(widget.metrics.length, widget.title).toBeLessThanOrEqual(500);
    expect(metricWidgets.reduce((n, w) => n + w.metrics.length, 0)).toBeLessThanOrEqual(2500);
  });
});

describe('When the dashboard is left at its default, the summary', () => {
  let synthesized: Synthesized;
  let resources: Resources;

  beforeAll(() => {
    // The most a default deployment graphs: the alarms on (every one shown) and webhooks (a work queue and its DLQ).
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const topics = new Stack(app, 'Topics');
    new sns.Topic(topics, 'Other');
    const topic = sns.Topic.fromTopicArn(topics, 'Alarms', 'arn:aws:sns:eu-west-1:123456789012:cirrus-alarms');
    const stack = new CirrusStack(app, 'Cirrus', { alarmTopic: topic, webhooks: { url: 'https://backend.example.com/cirrus' } });
    synthesized = { app, stack, template: Template.fromStack(stack) };
    resources = synthesized.template.toJSON().Resources;
  }, synthTimeout);

  it("should read at most 50 metrics, so it stays within CloudWatch's free tier of 3 dashboards of up to 50 metrics", () => {
    const count = metricCount(resources);
    expect(count).toBeLessThanOrEqual(50);
    // The same as every metric row of every graph: nothing hides in expressions or alarm annotations.
    expect(count).toBe(dashboardMetrics(resources).reduce((n, w) => n + w.metrics.length, 0));
  });

  it('should graph the message path: its functions, API Gateway messages and 5xx, Messages and Conversations, the stream, the dead letters and Aurora', () => {
    // Arrange
    const im = synthesized.stack.im;
    const ref = (construct: Parameters<typeof logicalId>[0]) => `<<Ref:${logicalId(construct)}>>`;
    const graphed = new Set(dashboardMetrics(resources).flatMap((w) => w.metrics.map(key)));
    const messagePath = (['wsMessage', 'wsConnect', 'push', 'notify', 'archive'] as const).filter((name) => name in functionSpecs) as (keyof typeof functionSpecs)[];

    // Assess
    expect(messagePath.length).toBeGreaterThanOrEqual(4);
    for (const name of messagePath) {
      for (const metricName of ['Invocations', 'Errors', 'Throttles', 'Duration']) {
        expect(graphed).toContain(key({ namespace: 'AWS/Lambda', metricName, dimensions: { FunctionName: ref(im.functions[name]) } }));
      }
    }
    const apiMetrics = new Set([...graphed].filter((k) => k.startsWith('AWS/ApiGateway|')).map((k) => k.split('|')[1]));
    for (const metricName of ['MessageCount', 'IntegrationError', 'ExecutionError', '5xx']) expect(apiMetrics).toContain(metricName);
    for (const table of [im.tables.messages, im.tables.conversations]) {
      for (const metricName of ['ReadThrottleEvents', 'WriteThrottleEvents', 'ConsumedReadCapacityUnits', 'ConsumedWriteCapacityUnits']) {
        expect(graphed).toContain(key({ namespace: 'AWS/DynamoDB', metricName, dimensions: { TableName: ref(table) } }));
      }
    }
    const coverage = manifestCoverage(synthesized);
    for (const expected of [...coverage.iteratorAge, coverage.aurora, coverage.deadLetters]) expect(graphed).toContain(expected);
    expect(graphed).toContain(key({ namespace: 'AWS/SQS', metricName: 'ApproximateNumberOfMessagesVisible', dimensions: { QueueName: `<<GetAtt:${logicalId(im.deadLetterQueues.webhook)}.QueueName>>` } }));
    // Functions off the message path are left to the detailed dashboard.
    expect(graphed).not.toContain(key({ namespace: 'AWS/Lambda', metricName: 'Errors', dimensions: { FunctionName: ref(im.functions.migrate) } }));
    // Cirrus's own counts of what went wrong on the way to clients.
    for (const metricName of ['MessagesRefused', 'PushesGone', 'PushesThrottled', 'NotificationsFailed']) {
      expect(graphed).toContain(key({ namespace: 'Cirrus', metricName, dimensions: { service: 'Cirrus' } }));
    }
  });

  it('should name only published metrics of this stack, with the p99 of durations, and show the state of every alarm', () => {
    for (const widget of dashboardMetrics(resources)) for (const metric of widget.metrics) expectPublished(metric, resources);
    const durations = dashboardBody(resources).widgets.find((w) => w.properties.title?.includes('duration p99'));
    expect((durations!.properties.metrics as unknown[][]).every((row) => (row.at(-1) as { stat: string }).stat === 'p99')).toBe(true);
    const status = dashboardBody(resources).widgets.find((w) => w.type === 'alarm');
    const every = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm').map(([id]) => id);
    expect((status!.properties.alarms as string[]).map((arn) => /<<GetAtt:([^.]+)\.Arn>>/.exec(arn)?.[1]).sort()).toEqual(every.sort());
  });
});

describe('The count of dashboard metrics', () => {
  it("counts each input of a metric-math expression, each metric of a graphed alarm and none for an alarm's status", () => {
    // Arrange: a graph of one expression over 3 metrics, a graphed alarm over a 2-metric expression, the alarms' status.
    const stack = new Stack(new App(), 'Host');
    const metric = (name: string) => new cloudwatch.Metric({ namespace: 'AWS/Lambda', metricName: 'Errors', dimensionsMap: { FunctionName: name } });
    const alarm = new cloudwatch.Alarm(stack, 'Alarm', {
      metric: new cloudwatch.MathExpression({ expression: 'a + b', usingMetrics: { a: metric('a'), b: metric('b') } }),
      threshold: 1,
      evaluationPeriods: 1,
    });
    new cloudwatch.Dashboard(stack, 'Dashboard', {
      widgets: [
        [new cloudwatch.GraphWidget({ left: [new cloudwatch.MathExpression({ expression: 'x + y + z', usingMetrics: { x: metric('x'), y: metric('y'), z: metric('z') } })] })],
        [new cloudwatch.AlarmWidget({ alarm })],
        [new cloudwatch.AlarmStatusWidget({ alarms: [alarm] })],
      ],
    });
    const resources: Resources = Template.fromStack(stack).toJSON().Resources;

    // Assess: 3 expression inputs and the alarm's 2 metrics.
    expect(metricCount(resources)).toBe(5);
  });

  it('refuses a SEARCH expression, which reads an unknown number of metrics', () => {
    const stack = new Stack(new App(), 'Host');
    new cloudwatch.Dashboard(stack, 'Dashboard', {
      widgets: [[new cloudwatch.GraphWidget({ left: [new cloudwatch.MathExpression({ expression: "SEARCH('{AWS/Lambda,FunctionName} Errors', 'Sum')" })] })]],
    });
    expect(() => metricCount(Template.fromStack(stack).toJSON().Resources)).toThrow(/SEARCH expression/);
  });
});

describe('When webhooks are on', () => {
  let synthesized: Synthesized;
  let resources: Resources;

  beforeAll(() => {
    synthesized = synthesizeCirrusStack({ monitoring: { alarms: true }, webhooks: { url: 'https://backend.example.com/cirrus' } });
    resources = synthesized.template.toJSON().Resources;
  }, synthTimeout);

  it('should alarm on and graph the age of the webhook queue, and graph its dead-letter queue', () => {
    const queue = `<<GetAtt:${logicalId(synthesized.stack.im.queues.webhook)}.QueueName>>`;
    const age = key({ namespace: 'AWS/SQS', metricName: 'ApproximateAgeOfOldestMessage', dimensions: { QueueName: queue } });
    const watched = monitoringAlarms(resources).flatMap(([, alarm]) => alarmMetrics(alarm).map(key));
    const graphed = dashboardMetrics(resources).flatMap((w) => w.metrics.map(key));
    expect(watched).toContain(age);
    expect(graphed).toContain(age);
    expect(graphed).toContain(key({ namespace: 'AWS/SQS', metricName: 'ApproximateNumberOfMessagesVisible', dimensions: { QueueName: `<<GetAtt:${logicalId(synthesized.stack.im.deadLetterQueues.webhook)}.QueueName>>` } }));
    const queueAlarm = monitoringAlarms(resources).find(([id]) => id.startsWith('CirrusMonitoringQueueAge'));
    expect(queueAlarm![1].Properties).toMatchObject({ Threshold: DEFAULT_ALARM_THRESHOLDS.queueAgeSeconds });
    // Without a topic the alarms change state but notify no one.
    expect(queueAlarm![1].Properties!.AlarmActions).toBeUndefined();
  });
});

describe('When monitoring is left at its defaults without an alarmTopic', () => {
  it('should create the summary dashboard and only the dead-letter alarm, so the idle stack pays nothing more', () => {
    const { template } = synthesizeCirrusStack();
    const resources: Resources = template.toJSON().Resources;
    expect(Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Dashboard')).toHaveLength(1);
    expect(monitoringAlarms(resources)).toEqual([]);
    expect(Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm')).toHaveLength(1);
    // The alarm status widget shows the dead-letter alarm.
    const status = dashboardBody(resources).widgets.find((w) => w.type === 'alarm');
    expect(status!.properties.alarms).toHaveLength(1);
    expect(metricCount(resources)).toBeLessThanOrEqual(50);
  });
});

describe('When monitoring is tuned', () => {
  it('should take the thresholds and evaluation given', () => {
    const { template } = synthesizeCirrusStack({
      monitoring: { alarms: true, evaluationPeriods: 6, datapointsToAlarm: 4, thresholds: { functionErrors: 1, tableThrottles: 100, streamIteratorAgeSeconds: 60 } },
    });
    const alarms = monitoringAlarms(template.toJSON().Resources);
    for (const [id, alarm] of alarms) expect(alarm.Properties, id).toMatchObject({ EvaluationPeriods: 6, DatapointsToAlarm: 4 });
    const thresholds = Object.fromEntries(alarms.map(([id, a]) => [id.replace(/^CirrusMonitoring([A-Za-z]+?)\d*[0-9A-F]{8}$/, '$1'), a.Properties!.Threshold]));
    expect(thresholds).toMatchObject({ FunctionErrors: 1, TableThrottles: 100, StreamIteratorAge: 60_000, FunctionThrottles: DEFAULT_ALARM_THRESHOLDS.functionThrottles });
  });

  it('should take true for the summary dashboard', () => {
    const { template } = synthesizeCirrusStack({ monitoring: { dashboard: true } });
    const resources: Resources = template.toJSON().Resources;
    expect(dashboardBody(resources).widgets.map((w) => w.properties.title)).toContain('Message path errors');
    expect(metricCount(resources)).toBeLessThanOrEqual(50);
  });

  it('should leave the dashboard out when asked', () => {
    const { template } = synthesizeCirrusStack({ monitoring: { dashboard: false } });
    expect(Object.values(template.toJSON().Resources as Resources).filter((r) => r.Type === 'AWS::CloudWatch::Dashboard')).toHaveLength(0);
  });

  it('should leave the failure-signal alarms out when asked, even with an alarmTopic, keeping the dead-letter alarm', () => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Host');
    const im = new CirrusIm(stack, 'Im', { alarmTopic: new sns.Topic(stack, 'Alarms'), monitoring: { alarms: false } });
    expect(im.monitoring.alarms).toEqual([]);
    expect(im.deadLettersAlarm).toBeDefined();
  });
});

describe('When monitoring props are invalid', () => {
  it.each<[string, CirrusImProps, RegExp]>([
    ['a threshold of 0', { monitoring: { alarms: true, thresholds: { functionErrors: 0 } } }, /^monitoring\.thresholds\.functionErrors must be a positive number; got 0\./],
    ['a negative threshold', { monitoring: { alarms: true, thresholds: { queueAgeSeconds: -5 } } }, /^monitoring\.thresholds\.queueAgeSeconds must be a positive number/],
    ['a threshold that is not a number', { monitoring: { alarms: true, thresholds: { apiErrors: '5' as never } } }, /^monitoring\.thresholds\.apiErrors must be a positive number; got "5"\./],
    ['an unknown threshold', { monitoring: { alarms: true, thresholds: { lambdaErrors: 3 } as never } }, /^monitoring\.thresholds\.lambdaErrors is not a threshold Cirrus knows; the thresholds are functionErrors, /],
    ['evaluationPeriods of 0', { monitoring: { alarms: true, evaluationPeriods: 0 } }, /^monitoring\.evaluationPeriods must be a whole number of 5-minute periods between 1 and 288/],
    ['evaluationPeriods over a day', { monitoring: { alarms: true, evaluationPeriods: 289 } }, /^monitoring\.evaluationPeriods must be/],
    ['datapointsToAlarm above evaluationPeriods', { monitoring: { alarms: true, evaluationPeriods: 2, datapointsToAlarm: 3 } }, /^monitoring\.datapointsToAlarm must be a whole number between 1 and monitoring\.evaluationPeriods \(2\); got 3\./],
    ['a fractional datapointsToAlarm', { monitoring: { alarms: true, datapointsToAlarm: 1.5 } }, /^monitoring\.datapointsToAlarm must be/],
    ['thresholds while the alarms are off', { monitoring: { thresholds: { functionErrors: 3 } } }, /^monitoring\.thresholds only applies to the failure-signal alarms, which are off: give an alarmTopic or set monitoring\.alarms to true\./],
    ['evaluationPeriods while the alarms are off', { monitoring: { alarms: false, evaluationPeriods: 4 } }, /^monitoring\.evaluationPeriods only applies to the failure-signal alarms/],
    ['a dashboard that is neither a kind nor a flag', { monitoring: { dashboard: 'yes' as never } }, /^monitoring\.dashboard must be 'summary' \(the free dashboard of at most 50 metrics\), 'detailed' \(every resource, \$3 a month\) or false \(no dashboard\); got "yes"\./],
    ['an unknown dashboard kind', { monitoring: { dashboard: 'full' as never } }, /^monitoring\.dashboard must be 'summary' .*; got "full"\./],
    ['an alarms flag that is not a boolean', { monitoring: { alarms: 'on' as never } }, /^monitoring\.alarms must be true or false; got "on"\./],
  ])('should reject %s with a plain sentence', (_, props, message) => {
    const stack = new Stack(new App(), 'Host');
    expect(() => new CirrusIm(stack, 'Im', props)).toThrow(message);
  });
});
