/**
 * DynamoDB Local on a data directory when things die hard: what it acknowledged survives
 * a SIGKILL of its Java process, the Java process dies with the Node process that started
 * it, and a start on a directory whose Java was left running ends that one first.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { startDynamoDbLocal } from '../../local/aws/dynamodb';

const dir = mkdtempSync(join(tmpdir(), 'cirrus-ddb-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function clientFor(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return check();
}

const javaPid = (path: string) => Number(readFileSync(join(path, 'dynamodb-local.pid'), 'utf8'));

describe('DynamoDB Local killed with SIGKILL', () => {
  it('keeps every acknowledged write when its Java process is killed, and ends a Java process left running on the same directory before starting', async () => {
    // Prepare
    const path = join(dir, 'kill-java');
    const first = await startDynamoDbLocal({ dataDir: path });
    let client = clientFor(first.endpoint);
    await client.send(
      new CreateTableCommand({
        TableName: 'Crash',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await Promise.all(Array.from({ length: 50 }, (_, i) => client.send(new PutItemCommand({ TableName: 'Crash', Item: { pk: { S: `k${i}` }, n: { N: String(i) } } }))));
    client.destroy();

    // Act: kill Java outright, start again; then start once more while that one still runs.
    const firstPid = javaPid(path);
    process.kill(firstPid, 'SIGKILL');
    expect(await until(() => !alive(firstPid), 10_000)).toBe(true);
    const second = await startDynamoDbLocal({ dataDir: path });
    const secondPid = javaPid(path);
    const third = await startDynamoDbLocal({ dataDir: path });
    client = clientFor(third.endpoint);
    const items = await Promise.all(Array.from({ length: 50 }, (_, i) => client.send(new GetItemCommand({ TableName: 'Crash', Key: { pk: { S: `k${i}` } }, ConsistentRead: true }))));
    client.destroy();
    const secondGone = await until(() => !alive(secondPid), 10_000);
    await second.stop();
    await third.stop();

    // Assess
    expect(items.map((r) => r.Item?.n?.N)).toEqual(Array.from({ length: 50 }, (_, i) => String(i)));
    expect(secondGone).toBe(true);
  }, 120_000);

  it('dies with the Node process that started it, even when that one is killed with SIGKILL', async () => {
    // Prepare
    const path = join(dir, 'kill-node');
    const script = `import { startDynamoDbLocal } from ${JSON.stringify(join(__dirname, '../../local/aws/dynamodb.ts'))};
await startDynamoDbLocal({ dataDir: ${JSON.stringify(path)} });
process.stdout.write('ready\\n');
setInterval(() => {}, 1000);`;
    const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      parent.stdout!.on('data', (d) => String(d).includes('ready') && resolve());
      parent.once('exit', (code) => reject(new Error(`exited with ${code}`)));
    });
    const pid = javaPid(path);
    expect(alive(pid)).toBe(true);

    // Act
    parent.kill('SIGKILL');

    // Assess
    expect(await until(() => !alive(pid), 10_000)).toBe(true);
  }, 120_000);
});
