import { Match } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { beforeAll, describe, expect, it } from 'vitest';
import { commonEnv, functions, queues, type FunctionKey } from '../../core/manifest';
import { resolveCirrusImProps } from '../../lib/cirrus-im-props';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CirrusIm } from '../../lib/cirrus-im';
import { HandlerFunction } from '../../lib/handler-function';
import { MAX_WATCHED_IDS, WEBHOOK_CALLBACKS } from '../../core/webhooks/settings';
import { awsSolutionsFindings, logicalId, synthesizeCirrusStack, synthTimeout, testApp, type Synthesized } from './support';



const webhookVars = [commonEnv.WEBHOOK_URL, commonEnv.WEBHOOK_TIMEOUT_MS, commonEnv.WEBHOOK_CALLBACKS, commonEnv.WEBHOOK_SECRET_ID];
const keys = Object.keys(functions) as FunctionKey[];

const webhooks = {
  url: 'https://app.example.com/cirrus-hooks',
  callbacks: {
    beforeSendMessage: { enabled: true, failurePolicy: 'closed' as const },
    afterSendMessage: { enabled: true, skipContentTypes: [110] },
    beforeCreateGroup: { enabled: true, userIds: ['vip-1', 'vip-2'] },
    afterJoinGroup: { enabled: true, groupIds: ['lobby'], userIds: ['vip-1'] },
    afterUserOnline: { enabled: false },
  },
};

function envOf(synth: Synthesized, key: FunctionKey): Record<string, unknown> {
  const fn = synth.template.toJSON().Resources[logicalId(synth.stack.im.functions[key])];
  return fn.Properties.Environment.Variables;
}

/** Every statement granted to a function's role. */
function statementsOf(synth: Synthesized, key: FunctionKey): any[] {
  const roleId = logicalId(synth.stack.im.functions[key].role!);
  return ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy'].flatMap((type) =>
    Object.values(synth.template.findResources(type, { Properties: { Roles: [{ Ref: roleId }] } })).flatMap((policy) => policy.Properties.PolicyDocument.Statement),
  );
}

const mentions = (statements: any[], resolved: string) => JSON.stringify(statements).includes(resolved);
/** The names of the SecureString parameters the construct's custom resource creates. */
const createdParameters = (synth: { template: Template }) =>
  Object.values(synth.template.findResources('Custom::CirrusSecureParameters')).flatMap((r: any) => r.Properties.Parameters.map((p: { Name: string }) => p.Name));

describe('When CirrusStack is synthesized without webhooks', () => {
  let synth: Synthesized;
  beforeAll(() => {
    synth = synthesizeCirrusStack();
  }, synthTimeout);

  it('should give no function a webhook setting and create no webhook secret', () => {
    for (const key of keys) for (const name of webhookVars) expect(envOf(synth, key), `${key} ${name}`).not.toHaveProperty(name);
    expect(synth.stack.im.webhookSigningSecret).toBeUndefined();
    expect(createdParameters(synth).map((name) => name.split('/').pop())).toEqual(['signing-key', 'admin-secret']);
    // The only Secrets Manager secret left is the database's (the Data API takes nothing else).
    synth.template.resourceCountIs('AWS::SecretsManager::Secret', 1);
  });

  it('should still create the webhook queue, its DLQ and its consumer, with the event source disabled (no idle polling)', () => {
    expect(synth.stack.im.queues.webhook).toBeDefined();
    expect(synth.stack.im.deadLetterQueues.webhook).toBeDefined();
    synth.template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: queues.webhook.visibilityTimeoutSeconds,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(synth.stack.im.deadLetterQueues.webhook), 'Arn'] }, maxReceiveCount: queues.webhook.maxReceiveCount },
    });
    synth.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalId(synth.stack.im.queues.webhook), 'Arn'] },
      FunctionName: { Ref: logicalId(synth.stack.im.functions.webhook) },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      Enabled: false,
    });
    // No other SQS event source is left to poll: the archive reads DynamoDB Streams.
    expect(Object.values(synth.template.findResources('AWS::Lambda::EventSourceMapping')).filter((m) => JSON.stringify(m.Properties.EventSourceArn).includes('Queue'))).toHaveLength(1);
  });

  it('should give the webhook dead-letter queue no alarm (it cannot fill, and an alarm is billed idle), the shared DeadLetters queue its own', () => {
    const alarmed = Object.values(synth.template.findResources('AWS::CloudWatch::Alarm')).map((a) => JSON.stringify(a.Properties.Dimensions));
    expect(alarmed.some((d) => d.includes(logicalId(synth.stack.im.deadLetterQueues.webhook)))).toBe(false);
    // The shared dead-letter queue's one alarm (no queue of the message path is left).
    expect(alarmed.some((d) => d.includes(logicalId(synth.stack.im.deadLetters)))).toBe(true);
    synth.template.resourceCountIs('AWS::CloudWatch::Alarm', 1);
  });
});

