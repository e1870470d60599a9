/**
 * What an operator watches: alarms on every failure signal the AWS services publish for a
 * Cirrus deployment, and one CloudWatch dashboard: by default a summary of the message path in
 * at most 50 metrics, which CloudWatch's free tier covers, or every resource ('detailed', $3 a
 * month). Both are built from the construct's resources, which come from the manifest, so a new
 * function, table, index, queue or stream consumer is watched without a change here.
 *
 * CloudWatch bills an alarm per metric it reads ($0.10 a month each at standard resolution,
 * math expressions included), so the alarms are grouped by signal class: one metric-math
 * alarm per class sums (or takes the largest of) the class's metrics, split only where
 * CloudWatch's limit of 10 metrics per alarm requires it. Fewer alarms page less, and cost
 * the same. docs/operations.md lists each alarm with its runbook and cost.
 */
import { Duration } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ResolvedMonitoring } from './cirrus-im-props';
import { METRICS_NAMESPACE, type CirrusMetric } from '../core/metrics';

/** CloudWatch's limit of metrics one alarm's math expression may read. */
export const MAX_METRICS_PER_ALARM = 10;

/** The functions a message passes through, in its order: the summary dashboard graphs these (those the manifest has). */
export const MESSAGE_PATH_FUNCTIONS = ['wsConnect', 'wsMessage', 'push', 'notify', 'archive'] as const;

/** The tables every message writes: the summary dashboard graphs their capacity and throttles. */
export const MESSAGE_PATH_TABLES = ['messages', 'conversations'] as const;

/** SQS, DynamoDB and most API Gateway metrics arrive every minute or five: one period for every alarm. */
const PERIOD = Duration.minutes(5);

export interface MonitoringProps {
  readonly settings: ResolvedMonitoring;
  /** Alarms made elsewhere (the dead-letter alarms), shown with these on the dashboard. */
  readonly otherAlarms?: readonly cloudwatch.IAlarm[];
  readonly alarmTopic?: sns.ITopic;
  /** Every function of the manifest, by its name in the manifest. */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  /** The functions that receive WebSocket frames (`wsMessage`): their invocations are the messages. */
  readonly messageFunction: lambda.IFunction;
  /** Functions reading a DynamoDB stream through an event source mapping, by their name in the manifest. */
  readonly streamConsumers: Readonly<Record<string, lambda.IFunction>>;
  /** Every table, with the names of its global secondary indexes. */
  readonly tables: Readonly<Record<string, { readonly table: dynamodb.ITable; readonly indexes: readonly string[] }>>;
  /** The work queues in use in this deployment (a feature's queue only when the feature is on). */
  readonly queues: Readonly<Record<string, sqs.IQueue>>;
  /** The dead-letter queues: the shared one first, then each work queue's. */
  readonly deadLetterQueues: Readonly<Record<string, sqs.IQueue>>;
  readonly webSocketApi: apigwv2.IWebSocketApi;
  readonly webSocketStageName: string;
  readonly httpApi: apigwv2.IHttpApi;
  readonly httpStageName: string;
  readonly cluster: rds.DatabaseCluster;
  /** The cluster's highest capacity, in ACU. */
  readonly auroraMaxCapacity: number;
  /** The `service` dimension of Cirrus's own metrics (core/metrics.ts). */
  readonly serviceName: string;
  /** Whether webhooks are on (their metrics are graphed only then). */
  readonly webhooks: boolean;
}

