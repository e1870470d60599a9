/**
 * Suite 1: what each scenario costs in AWS requests, DynamoDB capacity, Lambda time,
 * WebSocket messages and log bytes, measured on the local runtime through the same
 * accounting the tests use. Figures are per message (or per connect, reconnect, heartbeat).
 */
import type { LocalCirrus } from '../../local/runtime';
import { Api, Client, connectMany, ids, measure, settle, sumMeasurements, type Measurement } from '../support';

export interface Scenario {
  id: string;
  title: string;
  /** What the figures are divided by. */
  unit: 'message' | 'connect' | 'reconnect' | 'heartbeat';
  /** How many units the measurement covered. */
  units: number;
  measurement: Measurement;
}

export interface RequestsOptions {
  /** Members and online members of the large group. */
  bigGroup: number;
  bigOnline: number;
}

const text = (t: string) => ({ contentType: 101, content: { text: t } });

async function oneToOneOnline(cirrus: LocalCirrus, api: Api): Promise<Scenario> {
  await api.register(['s1-a', 's1-b']);
  const [a, b] = await connectMany(api, ['s1-a', 's1-b']);
  // Warm: the conversation exists and the handlers' code is hot.
  const warm = 10;
  for (let i = 0; i < warm; i++) await a.request('sendMsg', { clientMsgId: `warm${i}`, recvId: 's1-b', ...text('warm') });
  await b.waitForPushes(warm);
  const n = 50;
  const measurement = await measure(async () => {
    for (let i = 0; i < n; i++) {
      await a.request('sendMsg', { clientMsgId: `m${i}`, recvId: 's1-b', ...text(`message ${i}`) });
      await b.waitForPushes(warm + i + 1);
    }
  }, cirrus);
  await Promise.all([a.close(), b.close()]);
  return { id: 'oneToOneOnline', title: '1:1 to one online device, one message at a time', unit: 'message', units: n, measurement };
}

async function oneToOneOffline(cirrus: LocalCirrus, api: Api): Promise<Scenario> {
  await api.register(['s2-a', 's2-b']);
  const [a] = await connectMany(api, ['s2-a']);
  await a.request('sendMsg', { clientMsgId: 'warm', recvId: 's2-b', ...text('warm') });
  await settle(cirrus);
  const n = 20;
  const token = await api.token('s2-b');
  let b: Client | undefined;
  const measurement = await measure(async () => {
    for (let i = 0; i < n; i++) await a.request('sendMsg', { clientMsgId: `m${i}`, recvId: 's2-b', ...text(`message ${i}`) });
    await settle(cirrus);
    // The recipient comes online later and catches up: connect, newest seqs, one pull.
    b = await Client.connect(cirrus.wsUrl, token);
    const newest = await b.request<{ conversations: { conversationId: string; maxSeq: number }[] }>('getNewestSeq');
    for (const c of newest.conversations) await b.request('pullMsgs', { conversationId: c.conversationId, fromSeq: 1, toSeq: c.maxSeq });
  }, cirrus);
  await Promise.all([a.close(), b?.close()]);
  return { id: 'oneToOneOffline', title: '1:1 to an offline user who connects and syncs later (per message, connect and sync included)', unit: 'message', units: n, measurement };
}

/**
 * 1:1 to a recipient whose app is closed and who has one phone registered for offline push
 * (APNs, the local stand-in): the send, its archive, and the notify function's work for it
 * (the device read, the badge's unread count, the provider call), one message at a time.
 */
async function oneToOneOfflinePush(cirrus: LocalCirrus, api: Api): Promise<Scenario> {
  await api.register(['s3-a', 's3-b']);
  const token = cirrus.push.standIns.mintApnsToken();
  await api.call('PUT', '/users/s3-b/devices/phone', { provider: 'apns', token, platformId: 1, appId: cirrus.push.settings.apns!.bundleIds[0], locale: 'en-US' });
  const [a] = await connectMany(api, ['s3-a']);
  await a.request('sendMsg', { clientMsgId: 'warm', recvId: 's3-b', ...text('warm') });
  await settle(cirrus);
  const before = cirrus.push.standIns.notifications({ token }).length;
  const n = 20;
  const measurement = await measure(async () => {
    for (let i = 0; i < n; i++) {
      await a.request('sendMsg', { clientMsgId: `m${i}`, recvId: 's3-b', ...text(`message ${i}`) });
      await settle(cirrus);
    }
  }, cirrus);
  const notified = cirrus.push.standIns.notifications({ token }).length - before;
  if (notified !== n) throw new Error(`offline push: ${notified} notifications for ${n} messages`);
  await a.close();
  return { id: 'oneToOneOfflinePush', title: '1:1 to a user whose app is closed, with one phone registered for offline push (per message, its notification included)', unit: 'message', units: n, measurement };
}

