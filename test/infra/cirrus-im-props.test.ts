import { beforeAll, describe, expect, it } from 'vitest';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { functions } from '../../core/manifest';
import { CirrusIm, type CirrusImProps } from '../../lib/cirrus-im';
import { MAX_STACK_NAME_LENGTH } from '../../lib/cirrus-im-props';
import { awsSolutionsFindings, logicalId, synthesizeCirrusStack, synthTimeout, testApp, type Synthesized } from './support';

describe('When props are invalid', () => {
  const longestSend = Math.max(functions.wsMessage.timeoutSeconds, functions.http.timeoutSeconds);

  it.each<[string, CirrusImProps, RegExp]>([
    ['seqSettleSeconds equal to the longest send timeout', { seqSettleSeconds: longestSend }, /^seqSettleSeconds must be longer than/],
    ['seqSettleSeconds below the send timeouts', { seqSettleSeconds: 5 }, /^seqSettleSeconds must be longer than .*HttpApi: 15 s/],
    ['messageRetentionDays of 0', { messageRetentionDays: 0 }, /^messageRetentionDays must be/],
    ['a fractional messageRetentionDays', { messageRetentionDays: 1.5 }, /^messageRetentionDays must be/],
    ['a negative inlinePushMax', { inlinePushMax: -1 }, /^inlinePushMax must be/],
    ['an onlineIndexMinMembers of 1', { onlineIndexMinMembers: 1 }, /^onlineIndexMinMembers must be/],
    ['a fractional onlineIndexMinMembers', { onlineIndexMinMembers: 250.5 }, /^onlineIndexMinMembers must be/],
    ['aurora.minCapacity above maxCapacity', { aurora: { minCapacity: 4, maxCapacity: 2 } }, /must not exceed aurora.maxCapacity/],
    ['aurora.maxCapacity below 1', { aurora: { maxCapacity: 0.5 } }, /^aurora.maxCapacity must be/],
    ['aurora capacity off the 0.5 grid', { aurora: { minCapacity: 0.3 } }, /^aurora.minCapacity must be/],
    ['autoPauseSeconds with a minimum above 0', { aurora: { minCapacity: 0.5, autoPauseSeconds: 600 } }, /only applies when aurora.minCapacity is 0/],
    ['autoPauseSeconds below 300', { aurora: { autoPauseSeconds: 60 } }, /^aurora.autoPauseSeconds must be/],
    ['removalPolicy SNAPSHOT', { removalPolicy: RemovalPolicy.SNAPSHOT }, /^removalPolicy must be RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE, RemovalPolicy.RETAIN or RemovalPolicy.DESTROY/],
    ['deletionProtection with removalPolicy DESTROY', { removalPolicy: RemovalPolicy.DESTROY, deletionProtection: true }, /^deletionProtection cannot be used with removalPolicy DESTROY/],
    ['an aurora.engineVersion that is not a version', { aurora: { engineVersion: '16.x' } }, /^aurora.engineVersion must be an Aurora PostgreSQL major version such as '16'/],
    ['an aurora.engineVersion before 13', { aurora: { engineVersion: '12' } }, /^aurora.engineVersion must be Aurora PostgreSQL 13 or later/],
    ['an aurora.engineVersion without auto-pause with minCapacity 0', { aurora: { engineVersion: '16.2' } }, /^aurora.minCapacity 0 \(auto-pause\) needs Aurora PostgreSQL 16.3 or later; got 16.2/],
    ['an unknown multiLoginPolicy', { multiLoginPolicy: 'onePerDevice' as never }, /^multiLoginPolicy must be one of multiple, onePerPlatform, onePerClass, pcUnlimited/],
    ['an unknown logLevel', { logLevel: 'verbose' as never }, /^logLevel must be one of/],
    ['a stageName with a space', { stageName: 'my stage' }, /^stageName may contain only/],
    ['a zero rate limit', { throttle: { rateLimit: 0 } }, /^throttle.rateLimit must be/],
  ])('should reject %s with a plain sentence', (_, props, message) => {
    const stack = new Stack(new App(), 'Host');
    expect(() => new CirrusIm(stack, 'Im', props)).toThrow(message);
  });

  it('should reject a stack name too long for the generated names in the functions\' environments', () => {
    const stack = new Stack(new App(), 'Host', { stackName: 'c'.repeat(MAX_STACK_NAME_LENGTH + 1) });
    expect(() => new CirrusIm(stack, 'Im')).toThrow(/^The stack name must be at most 100 characters/);
    expect(() => new CirrusIm(new Stack(new App(), 'Host', { stackName: 'c'.repeat(MAX_STACK_NAME_LENGTH) }), 'Im')).not.toThrow();
  });

  it('should reject before creating any resource', () => {
    const stack = new Stack(new App(), 'Host');
    expect(() => new CirrusIm(stack, 'Im', { seqSettleSeconds: 1 })).toThrow();
    expect(stack.node.findAll().filter((c) => c.node.path.startsWith('Host/Im/'))).toHaveLength(0);
  });
});

