/**
 * Each function's IAM policy, derived from the manifest alone: the CDK construct gives the
 * function's role exactly these statements, and the local runtime (local/iam.ts) checks
 * every AWS request a function sends against the same statements, so a missing grant fails
 * locally as it would on AWS. An infrastructure test holds the synthesized roles to them.
 */
import {
  functions,
  httpFunctions,
  queues,
  streamConsumers,
  type DataApiAction,
  type FunctionKey,
  type FunctionSpec,
  type QueueKey,
  type QueueSpec,
  type SecretKey,
  type TableAction,
  type TableKey,
} from './manifest';
import { MEDIA_PREFIX } from './domain/media';
import { HTTP_CALLER_PARTITION } from './domain/limits';
import { configuredProviders } from './offline-push/settings';
import type { PushProvider, PushSettings } from './offline-push/types';

/** A resource of the deployment, named by its place in the manifest. */
export type PolicyResource =
  | { readonly kind: 'table'; readonly table: TableKey; readonly index?: string }
  | { readonly kind: 'queue'; readonly queue: QueueKey }
  | { readonly kind: 'deadLetterQueue'; readonly queue: QueueKey }
  /** The shared dead-letter queue (`deadLetters`): the on-failure destination of asynchronous invocations and stream event sources. */
  | { readonly kind: 'deadLetters' }
  | { readonly kind: 'function'; readonly function: FunctionKey }
  /** A table's DynamoDB Stream. */
  | { readonly kind: 'tableStream'; readonly table: TableKey }
  /** Every resource: for actions without a resource (dynamodb:ListStreams). */
  | { readonly kind: 'any' }
  | { readonly kind: 'secret'; readonly secret: SecretKey }
  /** The SecureString parameter holding an offline push provider's credentials (`offlinePush`, named by the operator). */
  | { readonly kind: 'pushCredentials'; readonly provider: PushProvider }
  | { readonly kind: 'historyCluster' }
  | { readonly kind: 'historyCredentials' }
  | { readonly kind: 'connections' }
  | { readonly kind: 'mediaObjects' }
  /** The users' data exports, under `exports/` of the media bucket. */
  | { readonly kind: 'exportObjects' }
  | { readonly kind: 'mediaBucket' }
  | { readonly kind: 'logGroup' };

export interface PolicyStatementSpec {
  readonly actions: readonly string[];
  readonly resources: readonly PolicyResource[];
  readonly conditions?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
  /**
   * Who adds the statement to the role in the stack: the function's own construct (its log
   * group), the SQS event source (consuming its queue), the on-failure destination of its
   * asynchronous invocations (Lambda sends the failure record with the function's role), or
   * the grants read off the manifest.
   */
  readonly grantedBy: 'function' | 'eventSource' | 'manifest' | 'destination';
}

/** A resource written as one string (`table:users/index/byCreation`), for comparisons and docs. */
export function resourceName(resource: PolicyResource): string {
  switch (resource.kind) {
    case 'table':
      return `table:${resource.table}${resource.index ? `/index/${resource.index}` : ''}`;
    case 'queue':
    case 'deadLetterQueue':
      return `${resource.kind}:${resource.queue}`;
    case 'function':
      return `function:${resource.function}`;
    case 'tableStream':
      return `tableStream:${resource.table}`;
    case 'any':
      return '*';
    case 'secret':
      return `secret:${resource.secret}`;
    case 'pushCredentials':
      return `pushCredentials:${resource.provider}`;
    default:
      return resource.kind;
  }
}

