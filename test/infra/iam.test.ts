/**
 * The roles as synthesized against the policies the local runtime enforces (core/iam.ts):
 * for every function, the (action, resource) pairs of its role in the template must be
 * exactly those of `functionPolicy`, so a grant that works locally works on AWS and a
 * grant AWS would refuse fails locally.
 */
import { Stack } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { functionPolicy, policyPairs, resourceName } from '../../core/iam';
import { functions, queues, tables, type FunctionKey, type QueueKey, type TableKey } from '../../core/manifest';
import type { HandlerFunction } from '../../lib/handler-function';
import type { PushSettings } from '../../core/offline-push/types';
import type { SchemaMigrations } from '../../lib/schema-migrations';
import { logicalId, synthesizeCirrusStack, synthTimeout, type Synthesized } from './support';

const keys = Object.keys(functions) as FunctionKey[];

interface TemplateStatement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

/** Every statement of a role, in its inline and managed policies. */
function roleStatements(synth: Synthesized, roleId: string): TemplateStatement[] {
  return ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy'].flatMap((type) =>
    Object.values(synth.template.findResources(type, { Properties: { Roles: [{ Ref: roleId }] } })).flatMap(
      (policy) => policy.Properties.PolicyDocument.Statement as TemplateStatement[],
    ),
  );
}

/**
 * The template's rendering of every resource a policy may name, written from the
 * constructs' logical ids (not through the construct's own mapping), to the names
 * `resourceName` gives them.
 */
function resourceNames(synth: Synthesized, key: FunctionKey): Map<string, string> {
  const { im } = synth.stack;
  const getAtt = (construct: Parameters<typeof logicalId>[0], attribute = 'Arn') => JSON.stringify({ 'Fn::GetAtt': [logicalId(construct), attribute] });
  const names = new Map<string, string>();
  for (const table of Object.keys(tables) as TableKey[]) {
    names.set(getAtt(im.tables[table]), `table:${table}`);
    for (const index of ('indexes' in tables[table] ? tables[table].indexes : []) as readonly { name: string }[]) {
      names.set(JSON.stringify({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId(im.tables[table]), 'Arn'] }, `/index/${index.name}`]] }), `table:${table}/index/${index.name}`);
    }
  }
  for (const queue of Object.keys(queues) as QueueKey[]) {
    names.set(getAtt(im.queues[queue]), `queue:${queue}`);
    names.set(getAtt(im.deadLetterQueues[queue]), `deadLetterQueue:${queue}`);
  }
  names.set(getAtt(im.deadLetters), 'deadLetters');
  for (const fn of keys) names.set(getAtt(im.functions[fn]), `function:${fn}`);
  for (const table of Object.keys(tables) as TableKey[]) {
    if ('stream' in tables[table]) names.set(getAtt(im.tables[table], 'StreamArn'), `tableStream:${table}`);
  }
  names.set('"*"', '*');
  const stack = Stack.of(im);
  // The SecureString parameters, by their exact ARNs.
  names.set(JSON.stringify(stack.resolve(im.signingSecret.parameterArn)), 'secret:signingKey');
  names.set(JSON.stringify(stack.resolve(im.adminSecret.parameterArn)), 'secret:adminSecret');
  if (im.webhookSigningSecret) names.set(JSON.stringify(stack.resolve(im.webhookSigningSecret.parameterArn)), 'secret:webhookSecret');
  // The offline push credentials' parameters, by name (ARN in this stack's partition, region and account).
  for (const [provider, name] of Object.entries({ apns: offlinePush.apns.keyParameter, fcm: offlinePush.fcm.serviceAccountParameter })) {
    names.set(JSON.stringify({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ssm:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:parameter/${name.replace(/^\//, '')}`]] }), `pushCredentials:${provider}`);
  }
  names.set(JSON.stringify(stack.resolve(im.cluster.clusterArn)), 'historyCluster');
  // The Data API is given the credentials through the cluster's secret attachment.
  names.set(JSON.stringify(stack.resolve(im.cluster.secret!.secretArn)), 'historyCredentials');
  names.set(JSON.stringify({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId(im.mediaBucket), 'Arn'] }, '/media/*']] }), 'mediaObjects');
  names.set(JSON.stringify({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId(im.mediaBucket), 'Arn'] }, '/exports/*']] }), 'exportObjects');
  names.set(getAtt(im.mediaBucket), 'mediaBucket');
  names.set(getAtt((im.functions[key].node.scope as HandlerFunction).logGroup), 'logGroup');
  return names;
}

