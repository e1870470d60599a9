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
    const busy = ['Delivery', 'Push'].some((q) => {
      const d = cirrus.sqs.depth(q);
      return d.visible + d.inFlight + d.delayed > 0;
    });
    return !busy;
  });
  // The Messages stream's consumer (archive) has nothing left to do.
  await cirrus.streams.idle();
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
    const before = awsRequests.snapshot();

    await alice.ok('sendMsg', { clientMsgId: 'counted', recvId: 'bob', contentType: 101, content: { text: 'counted' } });
    await bob.waitForPushes(2);
    await eventually(async () => (await archived()) === 2);
    await settle();

    expect(awsRequests.since(before)).toEqual({
      // send: send-time rules + idempotency read, seq allocation, claim, message;
      // delivery: the sender's own position; both users' receive options and live connections in one read.
      DynamoDB: { BatchGetItem: 2, UpdateItem: 2, PutItem: 2 },
      // delivery job (the archive reads the Messages stream: no request of Cirrus's, and free for Lambda).
      SQS: { SendMessage: 1 },
      ApiGatewayManagementApi: { PostToConnection: 1 },
      // The archive batch the stream record arrived in.
      RDSData: { BatchExecuteStatement: 1 },
    });
  });
});
