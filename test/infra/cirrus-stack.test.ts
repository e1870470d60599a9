import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { httpRoutes } from '../../core/http/routes';
import { migrationPolling, schemaVersion } from '../../core/history/migrations';
import {
  commonEnv,
  deadLetters,
  functions,
  httpFunctionOf,
  httpFunctions,
  streamConsumers,
  queues,
  tables,
  wsAuthorizer,
  wsRoutes,
  type FunctionKey,
  type FunctionSpec,
  type QueueKey,
  type QueueSpec,
  type StreamConsumerKey,
  type StreamConsumerSpec,
  type TableKey,
  type TableSpec,
} from '../../core/manifest';
import type { CirrusStack } from '../../lib/cirrus-stack';
import { DEFAULT_MEDIA_TYPES } from '../../core/domain/media';
import { HTTP_CALLER_PARTITION } from '../../core/domain/limits';
import { logicalId, synthesizeCirrusStack, synthTimeout } from './support';

const tableEntries = Object.entries(tables) as [TableKey, TableSpec][];
const queueEntries = Object.entries(queues) as [QueueKey, QueueSpec][];
const functionEntries = Object.entries(functions) as [FunctionKey, FunctionSpec][];
const streamEntries = Object.entries(streamConsumers) as [StreamConsumerKey, StreamConsumerSpec][];

/** The variables a function should receive, derived from its spec alone. */
function expectedEnvironment(spec: FunctionSpec): string[] {
  const names: string[] = [commonEnv.MESSAGE_TTL_DAYS, commonEnv.SEQ_SETTLE_MS, commonEnv.INLINE_PUSH_MAX, commonEnv.ONLINE_INDEX_MIN_MEMBERS, commonEnv.REQUIRE_FRIENDSHIP, commonEnv.REVOKE_WINDOW_SECONDS, commonEnv.MULTI_LOGIN_POLICY, commonEnv.LOG_LEVEL];
  names.push(...Object.keys(spec.tables).map((key) => tables[key as TableKey].envVar));
  names.push(...spec.sendsTo.map((key) => queues[key].envVar));
  names.push(...(spec.redrives ?? []).map((key) => (queues[key] as QueueSpec).deadLetterEnvVar!));
  // The names of the functions it invokes asynchronously (its own comes as AWS_LAMBDA_FUNCTION_NAME).
  for (const target of spec.invokes ?? []) if (functions[target] !== spec) names.push(functions[target].asyncInvoke!.envVar);
  if (spec.sendsToDeadLetters) names.push(deadLetters.envVar);
  // The secrets' parameter names (SIGNING_SECRET_ID, ADMIN_SECRET_ID) are compiled into the bundle, like MEDIA_ALLOWED_TYPES.
  if (spec.postsToConnections) names.push(commonEnv.CONNECTIONS_ENDPOINT);
  if (spec.history) names.push(commonEnv.DB_CLUSTER_ARN, commonEnv.DB_SECRET_ARN, commonEnv.DB_NAME);
  // MEDIA_ALLOWED_TYPES is compiled into the bundle (a long value; Lambda's environment holds 4 KB).
  if (spec.media) names.push(commonEnv.MEDIA_BUCKET, commonEnv.MEDIA_MAX_BYTES);
  // The user-data function writes exports and deletes an erased user's media: the bucket's name alone.
  else if (spec.exports || spec.userMedia) names.push(commonEnv.MEDIA_BUCKET);
  // The functions that register offline push devices get the per-user cap.
  if (spec.pushSettings) names.push(commonEnv.PUSH_MAX_DEVICES);
  // --enable-source-maps, because the bundles carry source maps.
  names.push('NODE_OPTIONS');
  return names.sort();
}

