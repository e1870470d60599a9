/**
 * What group membership means for messages, over real WebSockets: the send-time rules
 * (not a member, muted member, muted group, dismissed group), and the range of the
 * group's conversation each member sees (from their join, up to their leaving).
 */
import { describe, expect, it } from 'vitest';
import { Device, eventually, syncConversation } from '../support/cirrus';
import { admin, as, cirrus, device, text, useCirrus } from '../support/harness';
import { notificationTypes } from '../../core/protocol/notifications';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { ddb } from '../../core/aws/dynamodb';
import { awsRequests } from '../../core/aws/accounting';
import { metering } from '../../local/metering';

async function ok(userId: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await as(userId, method, path, body);
  if (res.status !== 200) throw new Error(`${userId} ${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

let sent = 0;
const say = (d: Device, groupId: string, text: string) => d.request('sendMsg', { clientMsgId: `m${++sent}`, groupId, contentType: 101, content: { text } });
const sayOk = async (d: Device, groupId: string, text: string) => {
  const reply = await say(d, groupId, text);
  if (reply.error) throw new Error(`send failed: ${JSON.stringify(reply.error)}`);
  return reply.data as { seq: number; serverMsgId: string };
};

/** The user's view of the group's conversation: getNewestSeq's entry (undefined when they have none). */
async function view(d: Device, groupId: string): Promise<{ maxSeq: number; minSeq: number; readSeq: number; unread: number } | undefined> {
  const newest = await d.ok('getNewestSeq', {});
  return newest.conversations.find((c: { conversationId: string }) => c.conversationId === `sg_${groupId}`);
}

/** The group's maxSeq as a member sees it. */
const maxSeqOf = async (d: Device, groupId: string) => (await view(d, groupId))!.maxSeq;

/** Everything the user may pull from seq 1 on. */
async function pullAll(d: Device, groupId: string) {
  const v = await view(d, groupId);
  const { messages } = await syncConversation(d, `sg_${groupId}`, v!.maxSeq, 1);
  return messages;
}

const texts = (messages: { content: unknown }[]) => messages.map((m) => (m.content as { text?: string }).text).filter(Boolean);

useCirrus();

describe('send-time rules', () => {
  it('refuses a non-member with NOT_GROUP_MEMBER (1203) and stores nothing', async () => {
    await admin.register('s-own', 's-out');
    await ok('s-own', 'POST', '/groups', { groupId: 's-g', name: 'S' });
    const owner = await device('s-own');
    const outsider = await device('s-out');
    const before = await maxSeqOf(owner, 's-g');

    const reply = await say(outsider, 's-g', 'let me in');

    expect(reply.error).toMatchObject({ code: 1203, reason: 'NOT_GROUP_MEMBER' });
    expect(await maxSeqOf(owner, 's-g')).toBe(before);
    expect(await view(outsider, 's-g')).toBeUndefined();
  });

  it('refuses a muted member with MEMBER_MUTED (1304) and stores nothing; once unmuted they send', async () => {
    await admin.register('mm-own', 'mm-mem');
    await ok('mm-own', 'POST', '/groups', { groupId: 'mm-g', name: 'MM', memberUserIds: ['mm-mem'] });
    const member = await device('mm-mem');
    await ok('mm-own', 'POST', '/groups/mm-g/members/mm-mem/mute', { seconds: 3600 });
    const before = await maxSeqOf(member, 'mm-g');

    const refused = await say(member, 'mm-g', 'can I talk?');

    expect(refused.error).toMatchObject({ code: 1304, reason: 'MEMBER_MUTED' });
    expect(await maxSeqOf(member, 'mm-g')).toBe(before);
    await ok('mm-own', 'POST', '/groups/mm-g/members/mm-mem/mute', { seconds: 0 });
    const ack = await sayOk(member, 'mm-g', 'thanks');
    expect(ack.seq).toBe(before + 2); // after the groupMemberUnmuted notification
  });

  it('refuses ordinary members of a muted group with GROUP_MUTED (1305) and stores nothing; the owner and admins still send', async () => {
    await admin.register('gm-own', 'gm-adm', 'gm-mem');
    await ok('gm-own', 'POST', '/groups', { groupId: 'gm-g', name: 'GM', memberUserIds: ['gm-mem'], adminUserIds: ['gm-adm'] });
    const [owner, adm, member] = await Promise.all(['gm-own', 'gm-adm', 'gm-mem'].map((u) => device(u)));
    await ok('gm-adm', 'POST', '/groups/gm-g/mute', { muted: true });
    const before = await maxSeqOf(member, 'gm-g');

    const refused = await say(member, 'gm-g', 'hello?');

    expect(refused.error).toMatchObject({ code: 1305, reason: 'GROUP_MUTED' });
    expect(await maxSeqOf(member, 'gm-g')).toBe(before);
    expect((await sayOk(owner, 'gm-g', 'owner speaks')).seq).toBe(before + 1);
    expect((await sayOk(adm, 'gm-g', 'admin speaks')).seq).toBe(before + 2);
    await ok('gm-own', 'POST', '/groups/gm-g/mute', { muted: false });
    expect((await sayOk(member, 'gm-g', 'finally')).seq).toBe(before + 4);
  });

  it('refuses every send to a dismissed group with GROUP_DISMISSED (1207) and stores nothing; members keep the history', async () => {
    await admin.register('d-own', 'd-mem');
    await ok('d-own', 'POST', '/groups', { groupId: 'd-g', name: 'D', memberUserIds: ['d-mem'] });
    const [owner, member] = await Promise.all(['d-own', 'd-mem'].map((u) => device(u)));
    await sayOk(member, 'd-g', 'before the end');
    await ok('d-own', 'DELETE', '/groups/d-g');
    const before = await maxSeqOf(member, 'd-g');

    const refusals = await Promise.all([say(member, 'd-g', 'anyone?'), say(owner, 'd-g', 'me neither')]);

    for (const r of refusals) expect(r.error).toMatchObject({ code: 1207, reason: 'GROUP_DISMISSED' });
    expect(await maxSeqOf(member, 'd-g')).toBe(before);
    const history = await pullAll(member, 'd-g');
    expect(texts(history)).toEqual(['before the end']);
    expect(history.at(-1)).toMatchObject({ seq: before, contentType: notificationTypes.groupDismissed.contentType });
  });
});

describe('what each member sees', () => {
  it('hides messages sent before a member joined: pullMsgs from 1 returns only later ones, and minSeq is the join point', async () => {
    await admin.register('h-own', 'h-late', 'h-free');
    await ok('h-own', 'POST', '/groups', { groupId: 'h-g', name: 'H', joinPolicy: 'free' });
    const owner = await device('h-own');
    for (const t of ['one', 'two', 'three']) await sayOk(owner, 'h-g', t);
    const joinPoint = await maxSeqOf(owner, 'h-g');

    await ok('h-own', 'POST', '/groups/h-g/members', { userIds: ['h-late'] });
    const late = await device('h-late');
    await sayOk(owner, 'h-g', 'welcome');

    const seen = await view(late, 'h-g');
    expect(seen).toMatchObject({ minSeq: joinPoint, maxSeq: joinPoint + 2, unread: 2 });
    const pulled = await late.ok('pullMsgs', { conversationId: 'sg_h-g', fromSeq: 1, toSeq: joinPoint + 2 });
    expect(pulled.fromSeq).toBe(joinPoint + 1);
    expect(pulled.messages.map((m: { contentType: number }) => m.contentType)).toEqual([notificationTypes.groupMembersInvited.contentType, 101]);
    expect(texts(pulled.messages)).toEqual(['welcome']);

    // Joining by applying to a free group hides the past the same way.
    const free = await device('h-free');
    const point = await maxSeqOf(owner, 'h-g');
    await ok('h-free', 'POST', '/users/h-free/groups/h-g/apply', {});
    expect(await view(free, 'h-g')).toMatchObject({ minSeq: point, maxSeq: point + 1 });
    expect(texts(await pullAll(free, 'h-g'))).toEqual([]);
  });

  it('shows new members the whole history when historyVisibleToNewMembers is set', async () => {
    await admin.register('hv-own', 'hv-late');
    await ok('hv-own', 'POST', '/groups', { groupId: 'hv-g', name: 'HV', historyVisibleToNewMembers: true });
    const owner = await device('hv-own');
    await sayOk(owner, 'hv-g', 'old news');

    await ok('hv-own', 'POST', '/groups/hv-g/members', { userIds: ['hv-late'] });
    const late = await device('hv-late');

    expect(await view(late, 'hv-g')).toMatchObject({ minSeq: 0, maxSeq: 3 });
    const all = await pullAll(late, 'hv-g');
    expect(all.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(texts(all)).toEqual(['old news']);
  });

  it('lets kicked members keep messages up to and including the kick notification, and nothing after', async () => {
    await admin.register('kk-own', 'kk-mem', 'kk-stay');
    await ok('kk-own', 'POST', '/groups', { groupId: 'kk-g', name: 'KK', memberUserIds: ['kk-mem', 'kk-stay'] });
    const [owner, kicked] = await Promise.all(['kk-own', 'kk-mem'].map((u) => device(u)));
    await sayOk(owner, 'kk-g', 'before');

    await ok('kk-own', 'POST', '/groups/kk-g/members/remove', { userIds: ['kk-mem'] });
    const kickSeq = await maxSeqOf(owner, 'kk-g');
    await sayOk(owner, 'kk-g', 'after');

    const seen = await view(kicked, 'kk-g');
    expect(seen?.maxSeq).toBe(kickSeq);
    const history = await pullAll(kicked, 'kk-g');
    expect(texts(history)).toEqual(['before']);
    expect(history.at(-1)).toMatchObject({ seq: kickSeq, contentType: notificationTypes.groupMembersKicked.contentType, content: { userIds: ['kk-mem'] } });
    const beyond = await kicked.ok('pullMsgs', { conversationId: 'sg_kk-g', fromSeq: kickSeq + 1, toSeq: kickSeq + 5 });
    expect(beyond.messages).toEqual([]);
    expect((await say(kicked, 'kk-g', 'wait')).error).toMatchObject({ reason: 'NOT_GROUP_MEMBER' });
    expect(await maxSeqOf(owner, 'kk-g')).toBe(kickSeq + 1);
  });

  it('lets a member who quit keep messages up to and including their quit notification, and nothing after; rejoining shows messages from then on', async () => {
    await admin.register('q-own', 'q-mem');
    await ok('q-own', 'POST', '/groups', { groupId: 'q-g', name: 'Q', memberUserIds: ['q-mem'], joinPolicy: 'free' });
    const [owner, quitter] = await Promise.all(['q-own', 'q-mem'].map((u) => device(u)));
    await sayOk(quitter, 'q-g', 'bye all');

    await ok('q-mem', 'POST', '/users/q-mem/groups/q-g/quit');
    const quitSeq = await maxSeqOf(owner, 'q-g');
    await sayOk(owner, 'q-g', 'they left');

    const history = await pullAll(quitter, 'q-g');
    expect(texts(history)).toEqual(['bye all']);
    expect(history.at(-1)).toMatchObject({ seq: quitSeq, contentType: notificationTypes.groupMemberQuit.contentType, content: { userId: 'q-mem' } });
    // Their own quit notification counts as read (delivery moves their read position).
    await eventually(async () => (await view(quitter, 'q-g'))?.unread === 0);

    await ok('q-mem', 'POST', '/users/q-mem/groups/q-g/apply', {});
    await sayOk(owner, 'q-g', 'welcome back');
    const back = await view(quitter, 'q-g');
    expect(back?.minSeq).toBe(quitSeq + 1);
    const again = await pullAll(quitter, 'q-g');
    expect(texts(again)).toEqual(['welcome back']);
    expect(again[0].contentType).toBe(notificationTypes.groupMemberJoined.contentType);
    expect((await sayOk(quitter, 'q-g', 'hi again')).seq).toBe(quitSeq + 4);
  });
});

describe('a 100-member group with the default settings (the same locally as in the stack)', () => {
  it('keeps an online index and posts to its online members from the sending function: no member read, no push invocation', async () => {
    const ids = Array.from({ length: 100 }, (_, i) => `hm-${String(i).padStart(3, '0')}`);
    await admin.register(...ids);
    expect((await as(ids[0], 'POST', '/groups', { groupId: 'hm', name: 'Hundred', memberUserIds: ids.slice(1) })).status).toBe(200);
    const group = (await ddb().send(new GetCommand({ TableName: cirrus.tableNames.groups, Key: { groupId: 'hm' }, ConsistentRead: true }))).Item;
    expect(group?.onlineIndex).toEqual({ s: 1, ready: true });
    const [sender, ...online] = await Promise.all(ids.slice(0, 20).map((u) => device(u)));
    await sayOk(sender, 'hm', 'warm');
    await eventually(async () => online.every((d) => d.pushes.length === 1));
    await cirrus.lambda.idle();

    const before = { requests: awsRequests.snapshot(), metered: metering.snapshot() };
    await sayOk(sender, 'hm', 'counted');
    await eventually(async () => online.every((d) => d.pushes.length === 2));
    await cirrus.lambda.idle();
    const invoked = Object.keys(metering.since(before.metered).invocations);
    // 19 connections: within inlinePushMax (50), posted by the sending function itself.
    expect(invoked).not.toContain('push');
    expect(awsRequests.since(before.requests).Lambda).toBeUndefined();
    // The index's one shard, no member list nor member items.
    expect(awsRequests.since(before.requests).DynamoDB?.Query).toBe(1);
    expect(awsRequests.since(before.requests).ApiGatewayManagementApi).toEqual({ PostToConnection: 19 });
    await Promise.all([sender, ...online].map((d) => d.close()));
  });
});