describe('When CirrusStack is synthesized with webhooks', () => {
  let synth: Synthesized;
  let secretId: string;
  beforeAll(() => {
    synth = synthesizeCirrusStack({ webhooks });
    secretId = JSON.stringify(synth.stack.resolve(synth.stack.im.webhookSigningSecret!.parameterArn));
  }, synthTimeout);

  it('should poll the webhook queue and alarm on its dead-letter queue', () => {
    synth.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalId(synth.stack.im.queues.webhook), 'Arn'] },
      Enabled: true,
    });
    synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(synth.stack.im.deadLetterQueues.webhook), 'QueueName'] } }],
      Threshold: 1,
    });
    // Webhook and the shared DeadLetters queue.
    synth.template.resourceCountIs('AWS::CloudWatch::Alarm', 2);
  });

  it('should create a 64-character signing secret as a SecureString parameter, retained by default', () => {
    synth.template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    const [resource] = Object.values(synth.template.findResources('Custom::CirrusSecureParameters')) as any[];
    expect(resource.DeletionPolicy).toBe('RetainExceptOnCreate');
    expect(resource.Properties.Retain).toBe('true');
    // 48 random bytes, base64url: 64 characters.
    expect(resource.Properties.Parameters).toContainEqual(expect.objectContaining({ Name: synth.stack.im.webhookSigningSecret!.parameterName, Bytes: 48 }));
    synth.template.hasOutput('WebhookSecretParameter', { Value: synth.stack.im.webhookSigningSecret!.parameterName });
  });

  it('should pass the settings to exactly the functions that make or queue callbacks, the callbacks compiled into their bundles', () => {
    for (const key of keys) {
      const env = envOf(synth, key);
      const compiled = (synth.stack.im.functions[key].node.scope as HandlerFunction).compiledSettings;
      if (functions[key].webhooks) {
        expect(env).toMatchObject({ WEBHOOK_URL: webhooks.url, WEBHOOK_TIMEOUT_MS: '2000' });
        // Not in Lambda's environment (4 KB for all variables): compiled in as process.env.WEBHOOK_CALLBACKS.
        expect(env).not.toHaveProperty(commonEnv.WEBHOOK_CALLBACKS);
        expect(JSON.parse(compiled.WEBHOOK_CALLBACKS)).toEqual(webhooks.callbacks);
      } else {
        for (const name of webhookVars) expect(env, `${key} ${name}`).not.toHaveProperty(name);
        expect(compiled, key).not.toHaveProperty(commonEnv.WEBHOOK_CALLBACKS);
      }
      // The secret's parameter name (no secret itself) is compiled in too.
      expect(env, key).not.toHaveProperty(commonEnv.WEBHOOK_SECRET_ID);
      expect(compiled.WEBHOOK_SECRET_ID !== undefined, key).toBe((functions[key].secrets as readonly string[]).includes('webhookSecret'));
    }
    expect((synth.stack.im.functions.wsMessage.node.scope as HandlerFunction).compiledSettings.WEBHOOK_SECRET_ID).toEqual(synth.stack.im.webhookSigningSecret!.parameterName);
  });

  it('should let only the signing functions read the secret, and only the functions observing after-callback events send to the webhook queue', () => {
    const senders = keys.filter((key) => (functions[key].sendsTo as readonly string[]).includes('webhook'));
    // The archive queues afterSendMessage from the Messages stream.
    expect(senders.sort()).toEqual(['archive', 'http', 'wsConnect', 'wsDisconnect', 'wsMessage']);
    for (const key of keys) {
      const statements = statementsOf(synth, key);
      expect(mentions(statements, secretId), key).toBe((functions[key].secrets as readonly string[]).includes('webhookSecret'));
      const sendsToWebhook = statements.some((s) => [s.Action].flat().includes('sqs:SendMessage') && JSON.stringify(s.Resource).includes(`"${logicalId(synth.stack.im.queues.webhook)}"`));
      expect(sendsToWebhook, key).toBe(senders.includes(key));
    }
    // The consumer reads its own queue and nothing else: no table, no other queue.
    const consumer = statementsOf(synth, 'webhook');
    expect(consumer.filter((s) => [s.Action].flat().some((a: string) => a.startsWith('dynamodb:')))).toEqual([]);
    expect(consumer.filter((s) => [s.Action].flat().includes('sqs:SendMessage'))).toEqual([]);
    expect(consumer.some((s) => [s.Action].flat().includes('sqs:ReceiveMessage'))).toBe(true);
  });

  it('should let only the HTTP function peek into and redrive the webhook dead-letter queue, and tell it the DLQ URL', () => {
    const dlqId = logicalId(synth.stack.im.deadLetterQueues.webhook);
    for (const key of keys) {
      const onDlq = statementsOf(synth, key).filter((s) => JSON.stringify(s.Resource).includes(`"${dlqId}"`));
      const actions = onDlq.flatMap((s) => [s.Action].flat());
      if (key === 'http') {
        expect(actions).toEqual(expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes']));
        expect(actions).not.toContain('sqs:SendMessage');
        expect(envOf(synth, key)[queues.webhook.deadLetterEnvVar]).toEqual({ Ref: dlqId });
        // The webhook queue's own counts (pending callbacks), and nothing more on it than sending.
        const queueId = logicalId(synth.stack.im.queues.webhook);
        const onQueue = statementsOf(synth, key).filter((s) => JSON.stringify(s.Resource).includes(`"${queueId}"`)).flatMap((s) => [s.Action].flat());
        expect(onQueue).toContain('sqs:GetQueueAttributes');
        expect(onQueue).not.toContain('sqs:ReceiveMessage');
        expect(onQueue).not.toContain('sqs:DeleteMessage');
      } else {
        expect(actions, key).toEqual([]);
        expect(envOf(synth, key), key).not.toHaveProperty(queues.webhook.deadLetterEnvVar);
      }
    }
  });

  it('should be clean under cdk-nag', () => {
    const findings = awsSolutionsFindings(synth.app);
    expect(findings, findings.join('\n')).toEqual([]);
  });
});