describe('When CirrusStack is synthesized with default props and bundled', () => {
  let stack: CirrusStack;
  let template: Template;
  let assemblyDir: string;

  beforeAll(() => {
    const synthesized = synthesizeCirrusStack({}, { full: true });
    stack = synthesized.stack;
    template = synthesized.template;
    assemblyDir = synthesized.app.synth().directory;
  }, synthTimeout);

  const fnId = (key: FunctionKey) => logicalId(stack.im.functions[key]);
  const roleId = (key: FunctionKey) => logicalId(stack.im.functions[key].role!);
  const functionResource = (key: FunctionKey) => template.toJSON().Resources[fnId(key)];
  /** Every statement of a function's role, as objects. */
  const statementsOf = (key: FunctionKey): { Action: string | string[]; Resource: unknown; Condition?: unknown }[] =>
    ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy'].flatMap((type) =>
      Object.values(template.findResources(type, { Properties: { Roles: [{ Ref: roleId(key) }] } })).flatMap((policy) => policy.Properties.PolicyDocument.Statement),
    );
  /** Every statement granted to a function's role (CDK moves some into managed policies when the inline one grows large). */
  const policyOf = (key: FunctionKey): string =>
    JSON.stringify(
      ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy'].flatMap((type) =>
        Object.values(template.findResources(type, { Properties: { Roles: [{ Ref: roleId(key) }] } })).map(
          (policy) => policy.Properties.PolicyDocument,
        ),
      ),
    );

  describe('tables', () => {
    it('should create exactly the manifest tables', () => {
      template.resourceCountIs('AWS::DynamoDB::Table', tableEntries.length);
    });

    it.each(tableEntries)('should create the %s table on demand with PITR, encryption and its keys', (key, spec) => {
      const keySchema = [{ AttributeName: spec.partitionKey.name, KeyType: 'HASH' }];
      if (spec.sortKey) keySchema.push({ AttributeName: spec.sortKey.name, KeyType: 'RANGE' });
      template.hasResource('AWS::DynamoDB::Table', {
        // Kept with the stack deleted, but deleted (unprotected) by the rollback of the create that made it.
        DeletionPolicy: 'RetainExceptOnCreate',
        UpdateReplacePolicy: 'Retain',
        Properties: {
          KeySchema: keySchema,
          BillingMode: 'PAY_PER_REQUEST',
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          SSESpecification: { SSEEnabled: true },
          TimeToLiveSpecification: spec.ttlAttribute ? { AttributeName: spec.ttlAttribute, Enabled: true } : Match.absent(),
          DeletionProtectionEnabled: false,
          StreamSpecification: 'stream' in spec ? { StreamViewType: spec.stream } : Match.absent(),
        },
      });
      expect(logicalId(stack.im.tables[key])).toContain(spec.name);
    });
  });

  describe('queues', () => {
    it('should create each manifest queue with its own dead-letter queue, and the shared DeadLetters queue, and no Delivery, Push or Archive queue', () => {
      template.resourceCountIs('AWS::SQS::Queue', queueEntries.length * 2 + 1);
      expect(Object.keys(queues).sort()).toEqual(['webhook']);
    });

    it.each(queueEntries)('should give the %s queue its visibility timeout, SSE and a redrive policy', (key, spec) => {
      template.hasResourceProperties('AWS::SQS::Queue', {
        VisibilityTimeout: spec.visibilityTimeoutSeconds,
        SqsManagedSseEnabled: true,
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(stack.im.deadLetterQueues[key]), 'Arn'] },
          maxReceiveCount: spec.maxReceiveCount,
        },
      });
    });

    it('should encrypt every dead-letter queue and keep its messages 14 days', () => {
      for (const dlq of Object.values(stack.im.deadLetterQueues)) {
        expect(template.toJSON().Resources[logicalId(dlq)].Properties).toMatchObject({
          SqsManagedSseEnabled: true,
          MessageRetentionPeriod: 14 * 24 * 3600,
        });
      }
    });

    it('should deny non-TLS access to every queue and dead-letter queue', () => {
      template.resourceCountIs('AWS::SQS::QueuePolicy', queueEntries.length * 2 + 1);
      template.allResourcesProperties('AWS::SQS::QueuePolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    });

    // The webhook queue's alarm exists only with webhooks configured (test/infra/webhooks.test.ts).
    it.each(queueEntries.filter(([, spec]) => spec.onlyWith === undefined))('should alarm as soon as one message reaches the %s dead-letter queue', (key) => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Namespace: 'AWS/SQS',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack.im.deadLetterQueues[key]), 'QueueName'] } }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
    });

    it(`should keep the shared ${deadLetters.name} queue 14 days, encrypted, and alarm as soon as one record reaches it`, () => {
      expect(template.toJSON().Resources[logicalId(stack.im.deadLetters)].Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack.im.deadLetters), 'QueueName'] } }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    });

    it('should create no alarm actions without an alarm topic', () => {
      template.allResourcesProperties('AWS::CloudWatch::Alarm', { AlarmActions: Match.absent() });
    });
  });

  describe('functions', () => {
    it("should create the manifest functions plus the migrations provider's (onEvent, isComplete, timeout) and the secure parameters' (handler, onEvent)", () => {
      template.resourceCountIs('AWS::Lambda::Function', functionEntries.length + 3 + 2);
    });

    it.each(functionEntries)('should run %s on arm64 Node.js 24 with its memory and timeout', (key, spec) => {
      expect(functionResource(key).Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        MemorySize: spec.memoryMb,
        Timeout: spec.timeoutSeconds,
        Description: spec.description,
      });
    });

    it.each(functionEntries)('should log %s in JSON, every application line the Logger writes (it filters and buffers by LOG_LEVEL), no START/END/REPORT lines', (key) => {
      expect(functionResource(key).Properties.LoggingConfig).toMatchObject({ LogFormat: 'JSON', ApplicationLogLevel: 'DEBUG', SystemLogLevel: 'WARN' });
    });

    it.each(functionEntries)('should give %s exactly the environment its spec calls for', (key, spec) => {
      const variables = functionResource(key).Properties.Environment.Variables;
      expect(Object.keys(variables).sort()).toEqual(expectedEnvironment(spec));
      expect(variables).toMatchObject({ MESSAGE_TTL_DAYS: '14', SEQ_SETTLE_MS: '30000', INLINE_PUSH_MAX: '50', ONLINE_INDEX_MIN_MEMBERS: '100', REQUIRE_FRIENDSHIP: 'false', REVOKE_WINDOW_SECONDS: '120', MULTI_LOGIN_POLICY: 'onePerPlatform', LOG_LEVEL: 'info' });
    });

    it.each(functionEntries)('should pass %s its table names and queue URLs from the resources', (key, spec) => {
      const variables = functionResource(key).Properties.Environment.Variables;
      for (const table of Object.keys(spec.tables) as TableKey[]) {
        expect(variables[tables[table].envVar]).toEqual({ Ref: logicalId(stack.im.tables[table]) });
      }
      for (const queue of spec.sendsTo) {
        expect(variables[queues[queue].envVar]).toEqual({ Ref: logicalId(stack.im.queues[queue]) });
      }
    });

    it('should point CONNECTIONS_ENDPOINT at the WebSocket stage callback URL', () => {
      const pushing = functionEntries.filter(([, spec]) => spec.postsToConnections);
      expect(pushing.length).toBeGreaterThan(0);
      for (const [key] of pushing) {
        expect(functionResource(key).Properties.Environment.Variables.CONNECTIONS_ENDPOINT).toEqual({
          'Fn::Join': [
            '',
            [
              'https://',
              { Ref: logicalId(stack.im.webSocketApi) },
              '.execute-api.',
              { Ref: 'AWS::Region' },
              '.',
              { Ref: 'AWS::URLSuffix' },
              '/live',
            ],
          ],
        });
      }
    });

    it.each(functionEntries)('should give %s its own log group with one month of retention', (key) => {
      const logGroup = functionResource(key).Properties.LoggingConfig.LogGroup;
      expect(template.toJSON().Resources[logGroup.Ref]).toMatchObject({
        Type: 'AWS::Logs::LogGroup',
        Properties: { RetentionInDays: 30 },
        DeletionPolicy: 'RetainExceptOnCreate',
      });
    });

    it('should attach no AWS managed policy to any function role', () => {
      for (const [key] of functionEntries) {
        expect(template.toJSON().Resources[roleId(key)].Properties.ManagedPolicyArns).toBeUndefined();
      }
    });

    it.each(functionEntries)('should bundle %s as minified ESM with the AWS SDK inside and a require shim', (key) => {
      const s3Key: string = functionResource(key).Properties.Code.S3Key;
      const assetDir = path.join(assemblyDir, `asset.${s3Key.replace(/\.zip$/, '')}`);
      const code = readFileSync(path.join(assetDir, 'index.mjs'), 'utf8');
      expect(code.startsWith('import { createRequire as cirrusCreateRequire }')).toBe(true);
      expect(code).not.toMatch(/from\s*["']@aws-sdk\//);
      expect(existsSync(path.join(assetDir, 'index.mjs.map'))).toBe(true);
    });

    it.each(functionEntries)("should give %s the environment's credentials alone, without the default credential chain", (key) => {
      const s3Key: string = functionResource(key).Properties.Code.S3Key;
      const assetDir = path.join(assemblyDir, `asset.${s3Key.replace(/\.zip$/, '')}`);
      // The source map names every file bundled.
      const sources: string[] = JSON.parse(readFileSync(path.join(assetDir, 'index.mjs.map'), 'utf8')).sources;
      const packages = new Set(sources.map((source) => /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/.exec(source)?.[1]).filter(Boolean));
      expect(sources.some((source) => source.endsWith('core/aws/credentials.ts'))).toBe(true);
      expect(packages).toContain('@aws-sdk/credential-provider-env');
      for (const chain of ['@aws-sdk/credential-provider-node', '@aws-sdk/credential-provider-ini', '@aws-sdk/credential-provider-sso', '@aws-sdk/credential-provider-process', '@aws-sdk/credential-provider-web-identity', '@aws-sdk/credential-provider-http', '@aws-sdk/credential-provider-imds', '@smithy/credential-provider-imds', '@aws-sdk/nested-clients', '@aws-sdk/token-providers']) {
        expect(packages, `${key} bundles ${chain}`).not.toContain(chain);
      }
    });

    it.each(functionEntries)('should leave the unused event-stream module of the AWS SDK out of %s', (key) => {
      const s3Key: string = functionResource(key).Properties.Code.S3Key;
      const sources: string[] = JSON.parse(readFileSync(path.join(assemblyDir, `asset.${s3Key.replace(/\.zip$/, '')}`, 'index.mjs.map'), 'utf8')).sources;
      expect(sources.filter((source) => source.includes('@smithy/core/dist-es/submodules/event-streams/'))).toEqual([]);
    });

    it('should compile the long settings into the bundles that read them, not the environment', () => {
      const s3Key: string = functionResource('httpMedia').Properties.Code.S3Key;
      const code = readFileSync(path.join(assemblyDir, `asset.${s3Key.replace(/\.zip$/, '')}`, 'index.mjs'), 'utf8');
      // esbuild replaced process.env.MEDIA_ALLOWED_TYPES with the value.
      expect(code).toContain(JSON.stringify(DEFAULT_MEDIA_TYPES.join(',')));
      expect(code).not.toContain('process.env.MEDIA_ALLOWED_TYPES');
      expect(functionResource('httpMedia').Properties.Environment.Variables).not.toHaveProperty(commonEnv.MEDIA_ALLOWED_TYPES);
    });
  });

  describe('permissions', () => {
    it.each(functionEntries)('should grant %s exactly the manifest actions on its tables, and nothing on the others', (key, spec) => {
      const statements = statementsOf(key);
      for (const [table] of tableEntries) {
        const tableArn = { 'Fn::GetAtt': [logicalId(stack.im.tables[table]), 'Arn'] };
        const onTable = statements.filter((st) => [st.Resource].flat().some((r: unknown) => JSON.stringify(r) === JSON.stringify(tableArn)));
        const actions = onTable.filter((st) => !st.Condition).flatMap((st) => [st.Action].flat());
        expect(actions.sort(), `${key} on ${table}`).toEqual((spec.tables[table] ?? []).map((a) => `dynamodb:${a}`).sort());
        // The one conditioned grant: the HTTP functions' shared per-caller counts, their own partitions of Sessions only.
        const conditioned = onTable.filter((st) => st.Condition);
        const counts = spec.limits && (httpFunctions as readonly string[]).includes(key) && table === 'sessions';
        expect(conditioned, `${key} on ${table}`).toEqual(
          counts ? [{ Effect: 'Allow', Action: 'dynamodb:UpdateItem', Resource: tableArn, Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${HTTP_CALLER_PARTITION}*`] } } }] : [],
        );
      }
    });

    it('should grant no function DescribeTable, PartiQL or wildcard DynamoDB actions, and stream reads only to stream consumers', () => {
      const consumers = new Set(streamEntries.map(([, spec]) => spec.consumer as FunctionKey));
      for (const [key] of functionEntries) {
        expect(policyOf(key)).not.toMatch(/dynamodb:(DescribeTable|DescribeTimeToLive|PartiQL|\*)/);
        if (!consumers.has(key)) expect(policyOf(key)).not.toMatch(/dynamodb:(DescribeStream|GetRecords|GetShardIterator|ListStreams)/);
      }
    });

    it('should let no function delete a user, and only the HTTP API (registration) write whole user items', () => {
      const usersArn = JSON.stringify({ 'Fn::GetAtt': [logicalId(stack.im.tables.users), 'Arn'] });
      for (const [key] of functionEntries) {
        const actions = statementsOf(key)
          .filter((st) => [st.Resource].flat().some((r) => JSON.stringify(r) === usersArn))
          .flatMap((st) => [st.Action].flat());
        expect(actions, key).not.toContain('dynamodb:DeleteItem');
        expect(actions, key).not.toContain('dynamodb:PutItem');
        if (key !== 'http') expect(actions, key).not.toContain('dynamodb:BatchWriteItem');
      }
    });

    it.each(functionEntries)('should let %s send to exactly the queues it sends to', (key, spec) => {
      const policy = policyOf(key);
      for (const [queue] of queueEntries) {
        const sends = (spec.sendsTo as readonly QueueKey[]).includes(queue);
        const consumes = queues[queue].consumer === key;
        const queueArn = JSON.stringify({ 'Fn::GetAtt': [logicalId(stack.im.queues[queue]), 'Arn'] });
        expect(policy.includes(queueArn)).toBe(sends || consumes);
      }
    });

    it.each(functionEntries)('should let %s read only the secrets it lists', (key, spec) => {
      const policy = policyOf(key);
      expect(policy.includes(JSON.stringify(stack.resolve(stack.im.signingSecret.parameterArn)))).toBe(spec.secrets.includes('signingKey'));
      expect(policy.includes(JSON.stringify(stack.resolve(stack.im.adminSecret.parameterArn)))).toBe(spec.secrets.includes('adminSecret'));
      expect(policy.includes('secretsmanager:GetSecretValue')).toBe(spec.history !== false);
    });

    it.each(functionEntries)('should let %s manage connections only if it posts to them', (key, spec) => {
      const policy = policyOf(key);
      expect(policy.includes('execute-api:ManageConnections')).toBe(spec.postsToConnections);
      if (spec.postsToConnections) expect(policy).toContain('/live/*/@connections/*');
    });

    it.each(functionEntries)('should let %s use the Data API only if it uses the history', (key, spec) => {
      const dataApi = statementsOf(key).flatMap((st) => [st.Action].flat()).filter((a) => a.startsWith('rds-data:'));
      expect(dataApi.sort()).toEqual((spec.history || []).map((a) => `rds-data:${a}`).sort());
    });
  });

  describe('asynchronous invocations', () => {
    const invoked = functionEntries.filter(([, spec]) => spec.asyncInvoke);

    it('should be how push slices, offline notifications, batch pages and user data jobs run', () => {
      expect(invoked.map(([key]) => key).sort()).toEqual(['batchPages', 'notify', 'push', 'userData']);
      template.resourceCountIs('AWS::Lambda::EventInvokeConfig', invoked.length);
    });

    it.each(invoked)('should retry a failed %s event twice, keep it its maximum age, then send it to the shared dead-letter queue', (key, spec) => {
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: fnId(key) },
        Qualifier: '$LATEST',
        MaximumRetryAttempts: 2,
        MaximumEventAgeInSeconds: spec.asyncInvoke!.maxEventAgeSeconds,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [logicalId(stack.im.deadLetters), 'Arn'] } } },
      });
      // Lambda's event age is 60 s to 6 h.
      expect(spec.asyncInvoke!.maxEventAgeSeconds).toBeGreaterThanOrEqual(60);
      expect(spec.asyncInvoke!.maxEventAgeSeconds).toBeLessThanOrEqual(21_600);
    });

    it('should give the invoking functions the names of the functions they invoke, and the right to invoke those only', () => {
      const env = (key: FunctionKey) => template.toJSON().Resources[fnId(key)].Properties.Environment.Variables as Record<string, unknown>;
      expect(env('wsMessage').FUNCTION_PUSH_NAME).toEqual({ Ref: fnId('push') });
      expect(env('http').FUNCTION_PUSH_NAME).toEqual({ Ref: fnId('push') });
      expect(env('http').FUNCTION_BATCH_PAGES_NAME).toEqual({ Ref: fnId('batchPages') });
      // A variable naming the function itself would be a circular reference: it reads AWS_LAMBDA_FUNCTION_NAME.
      expect(env('batchPages')).not.toHaveProperty('FUNCTION_BATCH_PAGES_NAME');
      const invokers = Object.values(template.findResources('AWS::IAM::Policy'))
        .filter((p) => JSON.stringify(p.Properties.PolicyDocument).includes('lambda:InvokeFunction'))
        .map((p) => JSON.stringify(p.Properties.Roles));
      expect(invokers.filter((roles) => roles.includes(roleId('wsMessage')))).toHaveLength(1);
      // Push slices hand their away recipients to notify; the archive invokes nothing.
      expect(env('wsMessage').FUNCTION_NOTIFY_NAME).toEqual({ Ref: fnId('notify') });
      expect(env('push').FUNCTION_NOTIFY_NAME).toEqual({ Ref: fnId('notify') });
      expect(env('notify')).not.toHaveProperty('FUNCTION_NOTIFY_NAME');
      expect(invokers.filter((roles) => roles.includes(roleId('push')))).toHaveLength(1);
      expect(invokers.some((roles) => roles.includes(roleId('archive')))).toBe(false);
    });
  });

  describe('event sources', () => {
    it('should connect each queue and each stream to its consumer and nothing else', () => {
      template.resourceCountIs('AWS::Lambda::EventSourceMapping', queueEntries.length + streamEntries.length);
    });

    it.each(streamEntries)(
      'should feed the %s stream to its consumer: only its record kinds, bisected, partial failures, records at most a day old, failures to DeadLetters',
      (_key, spec) => {
        template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
          EventSourceArn: { 'Fn::GetAtt': [logicalId(stack.im.tables[spec.table]), 'StreamArn'] },
          FunctionName: { Ref: fnId(spec.consumer) },
          StartingPosition: 'TRIM_HORIZON',
          BatchSize: spec.batchSize,
          MaximumBatchingWindowInSeconds: spec.maxBatchingWindowSeconds,
          FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ eventName: [...spec.eventNames] }) }] },
          FunctionResponseTypes: ['ReportBatchItemFailures'],
          BisectBatchOnFunctionError: true,
          MaximumRecordAgeInSeconds: 86_400,
          MaximumRetryAttempts: spec.retryAttempts,
          ParallelizationFactor: 1,
          DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [logicalId(stack.im.deadLetters), 'Arn'] } } },
        });
        // AWS's limits for a DynamoDB stream mapping: batches of 1..1000 in CloudFormation, a window of at most 300 s.
        expect(spec.batchSize).toBeGreaterThanOrEqual(1);
        expect(spec.batchSize).toBeLessThanOrEqual(1000);
        expect(spec.maxBatchingWindowSeconds).toBeLessThanOrEqual(300);
      },
    );

    it('should never deliver a REMOVE (TTL expiry, purges) to the archive', () => {
      for (const [, spec] of streamEntries) expect(spec.eventNames).not.toContain('REMOVE');
    });

    it('should keep the shared dead letters 14 days and alarm on the first one', () => {
      template.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 14 * 86400, SqsManagedSseEnabled: true, RedrivePolicy: Match.absent() });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack.im.deadLetters), 'QueueName'] } }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    });

    it.each(queueEntries)('should feed the %s queue to its consumer with the manifest batching', (key, spec) => {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [logicalId(stack.im.queues[key]), 'Arn'] },
        FunctionName: { Ref: fnId(spec.consumer) },
        BatchSize: spec.batchSize,
        MaximumBatchingWindowInSeconds: spec.maxBatchingWindowSeconds > 0 ? spec.maxBatchingWindowSeconds : Match.absent(),
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: spec.maxConcurrency },
      });
    });
  });

  describe('secrets', () => {
    it('should create the signing key (64 characters) and the admin secret (32) as SecureString parameters, generated in the custom resource, never in the template', () => {
      const resources = template.findResources('Custom::CirrusSecureParameters');
      expect(Object.keys(resources)).toHaveLength(1);
      const [resource] = Object.values(resources) as any[];
      expect(resource.Properties.Parameters).toEqual([
        expect.objectContaining({ Name: stack.im.signingSecret.parameterName, Bytes: 48 }),
        expect.objectContaining({ Name: stack.im.adminSecret.parameterName, Bytes: 24 }),
      ]);
      expect(Object.keys(resource.Properties).sort()).toEqual(['Parameters', 'Retain', 'ServiceToken']);
      // CloudFormation cannot create a SecureString: no AWS::SSM::Parameter holds a secret.
      template.resourceCountIs('AWS::SSM::Parameter', 0);
    });

    it('should let the custom resource put and delete exactly those parameters, with no KMS grant (the AWS managed aws/ssm key)', () => {
      const role = logicalId(stack.im.secureParameters.handler.role!);
      const statements = Object.values(template.findResources('AWS::IAM::Policy'))
        .filter((p: any) => JSON.stringify(p.Properties.Roles).includes(role))
        .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
      const ssmStatements = statements.filter((st: any) => [st.Action].flat().some((a: string) => a.startsWith('ssm:')));
      expect(ssmStatements).toEqual([
        expect.objectContaining({ Action: ['ssm:PutParameter', 'ssm:DeleteParameter'], Resource: [stack.resolve(stack.im.signingSecret.parameterArn), stack.resolve(stack.im.adminSecret.parameterArn)] }),
      ]);
      expect(JSON.stringify(statements)).not.toContain('kms:');
    });

    it('should keep only the database credentials in Secrets Manager (the Data API requires a secret ARN), and retain the secrets except when their creation rolls back', () => {
      template.resourceCountIs('AWS::SecretsManager::Secret', 1);
      template.allResources('AWS::SecretsManager::Secret', { DeletionPolicy: 'RetainExceptOnCreate' });
      template.allResources('Custom::CirrusSecureParameters', { DeletionPolicy: 'RetainExceptOnCreate' });
    });
  });

  describe('WebSocket API', () => {
    const routeResource = (routeKey: string) => {
      const found = Object.values(template.findResources('AWS::ApiGatewayV2::Route', { Properties: { RouteKey: routeKey } }));
      expect(found).toHaveLength(1);
      return found[0];
    };

    it('should select routes by the action field of the frame', () => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
        ProtocolType: 'WEBSOCKET',
        RouteSelectionExpression: '$request.body.action',
      });
    });

    const integrationOf = (routeKey: string) => {
      const target = routeResource(routeKey).Properties.Target['Fn::Join'][1][1].Ref;
      return { id: target as string, resource: template.toJSON().Resources[target] };
    };

    it.each(wsRoutes.filter((route) => route.function).map((route) => [route.routeKey, route] as const))('should route %s to its function', (_, route) => {
      const integration = integrationOf(route.routeKey).resource;
      expect(integration.Properties.IntegrationType).toBe('AWS_PROXY');
      expect(JSON.stringify(integration.Properties.IntegrationUri)).toContain(JSON.stringify({ 'Fn::GetAtt': [fnId(route.function!), 'Arn'] }));
      expect(routeResource(route.routeKey).Properties.RouteResponseSelectionExpression).toBe(route.routeResponse ? '$default' : undefined);
    });

    it('should answer heartbeat without a function: a MOCK integration, its integration response rendering the reply, and a route response', () => {
      const route = wsRoutes.find((r) => r.routeKey === 'heartbeat');
      expect(route?.mock).toBeDefined();
      const { id, resource } = integrationOf('heartbeat');
      expect(resource.Properties).toMatchObject({
        IntegrationType: 'MOCK',
        TemplateSelectionExpression: '\\$default',
        RequestTemplates: { $default: '{"statusCode": 200}' },
      });
      expect(JSON.stringify(resource.Properties)).not.toContain('Arn');
      const responses = Object.values(template.findResources('AWS::ApiGatewayV2::IntegrationResponse', { Properties: { IntegrationId: { Ref: id } } }));
      expect(responses).toHaveLength(1);
      expect(responses[0].Properties).toMatchObject({
        IntegrationResponseKey: '$default',
        TemplateSelectionExpression: '\\$default',
        ResponseTemplates: { $default: '{"id":null,"action":"heartbeat","data":{"serverTime":$context.requestTimeEpoch}}' },
      });
      const routeId = Object.entries(template.toJSON().Resources).find(([, r]: [string, any]) => r.Type === 'AWS::ApiGatewayV2::Route' && r.Properties.RouteKey === 'heartbeat')![0];
      template.hasResourceProperties('AWS::ApiGatewayV2::RouteResponse', { RouteId: { Ref: routeId }, RouteResponseKey: '$default' });
      expect(routeResource('heartbeat').Properties.RouteResponseSelectionExpression).toBe('$default');
      // No function may be invoked for it: no Lambda integration and no permission names the route.
      expect(JSON.stringify(template.findResources('AWS::Lambda::Permission'))).not.toContain('/heartbeat');
    });

    it('should have no integration response other than the MOCK routes\' (Lambda proxy integrations pass the function\'s reply through)', () => {
      template.resourceCountIs('AWS::ApiGatewayV2::IntegrationResponse', wsRoutes.filter((route) => route.mock).length);
    });

    it('should return a route response exactly where the manifest asks for one', () => {
      template.resourceCountIs('AWS::ApiGatewayV2::RouteResponse', wsRoutes.filter((route) => route.routeResponse).length);
    });

    it('should authorize $connect with a REQUEST authorizer on the token query parameter', () => {
      const authorizers = template.findResources('AWS::ApiGatewayV2::Authorizer', {
        Properties: {
          AuthorizerType: 'REQUEST',
          IdentitySource: [wsAuthorizer.identitySource],
          AuthorizerUri: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([{ 'Fn::GetAtt': [fnId(wsAuthorizer.function), 'Arn'] }])] }),
        },
      });
      expect(Object.keys(authorizers)).toHaveLength(1);
      expect(routeResource('$connect').Properties).toMatchObject({
        AuthorizationType: 'CUSTOM',
        AuthorizerId: { Ref: Object.keys(authorizers)[0] },
      });
    });

    it('should authorize no other WebSocket route (the connection is already authorized)', () => {
      for (const route of wsRoutes.filter((r) => r.routeKey !== '$connect')) {
        expect(routeResource(route.routeKey).Properties.AuthorizationType).toBe('NONE');
      }
    });

    it('should deploy the live stage automatically with throttling, without access logs (a billed line per frame)', () => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        ApiId: { Ref: logicalId(stack.im.webSocketApi) },
        StageName: 'live',
        AutoDeploy: true,
        DefaultRouteSettings: { ThrottlingBurstLimit: 500, ThrottlingRateLimit: 1000 },
        AccessLogSettings: Match.absent(),
      });
    });

    it("should leave the account's API Gateway logging role alone without access logs", () => {
      template.resourceCountIs('AWS::ApiGateway::Account', 0);
    });
  });

  describe('HTTP API', () => {
    const httpRouteResources = () =>
      template.findResources('AWS::ApiGatewayV2::Route', { Properties: { ApiId: { Ref: logicalId(stack.im.httpApi) } } });

    it('should create one route per entry of core/http/routes.ts', () => {
      expect(Object.keys(httpRouteResources())).toHaveLength(httpRoutes.length);
    });

    it.each(httpRoutes.map((route) => `${route.method} ${route.path}`))('should create the route %s', (routeKey) => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        ApiId: { Ref: logicalId(stack.im.httpApi) },
        RouteKey: routeKey,
        AuthorizationType: 'NONE',
      });
    });

    it.each(httpRoutes.map((route) => [`${route.method} ${route.path}`, httpFunctionOf(route.operationId)] as const))('should send the route %s to the integration of the %s function', (routeKey, key) => {
      const route = Object.values(httpRouteResources()).find((r) => r.Properties.RouteKey === routeKey)!;
      const integrationId = route.Properties.Target['Fn::Join'][1][1].Ref;
      expect(template.toJSON().Resources[integrationId].Properties).toMatchObject({
        ApiId: { Ref: logicalId(stack.im.httpApi) },
        IntegrationType: 'AWS_PROXY',
        IntegrationUri: { 'Fn::GetAtt': [fnId(key), 'Arn'] },
        PayloadFormatVersion: '2.0',
      });
    });

    it('should give each HTTP function one integration, and split the routes between them', () => {
      expect(new Set(Object.values(httpRouteResources()).map((route) => JSON.stringify(route.Properties.Target))).size).toBe(httpFunctions.length);
      expect(Object.keys(template.findResources('AWS::ApiGatewayV2::Integration', { Properties: { ApiId: { Ref: logicalId(stack.im.httpApi) } } }))).toHaveLength(httpFunctions.length);
      for (const key of httpFunctions) expect(httpRoutes.some((route) => httpFunctionOf(route.operationId) === key), key).toBe(true);
    });

    it.each(httpFunctions)('should let the HTTP API invoke the %s function through one permission for the whole API, not one per route', (key) => {
      // Lambda caps a function's resource policy at 20 KB; a statement per route (~430 bytes) exceeds it.
      const permissions = Object.values(template.findResources('AWS::Lambda::Permission', { Properties: { FunctionName: { 'Fn::GetAtt': [fnId(key), 'Arn'] } } }));
      expect(permissions).toHaveLength(1);
      expect(permissions[0].Properties).toMatchObject({ Action: 'lambda:InvokeFunction', Principal: 'apigateway.amazonaws.com' });
      // Any stage, method and path of this API: arn:…:execute-api:…:{api id}/*/*/*.
      const sourceArn = permissions[0].Properties.SourceArn['Fn::Join'][1];
      expect(sourceArn.slice(-2)).toEqual([{ Ref: logicalId(stack.im.httpApi) }, '/*/*/*']);
    });

    it('should allow CORS from any origin with the authorization and content-type headers, and let browsers read Retry-After', () => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
        ProtocolType: 'HTTP',
        CorsConfiguration: {
          AllowOrigins: ['*'],
          AllowHeaders: ['authorization', 'content-type'],
          ExposeHeaders: ['retry-after'],
          AllowMethods: Match.arrayWith(['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS']),
        },
      });
    });

    it('should log access and throttle on the $default stage', () => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        ApiId: { Ref: logicalId(stack.im.httpApi) },
        StageName: '$default',
        AutoDeploy: true,
        DefaultRouteSettings: { ThrottlingBurstLimit: 500, ThrottlingRateLimit: 1000 },
        AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] } },
      });
    });
  });

  describe('Aurora history', () => {
    it('should run Aurora PostgreSQL 16 Serverless v2 that pauses at 0 ACU, with the Data API', () => {
      template.hasResource('AWS::RDS::DBCluster', {
        DeletionPolicy: 'RetainExceptOnCreate',
        UpdateReplacePolicy: 'Retain',
        Properties: {
          Engine: 'aurora-postgresql',
          // The major version only: AWS creates the cluster at its current default minor, so a
          // fresh deploy never names a minor version AWS has retired.
          EngineVersion: '16',
          ServerlessV2ScalingConfiguration: { MinCapacity: 0, MaxCapacity: 2, SecondsUntilAutoPause: 300 },
          EnableHttpEndpoint: true,
          StorageEncrypted: true,
          // Protection would make the rollback of a failed first create fail; the deletionProtection prop turns it on.
          DeletionProtection: false,
          DatabaseName: 'cirrus',
          MasterUserPassword: Match.anyValue(),
        },
      });
    });

    it('should have one serverless writer instance, not publicly accessible, upgraded to new minor versions and kept with the cluster', () => {
      template.resourceCountIs('AWS::RDS::DBInstance', 1);
      template.hasResource('AWS::RDS::DBInstance', {
        DeletionPolicy: 'RetainExceptOnCreate',
        Properties: { DBInstanceClass: 'db.serverless', PubliclyAccessible: false, AutoMinorVersionUpgrade: true },
      });
      template.hasResource('AWS::RDS::DBSubnetGroup', { DeletionPolicy: 'RetainExceptOnCreate' });
    });

    it('should keep the cluster in isolated subnets of two AZs with no NAT or internet gateway', () => {
      template.resourceCountIs('AWS::EC2::NatGateway', 0);
      template.resourceCountIs('AWS::EC2::InternetGateway', 0);
      template.resourceCountIs('AWS::EC2::Subnet', 2);
      template.allResourcesProperties('AWS::EC2::Subnet', { MapPublicIpOnLaunch: false });
    });

    it('should keep the network the retained cluster is in (its deletion would fail), except when its creation rolls back', () => {
      for (const type of ['AWS::EC2::VPC', 'AWS::EC2::Subnet', 'AWS::EC2::RouteTable', 'AWS::EC2::SubnetRouteTableAssociation', 'AWS::EC2::SecurityGroup']) {
        template.allResources(type, { DeletionPolicy: 'RetainExceptOnCreate' });
      }
    });

    it('should record VPC flow logs', () => {
      template.hasResourceProperties('AWS::EC2::FlowLog', { ResourceType: 'VPC', TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
    });

    it('should keep every function outside the VPC', () => {
      template.allResourcesProperties('AWS::Lambda::Function', { VpcConfig: Match.absent() });
    });
  });

  describe('schema migrations', () => {
    it('should run the migrate function through a provider, keyed by the schema version', () => {
      const migrate = fnId('migrate');
      template.hasResourceProperties('AWS::Lambda::Function', {
        Handler: 'framework.onEvent',
        Environment: { Variables: { USER_ON_EVENT_FUNCTION_ARN: { 'Fn::GetAtt': [migrate, 'Arn'] } } },
      });
      template.hasResourceProperties('Custom::CirrusSchemaMigrations', { schemaVersion });
    });

    it('should poll the migrate function until the data migrations are complete, within the hour CloudFormation waits', () => {
      const migrate = fnId('migrate');
      // The waiter's isComplete function calls the migrate function too: the directory backfill runs one slice per poll.
      template.hasResourceProperties('AWS::Lambda::Function', {
        Handler: 'framework.isComplete',
        Environment: { Variables: { USER_IS_COMPLETE_FUNCTION_ARN: { 'Fn::GetAtt': [migrate, 'Arn'] } } },
      });
      const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0];
      const definition = JSON.stringify(machine.Properties.DefinitionString);
      const retry = /\\"IntervalSeconds\\":(\d+),\\"MaxAttempts\\":(\d+)/.exec(definition);
      expect(retry, definition).not.toBeNull();
      expect(Number(retry![1])).toBe(migrationPolling.queryIntervalSeconds);
      // Polls stop before CloudFormation's one-hour limit for a custom resource, which the resource asks for.
      expect(Number(retry![1]) * Number(retry![2])).toBeLessThanOrEqual(3600);
      template.hasResourceProperties('Custom::CirrusSchemaMigrations', { ServiceTimeout: '3600' });
      expect(migrationPolling.workMinutes).toBeLessThan(migrationPolling.totalTimeoutMinutes);
    });

    it('should let the migrate function scan Users and Groups for the directory backfill, read-only', () => {
      const policy = policyOf('migrate');
      expect(policy).toContain('dynamodb:Scan');
      for (const table of ['users', 'groups'] as const) expect(policy).toContain(JSON.stringify({ 'Fn::GetAtt': [logicalId(stack.im.tables[table]), 'Arn'] }));
      expect(policy).not.toMatch(/dynamodb:(PutItem|UpdateItem|DeleteItem|BatchWriteItem)/);
      expect(policy).toContain('rds-data:BatchExecuteStatement');
    });

    it('should wait for the cluster writer before migrating', () => {
      const writer = Object.keys(template.findResources('AWS::RDS::DBInstance'))[0];
      template.hasResource('Custom::CirrusSchemaMigrations', { DependsOn: Match.arrayWith([writer]) });
    });
  });

  describe('outputs', () => {
    it('should output the wss:// WebSocket URL of the stage', () => {
      template.hasOutput('WebSocketUrl', {
        Value: { 'Fn::Join': ['', Match.arrayWith(['wss://', { Ref: logicalId(stack.im.webSocketApi) }, '/live'])] },
      });
    });

    it('should output the HTTP API URL', () => {
      template.hasOutput('HttpApiUrl', {
        Value: { 'Fn::Join': ['', Match.arrayWith(['https://', { Ref: logicalId(stack.im.httpApi) }])] },
      });
    });

    it('should output the admin secret parameter name with how to read it', () => {
      template.hasOutput('AdminSecretParameter', {
        Value: stack.im.adminSecret.parameterName,
        Description: Match.stringLikeRegexp('aws ssm get-parameter --name <name> --with-decryption --query Parameter.Value --output text.*/auth/admin-token'),
      });
    });
  });
});
