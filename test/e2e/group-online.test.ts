/**
 * The online index of large groups (GroupOnline): built when a group reaches
 * onlineIndexMinMembers, kept on connect, disconnect, join, quit, kick, dismissal, receive
 * options and 410; a message to an indexed group reaches exactly its online members (silent
 * where they asked), never a removed member nor the sender's own connection, and reads only
 * the online members: adding offline members adds no read unit.
 */
import { describe, expect, it } from 'vitest';
import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { eventually, sleep, type Device } from '../support/cirrus';
import { admin, as, cirrus, device, text, useCirrus } from '../support/harness';
import { ddb } from '../../core/aws/dynamodb';
import { awsRequests } from '../../core/aws/accounting';
import { connections } from '../../core/store/connections';
import { groupOnline } from '../../core/store/group-online';
import { groupRecipients } from '../../core/services/push';
import { buildIndex } from '../../core/services/online-index';
import { groups } from '../../core/store/groups';
import { devices } from '../../core/store/devices';
import { metering } from '../../local/metering';

const MIN = 6;
useCirrus({ settings: { onlineIndexMinMembers: MIN, inlinePushMax: 10 } });

/** The group's entries, as `userId#connectionId` → effective option (strong Query of its only shard). */
async function entries(groupId: string): Promise<Map<string, number>> {
  const res = await ddb().send(
    new QueryCommand({ TableName: cirrus.tableNames.groupOnline, KeyConditionExpression: 'gs = :g', ExpressionAttributeValues: { ':g': `${groupId}#0` }, ConsistentRead: true }),
  );
  return new Map((res.Items ?? []).map((i) => [i.uc as string, (i.o as number | undefined) ?? 0]));
}

const usersOf = async (groupId: string) => [...new Set([...(await entries(groupId)).keys()].map((k) => k.split('#')[0]))].sort();

async function userItem(userId: string): Promise<Record<string, any>> {
  return (await ddb().send(new GetCommand({ TableName: cirrus.tableNames.users, Key: { userId }, ConsistentRead: true }))).Item ?? {};
}

async function groupItem(groupId: string): Promise<Record<string, any>> {
  return (await ddb().send(new GetCommand({ TableName: cirrus.tableNames.groups, Key: { groupId }, ConsistentRead: true }))).Item ?? {};
}

/** Nothing queued or in flight on the message path, for a moment. */
async function settled(): Promise<void> {
  await cirrus.lambda.idle();
  await cirrus.streams.idle();
  await sleep(300);
}

const pushed = (d: Device, clientMsgId: string) => d.pushes.some((m) => m.clientMsgId === clientMsgId);

