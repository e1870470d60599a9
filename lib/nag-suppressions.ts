/**
 * Every AwsSolutions cdk-nag finding that Cirrus accepts, with the reason, in one place.
 *
 * cdk-nag 3 reads acknowledgements from CDK's `Validations.of(construct).acknowledge()`
 * and matches them exactly, per finding (`AwsSolutions-IAM5[Resource::...]`), on the
 * resource or any construct above it. Each acknowledgement below sits on the narrowest
 * construct it concerns, so a finding anywhere else (including in an embedding app) is
 * still reported.
 */
import { RemovalPolicy, Stack, Validations, type IResolvable } from 'aws-cdk-lib';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type { IConstruct } from 'constructs';
import type { ApiGatewayLogRole } from './api-gateway-log-role';
import type { HandlerFunction } from './handler-function';
import type { SchemaMigrations } from './schema-migrations';
import type { SecureParameters } from './secure-parameters';
import type { MediaBucket } from './media-bucket';
import type { CirrusDemoSite } from './demo-site';

/** The constructs that carry accepted findings. */
export interface NagFindingScopes {
  readonly removalPolicy: RemovalPolicy;
  readonly deletionProtection: boolean;
  /** WebSocket routes after `$connect`, which carry no API Gateway authorizer. */
  readonly webSocketRoutesAfterConnect: readonly IConstruct[];
  /** HTTP routes, which carry no API Gateway authorizer. */
  readonly httpRoutes: readonly IConstruct[];
  /** The WebSocket stage, when its access logs are off (`webSocketAccessLogs`). */
  readonly webSocketStageWithoutAccessLogs?: IConstruct;
  /** Functions allowed to call the `@connections` API. */
  readonly pushingFunctions: readonly HandlerFunction[];
  /** The ARN pattern of the stage's connections those functions may manage. */
  readonly connectionsArn: string;
  /** The custom resource creating the deployment's SecureString parameters. */
  readonly secureParameters: SecureParameters;
  readonly cluster: rds.DatabaseCluster;
  readonly clusterCredentials: rds.DatabaseSecret;
  readonly apiGatewayLogRole?: ApiGatewayLogRole;
  readonly media: MediaBucket;
  /** Functions that presign media URLs (granted the objects under `media/`). */
  readonly mediaFunctions: readonly HandlerFunction[];
  /** Functions requesting or building users' data exports (grants on exports/ of the media bucket). */
  readonly exportFunctions: readonly HandlerFunction[];
  /** The schema migrations custom resource, whose provider polls the migrate function. */
  readonly migrations: SchemaMigrations;
  /** The shared dead-letter queue: itself the end of the line (the failure destination of asynchronous invocations and stream event sources). */
  readonly deadLetters: IConstruct;
  /** The functions reading DynamoDB Streams (ListStreams has no resource-level permission). */
  readonly streamConsumers: readonly HandlerFunction[];
  /** The functions with X-Ray active tracing (`tracing: true`). */
  readonly tracedFunctions: readonly HandlerFunction[];
}

const ack = (scope: IConstruct, id: string, reason: string) =>
  Validations.of(scope).acknowledge({ id: `AwsSolutions-${id}`, reason });

/**
 * cdk-nag names a resource in an IAM5 finding by its CloudFormation value, with every
 * intrinsic written as `<LogicalId.Attribute>` or `<Ref>`; this renders a token the same way.
 */
function nagName(scope: IConstruct, token: string): string {
  const render = (value: unknown): string => {
    if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/\}/g, '>');
    const node = value as Record<string, unknown>;
    if (node['Fn::Join']) {
      const [delimiter, parts] = node['Fn::Join'] as [string, unknown[]];
      return parts.map(render).join(delimiter);
    }
    if (node['Fn::GetAtt']) {
      const [resource, attribute] = node['Fn::GetAtt'] as [unknown, unknown];
      return `<${render(resource)}.${render(attribute)}>`;
    }
    if (node['Ref']) return `<${render(node['Ref'])}>`;
    if (typeof node['Fn::Sub'] === 'string') return render(node['Fn::Sub']);
    return JSON.stringify(value);
  };
  return render(Stack.of(scope).resolve(token as unknown as IResolvable));
}

