/**
 * The benchmark's cost model and fan-out model are plain arithmetic over measured counts:
 * checked here on hand-computed figures, so a change to a price or a formula is deliberate.
 */
import { describe, expect, it } from 'vitest';
import { costPerUnit, countsPerUnit, groupMessageReads, onlineIndexBreakEven, onlineIndexPerConnect, sampleAppPerMessage } from '../../bench/cost-model';
import { assumptions, prices } from '../../bench/prices';
import { modelFanout } from '../../bench/suites/fanout';
import { PUSH_JOB_CONNECTIONS } from '../../core/services/fanout';
import type { Scenario } from '../../bench/suites/requests';

const scenario: Scenario = {
  id: 'x',
  title: 'two messages',
  unit: 'message',
  units: 2,
  measurement: {
    aws: { DynamoDB: { PutItem: 4, Query: 2 }, SQS: { SendMessage: 2 }, RDSData: { BatchExecuteStatement: 1 } },
    capacity: { read: 1, write: 8 },
    meter: { invocations: { wsMessage: { count: 2, totalMs: 100 }, archive: { count: 2, totalMs: 200 }, push: { count: 2, totalMs: 0 } }, wsIn: 2, wsOut: 4, connects: 0 },
    logBytes: 1000,
  },
};

describe('the cost model', () => {
  it('turns counts into per-message figures', () => {
    const c = countsPerUnit(scenario);
    expect(c.wsMessages).toBe(3);
    expect(c.lambdaInvocations).toBe(3);
    // wsMessage and archive are 512 MB: 0.3 s of 0.5 GB over two messages.
    expect(c.lambdaGbSeconds).toBeCloseTo(0.075, 10);
    // The 2 sends only: the archive reads DynamoDB Streams and the push invocations are asynchronous, so no event source polls SQS.
    expect(c.sqsRequests).toBe(1);
    expect(c.writeUnits).toBe(4);
    expect(c.readUnits).toBe(0.5);
    expect(c.dataApiRequests).toBe(0.5);
    // The handlers' lines only: no START/END/REPORT lines (system log level WARN), no access log by default.
    expect(c.logBytes).toBe(1000 / 2);
  });

  it('charges the WebSocket access log per inbound frame, connect and disconnect when it is on', () => {
    const connecting: Scenario = { ...scenario, measurement: { ...scenario.measurement, meter: { ...scenario.measurement.meter, connects: 1 } } };
    expect(countsPerUnit(connecting, { webSocketAccessLogs: true }).logBytes).toBe((1000 + (2 + 2 * 1) * assumptions.webSocketAccessLogBytes) / 2);
    expect(countsPerUnit(connecting, { webSocketAccessLogs: false }).logBytes).toBe(1000 / 2);
  });

  it('prices them with the table', () => {
    const cost = costPerUnit(scenario);
    expect(cost.apiGateway).toBeCloseTo(3 * prices.apiGatewayWsMessage.usd, 15);
    expect(cost.dynamoWrites).toBeCloseTo(4 * prices.dynamoWriteUnit.usd, 15);
    expect(cost.lambdaCompute).toBeCloseTo(0.075 * prices.lambdaArmGbSecond.usd, 15);
    expect(cost.total).toBeCloseTo(
      cost.apiGateway + cost.lambdaRequests + cost.lambdaCompute + cost.sqs + cost.dynamoWrites + cost.dynamoReads + cost.history + cost.logs,
      15,
    );
  });

  it("prices AWS's sample app with a Scan that grows with everyone connected", () => {
    const few = sampleAppPerMessage(2, 100);
    const many = sampleAppPerMessage(10_000, 100);
    expect(few.apiGateway).toBeCloseTo(3 * prices.apiGatewayWsMessage.usd, 15);
    // 10,000 items of 100 bytes: 245 units of 4 KB, half a read unit each.
    expect(many.dynamoReads).toBeCloseTo(122.5 * prices.dynamoReadUnit.usd, 15);
  });
});

describe('the fan-out model', () => {
  it('is bounded below by the account request rate and adds its steps up', () => {
    for (const online of [1_000, 10_000]) {
      const m = modelFanout(10_000, online);
      expect(m.boundMs).toBeCloseTo(online / 10, 10);
      expect(m.modelledMs).toBeCloseTo(m.steps.reduce((n, s) => n + s.ms, 0), 10);
      expect(m.modelledMs).toBeGreaterThan(m.boundMs);
      expect(m.pushJobs).toBe(100);
      // One asynchronous invocation per slice, and no SQS hop on the way.
      expect(m.pushInvocations).toBe(100);
      expect(m.steps.map((step) => step.step).join(' ')).not.toMatch(/SQS|delivery/);
    }
  });
});