async function group(cirrus: LocalCirrus, api: Api, id: string, title: string, members: number, online: number, n: number): Promise<Scenario> {
  const users = ids(`${id}-u`, members);
  await api.register(users);
  await api.group(id, users[0], users.slice(1));
  const clients = await connectMany(api, users.slice(0, online));
  const [sender, ...others] = clients;
  await sender.request('sendMsg', { clientMsgId: 'warm', groupId: id, ...text('warm') });
  await settle(cirrus);
  const base = others.map((c) => c.pushes.length);
  const measurement = await measure(async () => {
    for (let i = 0; i < n; i++) {
      await sender.request('sendMsg', { clientMsgId: `m${i}`, groupId: id, ...text(`message ${i}`) });
      await Promise.all(others.map((c, j) => c.waitForPushes(base[j] + i + 1, 300_000)));
    }
  }, cirrus);
  await Promise.all(clients.map((c) => c.close()));
  return { id, title, unit: 'message', units: n, measurement };
}

async function connectAndSync(cirrus: LocalCirrus, api: Api): Promise<Scenario[]> {
  await api.register(['s5-a', 's5-b', 's5-c']);
  const tokenA = await api.token('s5-a');
  const [b, c] = await connectMany(api, ['s5-b', 's5-c']);
  // Warm: the functions load and the conversations exist.
  const warm = await Client.connect(cirrus.wsUrl, tokenA);
  await b.request('sendMsg', { clientMsgId: 'w1', recvId: 's5-a', ...text('hi') });
  await c.request('sendMsg', { clientMsgId: 'w2', recvId: 's5-a', ...text('hi') });
  await warm.request('heartbeat');
  await warm.close();
  await settle(cirrus);

  const n = 10;
  const connect = await measure(async () => {
    for (let i = 0; i < n; i++) await (await Client.connect(cirrus.wsUrl, tokenA)).close();
  }, cirrus);

  // Reconnect after missing 5 messages in each of two conversations: connect, newest seqs,
  // one pull each. The sends between reconnects are not counted.
  const syncs: Measurement[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < 5; j++) {
      await b.request('sendMsg', { clientMsgId: `b${i}-${j}`, recvId: 's5-a', ...text('x') });
      await c.request('sendMsg', { clientMsgId: `c${i}-${j}`, recvId: 's5-a', ...text('x') });
    }
    syncs.push(
      await measure(async () => {
        const a = await Client.connect(cirrus.wsUrl, tokenA);
        const newest = await a.request<{ conversations: { conversationId: string; maxSeq: number }[] }>('getNewestSeq');
        for (const conv of newest.conversations) {
          await a.request('pullMsgs', { conversationId: conv.conversationId, fromSeq: Math.max(1, conv.maxSeq - 4), toSeq: conv.maxSeq });
        }
        await a.close();
      }, cirrus),
    );
  }
  const sync = sumMeasurements(syncs);

  const a = await Client.connect(cirrus.wsUrl, tokenA);
  const heartbeat = await measure(async () => {
    for (let i = 0; i < n; i++) await a.request('heartbeat');
  }, cirrus);
  await Promise.all([a.close(), b.close(), c.close()]);
  return [
    { id: 'connect', title: 'Connect (authorizer, $connect, multi-login check) and disconnect', unit: 'connect', units: n, measurement: connect },
    { id: 'reconnectSync', title: 'Reconnect and sync two conversations (getNewestSeq, one pullMsgs each), connect included', unit: 'reconnect', units: n, measurement: sync },
    { id: 'heartbeat', title: 'Heartbeat', unit: 'heartbeat', units: n, measurement: heartbeat },
  ];
}

export async function runRequests(cirrus: LocalCirrus, options: RequestsOptions): Promise<Scenario[]> {
  const api = new Api(cirrus);
  const out: Scenario[] = [];
  out.push(await oneToOneOnline(cirrus, api));
  out.push(await oneToOneOffline(cirrus, api));
  out.push(await oneToOneOfflinePush(cirrus, api));
  out.push(await group(cirrus, api, 'g100', '100-member group, 20 members online', 100, 20, 10));
  out.push(
    await group(
      cirrus,
      api,
      'gbig',
      `${options.bigGroup.toLocaleString('en-US')}-member group, ${options.bigOnline.toLocaleString('en-US')} members online`,
      options.bigGroup,
      options.bigOnline,
      3,
    ),
  );
  out.push(...(await connectAndSync(cirrus, api)));
  return out;
}
