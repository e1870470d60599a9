/**
 * The hard limits AWS enforces when CloudFormation deploys the template, checked on the
 * synthesized template so that a change which would only fail in a real account (a policy
 * too large, a name another stack already owns, a resource the rollback of a failed create
 * cannot delete) fails here: for the default stack and for the stack with every optional
 * feature on. Values only known at deploy (generated names, ARNs, the region) are rendered
 * at their longest (sizes) or as unique to their stack and region (collisions).
 */
import { createECDH } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Stack } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import { CirrusStack, type CirrusStackProps } from '../../lib/cirrus-stack';
import { WEBHOOK_CALLBACKS, GROUPLESS_CALLBACKS, MESSAGE_CALLBACKS, MAX_WATCHED_IDS } from '../../core/webhooks/settings';
import { MAX_STACK_NAME_LENGTH } from '../../lib/cirrus-im-props';
import { MAX_APNS_BUNDLE_IDS, MAX_BUNDLE_ID_LENGTH, MAX_PARAMETER_NAME_WITH_ARN } from '../../core/offline-push/settings';
import { commonEnv, functions as functionSpecs, type FunctionKey } from '../../core/manifest';
import type { HandlerFunction } from '../../lib/handler-function';
import { logicalId as logicalIdOf, synthTimeout, testApp } from './support';

type Json = any;

/** AWS's limits (CloudFormation quotas, Lambda quotas). */
const LIMITS = {
  resourcesPerStack: 500,
  outputsPerStack: 200,
  parametersPerStack: 200,
  /** A template uploaded through S3, as the CDK does. */
  templateBytes: 1_000_000,
  /** Lambda: a function's resource-based policy. */
  functionPolicyBytes: 20 * 1024,
  /** Lambda: all environment variables of a function, names and values. */
  environmentBytes: 4 * 1024,
};

/**
 * The longest values deploy-time references can take: the longest partition, region and URL
 * suffix, a 12-digit account, and physical names CloudFormation generates
 * (`{stack}-{logical id}-{random}`) cut at the resource type's maximum.
 */
const LONGEST = { partition: 'aws-us-gov', region: 'ap-southeast-4', account: '123456789012', urlSuffix: 'amazonaws.com.cn', uuid: 'f'.repeat(8) + '-ffff-ffff-ffff-' + 'f'.repeat(12) };

/** How a reference is rendered: at its longest (sizes), or unique to its stack and region (collisions). */
interface Render {
  readonly mode: 'longest' | 'identity';
  readonly stackName: string;
  readonly region: string;
  readonly resources: Record<string, Json>;
}

const generated = (r: Render, logicalId: string, max: number, random = 13) => `${r.stackName}-${logicalId}-${'x'.repeat(random)}`.slice(0, max);