/** What the CDK's SqsEventSource grants a consumer on its queue (Lambda polls with the function's role). */
export const eventSourceActions = ['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueUrl', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'] as const;

/** What the CDK's DynamoEventSource grants a consumer on its table's stream (Lambda reads it with the function's role). */
export const streamReadActions = ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'] as const;

/** What its on-failure destination (SqsDlq) grants on the shared dead-letter queue. */
export const failureDestinationActions = ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'] as const;

/** What redriving a dead-letter queue takes: peek (receive, then release), delete what was moved, count. */
export const redriveActions = ['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'] as const;

/** What the CDK's SqsDestination grants the function whose failed events it receives. */
export const destinationActions = ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'] as const;

/** Writing to the function's own log group. */
export const logActions = ['logs:CreateLogStream', 'logs:PutLogEvents'] as const;

const entriesOf = <K extends string, V>(record: Partial<Record<K, V>>) => Object.entries(record) as [K, V][];

/** What a function's policy depends on besides the manifest: the deployment's optional features. */
export interface PolicyOptions {
  /** Whether the deployment has webhooks (the webhook signing secret exists, and is granted, only then). */
  readonly webhooks: boolean;
  /** The deployment's offline push settings: the credentials' parameters of its providers are granted to functions with `pushCredentials`. */
  readonly offlinePush?: PushSettings;
}

/** The statements of a function's role in a deployment with these options. */
export function functionPolicy(key: FunctionKey, options: PolicyOptions): PolicyStatementSpec[] {
  const spec: FunctionSpec = functions[key];
  const statements: PolicyStatementSpec[] = [{ actions: [...logActions], resources: [{ kind: 'logGroup' }], grantedBy: 'function' }];
  for (const [table, actions] of entriesOf<TableKey, readonly TableAction[]>(spec.tables)) {
    if (actions.length) statements.push({ actions: actions.map((a) => `dynamodb:${a}`), resources: [{ kind: 'table', table }], grantedBy: 'manifest' });
  }
  if (spec.limits && (httpFunctions as readonly string[]).includes(key)) {
    // The per-caller count of HTTP requests shared by the containers (core/services/limits.ts): its own items
    // in Sessions (partition `#http|<caller>`: no user id starts with a symbol) and no session.
    statements.push({
      actions: ['dynamodb:UpdateItem'],
      resources: [{ kind: 'table', table: 'sessions' }],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${HTTP_CALLER_PARTITION}*`] } },
      grantedBy: 'manifest',
    });
  }
  for (const [table, indexes] of entriesOf<TableKey, readonly string[]>(spec.indexes ?? {})) {
    statements.push({ actions: ['dynamodb:Query'], resources: indexes.map((index) => ({ kind: 'table', table, index })), grantedBy: 'manifest' });
  }
  if (spec.sendsTo.length) {
    statements.push({ actions: ['sqs:SendMessage'], resources: spec.sendsTo.map((queue) => ({ kind: 'queue', queue })), grantedBy: 'manifest' });
  }
  for (const [queue, queueSpec] of entriesOf<QueueKey, QueueSpec>(queues)) {
    if (queueSpec.consumer === key) statements.push({ actions: [...eventSourceActions], resources: [{ kind: 'queue', queue }], grantedBy: 'eventSource' });
  }
  if (spec.invokes?.length) {
    statements.push({ actions: ['lambda:InvokeFunction'], resources: spec.invokes.map((f) => ({ kind: 'function', function: f })), grantedBy: 'manifest' });
  }
  if (spec.asyncInvoke) statements.push({ actions: [...destinationActions], resources: [{ kind: 'deadLetters' }], grantedBy: 'destination' });
  const streams = Object.values(streamConsumers).filter((s) => s.consumer === key);
  if (streams.length) {
    statements.push({ actions: ['dynamodb:ListStreams'], resources: [{ kind: 'any' }], grantedBy: 'eventSource' });
    statements.push({ actions: [...streamReadActions], resources: streams.map((s) => ({ kind: 'tableStream', table: s.table })), grantedBy: 'eventSource' });
    statements.push({ actions: [...failureDestinationActions], resources: [{ kind: 'deadLetters' }], grantedBy: 'eventSource' });
  }
  if (spec.sendsToDeadLetters) statements.push({ actions: ['sqs:SendMessage'], resources: [{ kind: 'deadLetters' }], grantedBy: 'manifest' });
  for (const queue of spec.redrives ?? []) {
    statements.push({ actions: [...redriveActions], resources: [{ kind: 'deadLetterQueue', queue }], grantedBy: 'manifest' });
    // The pending counts of the queue itself, shown with its dead letters.
    statements.push({ actions: ['sqs:GetQueueAttributes'], resources: [{ kind: 'queue', queue }], grantedBy: 'manifest' });
  }
  const secrets = spec.secrets.filter((secret) => secret !== 'webhookSecret' || options.webhooks);
  if (secrets.length) {
    // SecureString parameters encrypted with the AWS managed key aws/ssm, whose key policy lets every
    // principal of the account decrypt through Parameter Store: ssm:GetParameter is the whole grant.
    statements.push({ actions: ['ssm:GetParameter'], resources: secrets.map((secret) => ({ kind: 'secret', secret })), grantedBy: 'manifest' });
  }
  const pushProviders = spec.pushCredentials ? configuredProviders(options.offlinePush) : [];
  if (pushProviders.length) {
    // Parameters the operator put with the AWS managed key aws/ssm (its key policy lets the account's
    // principals decrypt through Parameter Store); a customer managed key is granted by the stack.
    statements.push({ actions: ['ssm:GetParameter'], resources: pushProviders.map((provider) => ({ kind: 'pushCredentials', provider })), grantedBy: 'manifest' });
  }
  if (spec.postsToConnections) {
    statements.push({ actions: ['execute-api:ManageConnections'], resources: [{ kind: 'connections' }], grantedBy: 'manifest' });
  }
  if (spec.history) {
    statements.push({ actions: spec.history.map((a: DataApiAction) => `rds-data:${a}`), resources: [{ kind: 'historyCluster' }], grantedBy: 'manifest' });
    // The Data API reads the database credentials with the caller's permissions.
    statements.push({ actions: ['secretsmanager:GetSecretValue'], resources: [{ kind: 'historyCredentials' }], grantedBy: 'manifest' });
  }
  if (spec.media) {
    // Presigning: the signer must itself be allowed what its URLs allow (POST upload, GET
    // download; HeadObject is a GetObject). ListBucket, limited to the prefix, makes
    // HeadObject of a missing key answer 404 rather than 403.
    statements.push({ actions: ['s3:PutObject', 's3:GetObject'], resources: [{ kind: 'mediaObjects' }], grantedBy: 'manifest' });
    statements.push({
      actions: ['s3:ListBucket'],
      resources: [{ kind: 'mediaBucket' }],
      conditions: { StringLike: { 's3:prefix': [`${MEDIA_PREFIX}*`] } },
      grantedBy: 'manifest',
    });
  }
  if (spec.exports) {
    // request: the status object written and read back, the archive presigned (GetObject);
    // build: the archive (streamed in a multipart upload, aborted when the build fails) and its status written, nothing read.
    const actions = spec.exports === 'request' ? ['s3:PutObject', 's3:GetObject'] : ['s3:PutObject', 's3:AbortMultipartUpload'];
    statements.push({ actions, resources: [{ kind: 'exportObjects' }], grantedBy: 'manifest' });
  }
  if (spec.userMedia) {
    // Listing is allowed under media/ only (each call names media/<userId>/).
    statements.push({
      actions: ['s3:ListBucket'],
      resources: [{ kind: 'mediaBucket' }],
      conditions: { StringLike: { 's3:prefix': [`${MEDIA_PREFIX}*`] } },
      grantedBy: 'manifest',
    });
    if (spec.userMedia === 'delete') statements.push({ actions: ['s3:DeleteObject'], resources: [{ kind: 'mediaObjects' }], grantedBy: 'manifest' });
  }
  return statements;
}

/** Every (action, resource) pair a policy allows, `action resource[ condition]`, sorted. */
export function policyPairs(statements: readonly { actions: readonly string[]; resources: readonly string[]; conditions?: unknown }[]): string[] {
  const pairs = new Set<string>();
  for (const statement of statements) {
    for (const action of statement.actions) {
      for (const resource of statement.resources) pairs.add(`${action} ${resource}${statement.conditions ? ` ${JSON.stringify(statement.conditions)}` : ''}`);
    }
  }
  return [...pairs].sort();
}
