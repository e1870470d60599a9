import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderPermissions } from '../../scripts/permissions-doc';
import { functionPolicy, resourceName } from '../../core/iam';
import { functions, tables, type FunctionKey, type FunctionSpec, type TableKey, type TableSpec } from '../../core/manifest';
import { accessDenied, accessesOf, allows, resolvePolicy, type LocalArns } from '../../local/iam';

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const arns: LocalArns = {
  region: REGION,
  account: ACCOUNT,
  resolve: (resource) => {
    switch (resource.kind) {
      case 'table':
        return `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${tables[resource.table].name}${resource.index ? `/index/${resource.index}` : ''}`;
      case 'queue':
        return `arn:aws:sqs:${REGION}:${ACCOUNT}:${resource.queue}`;
      case 'deadLetterQueue':
        return `arn:aws:sqs:${REGION}:${ACCOUNT}:${resource.queue}-dlq`;
      case 'secret':
        return `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/cirrus/test/${resource.secret}`;
      case 'historyCluster':
        return `arn:aws:rds:${REGION}:${ACCOUNT}:cluster:history`;
      case 'historyCredentials':
        return `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:history-db-AbCdEf`;
      case 'connections':
        return `arn:aws:execute-api:${REGION}:${ACCOUNT}:api/live/*/@connections/*`;
      case 'mediaObjects':
        return 'arn:aws:s3:::media-bucket/media/*';
      case 'mediaBucket':
        return 'arn:aws:s3:::media-bucket';
      case 'function':
        return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${functions[resource.function].name}`;
      case 'deadLetters':
        return `arn:aws:sqs:${REGION}:${ACCOUNT}:DeadLetters`;
      default:
        return `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:x:*`;
    }
  },
  secretArn: (id) => id,
  apiId: 'api',
  stage: 'live',
};
const table = (key: TableKey, index?: string) => arns.resolve({ kind: 'table', table: key, index });
const policyOf = (key: FunctionKey, webhooks = true) => resolvePolicy(functionPolicy(key, { webhooks }), arns);
const allowed = (key: FunctionKey, service: string, command: string, input: Record<string, unknown>) =>
  accessesOf(service, command, input, arns).every((access) => allows(policyOf(key), access));

describe('When mapping SDK requests to what IAM authorizes', () => {
  it('should authorize a BatchWriteItem and a BatchGetItem on every table they name', () => {
    expect(accessesOf('DynamoDB', 'BatchWriteItem', { RequestItems: { Users: [], Groups: [] } }, arns)).toEqual([
      { action: 'dynamodb:BatchWriteItem', resource: table('users') },
      { action: 'dynamodb:BatchWriteItem', resource: table('groups') },
    ]);
    expect(accessesOf('DynamoDB', 'BatchGetItem', { RequestItems: { Sessions: {} } }, arns)).toEqual([{ action: 'dynamodb:BatchGetItem', resource: table('sessions') }]);
  });

  it('should authorize a transaction by the action of each item, on its table', () => {
    const input = {
      TransactItems: [
        { Put: { TableName: 'Friends' } },
        { Update: { TableName: 'FriendRequests' } },
        { Delete: { TableName: 'Friends' } },
        { ConditionCheck: { TableName: 'Groups' } },
      ],
    };
    expect(accessesOf('DynamoDB', 'TransactWriteItems', input, arns)).toEqual([
      { action: 'dynamodb:PutItem', resource: table('friends') },
      { action: 'dynamodb:UpdateItem', resource: table('friendRequests') },
      { action: 'dynamodb:DeleteItem', resource: table('friends') },
      { action: 'dynamodb:ConditionCheckItem', resource: table('groups') },
    ]);
  });

  it('should authorize a Query of an index on the index, not the table', () => {
    expect(accessesOf('DynamoDB', 'Query', { TableName: 'GroupMembers', IndexName: 'byUser' }, arns)).toEqual([
      { action: 'dynamodb:Query', resource: table('groupMembers', 'byUser') },
    ]);
  });

  it('should authorize SQS batches as their single actions, the Data API with its secret, HeadObject as GetObject, @connections by method', () => {
    expect(accessesOf('SQS', 'SendMessageBatch', { QueueUrl: 'http://127.0.0.1:1/000000000000/Archive' }, arns)).toEqual([
      { action: 'sqs:SendMessage', resource: `arn:aws:sqs:${REGION}:${ACCOUNT}:Archive` },
    ]);
    expect(accessesOf('RDSData', 'BeginTransaction', { resourceArn: 'arn:c', secretArn: 'arn:s' }, arns)).toEqual([
      { action: 'rds-data:BeginTransaction', resource: 'arn:c' },
      { action: 'secretsmanager:GetSecretValue', resource: 'arn:s' },
    ]);
    // Parameter Store: by the parameter's ARN, whose path does not repeat the name's leading slash; GetParameters per name.
    expect(accessesOf('SSM', 'GetParameter', { Name: '/cirrus/test/signingKey', WithDecryption: true }, arns)).toEqual([
      { action: 'ssm:GetParameter', resource: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/cirrus/test/signingKey` },
    ]);
    expect(accessesOf('SSM', 'GetParameters', { Names: ['/a/x', `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/b`] }, arns)).toEqual([
      { action: 'ssm:GetParameters', resource: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/a/x` },
      { action: 'ssm:GetParameters', resource: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/b` },
    ]);
    expect(accessesOf('S3', 'HeadObject', { Bucket: 'b', Key: 'media/u/k' }, arns)).toEqual([{ action: 's3:GetObject', resource: 'arn:aws:s3:::b/media/u/k' }]);
    expect(accessesOf('ApiGatewayManagementApi', 'DeleteConnection', { ConnectionId: 'c1' }, arns)).toEqual([
      { action: 'execute-api:ManageConnections', resource: `arn:aws:execute-api:${REGION}:${ACCOUNT}:api/live/DELETE/@connections/c1` },
    ]);
  });
});