describe('When removalPolicy is DESTROY', () => {
  let synthesized: Synthesized;
  let template: Template;

  beforeAll(() => {
    synthesized = synthesizeCirrusStack({ removalPolicy: RemovalPolicy.DESTROY, webSocketAccessLogs: true });
    template = synthesized.template;
  }, synthTimeout);

  it('should delete every table with the stack, without deletion protection', () => {
    template.allResources('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      Properties: { DeletionProtectionEnabled: false },
    });
  });

  it('should delete the cluster, its instance and its credentials, without deletion protection', () => {
    template.hasResource('AWS::RDS::DBCluster', { DeletionPolicy: 'Delete', Properties: { DeletionProtection: false } });
    template.allResources('AWS::RDS::DBInstance', { DeletionPolicy: 'Delete' });
    template.allResources('AWS::SecretsManager::Secret', { DeletionPolicy: 'Delete' });
  });

  it('should delete the secrets\' SecureString parameters with the stack', () => {
    template.allResources('Custom::CirrusSecureParameters', { DeletionPolicy: 'Delete', Properties: { Retain: 'false' } });
  });

  it('should delete the log groups', () => {
    template.allResources('AWS::Logs::LogGroup', { DeletionPolicy: 'Delete' });
  });

  it('should still retain the account-wide API Gateway logging role, set before the stage that logs through it', () => {
    template.hasResource('AWS::ApiGateway::Account', { DeletionPolicy: 'Retain' });
    const accountId = Object.keys(template.findResources('AWS::ApiGateway::Account'))[0];
    template.hasResource('AWS::ApiGatewayV2::Stage', {
      Properties: { StageName: 'live', AccessLogSettings: Match.objectLike({}) },
      DependsOn: Match.arrayWith([accountId]),
    });
  });

  it('should pass the AwsSolutions checks', () => {
    const findings = awsSolutionsFindings(synthesized.app);
    expect(findings, findings.join('\n')).toEqual([]);
  });
});

describe('When deletionProtection is on (an existing stack)', () => {
  let template: Template;
  beforeAll(() => {
    template = synthesizeCirrusStack({ deletionProtection: true }).template;
  }, synthTimeout);

  it('should protect every table and the cluster, still kept except when their creation rolls back', () => {
    template.allResources('AWS::DynamoDB::Table', { DeletionPolicy: 'RetainExceptOnCreate', Properties: { DeletionProtectionEnabled: true } });
    template.hasResource('AWS::RDS::DBCluster', { DeletionPolicy: 'RetainExceptOnCreate', Properties: { DeletionProtection: true } });
  });
});

describe('When every prop is customized', () => {
  let im: CirrusIm;
  let template: Template;
  let topic: sns.Topic;

  beforeAll(() => {
    const stack = new Stack(testApp(), 'Host');
    topic = new sns.Topic(stack, 'Alarms');
    im = new CirrusIm(stack, 'Im', {
      messageRetentionDays: 30,
      seqSettleSeconds: 60,
      inlinePushMax: 25,
      onlineIndexMinMembers: 500,
      multiLoginPolicy: 'pcUnlimited',
      aurora: { minCapacity: 0.5, maxCapacity: 8, engineVersion: '16.2' },
      logRetention: logs.RetentionDays.ONE_WEEK,
      logLevel: 'debug',
      stageName: 'v1',
      throttle: { rateLimit: 200, burstLimit: 100 },
      configureApiGatewayLogRole: false,
      webSocketAccessLogs: true,
      alarmTopic: topic,
    });
    template = Template.fromStack(stack);
  }, synthTimeout);

  it('should pass the settings to every function', () => {
    for (const fn of Object.values(im.functions)) {
      expect(template.toJSON().Resources[logicalId(fn)].Properties.Environment.Variables).toMatchObject({
        MESSAGE_TTL_DAYS: '30',
        SEQ_SETTLE_MS: '60000',
        INLINE_PUSH_MAX: '25',
        ONLINE_INDEX_MIN_MEMBERS: '500',
        MULTI_LOGIN_POLICY: 'pcUnlimited',
        LOG_LEVEL: 'debug',
      });
    }
  });

  it("should set every function's application log level to the chosen level, system lines still at WARN", () => {
    for (const fn of Object.values(im.functions)) {
      expect(template.toJSON().Resources[logicalId(fn)].Properties.LoggingConfig).toMatchObject({ LogFormat: 'JSON', ApplicationLogLevel: 'DEBUG', SystemLogLevel: 'WARN' });
    }
  });

  it('should write the WebSocket access log when asked for', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: 'v1',
      AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] }, Format: Match.stringLikeRegexp('requestId') },
    });
  });

  it('should point CONNECTIONS_ENDPOINT and the WebSocket URL at the chosen stage', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: 'v1',
      DefaultRouteSettings: { ThrottlingBurstLimit: 100, ThrottlingRateLimit: 200 },
    });
    const endpoint = template.toJSON().Resources[logicalId(im.functions.push)].Properties.Environment.Variables.CONNECTIONS_ENDPOINT;
    expect(endpoint['Fn::Join'][1].at(-1)).toBe('/v1');
  });

  it('should scale Aurora within the chosen capacity without auto-pause, on the chosen engine version', () => {
    template.hasResourceProperties('AWS::RDS::DBCluster', {
      EngineVersion: '16.2',
      ServerlessV2ScalingConfiguration: { MinCapacity: 0.5, MaxCapacity: 8, SecondsUntilAutoPause: Match.absent() },
    });
  });

  it('should keep logs for the chosen retention', () => {
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
  });

  it('should notify the alarm topic from every dead-letter alarm', () => {
    template.allResourcesProperties('AWS::CloudWatch::Alarm', { AlarmActions: [{ Ref: logicalId(topic) }] });
  });

  it('should leave the account-wide API Gateway logging role alone', () => {
    template.resourceCountIs('AWS::ApiGateway::Account', 0);
  });
});
