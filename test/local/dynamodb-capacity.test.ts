/**
 * The capacity metering of the request accounting (`core/aws/accounting.ts`) against
 * DynamoDB Local: what AWS charges and DynamoDB Local reports as nothing is added, so
 * benchmarks see AWS's figures (a missing key of a BatchGetItem, a Query that finds
 * nothing, a write whose condition fails).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { awsRequests, countRequests } from '../../core/aws/accounting';

const TABLE = `capacity-${Date.now()}`;
let base: DynamoDBClient;
let client: DynamoDBDocumentClient;
let before: { read: number; write: number };

/** Capacity metered since the test began. */
const metered = () => {
  const now = awsRequests.capacity();
  return { read: now.read - before.read, write: now.write - before.write };
};

beforeAll(async () => {
  base = countRequests(new DynamoDBClient({ endpoint: inject('dynamoEndpoint'), region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }));
  client = DynamoDBDocumentClient.from(base);
  await base.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    }),
  );
  await client.send(new PutCommand({ TableName: TABLE, Item: { pk: 'present', v: 'small' } }));
  awsRequests.meterCapacity(true);
});

beforeEach(() => {
  before = awsRequests.capacity();
});

afterAll(() => {
  awsRequests.meterCapacity(false);
  base.destroy();
});

describe('metered DynamoDB capacity', () => {
  it('charges a GetItem of a missing key half a read unit, a strongly consistent one a whole unit', async () => {
    await client.send(new GetCommand({ TableName: TABLE, Key: { pk: 'missing' } }));
    await client.send(new GetCommand({ TableName: TABLE, Key: { pk: 'missing' }, ConsistentRead: true }));
    expect(metered()).toEqual({ read: 1.5, write: 0 });
  });

  it('charges every key of a BatchGetItem, found or missing, by its consistency', async () => {
    await client.send(new BatchGetCommand({ RequestItems: { [TABLE]: { Keys: [{ pk: 'present' }, { pk: 'gone-1' }, { pk: 'gone-2' }] } } }));
    const eventual = metered();
    before = awsRequests.capacity();
    await client.send(new BatchGetCommand({ RequestItems: { [TABLE]: { Keys: [{ pk: 'gone-1' }, { pk: 'gone-2' }], ConsistentRead: true } } }));
    const strong = metered();

    expect(eventual).toEqual({ read: 1.5, write: 0 });
    expect(strong).toEqual({ read: 2, write: 0 });
  });

  it('charges a Query that finds nothing the least read', async () => {
    await client.send(new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'missing' } }));
    await client.send(new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'present' } }));
    expect(metered()).toEqual({ read: 1, write: 0 });
  });

  it('charges a write whose condition fails a write unit', async () => {
    const failed = await client
      .send(new PutCommand({ TableName: TABLE, Item: { pk: 'present', v: 'again' }, ConditionExpression: 'attribute_not_exists(pk)' }))
      .catch((err: unknown) => err);
    expect((failed as Error).name).toBe('ConditionalCheckFailedException');
    expect(metered()).toEqual({ read: 0, write: 1 });
  });
});
