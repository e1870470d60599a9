/**
 * What one message costs in AWS requests. Every request on the message path is billed;
 * a change that adds one makes this test fail, on purpose: update the figures (and
 * docs/performance.md) only for a reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Device, eventually, sleep } from '../support/cirrus';
import { admin, cirrus, device, text, useCirrus } from '../support/harness';
import { awsRequests } from '../../core/aws/accounting';
import { metering } from '../../local/metering';

let alice: Device;
let bob: Device;

// The group case measures a group below the online-index threshold (its members are read, in slices).
// The deployed batching windows of the archive's streams: the counts include its batched invocations.
useCirrus({ streamOverrides: {}, settings: { onlineIndexMinMembers: 1_000 } });

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
    const d = cirrus.sqs.depth('Webhook');
    return d.visible + d.inFlight + d.delayed === 0;
  });
  await cirrus.lambda.idle();
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
    awsRequests.meterCapacity(true);
    const before = awsRequests.snapshot();
    const meteredBefore = metering.snapshot();
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
      // the message; the push reads nothing (the precheck read both users' live connections).
      DynamoDB: { BatchGetItem: 1, UpdateItem: 1, PutItem: 1 },
      // No SQS request: no delivery or push queue (the sending function posts itself), and the
      // archive reads the Messages stream (no request of Cirrus's, and free for Lambda).
      ApiGatewayManagementApi: { PostToConnection: 1 },
      // The archive batch the stream record arrived in.
      RDSData: { BatchExecuteStatement: 1 },
    });
    expect({ read: unitsAfter.read - unitsBefore.read, write: unitsAfter.write - unitsBefore.write }).toEqual({
      // The counter strongly (1) and the two users' items eventually consistent (0.5 each).
      read: 2,
      // One write unit each: the counter update (no index), the message.
      write: 2,
    });
    // The sending function and the archive's batch: no delivery or push invocation.
    expect(Object.fromEntries(Object.entries(metering.since(meteredBefore).invocations).map(([fn, v]) => [fn, v!.count]))).toEqual({ wsMessage: 1, archive: 1 });
  });
});

describe('a group message to more members than INLINE_PUSH_MAX', () => {
  it('costs one asynchronous push invocation per slice of 100 recipients, and no SQS request for push', async () => {
    const members = Array.from({ length: 150 }, (_, i) => `cm${String(i).padStart(3, '0')}`);
    await admin.register(...members);
    await admin.createGroup('costs-big', 'alice', ['bob', ...members]);
    const carol = await Device.connect(cirrus.wsUrl, await admin.userToken(members[0]));
    try {
      await settle();
      const before = awsRequests.snapshot();
      const meteredBefore = metering.snapshot();

      const ack = await alice.ok('sendMsg', { clientMsgId: 'big', groupId: 'costs-big', contentType: 101, content: { text: 'to all' } });
      await carol.until(() => carol.pushes.some((p) => p.seq === ack.seq), 10_000, 'the push of the group message');
      await settle();

      const requests = awsRequests.since(before);
      // 152 recipients: two slices.
      expect(requests.Lambda).toEqual({ Invoke: 2 });
      expect(requests.SQS).toBeUndefined();
      expect(metering.since(meteredBefore).invocations.push?.count).toBe(2);
      expect(metering.since(meteredBefore).invocations.wsMessage?.count).toBe(1);
    } finally {
      await carol.close();
    }
  });
});

describe('one 1:1 message to a user whose app is closed, with one phone registered', () => {
  it('adds exactly one notify invocation and its reads to the online figures, and one notification', async () => {
    await admin.register('costs-off');
    const phone = cirrus.push.standIns.mintApnsToken();
    const registered = await admin.call('PUT', '/users/costs-off/devices/phone', { provider: 'apns', token: phone, platformId: 1, appId: cirrus.push.settings.apns!.bundleIds[0] }, await admin.userToken('costs-off', 1));
    expect(registered.status).toBe(200);
    // Warm-up: the conversation's rows, the notify function's credentials (cached 5 minutes) and its provider session.
    await alice.ok('sendMsg', { clientMsgId: 'off-warm', recvId: 'costs-off', contentType: 101, content: { text: 'warm' } });
    await settle();
    const notified = () => cirrus.push.standIns.notifications({ token: phone }).length;
    expect(notified()).toBe(1);
    const before = awsRequests.snapshot();
    const meteredBefore = metering.snapshot();

    await alice.ok('sendMsg', { clientMsgId: 'off-counted', recvId: 'costs-off', contentType: 101, content: { text: 'counted' } });
    await settle();

    expect(notified()).toBe(2);
    expect(awsRequests.since(before)).toEqual({
      // send: as for an online recipient (the precheck's user read tells that costs-off has a device and no
      // connection); notify: the recipient's and sender's items (BatchGetItem), the devices (Query), the badge
      // (the recipient's conversations, Query, and their counters, BatchGetItem).
      DynamoDB: { BatchGetItem: 3, UpdateItem: 1, PutItem: 1, Query: 2 },
      // The send's asynchronous invocation of notify; nothing is posted (no connection).
      Lambda: { Invoke: 1 },
      RDSData: { BatchExecuteStatement: 1 },
    });
    expect(Object.fromEntries(Object.entries(metering.since(meteredBefore).invocations).map(([fn, v]) => [fn, v!.count]))).toEqual({ wsMessage: 1, notify: 1, archive: 1 });
  });
});

describe('a heartbeat', () => {
  it('costs the frame in and the reply out, answered by the gateway itself: no invocation, no AWS request', async () => {
    await settle();
    const before = awsRequests.snapshot();
    const meteredBefore = metering.snapshot();
    const sentAt = Date.now();

    const reply = await alice.request('heartbeat', {});

    const metered = metering.since(meteredBefore);
    expect(metered.invocations).toEqual({});
    expect({ wsIn: metered.wsIn, wsOut: metered.wsOut }).toEqual({ wsIn: 1, wsOut: 1 });
    expect(awsRequests.since(before)).toEqual({});
    // API Gateway's MOCK integration cannot echo the request's id (core/protocol/heartbeat.ts).
    expect(reply).toEqual({ id: null, action: 'heartbeat', data: { serverTime: expect.any(Number) } });
    expect(reply.data.serverTime).toBeGreaterThanOrEqual(sentAt - 1_000);
  });

  it('answers every frame routed to heartbeat the same way, malformed or not, and runs nothing for it', async () => {
    const meteredBefore = metering.snapshot();
    for (const frame of ['{"action":"heartbeat"}', '{"id":"x","action":"heartbeat","data":{"junk":1}}', '{"id":7,"action":"heartbeat","pad":"\\ud800"}']) {
      expect(await alice.raw(frame)).toEqual({ id: null, action: 'heartbeat', data: { serverTime: expect.any(Number) } });
    }
    expect(metering.since(meteredBefore).invocations).toEqual({});
  });
});