/** A resource's `Ref` or `Fn::GetAtt` value, at its longest. */
function longestAttribute(r: Render, logicalId: string, attribute: string | undefined): string {
  const type: string = r.resources[logicalId]?.Type ?? 'unknown';
  const { partition: p, account: a, urlSuffix } = LONGEST;
  const region = r.region;
  const arn = (service: string, resource: string, scoped = true) => `arn:${p}:${service}:${scoped ? region : ''}:${scoped ? a : ''}:${resource}`;
  switch (type) {
    case 'AWS::DynamoDB::Table': {
      const name = generated(r, logicalId, 255);
      return attribute === 'Arn' ? arn('dynamodb', `table/${name}`) : attribute === 'StreamArn' ? arn('dynamodb', `table/${name}/stream/2026-01-01T00:00:00.000`) : name;
    }
    case 'AWS::SQS::Queue': {
      const name = generated(r, logicalId, 80, 12);
      if (attribute === 'Arn') return arn('sqs', name);
      if (attribute === 'QueueName') return name;
      return `https://sqs.${region}.${urlSuffix}/${a}/${name}`;
    }
    case 'AWS::SecretsManager::Secret':
    case 'AWS::SecretsManager::SecretTargetAttachment':
      return arn('secretsmanager', `secret:${logicalId}-${'x'.repeat(12)}-xxxxxx`);
    case 'AWS::RDS::DBCluster': {
      const id = generated(r, logicalId, 63).toLowerCase();
      if (attribute === 'Endpoint.Address' || attribute === 'ReadEndpoint.Address') return `${id}.cluster-${'x'.repeat(12)}.${region}.rds.${urlSuffix}`;
      if (attribute === 'Endpoint.Port') return '65535';
      if (attribute === 'DBClusterArn') return arn('rds', `cluster:${id}`);
      return id;
    }
    case 'AWS::S3::Bucket': {
      const name = generated(r, logicalId, 63).toLowerCase();
      if (attribute === 'Arn') return `arn:${p}:s3:::${name}`;
      if (attribute?.endsWith('DomainName')) return `${name}.s3.${region}.${urlSuffix}`;
      return name;
    }
    case 'AWS::Lambda::Function': {
      const name = generated(r, logicalId, 64, 12);
      return attribute === 'Arn' ? arn('lambda', `function:${name}`) : name;
    }
    case 'AWS::IAM::Role': {
      const name = generated(r, logicalId, 64, 12);
      return attribute === 'Arn' ? `arn:${p}:iam::${a}:role/${name}` : attribute === 'RoleId' ? 'A'.repeat(21) : name;
    }
    case 'AWS::ApiGatewayV2::Api':
      return attribute === 'ApiEndpoint' ? `wss://${'x'.repeat(10)}.execute-api.${region}.${urlSuffix}` : 'x'.repeat(10);
    case 'AWS::ApiGatewayV2::Stage':
      return 'x'.repeat(128);
    case 'AWS::SNS::Topic':
      return arn('sns', generated(r, logicalId, 256, 12));
    case 'AWS::StepFunctions::StateMachine':
      return attribute === 'Name' ? generated(r, logicalId, 80, 12) : arn('states', `stateMachine:${generated(r, logicalId, 80, 12)}`);
    case 'AWS::Logs::LogGroup':
      return attribute === 'Arn' ? arn('logs', `log-group:${generated(r, logicalId, 512)}:*`) : generated(r, logicalId, 512);
    case 'AWS::CloudFront::Distribution':
      return attribute === 'DomainName' ? `${'x'.repeat(14)}.cloudfront.net` : 'x'.repeat(14);
    case 'AWS::CloudFront::Function':
      return arn('cloudfront', `function/${'x'.repeat(64)}`, false);
    default:
      return 'x'.repeat(256);
  }
}

/** A template value as a string, every reference rendered as `r.mode` asks. */
function render(value: Json, r: Render): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map((v) => render(v, r)).join(',');
  if (value === null || typeof value !== 'object') return '';
  const [fn, args] = Object.entries(value)[0] as [string, Json];
  const stackId = `arn:${LONGEST.partition}:cloudformation:${r.region}:${LONGEST.account}:stack/${r.stackName}/${r.mode === 'longest' ? LONGEST.uuid : `uuid-of-${r.stackName}-in-${r.region}`}`;
  const pseudo: Record<string, string> = {
    'AWS::Region': r.region,
    'AWS::AccountId': LONGEST.account,
    'AWS::Partition': LONGEST.partition,
    'AWS::URLSuffix': LONGEST.urlSuffix,
    'AWS::StackName': r.stackName,
    'AWS::StackId': stackId,
    'AWS::NoValue': '',
  };
  const reference = (logicalId: string, attribute?: string) =>
    r.mode === 'longest' ? longestAttribute(r, logicalId, attribute) : `{${logicalId}${attribute ? `.${attribute}` : ''} of ${r.stackName} in ${r.region}}`;
  switch (fn) {
    case 'Ref':
      return args in pseudo ? pseudo[args] : reference(args);
    case 'Fn::GetAtt':
      return reference(args[0], args[1]);
    case 'Fn::Join':
      return (args[1] as Json[]).map((v) => render(v, r)).join(args[0]);
    case 'Fn::Split':
      return JSON.stringify(render(args[1], r).split(args[0]));
    case 'Fn::Select': {
      const list = args[1];
      const items: string[] = 'Fn::Split' in list ? JSON.parse(render(list, r)) : 'Fn::GetAZs' in list ? ['ap-southeast-4a', 'ap-southeast-4b', 'ap-southeast-4c'] : (list as Json[]).map((v) => render(v, r));
      return items[Number(args[0])] ?? '';
    }
    case 'Fn::Sub': {
      const [text, vars] = typeof args === 'string' ? [args, {}] : args;
      return (text as string).replace(/\$\{([^}]+)\}/g, (_, name: string) => {
        if (name in vars) return render(vars[name], r);
        if (name in pseudo) return pseudo[name];
        const [id, ...attr] = name.split('.');
        return reference(id, attr.length ? attr.join('.') : undefined);
      });
    }
    case 'Fn::GetAZs':
      return 'ap-southeast-4a';
    case 'Fn::Base64':
      return Buffer.from(render(args, r)).toString('base64');
    case 'Fn::If':
      return render(args[1], r);
    default:
      return JSON.stringify(value);
  }
}