/** Acknowledges Cirrus's accepted findings, each on the construct it concerns. */
export function acknowledgeNagFindings(scopes: NagFindingScopes): void {
  ack(
    scopes.deadLetters,
    'SQS3',
    'It is a dead-letter queue: the on-failure destination of the asynchronous invocations (Lambda sends the failure ' +
      'records there, which cdk-nag cannot see as a redrive policy); it is kept 14 days and alarmed.',
  );
  if (scopes.webSocketStageWithoutAccessLogs) {
    ack(
      scopes.webSocketStageWithoutAccessLogs,
      'APIG1',
      'WebSocket access logs write a line per frame a client sends, billed on the message path; they are opt-in ' +
        '(webSocketAccessLogs). The functions log every warning and error with the request id as correlationId.',
    );
  }
  for (const route of scopes.webSocketRoutesAfterConnect) {
    ack(
      route,
      'APIG4',
      'API Gateway authorizes a WebSocket connection once, at $connect (REQUEST authorizer on the token); ' +
        'every frame sent on the connection comes from that authorized user.',
    );
  }
  for (const route of scopes.httpRoutes) {
    ack(
      route,
      'APIG4',
      'The HTTP function authorizes each call itself: it verifies the bearer token (admin or user) and what it may do; ' +
        'health, openapi.json and the admin-token exchange are public by design.',
    );
  }

  ack(
    scopes.deadLetters,
    'SQS3',
    'This is the dead-letter queue: the failure destination of the stream event sources and where consumers put what they give up on (kept 14 days, alarmed on the first message).',
  );
  for (const handler of scopes.tracedFunctions) {
    ack(
      handler,
      'IAM5[Resource::*]',
      'xray:PutTraceSegments and xray:PutTelemetryRecords have no resource-level permission (AWS\'s service authorization reference). Granted by the CDK with active tracing (tracing: true).',
    );
  }
  for (const handler of scopes.streamConsumers) {
    ack(
      handler,
      'IAM5[Resource::*]',
      "dynamodb:ListStreams has no resource-level permission (AWS's service authorization reference); the stream reads themselves name the table's stream. Granted by the CDK's DynamoEventSource.",
    );
  }

  const connectionsArn = nagName(scopes.cluster, scopes.connectionsArn);
  for (const handler of scopes.pushingFunctions) {
    ack(
      handler,
      `IAM5[Resource::${connectionsArn}]`,
      'Connection ids are created at run time, so @connections permissions name the API stage and end in a wildcard for the connection.',
    );
  }

  const mediaObjects = nagName(scopes.cluster, scopes.media.objectsArn);
  for (const handler of scopes.mediaFunctions) {
    ack(
      handler,
      `IAM5[Resource::${mediaObjects}]`,
      'Media object keys are random and created per upload, so presigning functions are granted the media/ prefix of the one media bucket, never the whole bucket or another.',
    );
  }

  const exportObjects = nagName(scopes.cluster, scopes.media.exportsArn);
  for (const handler of scopes.exportFunctions) {
    ack(
      handler,
      `IAM5[Resource::${exportObjects}]`,
      "Export ids are random and created per request, so the functions requesting and building users' data exports are granted the exports/ prefix of the media bucket, nothing else of it.",
    );
  }

  const { provider } = scopes.migrations;
  // The provider's waiter: a state machine that retries the isComplete function until the data migrations are done.
  const waiter = provider.node.tryFindChild('waiter-state-machine');
  if (waiter) {
    for (const child of ['framework-isComplete', 'framework-onTimeout']) {
      const fn = provider.node.findChild(child) as unknown as { functionArn: string };
      ack(
        waiter,
        `IAM5[Resource::${nagName(provider, fn.functionArn)}:*]`,
        "The CDK provider framework's waiter may invoke any version of its own isComplete and timeout functions, and only those.",
      );
    }
    ack(
      waiter,
      'SF1',
      "The waiter only retries the provider's isComplete function; each poll is logged by that function and by the migrate function (their log groups), so execution history logs would repeat them at a cost.",
    );
    ack(waiter, 'SF2', 'The waiter runs once per deploy that changes the schema; X-Ray traces of its retries would show nothing the function logs do not.');
  }

  ack(
    scopes.clusterCredentials,
    'SMG4',
    'Not rotated automatically: database rotation needs a Lambda inside the isolated VPC plus a Secrets Manager ' +
      'VPC endpoint, which bills by the hour; the Data API is the only way in and is IAM-authorized.',
  );

  if (scopes.removalPolicy === RemovalPolicy.DESTROY) {
    ack(scopes.cluster, 'RDS10', 'removalPolicy DESTROY was chosen for a disposable deployment, so the cluster must be deletable.');
  } else if (!scopes.deletionProtection) {
    ack(
      scopes.cluster,
      'RDS10',
      'Deletion protection is off by default because it keeps the rollback of a failed first deploy from deleting the cluster; ' +
        'the cluster is retained when removed from the stack or with it (RetainExceptOnCreate), backed up for 7 days, and the deletionProtection prop turns protection on once the stack exists.',
    );
  }

  if (scopes.apiGatewayLogRole) {
    ack(
      scopes.apiGatewayLogRole,
      'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      'AmazonAPIGatewayPushToCloudWatchLogs is the policy AWS documents for the account-wide API Gateway logging role; ' +
        'API Gateway creates the log groups, so the role cannot be scoped to known ones.',
    );
  }
}

