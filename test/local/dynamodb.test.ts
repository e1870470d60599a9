import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { ensureTables, startDynamoDbLocal } from '../../local/aws/dynamodb';
import { tables, type TableKey, type TableSpec } from '../../core/manifest';

function clientFor(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
}

describe('ensureTables', () => {
  // The run's shared DynamoDB Local (test/support/global-setup.ts); each test uses its own table prefix.
  const endpoint = inject('dynamoEndpoint');
  let client: DynamoDBClient;

  beforeAll(() => {
    client = clientFor(endpoint);
  });

  afterAll(() => {
    client.destroy();
  });

  it('creates every manifest table with its keys, on demand, with TTL on its TTL attribute', async () => {
    // Act
    const names = await ensureTables(endpoint, `ens${Date.now()}-`);

    // Assess
    const keys = Object.keys(tables) as TableKey[];
    expect(Object.keys(names).sort()).toEqual([...keys].sort());
    for (const key of keys) {
      const spec: TableSpec = tables[key];
      expect(names[key]).toMatch(new RegExp(`^ens\\d+-${spec.name}$`));
      const { Table } = await client.send(new DescribeTableCommand({ TableName: names[key] }));
      const expectedKeys = [{ AttributeName: spec.partitionKey.name, KeyType: 'HASH' }];
      if (spec.sortKey) expectedKeys.push({ AttributeName: spec.sortKey.name, KeyType: 'RANGE' });
      expect(Table!.KeySchema).toEqual(expectedKeys);
      expect(Table!.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
      const { TimeToLiveDescription } = await client.send(new DescribeTimeToLiveCommand({ TableName: names[key] }));
      if (spec.ttlAttribute) expect(TimeToLiveDescription).toEqual({ TimeToLiveStatus: 'ENABLED', AttributeName: spec.ttlAttribute });
      else expect(TimeToLiveDescription?.TimeToLiveStatus).toBe('DISABLED');
    }
  });

  it('leaves existing tables and their items alone when called again', async () => {
    // Prepare
    const prefix = `again${Date.now()}-`;
    const names = await ensureTables(endpoint, prefix);
    await client.send(new PutItemCommand({ TableName: names.users, Item: { userId: { S: 'u1' } } }));

    // Act
    const second = await ensureTables(endpoint, prefix);
    const { Item } = await client.send(new GetItemCommand({ TableName: names.users, Key: { userId: { S: 'u1' } } }));

    // Assess
    expect(second).toEqual(names);
    expect(Item).toEqual({ userId: { S: 'u1' } });
  });
});

describe('ensureTables and index projections', () => {
  const endpoint = inject('dynamoEndpoint');

  it("creates each index with the manifest's projection", async () => {
    // Act
    const client = clientFor(endpoint);
    const names = await ensureTables(endpoint, `proj${Date.now()}-`);
    const described = await Promise.all((Object.keys(tables) as TableKey[]).map(async (key) => [key, (await client.send(new DescribeTableCommand({ TableName: names[key] }))).Table!] as const));
    client.destroy();

    // Assess
    for (const [key, table] of described) {
      for (const index of (tables[key] as TableSpec).indexes ?? []) {
        const projection = index.projection ?? 'ALL';
        const expected = typeof projection === 'string' ? { ProjectionType: projection } : { ProjectionType: 'INCLUDE', NonKeyAttributes: [...projection.include] };
        expect(table.GlobalSecondaryIndexes?.find((i) => i.IndexName === index.name)?.Projection, `${key}/${index.name}`).toEqual(expected);
      }
    }
    expect(described.find(([key]) => key === 'users')![1].GlobalSecondaryIndexes?.map((i) => [i.IndexName, i.Projection])).toEqual([['byCreation', { ProjectionType: 'KEYS_ONLY' }]]);
  });
});

describe('startDynamoDbLocal', () => {
  it('starts on a free port, keeps items in its data directory across a restart, and stops its Java process', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'cirrus-ddb-'));
    const first = await startDynamoDbLocal({ dataDir: dir });
    const names = await ensureTables(first.endpoint, '');
    const firstClient = clientFor(first.endpoint);
    await firstClient.send(new PutItemCommand({ TableName: names.groups, Item: { groupId: { S: 'g1' } } }));

    // Act
    await first.stop();
    const afterStop = await firstClient.send(new ListTablesCommand({})).then(
      () => 'answered',
      (err: Error) => err.message,
    );
    const second = await startDynamoDbLocal({ dataDir: dir });
    const secondClient = clientFor(second.endpoint);
    const { Item } = await secondClient.send(new GetItemCommand({ TableName: names.groups, Key: { groupId: { S: 'g1' } } }));
    secondClient.destroy();
    await second.stop();

    // Assess
    expect(first.endpoint).toBe(`http://127.0.0.1:${first.port}`);
    expect(afterStop).toMatch(/ECONNREFUSED/);
    expect(Item).toEqual({ groupId: { S: 'g1' } });
    firstClient.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails with install instructions when java is not on the PATH but setpriv is', async () => {
    // Prepare: a PATH holding setpriv (through which Java is started on Linux) and nothing else.
    const bin = mkdtempSync(join(tmpdir(), 'cirrus-path-'));
    let setpriv: string | undefined;
    try {
      setpriv = execFileSync('sh', ['-c', 'command -v setpriv'], { encoding: 'utf8' }).trim();
    } catch {
      // no setpriv here: nothing to check
    }
    if (setpriv) symlinkSync(setpriv, join(bin, 'setpriv'));
    const path = process.env.PATH;
    process.env.PATH = bin;

    // Act
    const starting = startDynamoDbLocal();

    // Assess
    try {
      await expect(starting).rejects.toThrow(/needs a Java runtime.*apt-get install -y openjdk-17-jre-headless/);
    } finally {
      process.env.PATH = path;
      rmSync(bin, { recursive: true, force: true });
    }
  });

  it('fails with install instructions when java is not on the PATH', async () => {
    // Prepare
    const path = process.env.PATH;
    process.env.PATH = join(tmpdir(), 'no-java-here');

    // Act
    const starting = startDynamoDbLocal();

    // Assess
    try {
      await expect(starting).rejects.toThrow(/needs a Java runtime.*apt-get install -y openjdk-17-jre-headless/);
    } finally {
      process.env.PATH = path;
    }
  });
});