/** The pairs of a role in the template, its resources named as `resourceName` names them. */
function synthesizedPairs(synth: Synthesized, key: FunctionKey): string[] {
  const names = resourceNames(synth, key);
  const apiId = logicalId(synth.stack.im.webSocketApi);
  const statements = roleStatements(synth, logicalId(synth.stack.im.functions[key].role!)).map((statement) => {
    expect(statement.Effect).toBe('Allow');
    return {
      actions: [statement.Action].flat(),
      resources: [statement.Resource].flat().map((resource) => {
        const json = JSON.stringify(resource);
        if (names.has(json)) return names.get(json)!;
        // arn:<partition>:execute-api:<region>:<account>:<api id>/live/*/@connections/*
        if (json.includes(`{"Ref":"${apiId}"}`) && json.endsWith(`"/live/*/@connections/*"]]}`) && json.includes('":execute-api:"')) return 'connections';
        return `unknown ${json}`;
      }),
      conditions: statement.Condition,
    };
  });
  return policyPairs(statements);
}

function derivedPairs(key: FunctionKey, webhooks: boolean, push?: PushSettings): string[] {
  return policyPairs(functionPolicy(key, { webhooks, offlinePush: push }).map((s) => ({ actions: s.actions, resources: s.resources.map(resourceName), conditions: s.conditions })));
}

const offlinePush = {
  apns: { keyId: 'ABC123DEFG', teamId: 'TEAM123456', bundleIds: ['com.example.chat'], keyParameter: '/chat/push/apns-key' },
  fcm: { projectId: 'example-chat', serviceAccountParameter: 'fcm-service-account' },
} satisfies PushSettings;

describe.each([
  ['without webhooks', {}, false, undefined],
  ['with webhooks', { webhooks: { url: 'https://app.example.com/hooks' } }, true, undefined],
  ['with offline push', { offlinePush }, false, offlinePush],
] as const)('When CirrusStack is synthesized %s', (_label, props, webhooks, push) => {
  let synth: Synthesized;
  beforeAll(() => {
    synth = synthesizeCirrusStack(props);
  }, synthTimeout);

  it.each(keys)("should give %s's role exactly the policy the local runtime enforces", (key) => {
    expect(synthesizedPairs(synth, key)).toEqual(derivedPairs(key, webhooks, push));
  });

  it('should let the migrations provider invoke the unqualified migrate function, read its state and start its waiter, nothing more', () => {
    const { providerRole, pollRole, provider } = synth.stack.im.node.findChild('SchemaMigrations') as SchemaMigrations;
    const migrateArn = { 'Fn::GetAtt': [logicalId(synth.stack.im.functions.migrate), 'Arn'] };
    const waiter = provider.node.findChild('waiter-state-machine');
    const notLogs = (s: { Action: string | string[] }) => ![s.Action].flat().every((a) => a.startsWith('logs:'));
    expect(roleStatements(synth, logicalId(providerRole)).filter(notLogs)).toEqual([
      { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: migrateArn },
      { Effect: 'Allow', Action: 'lambda:GetFunction', Resource: migrateArn },
      { Effect: 'Allow', Action: 'states:StartExecution', Resource: { Ref: logicalId(waiter) } },
    ]);
    // The polling side (isComplete) invokes the same unqualified function.
    expect(roleStatements(synth, logicalId(pollRole)).filter(notLogs)).toEqual([
      { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: migrateArn },
      { Effect: 'Allow', Action: 'lambda:GetFunction', Resource: migrateArn },
    ]);
  });

  it('should grant no wildcard action and no table, queue or secret beyond those named', () => {
    for (const key of keys) {
      for (const pair of synthesizedPairs(synth, key)) {
        expect(pair.split(' ')[0], `${key}: ${pair}`).not.toContain('*');
        expect(pair, key).not.toMatch(/^\S+ unknown/);
      }
    }
  });
});
