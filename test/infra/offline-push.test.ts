/**
 * Offline push in the synthesized template: the settings reach exactly the functions that need
 * them (compiled into their bundles, never a secret), and a function with `pushCredentials` may
 * read exactly the SecureString parameters they name — in the stack as locally (the notify
 * function is the one that sends).
 */
import { createECDH } from 'node:crypto';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { beforeAll, describe, expect, it } from 'vitest';
import { functionPolicy } from '../../core/iam';
import { commonEnv, functions, type FunctionKey } from '../../core/manifest';
import type { PushSettings } from '../../core/offline-push/types';
import { CirrusIm, type OfflinePushProps } from '../../lib/cirrus-im';
import type { HandlerFunction } from '../../lib/handler-function';
import { accessesOf, allows, resolvePolicy, type LocalArns } from '../../local/iam';
import { renderPermissions } from '../../scripts/permissions-doc';
import { awsSolutionsFindings, logicalId, synthesizeCirrusStack, synthTimeout, testApp, type Synthesized } from './support';

const keys = Object.keys(functions) as FunctionKey[];
const readers = keys.filter((key) => functions[key].pushCredentials);
const settingsReaders = keys.filter((key) => functions[key].pushSettings || functions[key].pushCredentials);

const ecdh = createECDH('prime256v1');
ecdh.generateKeys();
const offlinePush = {
  apns: { keyId: 'ABC123DEFG', teamId: 'TEAM123456', bundleIds: ['com.example.chat', 'com.example.chat.dev'], keyParameter: '/chat/push/apns-key' },
  fcm: { projectId: 'example-chat', serviceAccountParameter: 'arn:aws:ssm:eu-west-1:123456789012:parameter/chat/push/fcm-service-account' },
  webpush: { publicKey: ecdh.getPublicKey().toString('base64url'), subject: 'mailto:ops@example.com', privateKeyParameter: 'vapid-private-key' },
} satisfies OfflinePushProps & PushSettings;

function envOf(synth: { stack: Stack; template: Template }, im: CirrusIm, key: FunctionKey): Record<string, unknown> {
  return synth.template.toJSON().Resources[logicalId(im.functions[key])].Properties.Environment.Variables;
}
const compiledOf = (im: CirrusIm, key: FunctionKey) => (im.functions[key].node.scope as HandlerFunction).compiledSettings;

/** Every statement of a function's role. */
function statementsOf(template: Template, im: CirrusIm, key: FunctionKey): { Action: string | string[]; Resource: unknown }[] {
  const roleId = logicalId(im.functions[key].role!);
  return Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } })).flatMap((policy) => policy.Properties.PolicyDocument.Statement);
}

/** The three parameters' ARNs as the template writes them. */
const parameterArns = [
  { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ssm:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':parameter/chat/push/apns-key']] },
  'arn:aws:ssm:eu-west-1:123456789012:parameter/chat/push/fcm-service-account',
  { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ssm:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':parameter/vapid-private-key']] },
];

describe('When CirrusStack is synthesized without offlinePush', () => {
  let synth: Synthesized;
  beforeAll(() => {
    synth = synthesizeCirrusStack();
  }, synthTimeout);

  it('should give no function PUSH_SETTINGS and no parameter of push credentials', () => {
    expect(readers).toEqual(['notify']);
    for (const key of keys) {
      expect(envOf(synth, synth.stack.im, key), key).not.toHaveProperty(commonEnv.PUSH_SETTINGS);
      expect(compiledOf(synth.stack.im, key), key).not.toHaveProperty(commonEnv.PUSH_SETTINGS);
    }
    const ssmReads = statementsOf(synth.template, synth.stack.im, 'notify').filter((s) => [s.Action].flat().some((a) => a.startsWith('ssm:')));
    expect(ssmReads).toEqual([]);
  });
});

describe('When CirrusStack is synthesized with offlinePush', () => {
  let synth: Synthesized;
  let without: Synthesized;
  beforeAll(() => {
    synth = synthesizeCirrusStack({ offlinePush });
    without = synthesizeCirrusStack();
  }, synthTimeout);

  it('should compile the settings into the bundles of exactly the functions that need them, outside Lambda\'s environment', () => {
    expect(settingsReaders.sort()).toEqual(['http', 'notify', 'wsMessage']);
    for (const key of keys) {
      expect(envOf(synth, synth.stack.im, key), key).not.toHaveProperty(commonEnv.PUSH_SETTINGS);
      const compiled = compiledOf(synth.stack.im, key)[commonEnv.PUSH_SETTINGS];
      if (settingsReaders.includes(key)) expect(JSON.parse(compiled), key).toEqual(offlinePush);
      else expect(compiled, key).toBeUndefined();
    }
  });

  it('should let a function with pushCredentials GetParameter exactly the three parameters, by their ARNs, and no other function any of them', () => {
    for (const key of keys) {
      const reads = statementsOf(synth.template, synth.stack.im, key).filter((s) => JSON.stringify(s.Resource).includes('push/') || JSON.stringify(s.Resource).includes('vapid'));
      if (key === 'notify') {
        expect(reads).toEqual([{ Effect: 'Allow', Action: 'ssm:GetParameter', Resource: parameterArns }]);
      } else {
        expect(reads, key).toEqual([]);
      }
    }
  });

  it('should add no resource: nothing new is billed while idle', () => {
    const resources = (s: Synthesized) => Object.entries(s.template.toJSON().Resources as Record<string, { Type: string }>).map(([id, r]) => `${r.Type} ${id}`).sort();
    expect(resources(synth)).toEqual(resources(without));
  });

  it('should name the parameters, and hold no secret, only in the roles of the readers', () => {
    const template = JSON.stringify(synth.template.toJSON());
    // The parameter names appear in the readers' statements only (the settings are in the bundles).
    const mentions = template.split('chat/push/apns-key').length - 1;
    expect(mentions).toBe(readers.length);
    expect(template).not.toContain(ecdh.getPrivateKey().toString('base64url'));
  });

  it('should be clean under cdk-nag', () => {
    const findings = awsSolutionsFindings(synth.app);
    expect(findings, findings.join('\n')).toEqual([]);
  });
});

