/**
 * The benchmark's cost model and fan-out model are plain arithmetic over measured counts:
 * checked here on hand-computed figures, so a change to a price or a formula is deliberate.
 */
import { describe, expect, it } from 'vitest';
import { costPerUnit, countsPerUnit, sampleAppPerMessage } from '../../bench/cost-model';
import { assumptions, prices } from '../../bench/prices';
import { modelFanout } from '../../bench/suites/fanout';
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
    // 2 sends, plus a receive and a delete per archive batch (2 batches); the asynchronous push invocations poll nothing.
    expect(c.sqsRequests).toBe(3);
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
