/**
 * Who the send path hands to the notify function (core/offline-push/targets.ts), counted as
 * asynchronous Lambda invocations made by the send: exactly one for a recipient with devices
 * and no foreground connection, none for a recipient in the foreground, one when the app is in
 * the background, none for "do not receive", a blocked sender, the sender's own devices,
 * typing or a revoke, one per group message and one per batch page.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { awsRequests } from '../../core/aws/accounting';
import { ddb } from '../../core/aws/dynamodb';
import { devices } from '../../core/store/devices';
import { eventually, type Device } from '../support/cirrus';
import { admin, as, cirrus, device, text, useCirrus } from '../support/harness';

// A failed notify invocation is not retried while the file runs: only the send's own invocations are counted.
useCirrus({ asyncInvoke: { retryDelaysMs: [600_000, 600_000] } });

// Tokens the FCM stand-in knows: the notify function's sends succeed and prune nothing.
const register = (userId: string, deviceId = `${userId}-phone`) => devices.put({ userId, deviceId, provider: 'fcm', token: cirrus.push.standIns.mintFcmToken(), platformId: 2, appId: 'com.example.chat' }, 10);

/** Lambda Invoke requests made while `act` ran. */
async function invokesDuring(act: () => Promise<unknown>): Promise<number> {
  const before = awsRequests.snapshot();
  await act();
  return awsRequests.since(before).Lambda?.Invoke ?? 0;
}

let a: Device;
let n = 0;
const send = (recvId: string, body = text('hi')) => a.ok('sendMsg', { clientMsgId: `od-${++n}`, recvId, ...body });

beforeAll(async () => {
  await admin.register('od-a', 'od-b', 'od-c', 'od-d', 'od-e', 'od-f', 'od-g');
  for (const u of ['od-a', 'od-b', 'od-c', 'od-d', 'od-e', 'od-g']) await register(u);
  a = await device('od-a');
});

describe('the offline push decision of a 1:1 send', () => {
  it('one notify invocation for a recipient with devices and no connection', async () => {
    expect(await invokesDuring(() => send('od-b'))).toBe(1);
  });

  it('none when the recipient is connected in the foreground, one once their app is in the background', async () => {
    const c = await device('od-c');
    expect(await invokesDuring(() => send('od-c'))).toBe(0);
    // The connection's entry as setAppBackground leaves it: `bg: 1`.
    const user = (await ddb().send(new GetCommand({ TableName: cirrus.tableNames.users, Key: { userId: 'od-c' }, ConsistentRead: true }))).Item!;
    const [connectionId] = Object.keys(user.conns);
    await ddb().send(new UpdateCommand({ TableName: cirrus.tableNames.users, Key: { userId: 'od-c' }, UpdateExpression: 'SET conns.#c.bg = :b', ExpressionAttributeNames: { '#c': connectionId }, ExpressionAttributeValues: { ':b': 1 } }));
    expect(await invokesDuring(() => send('od-c'))).toBe(1);
    await c.close();
  });

  it('none for a recipient without devices, or who does not receive the conversation', async () => {
    expect(await invokesDuring(() => send('od-f'))).toBe(0);
    expect((await as('od-e', 'PUT', '/users/od-e/settings', { globalRecvOpt: 1 })).status).toBe(200);
    expect(await invokesDuring(() => send('od-e'))).toBe(0);
  });

  it('none from a blocked sender: the send is refused', async () => {
    expect((await as('od-g', 'POST', '/users/od-g/blacklist', { blockedUserId: 'od-a' })).status).toBe(200);
    let refused: unknown;
    const count = await invokesDuring(async () => {
      refused = await a.request('sendMsg', { clientMsgId: `od-${++n}`, recvId: 'od-g', ...text('hi') });
    });
    expect(refused).toMatchObject({ error: { reason: 'BLOCKED' } });
    expect(count).toBe(0);
  });

  it('never to the sender’s own devices, even when the sender has no connection', async () => {
    // od-d (devices, no connection) sends over HTTP to od-f (no devices).
    expect(await invokesDuring(() => admin.call('POST', '/messages', { sendId: 'od-d', recvId: 'od-f', ...text('from d') }))).toBe(0);
  });

  it('none for typing, a revoke, or a resend of the same message', async () => {
    expect(await invokesDuring(() => a.ok('typing', { recvId: 'od-b', typing: true }))).toBe(0);
    const clientMsgId = `od-${++n}`;
    let ack: { conversationId: string; seq: number } | undefined;
    expect(await invokesDuring(async () => (ack = await a.ok('sendMsg', { clientMsgId, recvId: 'od-b', ...text('again') })))).toBe(1);
    expect(await invokesDuring(() => a.ok('sendMsg', { clientMsgId, recvId: 'od-b', ...text('again') }))).toBe(0);
    expect(await invokesDuring(() => as('od-a', 'POST', `/conversations/${ack!.conversationId}/messages/${ack!.seq}/revoke`))).toBe(0);
  });

  it('one for a friend request to a user away from the app', async () => {
    expect(await invokesDuring(() => as('od-f', 'POST', '/users/od-f/friend-requests', { toUserId: 'od-b', message: 'hi' }))).toBe(1);
  });
});

describe('group messages and batch sends', () => {
  it('one notify invocation per group message for its away members', async () => {
    expect((await as('od-a', 'POST', '/groups', { groupId: 'od-grp', name: 'Small', memberUserIds: ['od-b', 'od-d', 'od-f'] })).status).toBe(200);
    expect(await invokesDuring(() => a.ok('sendMsg', { clientMsgId: `od-${++n}`, groupId: 'od-grp', ...text('all') }))).toBe(1);
  });

  it('one notify invocation per batch page, not one per message', async () => {
    let batchId = '';
    const count = await invokesDuring(async () => {
      const res = await admin.call('POST', '/messages/batch', { sendId: 'od-a', recvIds: ['od-b', 'od-d', 'od-f'], ...text('news') });
      expect(res.status).toBe(200);
      batchId = res.body.batchId;
      await eventually(async () => (await admin.call('GET', `/messages/batch/${batchId}`)).body.status === 'done');
    });
    // The page itself and its one notify invocation (od-b and od-d).
    expect(count).toBe(2);
  });
});