/** Every value in `value` rendered, keys kept (for policies and environments). */
function renderDeep(value: Json, r: Render): Json {
  if (Array.isArray(value)) return value.map((v) => renderDeep(v, r));
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::'))) return render(value, r);
    return Object.fromEntries(keys.map((k) => [k, renderDeep(value[k], r)]));
  }
  return value;
}

/** The physical-name property of each resource type whose names must be unique, and where. */
const NAMED_TYPES: Record<string, { readonly path: readonly string[]; readonly unique: 'account' | 'region'; readonly maxLength?: number; readonly charset?: RegExp }> = {
  // CloudFront is global: one namespace for the account across every region.
  'AWS::CloudFront::ResponseHeadersPolicy': { path: ['ResponseHeadersPolicyConfig', 'Name'], unique: 'account', maxLength: 128, charset: /^[A-Za-z0-9_-]+$/ },
  'AWS::CloudFront::OriginAccessControl': { path: ['OriginAccessControlConfig', 'Name'], unique: 'account', maxLength: 64 },
  'AWS::CloudFront::Function': { path: ['Name'], unique: 'account', maxLength: 64, charset: /^[A-Za-z0-9_-]+$/ },
  'AWS::CloudFront::CachePolicy': { path: ['CachePolicyConfig', 'Name'], unique: 'account', maxLength: 128, charset: /^[A-Za-z0-9_-]+$/ },
  'AWS::CloudFront::OriginRequestPolicy': { path: ['OriginRequestPolicyConfig', 'Name'], unique: 'account', maxLength: 128, charset: /^[A-Za-z0-9_-]+$/ },
  'AWS::CloudFront::KeyValueStore': { path: ['Name'], unique: 'account', maxLength: 64, charset: /^[A-Za-z0-9_-]+$/ },
  'AWS::IAM::Role': { path: ['RoleName'], unique: 'account', maxLength: 64, charset: /^[\w+=,.@-]+$/ },
  'AWS::IAM::ManagedPolicy': { path: ['ManagedPolicyName'], unique: 'account', maxLength: 128, charset: /^[\w+=,.@-]+$/ },
  'AWS::S3::Bucket': { path: ['BucketName'], unique: 'account', maxLength: 63, charset: /^[a-z0-9.-]+$/ },
  'AWS::Lambda::Function': { path: ['FunctionName'], unique: 'region', maxLength: 64, charset: /^[A-Za-z0-9_-]+$/ },
  'AWS::Logs::LogGroup': { path: ['LogGroupName'], unique: 'region', maxLength: 512, charset: /^[.\-_/#A-Za-z0-9]+$/ },
  'AWS::DynamoDB::Table': { path: ['TableName'], unique: 'region', maxLength: 255, charset: /^[A-Za-z0-9_.-]+$/ },
  'AWS::SQS::Queue': { path: ['QueueName'], unique: 'region', maxLength: 80, charset: /^[A-Za-z0-9_-]+(\.fifo)?$/ },
  'AWS::SecretsManager::Secret': { path: ['Name'], unique: 'region', maxLength: 512, charset: /^[A-Za-z0-9/_+=.@-]+$/ },
  'AWS::RDS::DBCluster': { path: ['DBClusterIdentifier'], unique: 'region', maxLength: 63, charset: /^[A-Za-z][A-Za-z0-9-]*$/ },
  'AWS::RDS::DBInstance': { path: ['DBInstanceIdentifier'], unique: 'region', maxLength: 63, charset: /^[A-Za-z][A-Za-z0-9-]*$/ },
  'AWS::RDS::DBSubnetGroup': { path: ['DBSubnetGroupName'], unique: 'region', maxLength: 255 },
  'AWS::CloudWatch::Alarm': { path: ['AlarmName'], unique: 'region', maxLength: 255 },
  // Dashboards are listed account-wide, in every region.
  'AWS::CloudWatch::Dashboard': { path: ['DashboardName'], unique: 'account', maxLength: 255, charset: /^[A-Za-z0-9_-]+$/ },
  'AWS::SNS::Topic': { path: ['TopicName'], unique: 'region', maxLength: 256, charset: /^[A-Za-z0-9_-]+$/ },
  'AWS::StepFunctions::StateMachine': { path: ['StateMachineName'], unique: 'region', maxLength: 80 },
  'AWS::Events::Rule': { path: ['Name'], unique: 'region', maxLength: 64, charset: /^[.\-_A-Za-z0-9]+$/ },
};

/** Free-text properties the services cap, by resource type (path, maximum characters). */
const TEXT_LIMITS: Record<string, readonly (readonly [readonly string[], number])[]> = {
  'AWS::Lambda::Function': [[['Description'], 256]],
  'AWS::IAM::Role': [[['Description'], 1000]],
  'AWS::SecretsManager::Secret': [[['Description'], 2048]],
  'AWS::CloudWatch::Alarm': [[['AlarmDescription'], 1024]],
  'AWS::ApiGatewayV2::Api': [[['Description'], 1024]],
  'AWS::EC2::SecurityGroup': [[['GroupDescription'], 255]],
  'AWS::CloudFront::Distribution': [[['DistributionConfig', 'Comment'], 128]],
  'AWS::CloudFront::ResponseHeadersPolicy': [[['ResponseHeadersPolicyConfig', 'Comment'], 128]],
  'AWS::CloudFront::Function': [[['FunctionConfig', 'Comment'], 128]],
  'AWS::CloudFront::OriginAccessControl': [[['OriginAccessControlConfig', 'Description'], 256]],
  'AWS::Events::Rule': [[['Description'], 512]],
};

/**
 * Types whose resources have no physical name that another stack could already own (the
 * name, if any, is scoped to a parent resource of this stack, or generated by the service).
 * A type in neither list fails the test until someone decides which it is.
 */
const UNNAMED_TYPES = new Set([
  'AWS::S3::BucketPolicy',
  'AWS::SQS::QueuePolicy',
  'AWS::EC2::VPC',
  'AWS::EC2::Subnet',
  'AWS::EC2::RouteTable',
  'AWS::EC2::SubnetRouteTableAssociation',
  'AWS::EC2::FlowLog',
  'AWS::EC2::SecurityGroup',
  'AWS::IAM::Policy',
  'AWS::SecretsManager::SecretTargetAttachment',
  'AWS::ApiGatewayV2::Api',
  'AWS::ApiGatewayV2::Integration',
  'AWS::ApiGatewayV2::Route',
  'AWS::ApiGatewayV2::RouteResponse',
  // The heartbeat route's MOCK integration answer, keyed within its integration.
  'AWS::ApiGatewayV2::IntegrationResponse',
  'AWS::ApiGatewayV2::Authorizer',
  'AWS::ApiGatewayV2::Stage',
  // One per account and region whatever its name: `configureApiGatewayLogRole` (docs/deploy.md).
  'AWS::ApiGateway::Account',
  'AWS::Lambda::Permission',
  'AWS::Lambda::EventSourceMapping',
  // One per function and qualifier, named by them.
  'AWS::Lambda::EventInvokeConfig',
  'AWS::Lambda::LayerVersion',
  'AWS::CloudFront::Distribution',
  'Custom::CirrusSchemaMigrations',
  // Names SSM parameters, checked by their own test below (Parameter Store's rules, one set per stack).
  'Custom::CirrusSecureParameters',
  'Custom::CDKBucketDeployment',
]);

/** Types holding data: kept when removed from the stack or with it, except when their creation rolls back. */
const STATEFUL_TYPES = ['AWS::DynamoDB::Table', 'AWS::RDS::DBCluster', 'AWS::S3::Bucket', 'AWS::SecretsManager::Secret', 'AWS::Logs::LogGroup', 'Custom::CirrusSecureParameters'];

const TOKEN_URL = 'https://app.example.com/cirrus/token';

/** Every optional feature on, with long lists (the callbacks' watch lists as long as their size bound allows). */
const WATCHED = MAX_WATCHED_IDS / 4;

/** Offline push with every provider and its largest settings: 50 bundle ids of 255 characters, parameter names as long as Parameter Store takes. */
function largestOfflinePush(): NonNullable<CirrusStackProps['offlinePush']> {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const longestName = (last: string) => {
    const prefix = `arn:${LONGEST.partition}:ssm:${LONGEST.region}:${LONGEST.account}:parameter/`;
    const head = `/push/${last}/`;
    return head + 'p'.repeat(MAX_PARAMETER_NAME_WITH_ARN - prefix.length - head.length + 1);
  };
  return {
    apns: {
      keyId: 'ABC123DEFG',
      teamId: 'TEAM123456',
      bundleIds: Array.from({ length: MAX_APNS_BUNDLE_IDS }, (_, i) => `com.example.app${i}.${'b'.repeat(MAX_BUNDLE_ID_LENGTH - `com.example.app${i}.`.length)}`),
      keyParameter: longestName('apns'),
    },
    fcm: { projectId: 'p'.repeat(30), serviceAccountParameter: longestName('fcm') },
    webpush: { publicKey: ecdh.getPublicKey().toString('base64url'), subject: `mailto:${'o'.repeat(200)}@example.com`, privateKeyParameter: longestName('webpush') },
  };
}

function everythingOn(distPath: string, alarmTopic: sns.ITopic): CirrusStackProps {
  const callbacks = Object.fromEntries(
    WEBHOOK_CALLBACKS.map((name) => [
      name,
      {
        enabled: true,
        ...(name.startsWith('before') ? { failurePolicy: 'closed' as const } : {}),
        ...(MESSAGE_CALLBACKS.includes(name) ? { skipContentTypes: [110, 111] } : {}),
        userIds: Array.from({ length: WATCHED }, (_, i) => `watched-user-${i}`),
        ...(GROUPLESS_CALLBACKS.includes(name) ? {} : { groupIds: Array.from({ length: WATCHED }, (_, i) => `watched-group-${i}`) }),
      },
    ]),
  );
  return {
    demoSite: { tokenUrl: TOKEN_URL, distPath },
    webhooks: { url: 'https://app.example.com/cirrus/webhooks', timeoutMs: 5000, callbacks },
    media: { maxUploadBytes: 5 * 1024 ** 3, expirationDays: 30, corsAllowedOrigins: ['https://app.example.com', 'https://admin.example.com'], allowedContentTypes: ['image/*', 'video/*', 'audio/*', 'application/pdf'] },
    alarmTopic,
    aurora: { minCapacity: 0, maxCapacity: 256, autoPauseSeconds: 86_400 },
    throttle: { rateLimit: 10_000, burstLimit: 5_000 },
    logLevel: 'debug',
    requireFriendship: true,
    multiLoginPolicy: 'pcUnlimited',
    offlinePush: largestOfflinePush(),
  };
}

interface Synth {
  readonly stack: CirrusStack;
  readonly template: Json;
}

/** A stack whose name differs from its construct id, as a second deployment of the app has. */
function synth(stackName: string, props: (app: ReturnType<typeof testApp>) => CirrusStackProps): Synth {
  const app = testApp();
  const stack = new CirrusStack(app, 'Cirrus', { stackName, ...props(app) });
  return { stack, template: app.synth().getStackByName(stack.stackName).template };
}

/**
 * The longest stack name Cirrus accepts: CloudFormation puts it into every generated table
 * and queue name, and so into the functions' environments.
 */
const LONG_STACK_NAME = 'c'.repeat(MAX_STACK_NAME_LENGTH);

let dist: string;
const configurations: Record<string, Synth> = {};
/** The every-feature stack once more under another name, for name collisions. */
let second: Synth;

beforeAll(() => {
  dist = mkdtempSync(join(tmpdir(), 'cirrus-limits-dist-'));
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>Cirrus chat</title>');
  mkdirSync(join(dist, 'admin'));
  writeFileSync(join(dist, 'admin', 'index.html'), '<!doctype html><title>Cirrus admin</title>');
  const topic = (app: ReturnType<typeof testApp>) => sns.Topic.fromTopicArn(new Stack(app, 'Alarms'), 'Topic', 'arn:aws:sns:us-east-1:123456789012:cirrus-alarms');
  configurations.default = synth(LONG_STACK_NAME, () => ({}));
  configurations['every feature'] = synth(LONG_STACK_NAME, (app) => everythingOn(dist, topic(app)));
  second = synth('cirrus-second', (app) => everythingOn(dist, topic(app)));
}, synthTimeout);

afterAll(() => rmSync(dist, { recursive: true, force: true }));

const resourcesOf = (s: Synth) => Object.entries<Json>(s.template.Resources);
const longest = (s: Synth): Render => ({ mode: 'longest', stackName: s.stack.stackName, region: LONGEST.region, resources: s.template.Resources });

describe.each(['default', 'every feature'])('The %s stack, against what AWS enforces at deploy', (name) => {
  const s = () => configurations[name];

  it('should stay within the resources, outputs and parameters of one stack, and the template size', () => {
    expect(resourcesOf(s()).length).toBeLessThanOrEqual(LIMITS.resourcesPerStack);
    expect(Object.keys(s().template.Outputs ?? {}).length).toBeLessThanOrEqual(LIMITS.outputsPerStack);
    expect(Object.keys(s().template.Parameters ?? {}).length).toBeLessThanOrEqual(LIMITS.parametersPerStack);
    expect(Buffer.byteLength(JSON.stringify(s().template))).toBeLessThanOrEqual(LIMITS.templateBytes);
  });

  it("should keep every function's resource-based policy within Lambda's 20 KB", () => {
    const r = longest(s());
    const policies = new Map<string, Json[]>();
    for (const [id, resource] of resourcesOf(s())) {
      if (resource.Type !== 'AWS::Lambda::Permission') continue;
      const p = resource.Properties;
      const fn = JSON.stringify(p.FunctionName);
      // The statement Lambda stores, its Sid the permission's generated physical id (up to 100 characters).
      const condition: Json = {};
      if (p.SourceArn) condition.ArnLike = { 'AWS:SourceArn': render(p.SourceArn, r) };
      if (p.SourceAccount) condition.StringEquals = { 'AWS:SourceAccount': render(p.SourceAccount, r) };
      const statement = {
        Sid: generated(r, id, 100, 12),
        Effect: 'Allow',
        Principal: p.Principal.includes('.') ? { Service: render(p.Principal, r) } : { AWS: `arn:${LONGEST.partition}:iam::${render(p.Principal, r)}:root` },
        Action: render(p.Action, r),
        Resource: render(p.FunctionName, r),
        ...(Object.keys(condition).length ? { Condition: condition } : {}),
      };
      policies.set(fn, [...(policies.get(fn) ?? []), statement]);
    }
    expect(policies.size).toBeGreaterThan(0);
    for (const [fn, statements] of policies) {
      const bytes = Buffer.byteLength(JSON.stringify({ Version: '2012-10-17', Id: 'default', Statement: statements }));
      expect(bytes, `${fn}: ${statements.length} statements`).toBeLessThanOrEqual(LIMITS.functionPolicyBytes);
    }
  });

  it("should keep every function's environment within Lambda's 4 KB", () => {
    const r = longest(s());
    const functions = resourcesOf(s()).filter(([, resource]) => resource.Type === 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThan(0);
    for (const [id, resource] of functions) {
      const variables: Record<string, string> = renderDeep(resource.Properties.Environment?.Variables ?? {}, r);
      const bytes = Object.entries(variables).reduce((sum, [k, v]) => sum + Buffer.byteLength(k) + Buffer.byteLength(String(v)), 0);
      if (process.env.DUMP_ENV && id.includes('HttpApi')) console.log(id, bytes, JSON.stringify(Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, Buffer.byteLength(k) + Buffer.byteLength(String(v))]))));
      expect(bytes, id).toBeLessThanOrEqual(LIMITS.environmentBytes);
    }
  });

  it('should know, for every resource type, whether its physical name could collide with another stack', () => {
    const unknown = [...new Set(resourcesOf(s()).map(([, resource]) => resource.Type as string))].filter((type) => !(type in NAMED_TYPES) && !UNNAMED_TYPES.has(type));
    expect(unknown).toEqual([]);
  });

  it("should give the secrets' SecureString parameters names Parameter Store takes, other ones in another stack", () => {
    const r = longest(s());
    const namesOf = (synthesized: Synth, render_: Render) =>
      resourcesOf(synthesized)
        .filter(([, resource]) => resource.Type === 'Custom::CirrusSecureParameters')
        .flatMap(([, resource]) => (resource.Properties.Parameters as Json[]).map((p) => render(p.Name, render_)));
    const names = namesOf(s(), r);
    expect(names.length).toBeGreaterThanOrEqual(2);
    for (const name of names) {
      expect(name).toMatch(/^(\/[A-Za-z0-9_.-]+)+$/);
      expect(name.split('/')[1], name).not.toMatch(/^(aws|ssm)/i);
      expect(name.split('/').length - 1, name).toBeLessThanOrEqual(15);
      // Counted with the ARN: arn:<partition>:ssm:<region>:<account>:parameter/<name without its slash>.
      expect(`arn:${LONGEST.partition}:ssm:${LONGEST.region}:123456789012:parameter${name}`.length, name).toBeLessThanOrEqual(1011);
    }
    expect(new Set(names).size).toBe(names.length);
    if (name === 'every feature') {
      const others = namesOf(second, { mode: 'identity', stackName: second.stack.stackName, region: LONGEST.region, resources: second.template.Resources });
      for (const other of others) expect(names).not.toContain(other);
    }
  });

  it('should give every explicit name the length and characters its resource type allows', () => {
    const r = longest(s());
    for (const [id, resource] of resourcesOf(s())) {
      const rule = NAMED_TYPES[resource.Type];
      const value = rule && rule.path.reduce((v: Json, key) => v?.[key], resource.Properties);
      if (value === undefined) continue;
      const name = render(value, r);
      if (rule.maxLength) expect(name.length, `${id} ${name}`).toBeLessThanOrEqual(rule.maxLength);
      if (rule.charset) expect(name, id).toMatch(rule.charset);
    }
  });

  it('should keep logical ids, output names and the descriptions the services cap within their limits', () => {
    const r = longest(s());
    for (const id of [...Object.keys(s().template.Resources), ...Object.keys(s().template.Outputs ?? {})]) expect(id).toMatch(/^[A-Za-z0-9]{1,255}$/);
    for (const [id, output] of Object.entries<Json>(s().template.Outputs ?? {})) expect((output.Description ?? '').length, id).toBeLessThanOrEqual(1024);
    let checked = 0;
    for (const [id, resource] of resourcesOf(s())) {
      for (const [path, max] of TEXT_LIMITS[resource.Type] ?? []) {
        const value = path.reduce((v: Json, key) => v?.[key], resource.Properties);
        if (value === undefined) continue;
        checked++;
        expect(render(value, r).length, `${id} ${path.join('.')}`).toBeLessThanOrEqual(max);
      }
    }
    expect(checked).toBeGreaterThan(10);
  });

  it('should let the rollback of a failed first create delete everything, and keep data on any later removal', () => {
    const resources = resourcesOf(s());
    // The account's API Gateway logging setting and its role are the exception: other APIs of the
    // account may log through them, so they stay whatever happens (neither holds data or a fixed name).
    const accountSetting = new Set(
      resources
        .filter(([, resource]) => resource.Type === 'AWS::ApiGateway::Account')
        .flatMap(([id, resource]) => [id, resource.Properties.CloudWatchRoleArn?.['Fn::GetAtt']?.[0]]),
    );
    for (const [id, resource] of resources) {
      if (accountSetting.has(id)) {
        expect(resource.DeletionPolicy, id).toBe('Retain');
        continue;
      }
      // Retain keeps even what the failed operation created: it must then be deleted by hand before a retry.
      expect(['Delete', 'RetainExceptOnCreate', 'Snapshot', undefined], `${id} (${resource.Type}) DeletionPolicy`).toContain(resource.DeletionPolicy);
      // Deletion protection makes the rollback's delete fail.
      const props = resource.Properties ?? {};
      expect(props.DeletionProtection === true || props.DeletionProtection === 'true', `${id} DeletionProtection`).toBe(false);
      expect(props.DeletionProtectionEnabled === true || props.DeletionProtectionEnabled === 'true', `${id} DeletionProtectionEnabled`).toBe(false);
      if (STATEFUL_TYPES.includes(resource.Type)) {
        expect(['RetainExceptOnCreate', 'Snapshot'], `${id} (${resource.Type}) DeletionPolicy`).toContain(resource.DeletionPolicy);
        expect(['Retain', 'Snapshot'], `${id} (${resource.Type}) UpdateReplacePolicy`).toContain(resource.UpdateReplacePolicy);
      }
    }
    // A bucket filled during the create must be emptied by the rollback, or its delete fails.
    for (const [id, resource] of resources.filter(([, res]) => res.Type === 'Custom::CDKBucketDeployment')) {
      expect(resource.Properties.RetainOnDelete, id).toBe(false);
    }
  });
});