describe('the online index of a large group', () => {
  it('is built when the group reaches the threshold, from its members current connections', async () => {
    const ids = ['ix-a', 'ix-b', 'ix-c', 'ix-d', 'ix-e', 'ix-f'];
    await admin.register(...ids);
    await device('ix-b');
    await device('ix-c');
    const created = await as('ix-a', 'POST', '/groups', { groupId: 'ix', name: 'Index', memberUserIds: ['ix-b', 'ix-c', 'ix-d', 'ix-e'] });
    expect(created.status).toBe(200);
    expect(created.body.group).not.toHaveProperty('onlineIndex');
    // Five members: below the threshold, no index.
    expect((await groupItem('ix')).onlineIndex).toBeUndefined();
    expect((await entries('ix')).size).toBe(0);

    const added = await as('ix-a', 'POST', '/groups/ix/members', { userIds: ['ix-f'] });
    expect(added.body.memberCount).toBe(MIN);
    expect((await groupItem('ix')).onlineIndex).toEqual({ s: 1, ready: true });
    expect(await usersOf('ix')).toEqual(['ix-b', 'ix-c']);
    for (const id of ids) expect((await userItem(id)).bigGroups?.ix).toEqual({ o: 0, s: 1 });
    // Never shown.
    expect((await as('ix-a', 'GET', '/groups/ix')).body.group).not.toHaveProperty('onlineIndex');
    expect((await as('ix-a', 'GET', '/users/ix-a')).body.user).not.toHaveProperty('bigGroups');
  });

  it('follows connects and disconnects, joins, quits and kicks while online, and dismissal', async () => {
    await admin.register('jx-a', 'jx-b', 'jx-c', 'jx-d', 'jx-e', 'jx-f', 'jx-g');
    await as('jx-a', 'POST', '/groups', { groupId: 'jx', name: 'J', memberUserIds: ['jx-b', 'jx-c', 'jx-d', 'jx-e', 'jx-f'] });
    expect((await groupItem('jx')).onlineIndex).toEqual({ s: 1, ready: true });
    expect((await entries('jx')).size).toBe(0);

    const d = await device('jx-d');
    expect(await usersOf('jx')).toEqual(['jx-d']);
    await d.close();
    await eventually(async () => (await entries('jx')).size === 0);

    const g = await device('jx-g');
    await as('jx-a', 'POST', '/groups/jx/members', { userIds: ['jx-g'] });
    expect(await usersOf('jx')).toEqual(['jx-g']);
    expect((await as('jx-g', 'POST', '/users/jx-g/groups/jx/quit')).status).toBe(200);
    expect(await usersOf('jx')).toEqual([]);
    expect((await userItem('jx-g')).bigGroups).toEqual({});
    void g;

    await device('jx-e');
    expect(await usersOf('jx')).toEqual(['jx-e']);
    const kicked = await as('jx-a', 'POST', '/groups/jx/members/remove', { userIds: ['jx-e'] });
    expect(kicked.body.results).toEqual([{ userId: 'jx-e', ok: true }]);
    expect(await usersOf('jx')).toEqual([]);

    await device('jx-b');
    expect(await usersOf('jx')).toEqual(['jx-b']);
    expect((await as('jx-a', 'DELETE', '/groups/jx')).status).toBe(200);
    expect(await usersOf('jx')).toEqual([]);
    expect((await userItem('jx-b')).bigGroups).toEqual({});
    expect((await groupItem('jx')).onlineIndex).toBeUndefined();
  });

  it('carries the stricter of the per-conversation and the global receive option', async () => {
    await admin.register('rx-a', 'rx-b', 'rx-c', 'rx-d', 'rx-e', 'rx-f');
    await as('rx-a', 'POST', '/groups', { groupId: 'rx', name: 'R', memberUserIds: ['rx-b', 'rx-c', 'rx-d', 'rx-e', 'rx-f'] });
    const b = await device('rx-b');
    const key = [...(await entries('rx')).keys()][0];
    expect(await entries('rx')).toEqual(new Map([[key, 0]]));
    await as('rx-b', 'PUT', '/users/rx-b/conversations/sg_rx', { recvOpt: 2 });
    expect((await entries('rx')).get(key)).toBe(2);
    await as('rx-b', 'PUT', '/users/rx-b/settings', { globalRecvOpt: 1 });
    expect((await entries('rx')).get(key)).toBe(1);
    await as('rx-b', 'PUT', '/users/rx-b/settings', { globalRecvOpt: 0 });
    expect((await entries('rx')).get(key)).toBe(2);
    // A new connection carries the option too.
    await device('rx-b', 1);
    expect([...(await entries('rx')).values()]).toEqual([2, 2]);
    void b;
  });

  it('delivers to exactly the online members, silent where asked, never a removed member nor the origin connection', async () => {
    const members = ['mx-a', 'mx-b', 'mx-c', 'mx-d', 'mx-e', 'mx-f', 'mx-g'];
    await admin.register(...members, 'mx-out');
    await as('mx-a', 'POST', '/groups', { groupId: 'mx', name: 'M', memberUserIds: [...members.slice(1), 'mx-out'] });
    const sender = await device('mx-a');
    const senderOther = await device('mx-a', 1);
    const loud = await device('mx-b');
    const quiet = await device('mx-c');
    const none = await device('mx-d');
    const removed = await device('mx-out');
    await as('mx-c', 'PUT', '/users/mx-c/conversations/sg_mx', { recvOpt: 2 });
    await as('mx-d', 'PUT', '/users/mx-d/conversations/sg_mx', { recvOpt: 1 });
    await as('mx-a', 'POST', '/groups/mx/members/remove', { userIds: ['mx-out'] });
    await settled();

    await sender.ok('sendMsg', { clientMsgId: 'to-online', groupId: 'mx', ...text('hello') });
    await loud.until(() => pushed(loud, 'to-online'), 10_000, 'loud push');
    await quiet.until(() => pushed(quiet, 'to-online'), 10_000, 'silent push');
    await senderOther.until(() => pushed(senderOther, 'to-online'), 10_000, "the sender's other device");
    await settled();
    const frameOf = (dev: Device) => dev.frames.find((f) => (f as { data?: { clientMsgId?: string } }).data?.clientMsgId === 'to-online') as { silent?: boolean };
    expect(frameOf(loud).silent).toBeUndefined();
    expect(frameOf(quiet).silent).toBe(true);
    expect(frameOf(senderOther).silent).toBeUndefined();
    expect(pushed(none, 'to-online')).toBe(false);
    expect(pushed(removed, 'to-online')).toBe(false);
    expect(pushed(sender, 'to-online')).toBe(false);
  });

  it('reads only the online members: offline members add no read unit, no user item and no row is read per member', async () => {
    const first = Array.from({ length: 8 }, (_, i) => `cx-${i}`);
    const more = Array.from({ length: 40 }, (_, i) => `cx-more-${i}`);
    await admin.register(...first, ...more);
    await as('cx-0', 'POST', '/groups', { groupId: 'cx', name: 'C', memberUserIds: first.slice(1) });
    const sender = await device('cx-0');
    const online = await Promise.all(['cx-1', 'cx-2', 'cx-3'].map((u) => device(u)));

    const measure = async (clientMsgId: string) => {
      await settled();
      awsRequests.meterCapacity(true);
      const before = { units: awsRequests.capacity(), requests: awsRequests.snapshot() };
      await sender.ok('sendMsg', { clientMsgId, groupId: 'cx', ...text(clientMsgId) });
      for (const d of online) await d.until(() => pushed(d, clientMsgId), 10_000, clientMsgId);
      await settled();
      const after = awsRequests.capacity();
      awsRequests.meterCapacity(false);
      return { read: after.read - before.units.read, requests: awsRequests.since(before.requests).DynamoDB ?? {} };
    };

    // The group's first message finds its roster of members with devices empty, and marks it so.
    await measure('first');
    const small = await measure('with-8');
    expect((await as('cx-0', 'POST', '/groups/cx/members', { userIds: more })).body.memberCount).toBe(48);
    const large = await measure('with-48');
    // Six times the members, the same three online: the same reads.
    expect(large.read).toBe(small.read);
    expect(large.requests).toEqual(small.requests);
    // One strong GetItem of the group's index state and one strong Query of its one shard; no
    // member has a device, so no notify function Queries the roster; the BatchGetItems are the
    // send checks alone (today's path reads every member's item and row).
    expect(large.requests.Query).toBe(1);
    expect(large.requests.BatchGetItem ?? 0).toBeLessThanOrEqual(2);
  });

  it('invokes no notify function and reads no roster while no member has a device, until one registers a device', async () => {
    const ids = Array.from({ length: MIN }, (_, i) => `rv-${i}`);
    await admin.register(...ids);
    await as('rv-0', 'POST', '/groups', { groupId: 'rv', name: 'R', memberUserIds: ids.slice(1) });
    const sender = await device('rv-0');
    const online = await device('rv-1');
    const send = async (clientMsgId: string) => {
      await settled();
      const before = { requests: awsRequests.snapshot(), metered: metering.snapshot() };
      await sender.ok('sendMsg', { clientMsgId, groupId: 'rv', ...text(clientMsgId) });
      await online.until(() => pushed(online, clientMsgId), 10_000, clientMsgId);
      await settled();
      return { queries: awsRequests.since(before.requests).DynamoDB?.Query ?? 0, notify: metering.since(before.metered).invocations.notify?.count ?? 0 };
    };

    // Unknown (as for a group indexed before the flag existed): the roster is read, found empty, marked so.
    await settled();
    await ddb().send(new UpdateCommand({ TableName: cirrus.tableNames.groups, Key: { groupId: 'rv' }, UpdateExpression: 'REMOVE rosterV' }));
    expect(await send('rv-1st')).toEqual({ queries: 2, notify: 1 });
    expect((await groupItem('rv')).rosterV).toBe(0);
    // Known empty: the online shard's Query only.
    expect(await send('rv-2nd')).toEqual({ queries: 1, notify: 0 });

    // A first device puts rv-3 on the roster and marks it written: the next message notifies again.
    await devices.put({ userId: 'rv-3', deviceId: 'rv-3-phone', provider: 'apns', token: 'rv-3-token', platformId: 1, appId: 'com.example.chat' }, 10);
    expect((await groupItem('rv')).rosterV).toBeGreaterThan(0);
    // The notify function reads the roster, then rv-3's devices and badge (two more Queries).
    expect(await send('rv-3rd')).toEqual({ queries: 4, notify: 1 });
    expect((await groupItem('rv')).rosterV).toBeGreaterThan(0);

    // The roster empties again (last device gone): the flag stays until a notify finds it empty.
    await devices.remove('rv-3', ['rv-3-phone']);
    expect(await send('rv-4th')).toEqual({ queries: 2, notify: 1 });
    expect((await groupItem('rv')).rosterV).toBe(0);
    expect(await send('rv-5th')).toEqual({ queries: 1, notify: 0 });
  });

  it('keeps a roster written while a notify found it empty: the reset only applies to the flag the send read', async () => {
    const ids = Array.from({ length: MIN }, (_, i) => `rr-${i}`);
    await admin.register(...ids);
    await as('rr-0', 'POST', '/groups', { groupId: 'rr', name: 'R', memberUserIds: ids.slice(1) });
    // A send read the flag as unknown; then a member's first device put them on the roster (flag 1); the late reset must fail.
    await groupOnline.rosterWritten('rr');
    await groupOnline.rosterFoundEmpty('rr', undefined);
    expect((await groupItem('rr')).rosterV).toBe(1);
    await groupOnline.rosterFoundEmpty('rr', 0);
    expect((await groupItem('rr')).rosterV).toBe(1);
    await groupOnline.rosterFoundEmpty('rr', 1);
    expect((await groupItem('rr')).rosterV).toBe(0);
    // A dismissed group's item is never recreated by either.
    await groupOnline.rosterWritten('rr-none');
    await groupOnline.rosterFoundEmpty('rr-none', undefined);
    expect(await groupItem('rr-none')).toEqual({});
  });

  it('drops the entries of a connection found gone (410), and never returns an expired one', async () => {
    await admin.register('gx-a', 'gx-b', 'gx-c', 'gx-d', 'gx-e', 'gx-f');
    await as('gx-a', 'POST', '/groups', { groupId: 'gx', name: 'G', memberUserIds: ['gx-b', 'gx-c', 'gx-d', 'gx-e', 'gx-f'] });
    const sender = await device('gx-a');
    const b = await device('gx-b');
    const now = Date.now();
    const nowS = Math.floor(now / 1000);
    // A connection whose $disconnect never ran (older than $connect can take) and one past its expiry.
    await connections.put({ userId: 'gx-c', connectionId: 'gone-gx-c=', platformId: 1, sessionId: 's', connectedAt: nowS - 120, connectedAtMs: now - 120_000, expiresAt: nowS + 3600 });
    await groupOnline.write([{ groupId: 'gx', group: { o: 0, s: 1 }, conn: { userId: 'gx-d', connectionId: 'expired-gx-d=', platformId: 1, sessionId: 's', connectedAt: nowS - 7300, connectedAtMs: now - 7_300_000, expiresAt: nowS - 100 } }]);
    expect([...(await entries('gx')).keys()].sort()).toEqual(expect.arrayContaining(['gx-c#gone-gx-c=', 'gx-d#expired-gx-d=']));
    const known = await groupRecipients('gx');
    expect(known?.live.map((c) => c.userId).sort()).toEqual(['gx-a', 'gx-b', 'gx-c']);
    expect(known?.live.some((c) => c.connectionId === 'gone-gx-c=')).toBe(true);

    await sender.ok('sendMsg', { clientMsgId: 'finds-gone', groupId: 'gx', ...text('anyone?') });
    await b.until(() => pushed(b, 'finds-gone'), 10_000, 'push');
    await eventually(async () => !(await entries('gx')).has('gx-c#gone-gx-c='));
    expect(Object.keys((await userItem('gx-c')).conns ?? {})).toEqual([]);
  });

  it('pauses a long build and resumes it at the next message to the group, which meanwhile reads the members', async () => {
    const ids = Array.from({ length: 8 }, (_, i) => `px-${i}`);
    await admin.register(...ids);
    await as('px-0', 'POST', '/groups', { groupId: 'px', name: 'P', memberUserIds: ids.slice(1) });
    const sender = await device('px-0');
    const online = await Promise.all(['px-2', 'px-7'].map((u) => device(u)));
    // Start over as if the group had just reached the threshold, and stop after one page of three.
    await groups.setOnlineIndex('px', null);
    for (const id of ids) await ddb().send(new UpdateCommand({ TableName: cirrus.tableNames.users, Key: { userId: id }, UpdateExpression: 'REMOVE bigGroups' }));
    await groupOnline.write([], [...(await entries('px')).keys()].map((k) => ({ groupId: 'px', shards: 1, userId: k.split('#')[0], connectionId: k.split('#')[1] })));
    await buildIndex('px', 1, undefined, 0, 3);
    const paused = (await groupItem('px')).onlineIndex;
    expect(paused).toMatchObject({ s: 1, ready: false, next: { groupId: 'px', userId: 'px-2' } });
    expect(await usersOf('px')).toEqual(['px-0', 'px-2']);
    expect(await groupRecipients('px')).toBeUndefined();

    await sender.ok('sendMsg', { clientMsgId: 'resumes', groupId: 'px', ...text('hello') });
    for (const d of online) await d.until(() => pushed(d, 'resumes'), 10_000, 'push');
    await eventually(async () => (await groupItem('px')).onlineIndex?.ready === true);
    expect((await groupItem('px')).onlineIndex).toEqual({ s: 1, ready: true });
    expect(await usersOf('px')).toEqual(['px-0', 'px-2', 'px-7']);
    for (const id of ids) expect((await userItem(id)).bigGroups?.px).toEqual({ o: 0, s: 1 });
  });
});