describe('When evaluating a function policy', () => {
  it('should let the authorizer read a session and nothing else', () => {
    expect(allowed('wsAuthorizer', 'DynamoDB', 'GetItem', { TableName: 'Sessions' })).toBe(true);
    expect(allowed('wsAuthorizer', 'DynamoDB', 'DeleteItem', { TableName: 'Sessions' })).toBe(false);
    expect(allowed('wsAuthorizer', 'DynamoDB', 'GetItem', { TableName: 'Users' })).toBe(false);
  });

  it('should refuse a batch or transaction when one of its tables is not granted', () => {
    expect(allowed('push', 'DynamoDB', 'BatchGetItem', { RequestItems: { Users: {} } })).toBe(true);
    expect(allowed('push', 'DynamoDB', 'BatchGetItem', { RequestItems: { Users: {}, Sessions: {} } })).toBe(false);
  });

  it('should allow index queries only on the indexes granted', () => {
    expect(allowed('http', 'DynamoDB', 'Query', { TableName: 'GroupMembers', IndexName: 'byUser' })).toBe(true);
    expect(allowed('batchPages', 'DynamoDB', 'Query', { TableName: 'GroupMembers', IndexName: 'byUser' })).toBe(false);
  });

  it('should authorize Invoke as lambda:InvokeFunction on the function, by name or ARN, and allow it only to the functions that invoke', () => {
    const push = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:Push`;
    expect(accessesOf('Lambda', 'Invoke', { FunctionName: 'Push' }, arns)).toEqual([{ action: 'lambda:InvokeFunction', resource: push }]);
    expect(accessesOf('Lambda', 'Invoke', { FunctionName: `${push}:$LATEST` }, arns)).toEqual([{ action: 'lambda:InvokeFunction', resource: push }]);
    expect(allowed('wsMessage', 'Lambda', 'Invoke', { FunctionName: 'Push' })).toBe(true);
    expect(allowed('http', 'Lambda', 'Invoke', { FunctionName: 'Push' })).toBe(true);
    expect(allowed('http', 'Lambda', 'Invoke', { FunctionName: 'BatchPages' })).toBe(true);
    expect(allowed('batchPages', 'Lambda', 'Invoke', { FunctionName: 'BatchPages' })).toBe(true);
    expect(allowed('wsMessage', 'Lambda', 'Invoke', { FunctionName: 'BatchPages' })).toBe(false);
    expect(allowed('wsMessage', 'Lambda', 'Invoke', { FunctionName: 'Archive' })).toBe(false);
    for (const key of ['push', 'archive', 'webhook', 'wsConnect', 'wsDisconnect', 'wsAuthorizer', 'migrate'] as const) {
      expect(allowed(key, 'Lambda', 'Invoke', { FunctionName: 'Push' }), key).toBe(false);
    }
  });

  it('should let the asynchronously invoked functions send their failure records to the shared dead-letter queue, and no other', () => {
    const send = (key: FunctionKey) => allowed(key, 'SQS', 'SendMessage', { QueueUrl: 'http://127.0.0.1:1/000000000000/DeadLetters' });
    expect(send('push')).toBe(true);
    expect(send('batchPages')).toBe(true);
    expect(send('wsMessage')).toBe(false);
    expect(send('http')).toBe(false);
  });

  it('should match wildcards in resources (any connection of the stage) but not another stage', () => {
    expect(allowed('push', 'ApiGatewayManagementApi', 'PostToConnection', { ConnectionId: 'abc=' })).toBe(true);
    const other = { action: 'execute-api:ManageConnections', resource: `arn:aws:execute-api:${REGION}:${ACCOUNT}:api/test/POST/@connections/abc` };
    expect(allows(policyOf('push'), other)).toBe(false);
  });

  it('should hold ListBucket to its prefix condition', () => {
    const list = (prefix: string) => ({ action: 's3:ListBucket', resource: 'arn:aws:s3:::media-bucket', context: { 's3:prefix': prefix } });
    expect(allows(policyOf('httpMedia'), list('media/u/x'))).toBe(true);
    expect(allows(policyOf('httpMedia'), list('private/'))).toBe(false);
  });

  it('should let a function read exactly its own secrets with ssm:GetParameter, and write none', () => {
    const read = (secret: 'signingKey' | 'adminSecret' | 'webhookSecret') => ({ action: 'ssm:GetParameter', resource: arns.resolve({ kind: 'secret', secret }) });
    expect(allows(policyOf('wsAuthorizer'), read('signingKey'))).toBe(true);
    expect(allows(policyOf('wsAuthorizer'), read('adminSecret'))).toBe(false);
    expect(allows(policyOf('http'), read('adminSecret'))).toBe(true);
    expect(allows(policyOf('push'), read('signingKey'))).toBe(false);
    expect(allows(policyOf('http'), { action: 'ssm:PutParameter', resource: arns.resolve({ kind: 'secret', secret: 'adminSecret' }) })).toBe(false);
    expect(allows(policyOf('http'), { action: 'ssm:GetParameter', resource: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/cirrus/test/other` })).toBe(false);
  });

  it('should grant the webhook signing secret only when webhooks are configured', () => {
    const read = { action: 'ssm:GetParameter', resource: arns.resolve({ kind: 'secret', secret: 'webhookSecret' }) };
    expect(allows(policyOf('webhook', true), read)).toBe(true);
    expect(allows(resolvePolicy(functionPolicy('webhook', { webhooks: false }), arns), read)).toBe(false);
  });

  it('should grant queries only on indexes the tables have, and each action once', () => {
    for (const [key, spec] of Object.entries(functions) as [FunctionKey, FunctionSpec][]) {
      for (const [table, indexes] of Object.entries(spec.indexes ?? {}) as [TableKey, readonly string[]][]) {
        const names = ((tables[table] as TableSpec).indexes ?? []).map((index) => index.name);
        for (const index of indexes) expect(names, `${key}: ${table}/index/${index}`).toContain(index);
      }
      for (const [table, actions] of Object.entries(spec.tables) as [TableKey, readonly string[]][]) {
        expect(actions.length, `${key}: ${table}`).toBeGreaterThan(0);
        expect(new Set(actions).size, `${key}: ${table}`).toBe(actions.length);
      }
    }
  });

  it('should name in every statement only resources of the manifest', () => {
    for (const key of Object.keys(functions) as FunctionKey[]) {
      for (const statement of functionPolicy(key, { webhooks: true })) {
        expect(statement.actions.length, key).toBeGreaterThan(0);
        for (const resource of statement.resources) expect(resourceName(resource)).not.toContain('undefined');
      }
    }
  });
});

