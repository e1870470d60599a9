import { createECDH } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { App, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { functions } from '../../core/manifest';
import { CirrusIm, type CirrusImProps } from '../../lib/cirrus-im';
import { MAX_STACK_NAME_LENGTH, resolveCirrusImProps } from '../../lib/cirrus-im-props';
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
    ['a pushMaxDevices of 0', { pushMaxDevices: 0 }, /^pushMaxDevices must be a whole number of devices per user, from 1 to 100; got 0\.$/],
    ['a fractional pushMaxDevices', { pushMaxDevices: 2.5 }, /^pushMaxDevices must be/],
    ['a pushMaxDevices above 100', { pushMaxDevices: 101 }, /^pushMaxDevices must be/],
    ['a negative limits rate', { limits: { user: { perSecond: -1 } } }, /^limits.user.perSecond must be a number from 0 \(no limit\) to 100000; got -1\.$/],
    ['a fractional limits burst', { limits: { connection: { burst: 2.5 } } }, /^limits.connection.burst must be a whole number from 1 to 1000000; got 2.5\.$/],
    ['a limits window of 0 seconds', { limits: { window: { seconds: 0 } } }, /^limits.window.seconds must be a whole number from 1 to 3600; got 0\.$/],
    ['an unknown limit', { limits: { group: {} } as never }, /^limits has unknown fields: group\.$/],
  ])('should reject %s with a plain sentence', (_, props, message) => {
    const stack = new Stack(new App(), 'Host');
    expect(() => new CirrusIm(stack, 'Im', props)).toThrow(message);
  });

  it('should reject a stack name too long for the generated names in the functions\' environments', () => {
    // Without bundling: the names are checked before any function is built.
    const stack = new Stack(testApp(), 'Host', { stackName: 'c'.repeat(MAX_STACK_NAME_LENGTH + 1) });
    expect(() => new CirrusIm(stack, 'Im')).toThrow(/^The stack name must be at most 100 characters/);
    expect(() => new CirrusIm(new Stack(testApp(), 'Host', { stackName: 'c'.repeat(MAX_STACK_NAME_LENGTH) }), 'Im')).not.toThrow();
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
      pushMaxDevices: 3,
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
    // The device cap goes to the functions registering devices only.
    for (const [key, fn] of Object.entries(im.functions)) {
      const variables = template.toJSON().Resources[logicalId(fn)].Properties.Environment.Variables;
      if (key === 'http' || key === 'wsMessage') expect(variables, key).toMatchObject({ PUSH_MAX_DEVICES: '3' });
      else expect(variables, key).not.toHaveProperty('PUSH_MAX_DEVICES');
    }
  });

  it("should let every application line through Lambda's filter (the Logger filters by LOG_LEVEL), system lines still at WARN", () => {
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

describe('When offlinePush is invalid', () => {
  // A real VAPID key pair's public key (65-byte uncompressed P-256 point, base64url).
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const publicKey = ecdh.getPublicKey().toString('base64url');
  const apns = { keyId: 'ABC123DEFG', teamId: 'TEAM123456', bundleIds: ['com.example.chat'], keyParameter: '/chat/push/apns-key' };
  const fcm = { projectId: 'example-chat', serviceAccountParameter: '/chat/push/fcm-service-account' };
  const webpush = { publicKey, subject: 'mailto:ops@example.com', privateKeyParameter: '/chat/push/vapid-private-key' };
  const offPoint = Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)]).toString('base64url');
  const compressed = Buffer.concat([Buffer.from([2]), ecdh.getPublicKey().subarray(1, 33)]).toString('base64url');

  it.each<[string, unknown, RegExp]>([
    ['no provider', {}, /^offlinePush must configure at least one provider: apns, fcm or webpush/],
    ['not an object', 'apns', /^offlinePush must be an object with apns, fcm and\/or webpush; got "apns"/],
    ['an unknown provider', { apns, sns: {} }, /^offlinePush.sns is not a push provider: use apns \(Apple\), fcm \(Firebase Cloud Messaging\) or webpush \(browsers\)/],
    ['an unknown setting', { apns: { ...apns, keyPath: 'AuthKey.p8' } }, /^offlinePush.apns.keyPath is not a setting of apns: its settings are keyId, teamId, bundleIds, keyParameter/],
    ['a key id of 9 characters', { apns: { ...apns, keyId: 'ABC123DEF' } }, /^offlinePush.apns.keyId must be the 10-character Key ID of the APNs key .*; got "ABC123DEF"\.$/],
    ['a lowercase key id', { apns: { ...apns, keyId: 'abc123defg' } }, /^offlinePush.apns.keyId must be the 10-character Key ID/],
    ['a team id with a hyphen', { apns: { ...apns, teamId: 'TEAM-12345' } }, /^offlinePush.apns.teamId must be the 10-character Team ID of the Apple developer account/],
    ['a missing team id', { apns: { ...apns, teamId: undefined } }, /^offlinePush.apns.teamId must be .*; got undefined\.$/],
    ['no bundle id', { apns: { ...apns, bundleIds: [] } }, /^offlinePush.apns.bundleIds must list 1 to 50 bundle ids/],
    ['too many bundle ids', { apns: { ...apns, bundleIds: Array.from({ length: 51 }, (_, i) => `com.example.app${i}`) } }, /^offlinePush.apns.bundleIds must list 1 to 50 bundle ids/],
    ['a bundle id that is not reverse-DNS', { apns: { ...apns, bundleIds: ['com.example.chat', 'chat'] } }, /^offlinePush.apns.bundleIds\[1\] must be a bundle id in reverse-DNS form such as com.example.chat .*; got "chat"\.$/],
    ['a bundle id with an underscore', { apns: { ...apns, bundleIds: ['com.example.my_chat'] } }, /^offlinePush.apns.bundleIds\[0\] must be a bundle id in reverse-DNS form/],
    ['a bundle id listed twice', { apns: { ...apns, bundleIds: ['com.example.chat', 'com.example.Chat'] } }, /^offlinePush.apns.bundleIds lists com.example.Chat twice \(bundle ids do not differ by case\)/],
    ['an APNs key parameter with a space', { apns: { ...apns, keyParameter: '/chat/push/apns key' } }, /^offlinePush.apns.keyParameter must contain only letters, digits, _ . - and \//],
    ['a hierarchical parameter name without its leading slash', { apns: { ...apns, keyParameter: 'chat/push/apns-key' } }, /^offlinePush.apns.keyParameter must start with \/ when it has a hierarchy/],
    ['a parameter name under aws', { apns: { ...apns, keyParameter: '/aws/push/apns-key' } }, /^offlinePush.apns.keyParameter must not begin with "aws" or "ssm"/],
    ['a parameter name with an empty level', { apns: { ...apns, keyParameter: '/chat//apns-key' } }, /^offlinePush.apns.keyParameter must have no empty level/],
    ['a parameter name 16 levels deep', { apns: { ...apns, keyParameter: `/${Array.from({ length: 16 }, (_, i) => `l${i}`).join('/')}` } }, /^offlinePush.apns.keyParameter must have at most 15 levels/],
    ['a parameter name too long for its ARN', { apns: { ...apns, keyParameter: `/chat/${'k'.repeat(1000)}` } }, /^offlinePush.apns.keyParameter must be at most 1011 characters counted with its ARN/],
    ['the ARN of another service', { fcm: { ...fcm, serviceAccountParameter: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:fcm' } }, /^offlinePush.fcm.serviceAccountParameter must be a parameter name such as \/myapp\/push\/apns-key, or a parameter ARN/],
    ['an empty parameter name', { fcm: { ...fcm, serviceAccountParameter: '' } }, /^offlinePush.fcm.serviceAccountParameter must contain only letters/],
    ['a project id with capitals', { fcm: { ...fcm, projectId: 'Example-Chat' } }, /^offlinePush.fcm.projectId must be the Firebase project ID \(6 to 30 lowercase letters/],
    ['a project id of 5 characters', { fcm: { ...fcm, projectId: 'chats' } }, /^offlinePush.fcm.projectId must be the Firebase project ID/],
    ['a project id ending with a hyphen', { fcm: { ...fcm, projectId: 'example-chat-' } }, /^offlinePush.fcm.projectId must be the Firebase project ID/],
    ['a VAPID public key in base64 with padding', { webpush: { ...webpush, publicKey: `${ecdh.getPublicKey().toString('base64')}=` } }, /^offlinePush.webpush.publicKey must be base64url without padding/],
    ['a compressed VAPID public key', { webpush: { ...webpush, publicKey: compressed } }, /^offlinePush.webpush.publicKey must decode to the 65 bytes of an uncompressed P-256 point \(0x04, x, y\); it decodes to 33 bytes starting 0x02/],
    ['a VAPID public key off the curve', { webpush: { ...webpush, publicKey: offPoint } }, /^offlinePush.webpush.publicKey must be a point on the P-256 curve/],
    ['the VAPID private key given as the public key', { webpush: { ...webpush, publicKey: ecdh.getPrivateKey().toString('base64url') } }, /^offlinePush.webpush.publicKey must decode to the 65 bytes .* it decodes to 32 bytes/],
    ['a subject that is an http URL', { webpush: { ...webpush, subject: 'http://example.com/contact' } }, /^offlinePush.webpush.subject must be a mailto: address or an https: URL/],
    ['a subject that is a bare address', { webpush: { ...webpush, subject: 'ops@example.com' } }, /^offlinePush.webpush.subject must be a mailto: address or an https: URL/],
    ['a mailto: subject without an address', { webpush: { ...webpush, subject: 'mailto:ops' } }, /^offlinePush.webpush.subject must be a mailto: address/],
    ['two secrets in one parameter', { apns, webpush: { ...webpush, privateKeyParameter: '/chat/push/apns-key' } }, /^offlinePush.webpush.privateKeyParameter names the same parameter as offlinePush.apns.keyParameter \(\/chat\/push\/apns-key\): each secret needs a parameter of its own/],
    ['two secrets in one parameter, once by ARN', { apns, fcm: { ...fcm, serviceAccountParameter: 'arn:aws:ssm:eu-west-1:123456789012:parameter/chat/push/apns-key' } }, /^offlinePush.fcm.serviceAccountParameter names the same parameter as offlinePush.apns.keyParameter/],
    ['a provider that is not an object', { fcm: 'example-chat' }, /^offlinePush.fcm must be an object with projectId, serviceAccountParameter/],
  ])('should reject %s with a plain sentence', (_, offlinePush, message) => {
    const stack = new Stack(new App(), 'Host');
    expect(() => new CirrusIm(stack, 'Im', { offlinePush: offlinePush as CirrusImProps['offlinePush'] })).toThrow(message);
    expect(stack.node.findAll().filter((c) => c.node.path.startsWith('Host/Im/'))).toHaveLength(0);
  });

  it('should reject a setting only known at deploy', () => {
    const stack = new Stack(new App(), 'Host');
    expect(() => new CirrusIm(stack, 'Im', { offlinePush: { apns: { ...apns, keyParameter: Fn.importValue('ApnsKeyParameter') } } })).toThrow(
      /^offlinePush settings must be literal values, not tokens resolved at deploy/,
    );
  });

  it('should take every provider, parameters by name or ARN, and an https subject', () => {
    const resolved = resolveCirrusImProps({
      offlinePush: {
        apns: { ...apns, bundleIds: ['com.example.chat', 'com.example.chat.dev', 'io.example-corp.Chat2'], keyParameter: 'apns-key' },
        fcm: { ...fcm, serviceAccountParameter: 'arn:aws:ssm:us-east-1:123456789012:parameter/chat/push/fcm' },
        webpush: { ...webpush, subject: 'https://chat.example.com/contact' },
      },
    });
    expect(resolved.offlinePush?.settings).toEqual({
      apns: { ...apns, bundleIds: ['com.example.chat', 'com.example.chat.dev', 'io.example-corp.Chat2'], keyParameter: 'apns-key' },
      fcm: { ...fcm, serviceAccountParameter: 'arn:aws:ssm:us-east-1:123456789012:parameter/chat/push/fcm' },
      webpush: { ...webpush, subject: 'https://chat.example.com/contact' },
    });
    expect(resolveCirrusImProps({}).offlinePush).toBeUndefined();
  });
});