describe('When CirrusIm is given the webhook signing parameter', () => {
  it('should use it instead of creating one, granting it (and its own KMS key, through Parameter Store) to the signing functions only', () => {
    const stack = new Stack(testApp(), 'Host');
    const given = ssm.StringParameter.fromSecureStringParameterAttributes(stack, 'Given', { parameterName: '/app/webhook-key' });
    const key = new kms.Key(stack, 'AppKey');
    const im = new CirrusIm(stack, 'Chat', { webhooks: { ...webhooks, signingParameter: given, signingParameterKey: key, timeoutMs: 800 } });
    const template = Template.fromStack(stack);
    expect(im.webhookSigningSecret).toBe(given);
    expect(createdParameters({ template }).map((name) => name.split('/').pop())).toEqual(['signing-key', 'admin-secret']);
    const vars = (key: FunctionKey) => template.toJSON().Resources[logicalId(im.functions[key])].Properties.Environment.Variables;
    const compiled = (key: FunctionKey) => (im.functions[key].node.scope as HandlerFunction).compiledSettings;
    expect(vars('webhook')).toMatchObject({ WEBHOOK_TIMEOUT_MS: '800' });
    expect(compiled('webhook')).toMatchObject({ WEBHOOK_SECRET_ID: '/app/webhook-key' });
    // Batch pages send through the batch pages function, so it signs beforeSendMessage too; push never calls the app.
    expect(compiled('batchPages')).toMatchObject({ WEBHOOK_SECRET_ID: '/app/webhook-key' });
    expect(compiled('push')).not.toHaveProperty('WEBHOOK_SECRET_ID');
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'ssm:GetParameter', Resource: stack.resolve(given.parameterArn) })]) },
    });
    const keyPolicy = JSON.stringify(template.toJSON().Resources[logicalId(key)].Properties.KeyPolicy);
    expect(keyPolicy).toContain('kms:ViaService');
    expect(keyPolicy).toContain('ssm.');
  });
});