/**
 * Acknowledges the web chat demo site's accepted findings: the distribution's (no WAF, no geo
 * restriction, the default certificate) and those of the CDK's BucketDeployment function,
 * whose policy the CDK writes. Each wildcard of that policy is acknowledged by name, on the
 * deployment function only.
 */
export function acknowledgeDemoSiteNagFindings(site: CirrusDemoSite): void {
  ack(
    site.distribution,
    'CFR1',
    'The demo is a sign-in page for whoever the app backend lets in; the app backend, not a list of countries, decides who may use it.',
  );
  ack(
    site.distribution,
    'CFR2',
    'The site is static files behind a cached, GET-only distribution; WAF bills per web ACL and per request, and the APIs authorize every call themselves.',
  );
  ack(
    site.distribution,
    'CFR4',
    'The distribution uses the default *.cloudfront.net certificate, with which CloudFront cannot enforce a minimum TLS version; ' +
      'a custom domain with its own certificate is needed for that.',
  );
  for (const handler of site.deploymentHandlers) {
    ack(
      handler,
      'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      "The CDK's BucketDeployment function writes its logs through the AWS-managed basic execution policy; the CDK creates that role.",
    );
    ack(
      handler,
      'L1',
      "The CDK's BucketDeployment function runs on the runtime the aws-cdk-lib version pins for it; upgrading aws-cdk-lib upgrades it.",
    );
    const role = handler.node.tryFindChild('ServiceRole');
    const policy = role?.node.tryFindChild('DefaultPolicy') as { document?: { toJSON(): unknown } } | undefined;
    const document = policy?.document ? (Stack.of(handler).resolve(policy.document.toJSON()) as { Statement?: { Action?: unknown; Resource?: unknown }[] }) : undefined;
    const wildcards = new Set<string>();
    for (const statement of document?.Statement ?? []) {
      for (const action of [statement.Action ?? []].flat() as string[]) if (action.includes('*')) wildcards.add(`Action::${action}`);
      for (const resource of [statement.Resource ?? []].flat()) {
        const name = nagName(handler, resource as string);
        if (name.includes('*')) wildcards.add(`Resource::${name}`);
      }
    }
    for (const wildcard of wildcards) {
      ack(
        handler,
        `IAM5[${wildcard}]`,
        "The CDK's BucketDeployment function copies the demo's asset from the CDK assets bucket into the site bucket, deletes stale " +
          'objects and invalidates the distribution (CloudFront invalidations have no resource ARN); the CDK writes this policy, scoped to those two buckets.',
      );
    }
  }
}
