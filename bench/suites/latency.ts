/**
 * Suite 4: local end to end. N connected clients (in their own process) send 1:1 messages
 * at offered rates; send → push latency percentiles, achieved throughput, and, at the
 * main rate, where this process's CPU went per message (Cirrus's handlers apart from the
 * stand-ins), from V8's sampling profiler.
 */
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { LocalCirrus } from '../../local/runtime';
import { LoadClients } from '../children';
import { CpuProfile, type Bucket } from '../profile';
import { Api, ids, measure, percentile, settle, type Measurement } from '../support';
import type { Scenario } from './requests';

export interface LoadPoint {
  offeredRate: number;
  seconds: number;
  sent: number;
  received: number;
  errors: number;
  achievedRate: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface LatencyResult {
  clients: number;
  /** DynamoDB Local's own throughput here (PutItem/s, 50 in flight): the stand-in's ceiling. */
  dynamoLocalPutsPerSecond?: number;
  points: LoadPoint[];
  cpu?: { rate: number; messages: number; msPerMessage: Record<Bucket, number>; cirrusMsPerMessage: number; top: { frame: string; bucket: Bucket; ms: number }[] };
  /** Everything billed during the main rate's run: the cost of a 1:1 message under load, with real batching. */
  underLoad?: Scenario;
}

export async function runLatency(cirrus: LocalCirrus, options: { clients: number; rates: number[]; mainRate: number; seconds: number }): Promise<LatencyResult> {
  const api = new Api(cirrus);
  const users = ids('lt', options.clients);
  await api.register(users);
  const tokens = [];
  for (const userId of users) tokens.push({ userId, token: await api.token(userId) });
  const dynamoLocalPutsPerSecond = await dynamoLocalCeiling(cirrus.dynamoEndpoint);
  const clients = LoadClients.start();
  try {
    await clients.send({ cmd: 'connect', wsUrl: cirrus.wsUrl, tokens });
    // Warm every pair's conversation so the measured runs see steady state.
    await clients.send({ cmd: 'load', rate: Math.min(options.clients, 500), seconds: Math.max(2, options.clients / 500) });
    await settle(cirrus);
    const points: LoadPoint[] = [];
    let cpu: LatencyResult['cpu'];
    let underLoad: Scenario | undefined;
    for (const rate of options.rates) {
      const main = rate === options.mainRate;
      const profile = main ? new CpuProfile() : undefined;
      let r!: { sent: number; received: number; errors: number; latencies: number[]; seconds: number };
      let buckets: Record<Bucket, number> | undefined;
      const measurement: Measurement = await measure(async () => {
        await profile?.start();
        r = await clients.send({ cmd: 'load', rate, seconds: options.seconds });
        buckets = await profile?.stop();
      }, cirrus);
      if (main) {
        underLoad = { id: 'oneToOneLoad', title: `1:1 under load (${rate} msg/s among ${options.clients.toLocaleString('en-US')} online clients)`, unit: 'message', units: r.sent, measurement };
      }
      const sorted = r.latencies.sort((a, b) => a - b);
      points.push({
        offeredRate: rate,
        seconds: options.seconds,
        sent: r.sent,
        received: r.received,
        errors: r.errors,
        achievedRate: r.received / Math.max(r.seconds, options.seconds),
        p50: percentile(sorted, 50),
        p95: percentile(sorted, 95),
        p99: percentile(sorted, 99),
        max: sorted[sorted.length - 1] ?? NaN,
      });
      if (buckets) {
        const msPerMessage = Object.fromEntries(Object.entries(buckets).map(([k, v]) => [k, v / Math.max(1, r.sent)])) as Record<Bucket, number>;
        cpu = { rate, messages: r.sent, msPerMessage, cirrusMsPerMessage: msPerMessage.cirrus + msPerMessage.awsSdk, top: profile!.top };
      }
    }
    return { clients: options.clients, dynamoLocalPutsPerSecond, points, cpu, underLoad };
  } finally {
    await clients.stop();
  }
}

/** PutItems a second DynamoDB Local completes with 50 in flight, on a scratch table, for 3 s. */
async function dynamoLocalCeiling(endpoint: string): Promise<number> {
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
  const TableName = `bench-ceiling-${Date.now()}`;
  await client.send(new CreateTableCommand({ TableName, KeySchema: [{ AttributeName: 'k', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'k', AttributeType: 'S' }], BillingMode: 'PAY_PER_REQUEST' }));
  let n = 0;
  const t0 = performance.now();
  const end = t0 + 3000;
  await Promise.all(
    Array.from({ length: 50 }, async (_, w) => {
      while (performance.now() < end) await client.send(new PutItemCommand({ TableName, Item: { k: { S: `${w}-${n++}` }, v: { S: 'x'.repeat(300) } } }));
    }),
  );
  const rate = n / ((performance.now() - t0) / 1000);
  await client.send(new DeleteTableCommand({ TableName }));
  client.destroy();
  return rate;
}
