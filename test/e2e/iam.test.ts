/**
 * The local runtime enforces each function's IAM policy (core/iam.ts, the statements its
 * role gets in the stack): a request the role would not allow fails as AWS fails it, so
 * a grant missing from the manifest fails a test here rather than a deployment.
 */
import { DeleteCommand, GetCommand, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretValue } from '../../core/auth/secrets';
import { ddb } from '../../core/aws/dynamodb';
import { functions, type TableAction } from '../../core/manifest';
import { runAsFunction } from '../../local/lambda';
import type { LocalCirrus } from '../../local/runtime';
import { Admin, Device, startCirrus } from '../support/cirrus';

// One runtime per file (the SDK clients keep the first runtime's endpoints), started with
// wsMessage missing PutItem on Messages: sendMsg can no longer store a message.
const spec = functions.wsMessage.tables as Record<string, readonly TableAction[]>;
const granted = spec.messages;
let cirrus: LocalCirrus;
let admin: Admin;
beforeAll(async () => {
  spec.messages = granted.filter((action) => action !== 'PutItem');
  cirrus = await startCirrus();
  admin = new Admin(cirrus.apiUrl, cirrus.adminSecret);
});
afterAll(async () => {
  spec.messages = granted;
  await cirrus?.stop();
});

describe('When a function sends a request its role does not allow', () => {
  it('should fail it with AccessDeniedException naming the role, the action and the table, and change nothing', async () => {
    const Key = { userId: 'iam-a', sessionId: 's1' };
    await ddb().send(new PutCommand({ TableName: cirrus.tableNames.sessions, Item: { ...Key, platformId: 1 } }));

    // The authorizer may read sessions...
    const read = await runAsFunction('wsAuthorizer', () => ddb().send(new GetCommand({ TableName: cirrus.tableNames.sessions, Key })));
    expect(read.Item).toMatchObject(Key);
    // ...but not delete one, nor read another table.
    const denied = runAsFunction('wsAuthorizer', () => ddb().send(new DeleteCommand({ TableName: cirrus.tableNames.sessions, Key })));
    await expect(denied).rejects.toMatchObject({
      name: 'AccessDeniedException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
      message:
        'User: arn:aws:sts::000000000000:assumed-role/Cirrus-WsAuthorizerRole/Cirrus-WsAuthorizer is not authorized to perform: dynamodb:DeleteItem ' +
        `on resource: arn:aws:dynamodb:us-east-1:000000000000:table/${cirrus.tableNames.sessions} because no identity-based policy allows the dynamodb:DeleteItem action`,
    });
    await expect(runAsFunction('wsAuthorizer', () => ddb().send(new GetCommand({ TableName: cirrus.tableNames.users, Key: { userId: 'iam-a' } })))).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
    const after = await ddb().send(new GetCommand({ TableName: cirrus.tableNames.sessions, Key }));
    expect(after.Item).toMatchObject(Key);
  });

  it('should let the HTTP functions count callers in their own partitions of Sessions (dynamodb:LeadingKeys) and not touch a session', async () => {
    const Key = { userId: 'iam-b', sessionId: 's1' };
    await ddb().send(new PutCommand({ TableName: cirrus.tableNames.sessions, Item: { ...Key, platformId: 1, revoked: true } }));
    const add = (key: Record<string, string>) =>
      ddb().send(new UpdateCommand({ TableName: cirrus.tableNames.sessions, Key: key, UpdateExpression: 'ADD n :n', ExpressionAttributeValues: { ':n': 1 } }));
    for (const fn of ['httpMedia', 'httpHistory', 'httpE2ee'] as const) {
      await expect(runAsFunction(fn, () => add({ userId: '#http|u|iam-b', sessionId: '1' }))).resolves.toBeDefined();
      // A user's session, e.g. to lift a revocation: refused.
      await expect(runAsFunction(fn, () => ddb().send(new UpdateCommand({ TableName: cirrus.tableNames.sessions, Key, UpdateExpression: 'REMOVE revoked' })))).rejects.toMatchObject({ name: 'AccessDeniedException' });
    }
    expect((await ddb().send(new GetCommand({ TableName: cirrus.tableNames.sessions, Key }))).Item?.revoked).toBe(true);
    expect((await ddb().send(new GetCommand({ TableName: cirrus.tableNames.sessions, Key: { userId: '#http|u|iam-b', sessionId: '1' } }))).Item?.n).toBe(3);
  });

  it("should not hand one function a secret another fetched: each function's cache is its own, as its containers are on AWS", async () => {
    const id = process.env.SIGNING_SECRET_ID!;
    await expect(runAsFunction('http', () => secretValue(id))).resolves.toMatch(/\S{32,}/);
    // push may not read the signing key: it gets AWS's refusal, not the HTTP function's cached value.
    await expect(runAsFunction('push', () => secretValue(id))).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining(`ssm:GetParameter on resource: arn:aws:ssm:us-east-1:000000000000:parameter${id}`),
    });
  });

  it('should not check code outside any function (tests and the runtime use administrator access)', async () => {
    const Key = { userId: 'iam-b', sessionId: 's1' };
    await ddb().send(new PutCommand({ TableName: cirrus.tableNames.sessions, Item: Key }));
    await ddb().send(new DeleteCommand({ TableName: cirrus.tableNames.sessions, Key }));
    expect((await ddb().send(new GetCommand({ TableName: cirrus.tableNames.sessions, Key }))).Item).toBeUndefined();
  });
});

describe('When the manifest leaves out a grant the code needs', () => {
  it('should fail the flow locally, as AWS would, and store no message', async () => {
    await admin.register('iam-s', 'iam-r');
    const sender = await Device.connect(cirrus.wsUrl, await admin.userToken('iam-s', 1));
    try {
      const reply = await sender.request('sendMsg', { clientMsgId: 'm1', recvId: 'iam-r', contentType: 101, content: { text: 'hi' } });
      expect(reply.error).toMatchObject({ reason: 'INTERNAL' });
      const stored = await ddb().send(new ScanCommand({ TableName: cirrus.tableNames.messages }));
      expect(stored.Items).toEqual([]);
    } finally {
      await sender.close();
    }
  });
});
