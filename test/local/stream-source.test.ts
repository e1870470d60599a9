/**
 * The local DynamoDB Streams event source against DynamoDB Local's real streams: the
 * filter on eventName, order per shard, batch size, partial batch failures, bisection of a
 * failing batch down to the poison record and its discard to the failure destination, and
 * a checkpoint that survives a SIGKILL of the process running it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { CreateTableCommand, DeleteItemCommand, DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../local/aws/dynamodb';
import { startStreamSource, type StreamSourceOptions } from '../../local/aws/stream-source';

const dir = mkdtempSync(join(tmpdir(), 'cirrus-streams-'));
let ddb: DynamoDbLocal;
let client: DynamoDBClient;
let tables = 0;

beforeAll(async () => {
  ddb = await startDynamoDbLocal();
  client = new DynamoDBClient({ endpoint: ddb.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
}, 180_000);
afterAll(async () => {
  client?.destroy();
  await ddb?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function newTable(): Promise<string> {
  const name = `Stream${++tables}`;
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'k', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'k', AttributeType: 'S' }],
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  return name;
}

const put = (table: string, k: string, v = 0) => client.send(new PutItemCommand({ TableName: table, Item: { k: { S: k }, v: { N: String(v) } } }));
const keyOf = (r: DynamoDBRecord) => r.dynamodb!.Keys!.k.S!;
const seqOf = (r: DynamoDBRecord) => BigInt(r.dynamodb!.SequenceNumber!);

function source(table: string, overrides: Partial<StreamSourceOptions> & Pick<StreamSourceOptions, 'invoke'>) {
  return startStreamSource({
    endpoint: ddb.endpoint,
    tableName: table,
    region: 'us-east-1',
    batchSize: 4,
    maxBatchingWindowSeconds: 0,
    eventNames: ['INSERT', 'MODIFY'],
    maxRecordAgeSeconds: 86_400,
    retryAttempts: 2,
    bisectBatchOnError: true,
    pollIntervalMs: 50,
    onFailure: async () => {},
    log: () => {},
    ...overrides,
  });
}

describe('The local stream event source', () => {
  it('delivers INSERT and MODIFY records in stream order, in batches of at most batchSize, and never a REMOVE', async () => {
    const table = await newTable();
    for (let i = 0; i < 10; i++) await put(table, `k${i}`);
    await client.send(new UpdateItemCommand({ TableName: table, Key: { k: { S: 'k3' } }, UpdateExpression: 'SET v = :v', ExpressionAttributeValues: { ':v': { N: '1' } } }));
    await client.send(new DeleteItemCommand({ TableName: table, Key: { k: { S: 'k4' } } }));
    await put(table, 'k10');
    const events: DynamoDBStreamEvent[] = [];
    const s = source(table, { invoke: async (e) => void events.push(e) });
    await s.idle();
    await s.stop();
    const records = events.flatMap((e) => e.Records);
    expect(records.map((r) => `${r.eventName} ${keyOf(r)}`)).toEqual([...Array.from({ length: 10 }, (_, i) => `INSERT k${i}`), 'MODIFY k3', 'INSERT k10']);
    expect(events.every((e) => e.Records.length <= 4)).toBe(true);
    for (let i = 1; i < records.length; i++) expect(seqOf(records[i]) > seqOf(records[i - 1])).toBe(true);
    // The MODIFY carries both images, and the source's ARN names the table's stream.
    const modify = records.find((r) => r.eventName === 'MODIFY')!;
    expect(modify.dynamodb!.OldImage!.v.N).toBe('0');
    expect(modify.dynamodb!.NewImage!.v.N).toBe('1');
    expect(modify.eventSourceARN).toMatch(new RegExp(`:table/${table}/stream/`));
  }, 60_000);

  it('goes on from the first record a batch reports as failed', async () => {
    const table = await newTable();
    for (let i = 0; i < 6; i++) await put(table, `k${i}`);
    const seen: string[] = [];
    let failedOnce = false;
    const s = source(table, {
      invoke: async (e) => {
        seen.push(...e.Records.map(keyOf));
        const k2 = e.Records.find((r) => keyOf(r) === 'k2');
        if (k2 && !failedOnce) {
          failedOnce = true;
          return { batchItemFailures: [{ itemIdentifier: k2.dynamodb!.SequenceNumber }] };
        }
        return { batchItemFailures: [] };
      },
    });
    await s.idle();
    await s.stop();
    // k0, k1 were done; k2 and k3 come again, then the rest.
    expect(seen).toEqual(['k0', 'k1', 'k2', 'k3', 'k2', 'k3', 'k4', 'k5']);
  }, 60_000);

  it('bisects a batch that throws down to the poison record, discards it with its metadata after the retries, and delivers the rest', async () => {
    const table = await newTable();
    for (let i = 0; i < 8; i++) await put(table, `k${i}`);
    const done: string[] = [];
    const sizes: number[] = [];
    const discarded: Record<string, unknown>[] = [];
    const s = source(table, {
      batchSize: 8,
      invoke: async (e) => {
        sizes.push(e.Records.length);
        if (e.Records.some((r) => keyOf(r) === 'k5')) throw new Error('poison');
        done.push(...e.Records.map(keyOf));
      },
      onFailure: async (m) => void discarded.push(m),
    });
    await s.idle();
    await s.stop();
    expect(done).toEqual(['k0', 'k1', 'k2', 'k3', 'k4', 'k6', 'k7']);
    expect(sizes.slice(0, 3)).toEqual([8, 4, 4]);
    expect(discarded).toHaveLength(1);
    expect(discarded[0]).toMatchObject({ requestContext: { condition: 'RetryAttemptsExhausted' }, DDBStreamBatchInfo: { batchSize: 1 } });
  }, 60_000);
});

describe('The local stream event source killed with SIGKILL', () => {
  function startChild(table: string, stateFile: string, logFile: string, hangOn?: string) {
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'stream-child.ts'), ddb.endpoint, table, stateFile, logFile, ...(hangOn ? [hangOn] : [])], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    return {
      printed: async (text: string, timeoutMs = 30_000) => {
        const deadline = Date.now() + timeoutMs;
        while (!out.includes(text) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        return out.includes(text);
      },
      kill: async () => {
        child.kill('SIGKILL');
        await exited;
      },
    };
  }
  const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean);

  it('resumes at the first record not acknowledged: nothing lost, nothing acknowledged delivered again', async () => {
    const table = await newTable();
    for (let i = 0; i < 20; i++) await put(table, `k${String(i).padStart(2, '0')}`);
    const stateFile = join(dir, 'kill.json');
    const first = join(dir, 'first.log');
    const second = join(dir, 'second.log');

    const one = startChild(table, stateFile, first, 'k12');
    expect(await one.printed('hanging')).toBe(true);
    await one.kill();
    // Batches of 5: k00–k09 acknowledged, k10–k14 delivered but never acknowledged.
    expect(lines(first)).toEqual(Array.from({ length: 15 }, (_, i) => `k${String(i).padStart(2, '0')}`));

    const two = startChild(table, stateFile, second);
    expect(await two.printed('started')).toBe(true);
    const deadline = Date.now() + 30_000;
    while ((lines(second).length < 10) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 500));
    await two.kill();
    expect(lines(second)).toEqual(Array.from({ length: 10 }, (_, i) => `k${i + 10}`));
  }, 120_000);
});