describe('When the push credentials are encrypted with a customer managed key', () => {
  it('should let the readers, and only them, decrypt with it through Parameter Store', () => {
    const stack = new Stack(testApp(), 'Host');
    const key = new kms.Key(stack, 'PushKey');
    const im = new CirrusIm(stack, 'Chat', { offlinePush: { ...offlinePush, parameterKey: key } });
    const template = Template.fromStack(stack);
    const keyPolicy = template.toJSON().Resources[logicalId(key)].Properties.KeyPolicy.Statement as { Action: string | string[]; Principal: unknown; Condition?: unknown }[];
    const decrypts = keyPolicy.filter((s) => [s.Action].flat().includes('kms:Decrypt'));
    expect(decrypts).toHaveLength(1);
    expect(decrypts[0].Principal).toEqual({ AWS: { 'Fn::GetAtt': [logicalId(im.functions.notify.role!), 'Arn'] } });
    expect(JSON.stringify(decrypts[0].Condition)).toContain('kms:ViaService');
    expect(JSON.stringify(decrypts[0].Condition)).toContain('ssm.');
    // No other function's role appears in the key policy.
    for (const other of keys.filter((k) => k !== 'notify')) expect(JSON.stringify(keyPolicy), other).not.toContain(logicalId(im.functions[other].role!));
  });
});

describe('When the local runtime checks a reader\'s requests', () => {
  const REGION = 'us-east-1';
  const ACCOUNT = '000000000000';
  const arns: LocalArns = {
    region: REGION,
    account: ACCOUNT,
    resolve: (resource) => {
      if (resource.kind !== 'pushCredentials') return `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:x:*`;
      const name = { apns: offlinePush.apns.keyParameter, fcm: offlinePush.fcm.serviceAccountParameter, webpush: offlinePush.webpush.privateKeyParameter }[resource.provider];
      return name.startsWith('arn:') ? name : `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/${name.replace(/^\//, '')}`;
    },
    secretArn: (id) => id,
    apiId: 'api',
    stage: 'live',
  };
  const allowed = (key: FunctionKey, settings: PushSettings | undefined, name: string) =>
    accessesOf('SSM', 'GetParameter', { Name: name, WithDecryption: true }, arns).every((access) => allows(resolvePolicy(functionPolicy(key, { webhooks: false, offlinePush: settings }), arns), access));

  it('should allow GetParameter on exactly the configured parameters, by name or ARN, to the readers only', () => {
    expect(allowed('notify', offlinePush, '/chat/push/apns-key')).toBe(true);
    expect(allowed('notify', offlinePush, `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/chat/push/apns-key`)).toBe(true);
    expect(allowed('notify', offlinePush, 'arn:aws:ssm:eu-west-1:123456789012:parameter/chat/push/fcm-service-account')).toBe(true);
    expect(allowed('notify', offlinePush, 'vapid-private-key')).toBe(true);
    // Another parameter, a provider not configured, a function that only reads the settings.
    expect(allowed('notify', offlinePush, '/chat/push/other')).toBe(false);
    expect(allowed('notify', { apns: offlinePush.apns }, 'vapid-private-key')).toBe(false);
    expect(allowed('notify', undefined, '/chat/push/apns-key')).toBe(false);
    expect(allowed('http', offlinePush, '/chat/push/apns-key')).toBe(false);
    expect(allowed('wsMessage', offlinePush, '/chat/push/apns-key')).toBe(false);
  });
});

describe('The permissions table of docs/deploy.md', () => {
  it('should list the push credentials\' parameters for a function with pushCredentials, and only for it', () => {
    const rows = renderPermissions().split('\n').filter((row) => row.startsWith('| `'));
    for (const row of rows) {
      const reads = row.includes('APNs key parameter (offlinePush): GetParameter') && row.includes('FCM service account parameter (offlinePush): GetParameter') && row.includes('VAPID private key parameter (offlinePush): GetParameter');
      expect(reads, row).toBe(row.startsWith('| `notify` |'));
    }
  });
});
