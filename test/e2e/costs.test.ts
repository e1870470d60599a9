/**
 * What one message costs in AWS requests. Every request on the message path is billed;
 * a change that adds one makes this test fail, on purpose: update the figures (and
 * docs/performance.md) only for a reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Device, eventually, sleep } from '../support/cirrus';
import { admin, cirrus, device, text, useCirrus } from '../support/harness';
import { awsRequests } from '../../core/aws/accounting';

let alice: Device;
let bob: Device;

useCirrus();

beforeAll(async () => {
  await admin.register('alice', 'bob');
  alice = await Device.connect(cirrus.wsUrl, await admin.userToken('alice'));
  bob = await Device.connect(cirrus.wsUrl, await admin.userToken('bob'));
});

afterAll(async () => {
  await alice?.close();
  await bob?.close();
  await cirrus?.stop();
});

async function archived(): Promise<number> {
  const rows = await cirrus.dataApi.query(`SELECT count(*)::int AS n FROM messages WHERE conversation_id = 'si_alice_bob'`);
  return Number(rows[0].n);
}

async function settle(): Promise<void> {
  // Quiet means: nothing queued, nothing in flight, for a moment.
  await eventually(async () => {
    const busy = ['Delivery', 'Push', 'Archive'].some((q) => {
      const d = cirrus.sqs.depth(q);
      return d.visible + d.inFlight + d.delayed > 0;
    });
    return !busy;
  });
  await sleep(300);
}

describe('one 1:1 message to one online device', () => {
  it('costs exactly these AWS requests, per service, from send to push and archive', async () => {
    // Warm-up: the first message of a conversation also creates the members' rows, and
    // the first invocations fetch the secrets; neither recurs within the secrets' 5-minute cache.
    await alice.ok('sendMsg', { clientMsgId: 'warm', recvId: 'bob', contentType: 101, content: { text: 'warm' } });
    await bob.waitForPushes(1);
    await eventually(async () => (await archived()) === 1);
    await settle();
    awsRequests.meterCapacity(true);
    const before = awsRequests.snapshot();
    const unitsBefore = awsRequests.capacity();

    await alice.ok('sendMsg', { clientMsgId: 'counted', recvId: 'bob', contentType: 101, content: { text: 'counted' } });
    await bob.waitForPushes(2);
    await eventually(async () => (await archived()) === 2);
    await settle();
    const unitsAfter = awsRequests.capacity();
    awsRequests.meterCapacity(false);

    expect(awsRequests.since(before)).toEqual({
      // send: the precheck (counter, recipient and sender in one read), the counter update
      // that allocates the seq, claims the clientMsgId and records the sender's position,
      // the message; delivery: both users' receive options and live connections in one read.
      DynamoDB: { BatchGetItem: 2, UpdateItem: 1, PutItem: 1 },
      // delivery job; archive job.
      SQS: { SendMessage: 1, SendMessageBatch: 1 },
      ApiGatewayManagementApi: { PostToConnection: 1 },
      RDSData: { BatchExecuteStatement: 1 },
    });
    expect({ read: unitsAfter.read - unitsBefore.read, write: unitsAfter.write - unitsBefore.write }).toEqual({
      // The counter strongly (1) and the two users' items eventually consistent (0.5 each);
      // delivery's read: the two users' items and the recipient's conversation row (0.5 each).
      read: 2 + 1.5,
      // One write unit each: the counter update (no index), the message.
      write: 2,
    });
  });
});