describe('the idle model', () => {
  it('bills one Secrets Manager secret (the database credentials) and nothing for the SecureString parameters', async () => {
    // Act
    const { idleCost } = await import('../../bench/suites/idle');
    const { lines } = idleCost();

    // Assess
    const secrets = lines.find((l) => l.type === 'AWS::SecretsManager::Secret');
    const parameters = lines.find((l) => l.type === 'Custom::CirrusSecureParameters');
    expect(secrets).toMatchObject({ count: 1, monthlyUsd: 0.4 });
    expect(parameters).toMatchObject({ count: 1, monthlyUsd: 0 });
    expect(parameters?.why).toContain('2 standard-tier SecureString parameters');
  }, 120_000);

  it('bills an alarm per metric it reads and the dashboard as one of the free three', async () => {
    // Arrange
    const { idleCost } = await import('../../bench/suites/idle');
    const { tables, functions } = await import('../../core/manifest');
    const indexes = Object.values(tables).reduce((n, t) => n + ('indexes' in t ? t.indexes.length : 0), 0);
    const functionCount = Object.keys(functions).length;

    // Act
    const quiet = idleCost();
    const alarmed = idleCost({ monitoring: { alarms: true } });

    // Assess: by default only the dead-letter alarm; the dashboard is free and the total stays at $0.50.
    expect(quiet.lines.find((l) => l.type === 'AWS::CloudWatch::Alarm')).toMatchObject({ count: 1, monthlyUsd: 0.1 });
    expect(quiet.lines.find((l) => l.type === 'AWS::CloudWatch::Dashboard')).toMatchObject({ count: 1, monthlyUsd: 0 });
    expect(quiet.lines.find((l) => l.type === 'AWS::CloudWatch::Dashboard')?.why).toMatch(/^reading \d+ metrics: free as one of the account's first 3 dashboards of up to 50 metrics/);
    expect(quiet.totalUsd).toBeCloseTo(0.5, 10);
    // With the alarms: errors and throttles of every function, two API metrics of the WebSocket API and one of
    // the HTTP API, the archive's iterator age, read and write throttles of every table and index, Aurora, the dead letters.
    const metrics = 2 * functionCount + 3 + 1 + 2 * (Object.keys(tables).length + indexes) + 1 + 1;
    const alarms = alarmed.lines.find((l) => l.type === 'AWS::CloudWatch::Alarm');
    expect(alarms?.monthlyUsd).toBeCloseTo(metrics * 0.1, 10);
    expect(alarms?.count).toBeLessThan(metrics);
  }, 120_000);

  it("bills the detailed dashboard, over the free tier's 50 metrics, at $3 a month", async () => {
    // Act
    const { idleCost } = await import('../../bench/suites/idle');
    const detailed = idleCost({ monitoring: { dashboard: 'detailed' } });

    // Assess
    const dashboard = detailed.lines.find((l) => l.type === 'AWS::CloudWatch::Dashboard');
    expect(dashboard).toMatchObject({ count: 1, monthlyUsd: 3 });
    expect(Number(/^reading (\d+) metrics/.exec(dashboard!.why)?.[1])).toBeGreaterThan(50);
    expect(detailed.totalUsd).toBeCloseTo(3.5, 10);
  }, 120_000);
});

describe('the group online index in the model', () => {
  it('reads every member without it and only the online entries with it', () => {
    // 10,000 members: 110 units of member ids (eventually consistent) and one unit per member (item and row at half a unit each).
    expect(groupMessageReads(10_000, 1_000, false).readUnits).toBe(110 + 10_000);
    // With it: the group's state, and 8 shards of 125 entries of 70 bytes (8,750 B: 3 strong units each).
    expect(groupMessageReads(10_000, 1_000, true)).toMatchObject({ shards: 8, readUnits: 1 + 8 * 3 });
    // 100,000 members, 10,000 online: 64 shards of ~156 entries (3 units each), under $50 per million messages.
    const huge = groupMessageReads(100_000, 10_000, true);
    expect(huge.readUnits).toBe(1 + 64 * 3);
    expect(huge.usd * 1e6).toBeLessThan(50);
    // Offline members cost nothing with the index: only the shard count changes the bill.
    expect(groupMessageReads(1_500, 20, true).readUnits).toBe(groupMessageReads(300, 20, true).readUnits);
    expect(groupMessageReads(100, 20, true).readUnits).toBe(2);
  });

  it('moves the cost to connects: 2 write units per indexed group per connect/disconnect cycle, and a 10-message break-even', () => {
    expect(onlineIndexPerConnect(0)).toEqual({ writeUnits: 0, readUnits: 0, usd: 0 });
    expect(onlineIndexPerConnect(5)).toMatchObject({ writeUnits: 10, readUnits: 1 });
    expect(onlineIndexPerConnect(5).usd * 1e6).toBeCloseTo(10 * 0.625 + 0.125, 10);
    expect(onlineIndexBreakEven).toBeCloseTo(10, 10);
  });

  it('models the fan-out from the index without per-member lookups', () => {
    const before = modelFanout(10_000, 1_000);
    const after = modelFanout(10_000, 1_000, true);
    // One push invocation per slice of PUSH_JOB_CONNECTIONS online connections.
    expect(after.pushJobs).toBe(Math.ceil(1_000 / PUSH_JOB_CONNECTIONS));
    expect(after.pushJobs).toBe(2);
    expect(after.steps.find((s) => s.step.startsWith('push: connections'))?.ms).toBe(0);
    expect(after.modelledMs).toBeLessThan(before.modelledMs);
    // Send 40, index Queries 15, invoke request 10, the asynchronous hop 30, no lookups, 1,000 posts at the account limit 100.
    expect(after.modelledMs).toBeCloseTo(40 + 15 + 10 + 30 + 0 + 100, 10);
    const huge = modelFanout(100_000, 10_000, true);
    expect(huge.pushJobs).toBe(Math.ceil(10_000 / PUSH_JOB_CONNECTIONS));
    expect(huge.ratio).toBeLessThan(1.5);
  });
});