/** Splits a list into runs of at most `size`. */
function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export class Monitoring extends Construct {
  /** The alarms on failure signals (empty when `monitoring.alarms` is off). */
  public readonly alarms: cloudwatch.Alarm[] = [];
  /** Undefined when `monitoring.dashboard` is false. */
  public readonly dashboard?: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, private readonly props: MonitoringProps) {
    super(scope, id);
    if (props.settings.alarms) this.createAlarms();
    if (props.settings.dashboard === 'summary') this.dashboard = this.createSummaryDashboard();
    if (props.settings.dashboard === 'detailed') this.dashboard = this.createDetailedDashboard();
  }

  private createAlarms(): void {
    const { props } = this;
    const thresholds = props.settings.thresholds;
    const functions = Object.entries(props.functions);

    this.classAlarm('FunctionErrors', 'SUM', functions.map(([name, fn]) => [name, fn.metricErrors()]), thresholds.functionErrors,
      'unhandled errors or timeouts of its functions (docs/operations.md, "Function errors")');
    this.classAlarm('FunctionThrottles', 'SUM', functions.map(([name, fn]) => [name, fn.metricThrottles()]), thresholds.functionThrottles,
      'throttled invocations of its functions (docs/operations.md, "Function throttles")');

    const ws = this.webSocketMetrics();
    this.classAlarm('WebSocketApiErrors', 'SUM', [['IntegrationError', ws.integrationErrors], ['ExecutionError', ws.executionErrors]], thresholds.apiErrors,
      'frames or connects the WebSocket API could not hand to, or get an answer from, its functions (docs/operations.md, "API errors")');
    this.classAlarm('HttpApiErrors', 'SUM', [['5xx', this.httpMetric('5xx')]], thresholds.apiErrors,
      'HTTP API requests answered 5xx: a function failed, timed out or could not be invoked (docs/operations.md, "API errors")');

    this.classAlarm('StreamIteratorAge', 'MAX', Object.entries(props.streamConsumers).map(([name, fn]) => [name, this.iteratorAge(fn)]), thresholds.streamIteratorAgeSeconds * 1000,
      'stream records waiting too long to be read: the archive is behind or failing (docs/operations.md, "Stream iterator age")');

    const queues = Object.entries(props.queues);
    this.classAlarm('QueueAge', 'MAX', queues.map(([name, queue]) => [name, queue.metricApproximateAgeOfOldestMessage({ statistic: cloudwatch.Stats.MAXIMUM })]), thresholds.queueAgeSeconds,
      'a work queue whose oldest message is too old: its consumer is behind or failing (docs/operations.md, "Queue age")');

    this.classAlarm('TableThrottles', 'SUM', this.throttleMetrics(), thresholds.tableThrottles,
      'DynamoDB requests throttled on its tables or indexes (docs/operations.md, "Table throttles")');

    const capacity = this.auroraCapacity();
    this.addAlarm('AuroraCapacityAtMax', capacity, props.auroraMaxCapacity,
      `Cirrus: the Aurora history cluster has run at its maximum capacity (${props.auroraMaxCapacity} ACU) for the evaluation periods (docs/operations.md, "Aurora at maximum capacity").`);
  }

  /**
   * One alarm per run of at most 10 metrics of a signal class, on their sum or largest
   * value; a period in which a metric has no data counts it as 0.
   */
  private classAlarm(id: string, reduce: 'SUM' | 'MAX', metrics: [string, cloudwatch.IMetric][], threshold: number, what: string): void {
    const runs = chunks(metrics, MAX_METRICS_PER_ALARM);
    runs.forEach((run, i) => {
      const names = run.map(([name]) => name).join(', ');
      const metric =
        run.length === 1
          ? (run[0][1] as cloudwatch.Metric).with({ period: PERIOD })
          : new cloudwatch.MathExpression({
              expression: `${reduce}(FILL(METRICS(), 0))`,
              usingMetrics: Object.fromEntries(run.map(([, m], j) => [`m${j}`, m])),
              period: PERIOD,
              label: `${id} (${names})`,
            });
      const description = `Cirrus: ${what}. Watches ${names}.`;
      this.addAlarm(runs.length === 1 ? id : `${id}${i + 1}`, metric, threshold, description.slice(0, 1024));
    });
  }

  private addAlarm(id: string, metric: cloudwatch.IMetric, threshold: number, description: string): void {
    const { evaluationPeriods, datapointsToAlarm } = this.props.settings;
    const alarm = new cloudwatch.Alarm(this, id, {
      alarmDescription: description,
      metric,
      threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods,
      datapointsToAlarm,
      // No traffic is no failure: an idle deployment publishes nothing.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (this.props.alarmTopic) {
      const action = new cloudwatchActions.SnsAction(this.props.alarmTopic);
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }
    this.alarms.push(alarm);
  }

  private webSocketMetrics() {
    const metric = (metricName: string, statistic: string = cloudwatch.Stats.SUM) =>
      new cloudwatch.Metric({
        namespace: 'AWS/ApiGateway',
        metricName,
        dimensionsMap: { ApiId: this.props.webSocketApi.apiId, Stage: this.props.webSocketStageName },
        statistic,
        period: PERIOD,
      });
    return {
      messages: metric('MessageCount'),
      connects: metric('ConnectCount'),
      integrationErrors: metric('IntegrationError'),
      executionErrors: metric('ExecutionError'),
      clientErrors: metric('ClientError'),
    };
  }

  private httpMetric(metricName: 'Count' | '4xx' | '5xx'): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/ApiGateway',
      metricName,
      dimensionsMap: { ApiId: this.props.httpApi.apiId, Stage: this.props.httpStageName },
      statistic: cloudwatch.Stats.SUM,
      period: PERIOD,
    });
  }

  private iteratorAge(fn: lambda.IFunction): cloudwatch.Metric {
    return fn.metric('IteratorAge', { statistic: cloudwatch.Stats.MAXIMUM, period: PERIOD });
  }

  /** Read and write throttle events of every table and of every global secondary index. */
  private throttleMetrics(): [string, cloudwatch.IMetric][] {
    const out: [string, cloudwatch.IMetric][] = [];
    for (const [name, { table, indexes }] of Object.entries(this.props.tables)) {
      for (const metricName of ['ReadThrottleEvents', 'WriteThrottleEvents']) {
        const kind = metricName.startsWith('Read') ? 'reads' : 'writes';
        out.push([`${name} ${kind}`, table.metric(metricName, { statistic: cloudwatch.Stats.SUM, period: PERIOD })]);
        for (const index of indexes) {
          out.push([
            `${name}.${index} ${kind}`,
            table.metric(metricName, { statistic: cloudwatch.Stats.SUM, period: PERIOD, dimensionsMap: { TableName: table.tableName, GlobalSecondaryIndexName: index } }),
          ]);
        }
      }
    }
    return out;
  }

  private auroraCapacity(): cloudwatch.Metric {
    // The average over a period at the maximum means the whole period was at the maximum.
    return this.props.cluster.metricServerlessDatabaseCapacity({ statistic: cloudwatch.Stats.AVERAGE, period: PERIOD });
  }

  /** A dashboard with its heading and the state of every alarm. */
  private newDashboard(heading: string): cloudwatch.Dashboard {
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
      periodOverride: cloudwatch.PeriodOverride.AUTO,
    });
    dashboard.addWidgets(new cloudwatch.TextWidget({ markdown: heading, width: 24, height: 2 }));
    // The alarm status widget shows each alarm's state; it graphs none of their metrics.
    const alarms = [...(this.props.otherAlarms ?? []), ...this.alarms];
    if (alarms.length > 0) dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms, width: 24, height: 3 }));
    return dashboard;
  }

  private graph(title: string, left: cloudwatch.IMetric[], options: Partial<cloudwatch.GraphWidgetProps> = {}): cloudwatch.GraphWidget {
    return new cloudwatch.GraphWidget({ title, left, width: 8, height: 6, period: PERIOD, ...options });
  }

  /** The messages waiting in every dead-letter queue, and the age of the oldest message of each work queue in use. */
  private deadLettersGraph(): cloudwatch.GraphWidget {
    const { props } = this;
    return this.graph(
      'Dead letters and queue age',
      Object.entries(props.deadLetterQueues).map(([name, queue]) =>
        queue.metricApproximateNumberOfMessagesVisible({ statistic: cloudwatch.Stats.MAXIMUM, period: PERIOD, label: `${name} waiting` }),
      ),
      {
        right: Object.entries(props.queues).map(([name, queue]) =>
          queue.metricApproximateAgeOfOldestMessage({ statistic: cloudwatch.Stats.MAXIMUM, period: PERIOD, label: `${name} oldest (s)` }),
        ),
      },
    );
  }

  private streamGraph(): cloudwatch.GraphWidget {
    return this.graph('Stream iterator age (ms)', Object.entries(this.props.streamConsumers).map(([name, fn]) => this.iteratorAge(fn).with({ label: name })));
  }

  /** One of Cirrus's own metrics (EMF, core/metrics.ts): its sum over the period, by service. */
  private cirrusMetric(metricName: CirrusMetric, label: string): cloudwatch.Metric {
    return new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap: { service: this.props.serviceName }, statistic: cloudwatch.Stats.SUM, period: PERIOD, label });
  }

  /** What went wrong on the way to clients, at a glance: refused messages, pushes to gone or throttled connections, failed notifications. */
  private refusalsGraph(): cloudwatch.GraphWidget {
    return this.graph('Refused messages and failed deliveries', [
      this.cirrusMetric('MessagesRefused', 'messages refused'),
      this.cirrusMetric('PushesGone', 'pushes to gone connections (410)'),
      this.cirrusMetric('PushesThrottled', 'pushes throttled (429)'),
      this.cirrusMetric('NotificationsFailed', 'offline notifications failed'),
    ]);
  }

  /** Every refusal and failure on the way to clients, and the kicks. */
  private deliveryFailuresGraph(): cloudwatch.GraphWidget {
    return this.graph('Refused messages, failed pushes and kicks', [
      this.cirrusMetric('MessagesRefused', 'messages refused'),
      this.cirrusMetric('PushesGone', 'pushes to gone connections (410)'),
      this.cirrusMetric('PushesThrottled', 'pushes throttled (429)'),
      this.cirrusMetric('PushesFailed', 'pushes failed'),
      this.cirrusMetric('PushesTooLarge', 'pushes over 128 KB'),
      this.cirrusMetric('Kicks', 'connections kicked'),
    ]);
  }

  /** Offline notifications and webhook callbacks, one by one. */
  private deliveriesGraph(): cloudwatch.GraphWidget {
    return this.graph('Offline notifications and webhook callbacks', [
      this.cirrusMetric('NotificationsSent', 'notifications sent'),
      this.cirrusMetric('NotificationsFailed', 'notifications failed'),
      this.cirrusMetric('NotificationsPruned', 'invalid tokens pruned'),
      this.cirrusMetric('NotificationsRetried', 'notifications retried'),
      ...(this.props.webhooks
        ? [
            this.cirrusMetric('WebhookCallbacksDelivered', 'callbacks delivered'),
            this.cirrusMetric('WebhookCallbacksFailed', 'callbacks failed'),
            this.cirrusMetric('WebhookBeforeFailed', 'before-callbacks failed'),
          ]
        : []),
    ]);
  }

  private auroraGraph(): cloudwatch.GraphWidget {
    return this.graph('Aurora capacity (ACU)', [this.auroraCapacity().with({ label: 'capacity (ACU)' })], {
      leftAnnotations: [{ value: this.props.auroraMaxCapacity, label: 'maximum' }],
    });
  }

  /**
   * What an operator needs at a glance, within CloudWatch's free tier (at most 50 metrics):
   * the functions of the message path, API Gateway's messages and errors, the tables every
   * message writes, the stream iterator age, the dead letters and Aurora's capacity.
   */
  private createSummaryDashboard(): cloudwatch.Dashboard {
    const { props } = this;
    const functions = MESSAGE_PATH_FUNCTIONS.filter((name) => props.functions[name] !== undefined).map((name) => [name, props.functions[name]] as const);
    const perFunction = (make: (fn: lambda.IFunction) => cloudwatch.Metric) => functions.map(([name, fn]) => make(fn).with({ label: name }));
    const tables = MESSAGE_PATH_TABLES.filter((name) => props.tables[name] !== undefined).map((name) => [name, props.tables[name].table] as const);
    const ws = this.webSocketMetrics();

    const dashboard = this.newDashboard(
      `# Cirrus\nThe message path of this deployment (${functions.map(([name]) => name).join(', ')}), its tables, stream, dead letters, Aurora, and what went wrong on the way to clients (Cirrus's own metrics). ` +
        "`monitoring.dashboard: 'detailed'` graphs every function, table and index. The runbook for each alarm is in docs/operations.md.",
    );
    dashboard.addWidgets(
      this.graph('Message path invocations', perFunction((fn) => fn.metricInvocations({ period: PERIOD }))),
      this.graph('Message path errors', perFunction((fn) => fn.metricErrors({ period: PERIOD }))),
      this.graph('Message path throttles', perFunction((fn) => fn.metricThrottles({ period: PERIOD }))),
    );
    dashboard.addWidgets(
      this.graph('Message path duration p99 (ms)', perFunction((fn) => fn.metricDuration({ statistic: cloudwatch.Stats.p(99), period: PERIOD }))),
      this.graph('API Gateway messages and errors', [
        ws.messages.with({ label: 'WebSocket messages' }),
        ws.integrationErrors.with({ label: 'WebSocket integration errors' }),
        ws.executionErrors.with({ label: 'WebSocket execution errors' }),
        this.httpMetric('5xx').with({ label: 'HTTP 5xx' }),
      ]),
      this.graph(`${tables.map(([name]) => name).join(' and ')}: consumed units`, [
        ...tables.map(([name, table]) => table.metricConsumedReadCapacityUnits({ label: `${name} reads`, period: PERIOD })),
        ...tables.map(([name, table]) => table.metricConsumedWriteCapacityUnits({ label: `${name} writes`, period: PERIOD })),
      ]),
    );
    dashboard.addWidgets(
      this.graph(
        `${tables.map(([name]) => name).join(' and ')}: throttle events`,
        ['ReadThrottleEvents', 'WriteThrottleEvents'].flatMap((metricName) =>
          tables.map(([name, table]) => table.metric(metricName, { statistic: cloudwatch.Stats.SUM, period: PERIOD, label: `${name} ${metricName.startsWith('Read') ? 'reads' : 'writes'}` })),
        ),
      ),
      this.streamGraph(),
      this.deadLettersGraph(),
    );
    dashboard.addWidgets(this.auroraGraph(), this.refusalsGraph());
    return dashboard;
  }

  /** Every function, table, index, stream consumer and queue of the deployment: beyond the free tier's 50 metrics. */
  private createDetailedDashboard(): cloudwatch.Dashboard {
    const { props } = this;
    const functions = Object.entries(props.functions);
    const ws = this.webSocketMetrics();
    const graph = this.graph.bind(this);
    const perFunction = (make: (fn: lambda.IFunction) => cloudwatch.Metric) => functions.map(([name, fn]) => make(fn).with({ label: name }));
    const tables = Object.entries(props.tables);

    const dashboard = this.newDashboard('# Cirrus\nMessages, failures and capacity of this deployment. The runbook for each alarm is in docs/operations.md.');
    dashboard.addWidgets(
      graph('Messages (frames received, send invocations)', [
        ws.messages.with({ label: 'WebSocket messages' }),
        props.messageFunction.metricInvocations({ label: 'wsMessage invocations', period: PERIOD }),
      ]),
      graph('Connects and HTTP requests', [ws.connects.with({ label: 'WebSocket connects' }), this.httpMetric('Count').with({ label: 'HTTP requests' })]),
      graph('API errors', [
        ws.integrationErrors.with({ label: 'WebSocket integration errors' }),
        ws.executionErrors.with({ label: 'WebSocket execution errors' }),
        ws.clientErrors.with({ label: 'WebSocket client errors' }),
        this.httpMetric('5xx').with({ label: 'HTTP 5xx' }),
        this.httpMetric('4xx').with({ label: 'HTTP 4xx' }),
      ]),
    );
    dashboard.addWidgets(
      graph('Function errors', perFunction((fn) => fn.metricErrors({ period: PERIOD }))),
      graph('Function throttles', perFunction((fn) => fn.metricThrottles({ period: PERIOD }))),
      graph('Function duration p99 (ms)', perFunction((fn) => fn.metricDuration({ statistic: cloudwatch.Stats.p(99), period: PERIOD }))),
    );
    dashboard.addWidgets(
      graph('DynamoDB consumed read units', tables.map(([name, { table }]) => table.metricConsumedReadCapacityUnits({ label: name, period: PERIOD }))),
      graph('DynamoDB consumed write units', tables.map(([name, { table }]) => table.metricConsumedWriteCapacityUnits({ label: name, period: PERIOD }))),
      graph('DynamoDB throttle events', this.throttleMetrics().map(([name, metric]) => (metric as cloudwatch.Metric).with({ label: name }))),
    );
    dashboard.addWidgets(this.streamGraph(), this.deadLettersGraph(), this.auroraGraph());
    dashboard.addWidgets(this.deliveryFailuresGraph(), this.deliveriesGraph());
    return dashboard;
  }
}