describe('webhooks props', () => {
  it.each([
    [{ url: 'not a url' }, /webhooks.url/],
    [{ url: 'ftp://x.example.com' }, /webhooks.url/],
    [{ url: 'https://x.example.com', timeoutMs: 9000 }, /webhooks.timeoutMs/],
    [{ url: 'https://x.example.com', callbacks: { afterSendMessage: { enabled: true, failurePolicy: 'closed' } } }, /failurePolicy applies only to before-callbacks/],
    [{ url: 'https://x.example.com', callbacks: { beforeSendMessage: { enabled: true, failurePolicy: 'maybe' } } }, /failurePolicy must be/],
    [{ url: 'https://x.example.com', callbacks: { onEverything: { enabled: true } } }, /onEverything is not a callback/],
    [{ url: 'https://x.example.com', callbacks: { afterUserOnline: { enabled: true, groupIds: ['g1'] } } }, /afterUserOnline.groupIds cannot apply/],
    [{ url: 'https://x.example.com', callbacks: { afterJoinGroup: { enabled: true, userIds: [] } } }, /afterJoinGroup.userIds must list 1 to 100 ids/],
    [{ url: 'https://x.example.com', callbacks: { afterCreateGroup: { enabled: true, skipContentTypes: [101] } } }, /skipContentTypes applies only to message callbacks/],
  ])('rejects %j', (props, message) => {
    expect(() => resolveCirrusImProps({ webhooks: props as never })).toThrow(message);
  });

  it('defaults timeoutMs to 2000 and leaves webhooks off when not given', () => {
    expect(resolveCirrusImProps({ webhooks: { url: 'https://x.example.com/h' } }).webhooks).toMatchObject({ url: 'https://x.example.com/h', timeoutMs: 2000, callbacks: {} });
    expect(resolveCirrusImProps({}).webhooks).toBeUndefined();
  });
});

describe('Lambda environment size', () => {
  // Lambda refuses a function whose variables (names and values) exceed 4 KB together.
  const LAMBDA_ENV_LIMIT = 4096;
  /**
   * Generous lengths for values CloudFormation resolves at deploy: a generated table name
   * (stack name, logical id, random suffix), a queue URL, an ARN, an endpoint.
   */
  const resolvedLength = (value: unknown): number => {
    if (typeof value === 'string') return Buffer.byteLength(value);
    const ref = JSON.stringify(value);
    if (ref.includes('Queue')) return 160;
    if (ref.includes('Secret') || ref.includes('Cluster') || ref.includes('Arn')) return 160;
    // The name of a function invoked asynchronously: Lambda allows at most 64 characters.
    if (/^\{"Ref":"[^"]*Function[^"]*"\}$/.test(ref)) return 64;
    return 120;
  };

  it('should keep every function under 4 KB with every callback on and the largest filters', () => {
    const ids = (prefix: string) => Array.from({ length: MAX_WATCHED_IDS }, (_, i) => `${prefix}-${i}`);
    const callbacks = Object.fromEntries(
      WEBHOOK_CALLBACKS.map((name) => [name, { enabled: true, ...(name.startsWith('before') ? { failurePolicy: 'closed' } : {}), userIds: ids(`${name}-u`) }]),
    );
    const synth = synthesizeCirrusStack({ webhooks: { url: 'https://app-backend.example.com/cirrus/webhooks/callbacks', callbacks } as never });
    for (const key of keys) {
      const env = envOf(synth, key);
      const bytes = Object.entries(env).reduce((n, [name, value]) => n + Buffer.byteLength(name) + resolvedLength(value), 0);
      expect(bytes, `${key} (${bytes} bytes): ${Object.keys(env).join(', ')}`).toBeLessThan(LAMBDA_ENV_LIMIT);
    }
    // The settings are far larger than Lambda's environment could take: they are compiled in.
    expect((synth.stack.im.functions.http.node.scope as HandlerFunction).compiledSettings.WEBHOOK_CALLBACKS.length).toBeGreaterThan(LAMBDA_ENV_LIMIT);
  });
});