describe('The every-feature stack with the largest offline push settings', () => {
  it("should compile them into the bundles of the functions that read them, outside Lambda's 4 KB environment", () => {
    const { im } = configurations['every feature'].stack;
    const readers = (Object.keys(functionSpecs) as FunctionKey[]).filter((key) => functionSpecs[key].pushSettings || functionSpecs[key].pushCredentials);
    expect(readers.length).toBeGreaterThan(0);
    for (const key of readers) {
      const compiled = (im.functions[key].node.scope as HandlerFunction).compiledSettings[commonEnv.PUSH_SETTINGS];
      expect(Buffer.byteLength(compiled), key).toBeGreaterThan(LIMITS.environmentBytes);
      expect(configurations['every feature'].template.Resources[logicalIdOf(im.functions[key])].Properties.Environment.Variables, key).not.toHaveProperty(commonEnv.PUSH_SETTINGS);
    }
  });
});

describe('Two deployments of the every-feature stack (another stack name, another region)', () => {
  const regions = ['us-east-1', 'eu-west-1'];

  it('should give account-global resources names that differ between stacks and regions, and regional ones names that differ between stacks', () => {
    const first = configurations['every feature'];
    const nameOf = (s: Synth, id: string, region: string) => {
      const resource = s.template.Resources[id];
      const value = NAMED_TYPES[resource.Type].path.reduce((v: Json, key) => v?.[key], resource.Properties);
      return value === undefined ? undefined : render(value, { mode: 'identity', stackName: s.stack.stackName, region, resources: s.template.Resources });
    };
    let named = 0;
    for (const [id, resource] of resourcesOf(first)) {
      const rule = NAMED_TYPES[resource.Type];
      if (!rule || nameOf(first, id, regions[0]) === undefined) continue;
      named++;
      const here = nameOf(first, id, regions[0]);
      // The same app deployed as a second stack, in the same region.
      if (second.template.Resources[id]) expect(nameOf(second, id, regions[0]), `${id} (${resource.Type}) in a second stack`).not.toBe(here);
      // The same stack in another region: only account-global names collide there.
      if (rule.unique === 'account') expect(nameOf(first, id, regions[1]), `${id} (${resource.Type}) in another region`).not.toBe(here);
    }
    // The demo site's CloudFront resources have names.
    expect(named).toBeGreaterThanOrEqual(3);
  });
});
