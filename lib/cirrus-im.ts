/**
 * The whole Cirrus backend as one construct, built by walking the manifest
 * (core/manifest.ts): every table, queue, function and route it lists exists here, and
 * nothing else does.
 */
import { fileURLToPath } from 'node:url';
import { ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration, WebSocketLambdaIntegration, WebSocketMockIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventsTargets from 'aws-cdk-lib/aws-events-targets';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { Construct } from 'constructs';
import { httpRoutes } from '../core/http/routes';
import { functionPolicy, type PolicyResource } from '../core/iam';
import {
  commonEnv,
  compiledSettings as compiledSettingNames,
  deadLetters as deadLettersSpec,
  streamConsumers as streamConsumerSpecs,
  functions as functionSpecs,
  httpFunctionOf,
  httpFunctions,
  queues as queueSpecs,
  tables as tableSpecs,
  wsAuthorizer,
  wsRoutes,
  type FunctionKey,
  type FunctionSpec,
  type IndexSpec,
  type KeySpec,
  type QueueKey,
  type QueueSpec,
  type StreamConsumerKey,
  type StreamConsumerSpec,
  type TableKey,
} from '../core/manifest';
import { ApiGatewayLogRole } from './api-gateway-log-role';
import { checkStackName, resolveCirrusImProps, type CirrusImProps, type ResolvedCirrusImProps } from './cirrus-im-props';
import { HandlerFunction } from './handler-function';
import { HistoryDatabase } from './history-database';
import { MediaBucket } from './media-bucket';
import { Monitoring } from './monitoring';
import { assertConsumerVisibilityTimeouts } from './manifest-checks';
import { acknowledgeNagFindings } from './nag-suppressions';
import { SchemaMigrations } from './schema-migrations';
import { SecureParameters } from './secure-parameters';
import { WorkQueue } from './work-queue';
import { webhookEnv } from '../core/webhooks/settings';
import type { MockReplySpec } from '../core/protocol/heartbeat';
import { secretParameterOf } from '../core/offline-push/settings';

export type {
  AlarmThresholdsProps,
  ApnsProps,
  AuroraCapacityProps,
  CirrusImProps,
  DashboardKind,
  FcmProps,
  LoginPolicy,
  LogLevel,
  MediaProps,
  MonitoringProps,
  OfflinePushProps,
  ThrottleProps,
  WebhookCallbackProps,
  WebhooksProps,
  WebPushProps,
} from './cirrus-im-props';

/** The CloudFormation outputs of a {@link CirrusIm}. */
export interface CirrusImOutputs {
  readonly webSocketUrl: CfnOutput;
  readonly httpApiUrl: CfnOutput;
  /** The name of the SecureString parameter holding the admin secret. */
  readonly adminSecretParameter: CfnOutput;
  /** The name of the SecureString parameter holding the webhook signing secret (webhooks on, created by the construct). */
  readonly webhookSecretParameter?: CfnOutput;
}

/** The repository root: `functions/` and `package-lock.json` live there. */
const projectRoot = fileURLToPath(new URL('..', import.meta.url));

/** `Object.entries` keeping the manifest's key type. */
const entriesOf = <K extends string, V>(record: Partial<Record<K, V>>) => Object.entries(record) as [K, V][];

/** The manifest's projection of an index as the CDK takes it. */
function projectionOf(index: IndexSpec): { projectionType: dynamodb.ProjectionType; nonKeyAttributes?: string[] } {
  const projection = index.projection ?? 'ALL';
  if (projection === 'ALL') return { projectionType: dynamodb.ProjectionType.ALL };
  if (projection === 'KEYS_ONLY') return { projectionType: dynamodb.ProjectionType.KEYS_ONLY };
  return { projectionType: dynamodb.ProjectionType.INCLUDE, nonKeyAttributes: [...projection.include] };
}

const attributeType = (key: KeySpec) => (key.type === 'N' ? dynamodb.AttributeType.NUMBER : dynamodb.AttributeType.STRING);

/**
 * A serverless instant-messaging backend: a WebSocket API for apps, an HTTP API for app
 * backends and administrators, SQS-driven delivery and push, DynamoDB for everything on
 * the message path, and an Aurora Serverless v2 history that may pause when idle.
 *
 * The AwsSolutions cdk-nag findings that do not apply are acknowledged on the resources
 * this construct creates, with their reasons, so an embedding app that runs cdk-nag sees
 * only its own findings.
 *
 * @example
 * import { App, Stack, RemovalPolicy } from 'aws-cdk-lib';
 * import * as sns from 'aws-cdk-lib/aws-sns';
 * import { CirrusIm } from './lib/cirrus-im';
 *
 * const app = new App();
 * const stack = new Stack(app, 'Chat');
 * const im = new CirrusIm(stack, 'Im', {
 *   messageRetentionDays: 30,
 *   aurora: { maxCapacity: 4 },
 *   removalPolicy: RemovalPolicy.DESTROY,
 *   alarmTopic: new sns.Topic(stack, 'Alarms'),
 * });
 * // The app backend (here a function of the same stack) calls the HTTP API as admin.
 * im.adminSecret.grantRead(appBackendFunction); // ssm:GetParameter on the SecureString parameter
 * appBackendFunction.addEnvironment('CIRRUS_HTTP_API', im.httpApiUrl);
 */
export class CirrusIm extends Construct {
  /** The manifest's tables, by manifest key. */
  public readonly tables: Record<TableKey, dynamodb.Table>;
  /** The manifest's queues, by manifest key. */
  public readonly queues: Record<QueueKey, sqs.Queue>;
  /** Each queue's dead-letter queue, by the manifest key of its queue. */
  public readonly deadLetterQueues: Record<QueueKey, sqs.Queue>;
  /**
   * The shared dead-letter queue (`deadLetters` in the manifest): the on-failure destination
   * of asynchronous invocations and of every stream event source, and where consumers put
   * records they give up on.
   */
  public readonly deadLetters: sqs.Queue;
  /** Its alarm: fires on the first message. */
  public readonly deadLettersAlarm: cloudwatch.Alarm;
  /** The stream event source mappings, by manifest key. */
  public readonly streamEventSources: Record<StreamConsumerKey, DynamoEventSource>;
  /** The manifest's functions, by manifest key. */
  public readonly functions: Record<FunctionKey, NodejsFunction>;
  public readonly webSocketApi: apigwv2.WebSocketApi;
  public readonly webSocketStage: apigwv2.WebSocketStage;
  public readonly httpApi: apigwv2.HttpApi;
  /** The HTTP API's `$default` stage, with access logging and throttling. */
  public readonly httpStage: apigwv2.HttpStage;
  /** The Aurora PostgreSQL history cluster (Data API enabled). */
  public readonly cluster: rds.DatabaseCluster;
  /** The private media bucket; objects live under `media/` and are reached through presigned URLs. */
  public readonly mediaBucket: s3.Bucket;
  /**
   * The key that signs user and admin tokens: an SSM SecureString parameter (64 characters,
   * standard tier, AWS managed key `aws/ssm`) created by the construct.
   */
  public readonly signingSecret: ssm.IStringParameter;
  /**
   * The deployment's admin secret, exchanged for admin tokens at `POST /auth/admin-token`: a
   * SecureString parameter (read it with `aws ssm get-parameter --with-decryption`).
   */
  public readonly adminSecret: ssm.IStringParameter;
  /**
   * The SecureString parameter signing webhook callbacks (`webhooks.signingParameter`, or one
   * the construct created); undefined when webhooks are off. Share its value with the app backend.
   */
  public readonly webhookSigningSecret?: ssm.IStringParameter;
  /** The custom resource creating the secrets' parameters. */
  public readonly secureParameters: SecureParameters;
  /** `wss://` URL that clients connect to. */
  public readonly webSocketUrl: string;
  /** `https://` base URL of the HTTP API. */
  public readonly httpApiUrl: string;
  /**
   * The `service` of the functions' logs and metrics: the stack's name (compiled into the bundles),
   * or `cirrus` when the name is only known at deploy.
   */
  public get serviceName(): string {
    const stackName = Stack.of(this).stackName;
    return Token.isUnresolved(stackName) ? 'cirrus' : stackName;
  }
  /** The dashboard and the failure-signal alarms (`monitoring`). */
  public readonly monitoring: Monitoring;
  /** The stack outputs, keyed `<construct id>WebSocketUrl`, `…HttpApiUrl`, `…AdminSecretParameter`. */
  public readonly outputs: CirrusImOutputs;

  private readonly config: ResolvedCirrusImProps;
  private readonly database: HistoryDatabase;
  private readonly media: MediaBucket;

  constructor(scope: Construct, id: string, props: CirrusImProps = {}) {
    super(scope, id);
    // Reject a bad configuration before creating anything (and before bundling).
    this.config = resolveCirrusImProps(props);
    checkStackName(Stack.of(this).stackName);
    assertConsumerVisibilityTimeouts(queueSpecs, functionSpecs);
    const config = this.config;

    // SecureString parameters rather than Secrets Manager secrets: the standard tier has no
    // monthly fee. The values are generated inside the custom resource's function.
    const createsWebhookSecret = config.webhooks !== undefined && config.webhooks.signingParameter === undefined;
    this.secureParameters = new SecureParameters(this, 'Secrets', {
      projectRoot,
      logRetention: config.logRetention,
      removalPolicy: config.removalPolicy,
      parameters: {
        signingKey: { name: 'signing-key', description: 'Cirrus: key that signs user and admin tokens', bytes: 48 },
        adminSecret: { name: 'admin-secret', description: 'Cirrus: admin secret, exchanged for admin tokens at POST /auth/admin-token', bytes: 24 },
        ...(createsWebhookSecret
          ? { webhookSecret: { name: 'webhook-secret', description: 'Cirrus: key that signs webhook callbacks to the app backend (HMAC-SHA256)', bytes: 48 } }
          : {}),
      },
    });
    this.signingSecret = this.secureParameters.parameters.signingKey;
    this.adminSecret = this.secureParameters.parameters.adminSecret;
    if (config.webhooks) this.webhookSigningSecret = config.webhooks.signingParameter ?? this.secureParameters.parameters.webhookSecret;

    this.tables = this.createTables();

    this.media = new MediaBucket(this, 'Media', {
      expirationDays: config.media.expirationDays,
      corsAllowedOrigins: config.media.corsAllowedOrigins,
      removalPolicy: config.removalPolicy,
    });
    this.mediaBucket = this.media.bucket;

    const queueConstructs = this.createQueues();
    this.queues = mapValues(queueConstructs, (q) => q.queue);
    this.deadLetterQueues = mapValues(queueConstructs, (q) => q.deadLetterQueue);
    this.deadLetters = new sqs.Queue(this, deadLettersSpec.name, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(deadLettersSpec.retentionDays),
    });
    this.deadLettersAlarm = new cloudwatch.Alarm(this, `${deadLettersSpec.name}Alarm`, {
      alarmDescription: `Cirrus: something was given up on and waits in the ${deadLettersSpec.name} queue (docs/operations.md, "Dead letters").`,
      // SQS publishes queue metrics every five minutes; a shorter period only sees gaps.
      metric: this.deadLetters.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: cloudwatch.Stats.MAXIMUM }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (config.alarmTopic) this.deadLettersAlarm.addAlarmAction(new cloudwatchActions.SnsAction(config.alarmTopic));

    this.database = new HistoryDatabase(this, 'History', {
      ...config.aurora,
      removalPolicy: config.removalPolicy,
      deletionProtection: config.deletionProtection,
      logRetention: config.logRetention,
    });
    this.cluster = this.database.cluster;

    // The API and its stage come before the functions: the pushing functions need the
    // stage's callback URL; the routes, which need the functions, are added afterwards.
    this.webSocketApi = new apigwv2.WebSocketApi(this, 'WebSocketApi', {
      description: 'Cirrus WebSocket API: clients connect with ?token=<user token> and send {"action": ...} frames',
      routeSelectionExpression: '$request.body.action',
    });
    this.webSocketStage = new apigwv2.WebSocketStage(this, 'WebSocketStage', {
      webSocketApi: this.webSocketApi,
      stageName: config.stageName,
      autoDeploy: true,
      throttle: config.throttle,
      // One access-log line per inbound frame (~130 bytes, billed by CloudWatch Logs), so only
      // when asked for: the functions log every failure with the request's correlation id.
      ...(config.webSocketAccessLogs ? { accessLogSettings: { destination: new apigwv2.LogGroupLogDestination(this.logGroup('WebSocketAccessLogs')) } } : {}),
    });
    // Only the WebSocket access log needs the account's logging role (HTTP API access logs do not).
    const apiGatewayLogRole = config.webSocketAccessLogs && config.configureApiGatewayLogRole ? new ApiGatewayLogRole(this, 'ApiGatewayLogRole') : undefined;
    if (apiGatewayLogRole) this.webSocketStage.node.addDependency(apiGatewayLogRole.account);

    const functionScope = new Construct(this, 'Functions');
    const handlers = mapValues(functionSpecs, (spec: FunctionSpec) =>
      new HandlerFunction(functionScope, spec.name, {
        spec,
        projectRoot,
        ...splitCompiledSettings(this.environmentFor(spec)),
        logRetention: config.logRetention,
        removalPolicy: config.removalPolicy,
        logLevel: config.logLevel,
        tracing: config.tracing,
        serviceName: this.serviceName,
      }),
    );
    this.functions = mapValues(handlers, (h) => h.function);
    for (const key of Object.keys(functionSpecs) as FunctionKey[]) {
      this.grant(key, handlers[key]);
      // A function that reads a secret exists only once its parameter does (first deploy).
      if (functionSpecs[key].secrets.length) handlers[key].function.node.addDependency(this.secureParameters.resource);
    }
    this.configureAsyncInvocations();
    this.configureSchedules();
    this.connectConsumers();
    this.streamEventSources = this.connectStreamConsumers();

    const wsRouteConstructs = this.addWebSocketRoutes();
    const httpRouteConstructs = this.createHttpApi();
    this.httpApi = httpRouteConstructs.api;
    this.httpStage = httpRouteConstructs.stage;

    const migrations = new SchemaMigrations(this, 'SchemaMigrations', {
      migrateFunction: this.functions.migrate,
      cluster: this.cluster,
      logRetention: config.logRetention,
      removalPolicy: config.removalPolicy,
    });

    this.webSocketUrl = this.webSocketStage.url;
    this.httpApiUrl = this.httpStage.url;
    this.outputs = this.createOutputs();
    this.monitoring = this.createMonitoring();

    acknowledgeNagFindings({
      removalPolicy: config.removalPolicy,
      deletionProtection: config.deletionProtection,
      webSocketRoutesAfterConnect: wsRouteConstructs.filter((route) => route.routeKey !== '$connect'),
      httpRoutes: httpRouteConstructs.routes,
      webSocketStageWithoutAccessLogs: config.webSocketAccessLogs ? undefined : this.webSocketStage,
      connectionsArn: this.connectionsArn(),
      pushingFunctions: entriesOf<FunctionKey, FunctionSpec>(functionSpecs)
        .filter(([, spec]) => spec.postsToConnections)
        .map(([key]) => handlers[key]),
      secureParameters: this.secureParameters,
      cluster: this.cluster,
      clusterCredentials: this.database.credentials,
      apiGatewayLogRole,
      migrations,
      media: this.media,
      exportFunctions: entriesOf<FunctionKey, FunctionSpec>(functionSpecs)
        .filter(([, spec]) => spec.exports)
        .map(([key]) => handlers[key]),
      mediaFunctions: entriesOf<FunctionKey, FunctionSpec>(functionSpecs)
        .filter(([, spec]) => spec.media || spec.userMedia === 'delete')
        .map(([key]) => handlers[key]),
      deadLetters: this.deadLetters,
      streamConsumers: [...new Set(Object.values(streamConsumerSpecs).map((s) => s.consumer as FunctionKey))].map((key) => handlers[key]),
      tracedFunctions: config.tracing ? Object.values(handlers) : [],
    });
  }

  /** Built from the manifest's resources: a new function, table, index, queue or stream consumer is watched too. */
  private createMonitoring(): Monitoring {
    const config = this.config;
    const activeQueues = entriesOf<QueueKey, QueueSpec>(queueSpecs).filter(([, spec]) => spec.onlyWith !== 'webhooks' || config.webhooks !== undefined);
    const consumers = [...new Set(Object.values(streamConsumerSpecs).map((spec) => spec.consumer as FunctionKey))];
    return new Monitoring(this, 'Monitoring', {
      settings: config.monitoring,
      alarmTopic: config.alarmTopic,
      otherAlarms: this.node.findAll().filter((c): c is cloudwatch.Alarm => c instanceof cloudwatch.Alarm),
      functions: this.functions,
      messageFunction: this.functions.wsMessage,
      streamConsumers: Object.fromEntries(consumers.map((key) => [key, this.functions[key]])),
      tables: mapValues(tableSpecs, (spec, key) => ({ table: this.tables[key], indexes: ('indexes' in spec ? (spec.indexes as readonly IndexSpec[]) : []).map((index) => index.name) })),
      queues: Object.fromEntries(activeQueues.map(([key]) => [key, this.queues[key]])),
      deadLetterQueues: { [deadLettersSpec.name]: this.deadLetters, ...Object.fromEntries(activeQueues.map(([key, spec]) => [`${spec.name}DeadLetters`, this.deadLetterQueues[key]])) },
      webSocketApi: this.webSocketApi,
      webSocketStageName: config.stageName,
      httpApi: this.httpApi,
      httpStageName: '$default',
      cluster: this.cluster,
      auroraMaxCapacity: config.aurora.maxCapacity,
      serviceName: this.serviceName,
      webhooks: config.webhooks !== undefined,
    });
  }

  private createTables(): Record<TableKey, dynamodb.Table> {
    const scope = new Construct(this, 'Tables');
    return mapValues(tableSpecs, (spec) => {
      const table = new dynamodb.Table(scope, spec.name, {
        partitionKey: { name: spec.partitionKey.name, type: attributeType(spec.partitionKey) },
        sortKey: 'sortKey' in spec ? { name: spec.sortKey.name, type: attributeType(spec.sortKey) } : undefined,
        timeToLiveAttribute: 'ttlAttribute' in spec ? spec.ttlAttribute : undefined,
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: dynamodb.TableEncryption.AWS_MANAGED,
        removalPolicy: this.config.removalPolicy,
        // Off unless asked for: a protected table cannot be deleted by the rollback of a failed create.
        deletionProtection: this.config.deletionProtection,
        stream: 'stream' in spec ? dynamodb.StreamViewType[spec.stream] : undefined,
      });
      for (const index of ('indexes' in spec ? spec.indexes : []) as readonly IndexSpec[]) {
        table.addGlobalSecondaryIndex({
          indexName: index.name,
          partitionKey: { name: index.partitionKey.name, type: attributeType(index.partitionKey) },
          sortKey: index.sortKey ? { name: index.sortKey.name, type: attributeType(index.sortKey) } : undefined,
          ...projectionOf(index),
        });
      }
      return table;
    });
  }

  private createQueues(): Record<QueueKey, WorkQueue> {
    const scope = new Construct(this, 'Queues');
    return mapValues(
      queueSpecs,
      (spec: QueueSpec) =>
        new WorkQueue(scope, spec.name, {
          spec,
          alarmTopic: this.config.alarmTopic,
          // The webhook queue is only sent to when webhooks are configured; idle, its alarm would only cost.
          alarm: spec.onlyWith !== 'webhooks' || this.config.webhooks !== undefined,
        }),
    );
  }

  /**
   * Functions invoked asynchronously: Lambda's retries and event age from the manifest, the
   * shared dead-letter queue as on-failure destination (which grants the function's role the
   * send), and their names to the functions that invoke them. A function invoking itself
   * finds its own name in AWS_LAMBDA_FUNCTION_NAME (its variable would reference itself).
   */
  private configureAsyncInvocations(): void {
    for (const [key, spec] of entriesOf<FunctionKey, FunctionSpec>(functionSpecs)) {
      if (spec.asyncInvoke) {
        this.functions[key].configureAsyncInvoke({
          retryAttempts: spec.asyncInvoke.retryAttempts,
          maxEventAge: Duration.seconds(spec.asyncInvoke.maxEventAgeSeconds),
          onFailure: new SqsDestination(this.deadLetters),
        });
      }
      for (const target of spec.invokes ?? []) {
        if (target !== key) this.functions[key].addEnvironment(functionSpecs[target].asyncInvoke!.envVar, this.functions[target].functionName);
      }
    }
  }

  /**
   * Functions run on a schedule (`schedule` in the manifest): an EventBridge rule each, created
   * disabled when the deployment does not need the run (retention without historyRetentionDays
   * or groupRetention), so an idle deployment does not resume Aurora for nothing. A failed run
   * is retried twice by EventBridge, then its event goes to the shared dead-letter queue.
   */
  private configureSchedules(): void {
    for (const [key, spec] of entriesOf<FunctionKey, FunctionSpec>(functionSpecs)) {
      if (!spec.schedule) continue;
      new events.Rule(this, `${spec.name}Schedule`, {
        description: spec.schedule.description,
        schedule: events.Schedule.expression(spec.schedule.rate),
        enabled: key !== 'retention' || this.config.retentionSchedule,
        targets: [new eventsTargets.LambdaFunction(this.functions[key], { retryAttempts: 2, maxEventAge: Duration.hours(6), deadLetterQueue: this.deadLetters })],
      });
    }
  }

  /** A log group of this construct, with its retention and removal policy. */
  private logGroup(id: string): logs.LogGroup {
    return new logs.LogGroup(this, id, { retention: this.config.logRetention, removalPolicy: this.config.removalPolicy });
  }

  /** Exactly the variables the spec's resources call for, named by the manifest. */
  private environmentFor(spec: FunctionSpec): Record<string, string> {
    const config = this.config;
    const env: Record<string, string> = {
      [commonEnv.MESSAGE_TTL_DAYS]: String(config.messageRetentionDays),
      [commonEnv.SEQ_SETTLE_MS]: String(config.seqSettleSeconds * 1000),
      [commonEnv.INLINE_PUSH_MAX]: String(config.inlinePushMax),
      [commonEnv.ONLINE_INDEX_MIN_MEMBERS]: String(config.onlineIndexMinMembers),
      [commonEnv.REQUIRE_FRIENDSHIP]: String(config.requireFriendship),
      [commonEnv.REVOKE_WINDOW_SECONDS]: String(config.revokeWindowSeconds),
      [commonEnv.MULTI_LOGIN_POLICY]: config.multiLoginPolicy,
      [commonEnv.LOG_LEVEL]: config.logLevel,
    };
    for (const [key] of entriesOf(spec.tables)) env[tableSpecs[key].envVar] = this.tables[key].tableName;
    for (const key of spec.sendsTo) env[queueSpecs[key].envVar] = this.queues[key].queueUrl;
    for (const key of spec.redrives ?? []) env[(queueSpecs[key] as QueueSpec).deadLetterEnvVar!] = this.deadLetterQueues[key].queueUrl;
    if (spec.sendsToDeadLetters) env[deadLettersSpec.envVar] = this.deadLetters.queueUrl;
    if (spec.secrets.includes('signingKey')) env[commonEnv.SIGNING_SECRET_ID] = this.signingSecret.parameterName;
    if (spec.secrets.includes('adminSecret')) env[commonEnv.ADMIN_SECRET_ID] = this.adminSecret.parameterName;
    if (spec.postsToConnections) env[commonEnv.CONNECTIONS_ENDPOINT] = this.webSocketStage.callbackUrl;
    // Webhooks off: no WEBHOOK_* variable, so no function makes or queues a callback.
    if (config.webhooks && spec.webhooks) Object.assign(env, webhookEnv(config.webhooks));
    if (this.webhookSigningSecret && spec.secrets.includes('webhookSecret')) env[commonEnv.WEBHOOK_SECRET_ID] = this.webhookSigningSecret.parameterName;
    if (spec.history) {
      env[commonEnv.DB_CLUSTER_ARN] = this.cluster.clusterArn;
      env[commonEnv.DB_SECRET_ARN] = this.cluster.secret!.secretArn;
      env[commonEnv.DB_NAME] = HistoryDatabase.databaseName;
      if (config.historyRetentionDays !== undefined) env[commonEnv.HISTORY_RETENTION_DAYS] = String(config.historyRetentionDays);
    }
    // Offline push off: no PUSH_SETTINGS, so no device can be registered and nothing is sent.
    if (config.offlinePush && (spec.pushSettings || spec.pushCredentials)) env[commonEnv.PUSH_SETTINGS] = JSON.stringify(config.offlinePush.settings);
    // Compiled into the bundle (see compiledSettings); `off` when the deployment has no limits.
    if (spec.limits) env[commonEnv.LIMITS] = config.limits ? JSON.stringify(config.limits) : 'off';
    // The device cap: for the functions that register devices (and show the cap), offline push on or off.
    if (spec.pushSettings) env[commonEnv.PUSH_MAX_DEVICES] = String(config.pushMaxDevices);
    if (spec.exports || spec.userMedia) env[commonEnv.MEDIA_BUCKET] = this.mediaBucket.bucketName;
    if (spec.media) {
      env[commonEnv.MEDIA_BUCKET] = this.mediaBucket.bucketName;
      env[commonEnv.MEDIA_MAX_BYTES] = String(config.media.maxUploadBytes);
      env[commonEnv.MEDIA_ALLOWED_TYPES] = config.media.allowedContentTypes.join(',');
    }
    return env;
  }

  /**
   * Least privilege: the role gets exactly the statements `functionPolicy` derives from the
   * manifest (core/iam.ts), the same ones the local runtime enforces. Writing to its log
   * group comes with the function, consuming its queue with the event source.
   */
  private grant(key: FunctionKey, handler: HandlerFunction): void {
    for (const statement of functionPolicy(key, { webhooks: this.webhookSigningSecret !== undefined, offlinePush: this.config.offlinePush?.settings })) {
      if (statement.grantedBy !== 'manifest') continue;
      if (statement.resources.some((r) => r.kind === 'function')) {
        // A policy of its own, not the role's default one, which the function depends on: a
        // function allowed to invoke itself would otherwise make a dependency cycle.
        new iam.Policy(handler, 'InvokePolicy', {
          roles: [handler.role],
          statements: [new iam.PolicyStatement({ actions: [...statement.actions], resources: statement.resources.map((resource) => this.arnOf(resource, handler)) })],
        });
        continue;
      }
      handler.function.addToRolePolicy(
        new iam.PolicyStatement({
          actions: [...statement.actions],
          resources: statement.resources.map((resource) => this.arnOf(resource, handler)),
          conditions: statement.conditions as Record<string, Record<string, unknown>> | undefined,
        }),
      );
    }
    // A webhook signing parameter the app gave, encrypted with its own KMS key: reading it decrypts through Parameter Store.
    const webhookKey = this.config.webhooks?.signingParameterKey;
    if (webhookKey && (functionSpecs[key].secrets as readonly string[]).includes('webhookSecret')) {
      webhookKey.grantDecrypt(new kms.ViaServicePrincipal(`ssm.${Stack.of(this).region}.amazonaws.com`, handler.function.grantPrincipal));
    }
    // The same for the offline push credentials' parameters.
    const pushKey = this.config.offlinePush?.parameterKey;
    if (pushKey && functionSpecs[key].pushCredentials) {
      pushKey.grantDecrypt(new kms.ViaServicePrincipal(`ssm.${Stack.of(this).region}.amazonaws.com`, handler.function.grantPrincipal));
    }
  }

  /** The ARN of a resource a policy names, in this deployment. */
  private arnOf(resource: PolicyResource, handler: HandlerFunction): string {
    switch (resource.kind) {
      case 'table':
        return resource.index ? `${this.tables[resource.table].tableArn}/index/${resource.index}` : this.tables[resource.table].tableArn;
      case 'queue':
        return this.queues[resource.queue].queueArn;
      case 'deadLetterQueue':
        return this.deadLetterQueues[resource.queue].queueArn;
      case 'deadLetters':
        return this.deadLetters.queueArn;
      case 'function':
        return this.functions[resource.function].functionArn;
      case 'tableStream':
        return this.tables[resource.table].tableStreamArn!;
      case 'any':
        return '*';
      case 'secret': {
        const parameter = { signingKey: this.signingSecret, adminSecret: this.adminSecret, webhookSecret: this.webhookSigningSecret }[resource.secret];
        if (!parameter) throw new Error(`No ${resource.secret} secret in this deployment`);
        return parameter.parameterArn;
      }
      case 'pushCredentials': {
        if (!this.config.offlinePush) throw new Error(`No offline push in this deployment`);
        const name = secretParameterOf(this.config.offlinePush.settings, resource.provider);
        if (name.startsWith('arn:')) return name;
        // A hierarchical name's leading slash is not repeated in its ARN.
        return Stack.of(this).formatArn({ service: 'ssm', resource: 'parameter', resourceName: name.replace(/^\//, ''), arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
      }
      case 'historyCluster':
        return this.cluster.clusterArn;
      case 'historyCredentials':
        return this.cluster.secret!.secretArn;
      case 'connections':
        return this.connectionsArn();
      case 'mediaObjects':
        return this.media.objectsArn;
      case 'exportObjects':
        return this.media.exportsArn;
      case 'mediaBucket':
        return this.mediaBucket.bucketArn;
      case 'logGroup':
        return handler.logGroup.logGroupArn;
    }
  }

  /** Every connection of this stage, in any @connections method (post, get, delete). */
  private connectionsArn(): string {
    return Stack.of(this).formatArn({
      service: 'execute-api',
      resource: this.webSocketApi.apiId,
      resourceName: `${this.config.stageName}/*/@connections/*`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  }

  private connectConsumers(): void {
    for (const [key, spec] of entriesOf<QueueKey, QueueSpec>(queueSpecs)) {
      this.functions[spec.consumer].addEventSource(
        new SqsEventSource(this.queues[key], {
          batchSize: spec.batchSize,
          maxBatchingWindow: spec.maxBatchingWindowSeconds > 0 ? Duration.seconds(spec.maxBatchingWindowSeconds) : undefined,
          reportBatchItemFailures: true,
          maxConcurrency: spec.maxConcurrency,
          // A feature's queue is not polled (nor billed for polling) while the feature is off.
          enabled: spec.onlyWith === 'webhooks' ? this.config.webhooks !== undefined : true,
        }),
      );
    }
  }

  /**
   * The stream consumers: only the record kinds the manifest names reach the function
   * (filtered-out records are not billed); a failing batch is bisected and retried from its
   * first failed record; what is given up on (too old, or out of retries) leaves its
   * metadata in the shared dead-letter queue.
   */
  private connectStreamConsumers(): Record<StreamConsumerKey, DynamoEventSource> {
    return mapValues(streamConsumerSpecs, (spec: StreamConsumerSpec) => {
      const source = new DynamoEventSource(this.tables[spec.table], {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: spec.batchSize,
        maxBatchingWindow: Duration.seconds(spec.maxBatchingWindowSeconds),
        filters: [lambda.FilterCriteria.filter({ eventName: lambda.FilterRule.or(...spec.eventNames) })],
        reportBatchItemFailures: true,
        bisectBatchOnError: true,
        maxRecordAge: Duration.seconds(spec.maxRecordAgeSeconds),
        retryAttempts: spec.retryAttempts,
        parallelizationFactor: 1,
        onFailure: new SqsDlq(this.deadLetters),
      });
      this.functions[spec.consumer].addEventSource(source);
      return source;
    });
  }

  private addWebSocketRoutes(): apigwv2.WebSocketRoute[] {
    const integrations = new Map<FunctionKey, WebSocketLambdaIntegration>();
    const integrationFor = (key: FunctionKey) => {
      let integration = integrations.get(key);
      if (!integration) {
        integration = new WebSocketLambdaIntegration(`${functionSpecs[key].name}Integration`, this.functions[key]);
        integrations.set(key, integration);
      }
      return integration;
    };
    const authorizer = new WebSocketLambdaAuthorizer('ConnectAuthorizer', this.functions[wsAuthorizer.function], {
      identitySource: [wsAuthorizer.identitySource],
    });
    return wsRoutes.map((route) => {
      if (route.mock) return this.addMockRoute(route.routeKey, route.mock);
      return this.webSocketApi.addRoute(route.routeKey, {
        integration: integrationFor(route.function),
        returnResponse: route.routeResponse,
        // Authorizing the connection authorizes every frame sent on it.
        authorizer: route.routeKey === '$connect' ? authorizer : undefined,
      });
    });
  }

  /**
   * A route API Gateway answers itself: a MOCK integration (its request template gives the
   * status code), an integration response rendering the reply, and the route response that
   * passes it to the client. No function runs (core/protocol/heartbeat.ts).
   */
  private addMockRoute(routeKey: string, mock: MockReplySpec): apigwv2.WebSocketRoute {
    const integrationId = `${routeKey.charAt(0).toUpperCase()}${routeKey.slice(1)}Integration`;
    // Static selection expressions are escaped (`\$default`) so they are not read as variables.
    const route = this.webSocketApi.addRoute(routeKey, {
      integration: new WebSocketMockIntegration(integrationId, { requestTemplates: { $default: mock.requestTemplate }, templateSelectionExpression: '\\$default' }),
      returnResponse: true,
    });
    const integration = route.node.findChild(integrationId) as apigwv2.WebSocketIntegration;
    new apigwv2.CfnIntegrationResponse(route, 'IntegrationResponse', {
      apiId: this.webSocketApi.apiId,
      integrationId: integration.integrationId,
      integrationResponseKey: '$default',
      templateSelectionExpression: '\\$default',
      responseTemplates: { $default: mock.responseTemplate },
    });
    return route;
  }

  private createHttpApi(): { api: apigwv2.HttpApi; stage: apigwv2.HttpStage; routes: apigwv2.HttpRoute[] } {
    const api = new apigwv2.HttpApi(this, 'HttpApi', {
      description: 'Cirrus HTTP API for app backends and administrators (bearer tokens, checked by the function)',
      createDefaultStage: false,
      corsPreflight: {
        allowOrigins: ['*'],
        allowHeaders: ['authorization', 'content-type'],
        // A browser app may read when a THROTTLED request can be retried (also in the body's retryAfterMs).
        exposeHeaders: ['retry-after'],
        allowMethods: [
          apigwv2.CorsHttpMethod.GET,
          apigwv2.CorsHttpMethod.POST,
          apigwv2.CorsHttpMethod.PUT,
          apigwv2.CorsHttpMethod.DELETE,
          apigwv2.CorsHttpMethod.OPTIONS,
        ],
        maxAge: Duration.days(1),
      },
    });
    const stage = new apigwv2.HttpStage(this, 'HttpStage', {
      httpApi: api,
      stageName: '$default',
      autoDeploy: true,
      throttle: this.config.throttle,
      accessLogSettings: { destination: new apigwv2.LogGroupLogDestination(this.logGroup('HttpAccessLogs')) },
    });
    // One integration per function serving routes, each route sent to its own function. One
    // permission per function for the whole API rather than one per route: Lambda caps a
    // function's resource policy at 20 KB, and ~75 route-scoped statements of ~430 bytes exceed it.
    const integrations = new Map(
      httpFunctions.map((key) => [key, new HttpLambdaIntegration(key === 'http' ? 'HttpIntegration' : `${functionSpecs[key].name}Integration`, this.functions[key], { scopePermissionToRoute: false })]),
    );
    const routes = httpRoutes.flatMap((route) =>
      api.addRoutes({ path: route.path, methods: [apigwv2.HttpMethod[route.method]], integration: integrations.get(httpFunctionOf(route.operationId))! }),
    );
    return { api, stage, routes };
  }

  private createOutputs(): CirrusImOutputs {
    // Readable output keys (`<id>WebSocketUrl`) instead of hashed ones, still unique per construct.
    const prefix = this.node.id.replace(/[^A-Za-z0-9]/g, '');
    const output = (name: string, value: string, description: string) => {
      const cfnOutput = new CfnOutput(this, name, { value, description });
      cfnOutput.overrideLogicalId(`${prefix}${name}`);
      return cfnOutput;
    };
    return {
      webSocketUrl: output('WebSocketUrl', this.webSocketUrl, 'WebSocket URL for clients: connect with ?token=<user token>.'),
      httpApiUrl: output('HttpApiUrl', this.httpApiUrl, 'Base URL of the HTTP API for app backends and administrators.'),
      adminSecretParameter: output(
        'AdminSecretParameter',
        this.adminSecret.parameterName,
        'Admin secret: read it with `aws ssm get-parameter --name <name> --with-decryption --query Parameter.Value --output text`, then POST it to /auth/admin-token for an admin token.',
      ),
      ...(this.webhookSigningSecret && this.config.webhooks?.signingParameter === undefined
        ? {
            webhookSecretParameter: output(
              'WebhookSecretParameter',
              this.webhookSigningSecret.parameterName,
              'Webhook signing secret, shared with the app backend: `aws ssm get-parameter --name <name> --with-decryption --query Parameter.Value --output text`.',
            ),
          }
        : {}),
    };
  }
}

/** Maps a manifest record to constructs, keeping its keys. */
/**
 * Splits a function's settings: the manifest's `compiledSettings` (long literal values) are
 * compiled into its bundle, the rest go to Lambda's environment, which holds 4 KB for all
 * variables together (names, table and queue names, ARNs, endpoints).
 */
function splitCompiledSettings(all: Record<string, string>): { environment: Record<string, string>; compiledSettings: Record<string, string> } {
  const environment: Record<string, string> = {};
  const compiledSettings: Record<string, string> = {};
  for (const [name, value] of Object.entries(all)) {
    if ((compiledSettingNames as readonly string[]).includes(name) && typeof value === 'string' && !Token.isUnresolved(value)) compiledSettings[name] = value;
    else environment[name] = value;
  }
  return { environment, compiledSettings };
}

function mapValues<K extends string, V, R>(record: Readonly<Record<K, V>>, fn: (value: V, key: K) => R): Record<K, R> {
  return Object.fromEntries(entriesOf<K, V>(record).map(([key, value]) => [key, fn(value, key)])) as Record<K, R>;
}