describe('When a request is refused', () => {
  it('should fail as AWS does: AccessDeniedException, 400 from DynamoDB, naming the role, action and resource', () => {
    const access = { action: 'dynamodb:DeleteItem', resource: table('users') };
    const err = accessDenied('DynamoDB', 'push', access, ACCOUNT) as Error & { $metadata: { httpStatusCode: number }; $fault: string };
    expect(err.name).toBe('AccessDeniedException');
    expect(err.$fault).toBe('client');
    expect(err.$metadata.httpStatusCode).toBe(400);
    expect(err.message).toBe(
      `User: arn:aws:sts::${ACCOUNT}:assumed-role/Cirrus-PushRole/Cirrus-Push is not authorized to perform: dynamodb:DeleteItem on resource: ${table('users')} ` +
        'because no identity-based policy allows the dynamodb:DeleteItem action',
    );
  });

  it('should answer 403 AccessDenied from SQS and S3', () => {
    const access = { action: 'sqs:SendMessage', resource: 'arn:aws:sqs:us-east-1:000000000000:Push' };
    expect(accessDenied('SQS', 'wsMessage', access, ACCOUNT)).toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    expect(accessDenied('S3', 'httpMedia', access, ACCOUNT)).toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
  });
});

describe('the permissions documentation', () => {
  it('docs/deploy.md lists the policies as the manifest derives them (run `npm run docs`)', () => {
    expect(readFileSync('docs/deploy.md', 'utf8')).toContain(renderPermissions());
  });
});
