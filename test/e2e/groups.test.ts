/**
 * Group management end to end, over real HTTP and WebSockets against the local runtime:
 * every operation, who may do it, and the notification it produces, checked as a push
 * on both devices of a member and through sync (getNewestSeq + pullMsgs).
 */
import { describe, expect, it } from 'vitest';
import { Admin, Device, type HttpResult } from '../support/cirrus';
import { admin, as, cirrus, device, token, useCirrus } from '../support/harness';
import type { Message } from '../../core/protocol/schema';
import { notificationTypes, type NotificationName } from '../../core/protocol/notifications';

async function ok(userId: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await as(userId, method, path, body);
  if (res.status !== 200) throw new Error(`${userId} ${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Both devices of a user: a phone and a browser. */
const twoDevices = (userId: string) => Promise.all([device(userId, 1), device(userId, 5)]);

/** `actual` has every field of `expected` (recursively; arrays compared whole). */
function contains(actual: unknown, expected: unknown): boolean {
  if (expected === null || typeof expected !== 'object' || Array.isArray(expected)) return JSON.stringify(actual) === JSON.stringify(expected);
  if (actual === null || typeof actual !== 'object') return false;
  return Object.entries(expected).every(([k, v]) => contains((actual as Record<string, unknown>)[k], v));
}

/**
 * Waits for the notification `name` with (at least) `payload` in `conversationId` as a
 * push on every one of `devices`, then finds the same message by sync on the first:
 * getNewestSeq lists the conversation up to it, pullMsgs returns it. Returns it.
 */
async function expectNotice(devices: readonly Device[], conversationId: string, name: NotificationName, payload: Record<string, unknown>): Promise<Message> {
  const contentType = notificationTypes[name].contentType;
  const pushed = await Promise.all(
    devices.map((d) => d.until(() => d.pushes.find((m) => m.conversationId === conversationId && m.contentType === contentType && contains(m.content, payload)), 15_000, `${name} push`)),
  );
  expect(new Set(pushed.map((m) => m.serverMsgId)).size).toBe(1);
  const [message] = pushed;
  expect(message).toMatchObject({ senderId: 'system', sessionType: conversationId.startsWith('sg_') ? 3 : 4 });
  const newest = await devices[0].ok('getNewestSeq', {});
  const conv = newest.conversations.find((c: { conversationId: string }) => c.conversationId === conversationId);
  expect(conv.maxSeq).toBeGreaterThanOrEqual(message.seq);
  const page = await devices[0].ok('pullMsgs', { conversationId, fromSeq: message.seq, toSeq: message.seq });
  expect(page.messages).toHaveLength(1);
  expect(page.messages[0]).toMatchObject({ serverMsgId: message.serverMsgId, contentType, content: payload });
  return message;
}

/** Every member of a group, through the paged list. */
async function members(groupId: string, caller = '@admin'): Promise<Record<string, any>> {
  const out: Record<string, any> = {};
  let cursor: string | null = null;
  do {
    const page: any = await ok(caller, 'GET', `/groups/${groupId}/members?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    for (const m of page.members) out[m.userId] = m;
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

const reason = (res: HttpResult) => res.body?.error?.reason;
const reasons = (res: HttpResult) => res.body.results.map((r: { error?: { reason: string } }) => r.error?.reason ?? 'ok');

useCirrus({ settings: { inlinePushMax: 10 } });

describe('creating and reading groups', () => {
  it('lets a user create a group it owns, announced by groupCreated on every device and in sync; any user reads it', async () => {
    await admin.register('c-own', 'c-mem', 'c-other');
    const [, ownWeb] = await twoDevices('c-own');
    const memDevices = await twoDevices('c-mem');

    const created = await ok('c-own', 'POST', '/groups', { groupId: 'c-club', name: 'Club', memberUserIds: ['c-mem'], introduction: 'hi' });

    expect(created.group).toMatchObject({
      groupId: 'c-club',
      name: 'Club',
      ownerUserId: 'c-own',
      adminUserIds: [],
      introduction: 'hi',
      joinPolicy: 'approval',
      historyVisibleToNewMembers: false,
      status: 'active',
      muteAll: false,
      memberCount: 2,
    });
    const notice = await expectNotice([...memDevices, ownWeb], 'sg_c-club', 'groupCreated', { opUserId: 'c-own', groupId: 'c-club', name: 'Club', ownerUserId: 'c-own', memberUserIds: ['c-own', 'c-mem'] });
    expect(notice.seq).toBe(1);
    expect((await ok('c-other', 'GET', '/groups/c-club')).group).toEqual(created.group);
    expect(Object.values(await members('c-club', 'c-mem')).map((m) => [m.userId, m.role])).toEqual([['c-mem', 'member'], ['c-own', 'owner']]);
  });

  it('refuses a user creating a group for someone else, an admin token naming no owner, a taken id, and unregistered members', async () => {
    await admin.register('c2-own');
    expect(reason(await as('c2-own', 'POST', '/groups', { name: 'x', ownerUserId: 'c-own' }))).toBe('FORBIDDEN');
    expect(reason(await as('@admin', 'POST', '/groups', { name: 'x' }))).toBe('INVALID_ARGUMENT');
    expect(reason(await as('c2-own', 'POST', '/groups', { groupId: 'c-club', name: 'x' }))).toBe('ALREADY_EXISTS');
    expect(reason(await as('c2-own', 'POST', '/groups', { name: 'x', memberUserIds: ['nobody-here'] }))).toBe('USER_NOT_FOUND');
    const many = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
    expect(reason(await as('c2-own', 'POST', '/groups', { name: 'x', memberUserIds: many('m', 600), adminUserIds: many('a', 401) }))).toBe('INVALID_ARGUMENT');
    expect(reason(await as('c2-own', 'GET', '/groups/no-such-group'))).toBe('GROUP_NOT_FOUND');
    const byAdmin = await ok('@admin', 'POST', '/groups', { name: 'Admin made', ownerUserId: 'c2-own', adminUserIds: ['c-mem'], joinPolicy: 'free' });
    expect(byAdmin.group).toMatchObject({ ownerUserId: 'c2-own', adminUserIds: ['c-mem'], joinPolicy: 'free', memberCount: 2 });
    expect(typeof byAdmin.group.groupId).toBe('string');
  });
});

describe('group info and settings', () => {
  it('lets the owner and admins set info, join policy and history visibility (groupInfoSet, groupJoinPolicySet); members may not', async () => {
    await admin.register('i-own', 'i-adm', 'i-mem');
    await ok('i-own', 'POST', '/groups', { groupId: 'i-g', name: 'Info', memberUserIds: ['i-adm', 'i-mem'] });
    const memDevices = await twoDevices('i-mem');
    const before = (await ok('i-mem', 'GET', '/groups/i-g')).group;

    const denied = await as('i-mem', 'PUT', '/groups/i-g', { name: 'Mine now' });
    expect(denied).toMatchObject({ status: 403, body: { error: { reason: 'FORBIDDEN' } } });
    expect((await ok('i-mem', 'GET', '/groups/i-g')).group).toEqual(before);

    await ok('i-own', 'PUT', '/groups/i-g/members/i-adm/role', { role: 'admin' });
    await expectNotice(memDevices, 'sg_i-g', 'groupMemberRoleChanged', { opUserId: 'i-own', groupId: 'i-g', userId: 'i-adm', role: 'admin' });
    const set = await ok('i-adm', 'PUT', '/groups/i-g', { name: 'Info 2', announcement: 'Read the rules', faceUrl: 'https://x/y.png', ex: '{"k":1}' });
    expect(set.group).toMatchObject({ name: 'Info 2', announcement: 'Read the rules', faceUrl: 'https://x/y.png', ex: '{"k":1}', adminUserIds: ['i-adm'] });
    await expectNotice(memDevices, 'sg_i-g', 'groupInfoSet', { opUserId: 'i-adm', groupId: 'i-g', changes: { name: 'Info 2', announcement: 'Read the rules', faceUrl: 'https://x/y.png', ex: '{"k":1}' } });

    const policy = await ok('i-own', 'PUT', '/groups/i-g', { joinPolicy: 'invite', historyVisibleToNewMembers: true, name: 'Info 2' });
    expect(policy.group).toMatchObject({ joinPolicy: 'invite', historyVisibleToNewMembers: true });
    await expectNotice(memDevices, 'sg_i-g', 'groupJoinPolicySet', { opUserId: 'i-own', groupId: 'i-g', joinPolicy: 'invite' });
    // The unchanged name is not announced as a change.
    await expectNotice(memDevices, 'sg_i-g', 'groupInfoSet', { opUserId: 'i-own', changes: { historyVisibleToNewMembers: true } });
    const infoSets = memDevices[0].pushes.filter((m) => m.contentType === notificationTypes.groupInfoSet.contentType);
    expect((infoSets.at(-1)!.content as { changes: object }).changes).toEqual({ historyVisibleToNewMembers: true });

    expect(reason(await as('i-own', 'PUT', '/groups/i-g', {}))).toBe('INVALID_ARGUMENT');
    expect(reason(await as('i-own', 'PUT', '/groups/i-g', { joinPolicy: 'anyone' }))).toBe('INVALID_ARGUMENT');
  });
});

describe('joining', () => {
  it("admits applicants to a 'free' group at once (groupMemberJoined) and refuses them for an 'invite' group (JOIN_NOT_ALLOWED)", async () => {
    await admin.register('j-own', 'j-new', 'j-late');
    await ok('j-own', 'POST', '/groups', { groupId: 'j-free', name: 'Free', joinPolicy: 'free' });
    await ok('j-own', 'POST', '/groups', { groupId: 'j-closed', name: 'Closed', joinPolicy: 'invite' });
    const ownDevices = await twoDevices('j-own');

    const joined = await ok('j-new', 'POST', '/users/j-new/groups/j-free/apply', { message: 'hello' });

    expect(joined).toEqual({ status: 'joined', memberCount: 2 });
    await expectNotice(ownDevices, 'sg_j-free', 'groupMemberJoined', { opUserId: 'j-new', groupId: 'j-free', userId: 'j-new' });
    expect(reason(await as('j-new', 'POST', '/users/j-new/groups/j-free/apply', {}))).toBe('ALREADY_EXISTS');
    expect(await as('j-late', 'POST', '/users/j-late/groups/j-closed/apply', {})).toMatchObject({ status: 403, body: { error: { code: 1108, reason: 'JOIN_NOT_ALLOWED' } } });
    expect(reason(await as('j-late', 'POST', '/users/j-new/groups/j-free/apply', {}))).toBe('FORBIDDEN');
    expect(Object.keys(await members('j-closed'))).toEqual(['j-own']);
  });

  it("files applications to an 'approval' group (groupApplied to owner, admins and applicant), which the owner or an admin accepts or refuses", async () => {
    await admin.register('a-own', 'a-adm', 'a-mem', 'a-x', 'a-y');
    await ok('a-own', 'POST', '/groups', { groupId: 'a-g', name: 'Approval', memberUserIds: ['a-mem'], adminUserIds: ['a-adm'] });
    const ownDevices = await twoDevices('a-own');
    const admDevice = await device('a-adm');
    const memDevice = await device('a-mem');
    const xDevices = await twoDevices('a-x');
    const yDevice = await device('a-y');

    expect(await ok('a-x', 'POST', '/users/a-x/groups/a-g/apply', { message: 'let me in' })).toEqual({ status: 'applied', memberCount: 3 });
    expect(await ok('a-y', 'POST', '/users/a-y/groups/a-g/apply', {})).toMatchObject({ status: 'applied' });

    const applied = { groupId: 'a-g', userId: 'a-x', message: 'let me in' };
    await expectNotice(ownDevices, 'n_a-own', 'groupApplied', applied);
    await expectNotice([admDevice], 'n_a-adm', 'groupApplied', applied);
    await expectNotice(xDevices, 'n_a-x', 'groupApplied', applied);
    expect(reason(await as('a-x', 'POST', '/users/a-x/groups/a-g/apply', {}))).toBe('ALREADY_EXISTS');

    expect(reason(await as('a-mem', 'GET', '/groups/a-g/applications'))).toBe('FORBIDDEN');
    const listed = await ok('a-adm', 'GET', '/groups/a-g/applications?limit=1');
    expect(listed.applications).toEqual([expect.objectContaining({ groupId: 'a-g', userId: 'a-x', message: 'let me in' })]);
    const rest = await ok('a-adm', 'GET', `/groups/a-g/applications?limit=1&cursor=${listed.nextCursor}`);
    expect(rest.applications.map((a: { userId: string }) => a.userId)).toEqual(['a-y']);
    expect((await ok('a-x', 'GET', '/users/a-x/group-applications')).applications).toEqual([expect.objectContaining({ groupId: 'a-g', message: 'let me in' })]);
    expect(reason(await as('a-y', 'GET', '/users/a-x/group-applications'))).toBe('FORBIDDEN');
    expect(reason(await as('a-adm', 'GET', `/groups/a-g/applications?cursor=${listed.nextCursor}x`))).toBe('INVALID_ARGUMENT');

    expect(reason(await as('a-mem', 'POST', '/groups/a-g/applications/a-x/accept'))).toBe('FORBIDDEN');
    expect(await ok('a-adm', 'POST', '/groups/a-g/applications/a-x/accept')).toEqual({ memberCount: 4 });
    await expectNotice(xDevices, 'n_a-x', 'groupApplicationAccepted', { opUserId: 'a-adm', groupId: 'a-g', userId: 'a-x' });
    await expectNotice([memDevice, ...xDevices], 'sg_a-g', 'groupMemberJoined', { opUserId: 'a-adm', groupId: 'a-g', userId: 'a-x' });
    expect((await members('a-g'))['a-x']).toMatchObject({ role: 'member' });

    const refused = await ok('a-own', 'POST', '/groups/a-g/applications/a-y/refuse', { message: 'not now' });
    expect(refused.application).toMatchObject({ userId: 'a-y' });
    await expectNotice([yDevice], 'n_a-y', 'groupApplicationRefused', { opUserId: 'a-own', groupId: 'a-g', userId: 'a-y', message: 'not now' });
    expect((await members('a-g'))['a-y']).toBeUndefined();

    expect(reason(await as('a-own', 'POST', '/groups/a-g/applications/a-x/accept'))).toBe('REQUEST_NOT_FOUND');
    expect(reason(await as('a-own', 'POST', '/groups/a-g/applications/a-y/refuse', {}))).toBe('REQUEST_NOT_FOUND');
    expect((await ok('a-own', 'GET', '/groups/a-g/applications')).applications).toEqual([]);
    expect((await ok('a-y', 'GET', '/users/a-y/group-applications')).applications).toEqual([]);
  });

  it('lets the owner and admins add members at once, and members as the join policy says, with per-item results (groupMembersInvited)', async () => {
    await admin.register('v-own', 'v-adm', 'v-mem', 'v-1', 'v-2', 'v-3', 'v-4', 'v-out');
    await ok('v-own', 'POST', '/groups', { groupId: 'v-g', name: 'Invites', memberUserIds: ['v-mem'], adminUserIds: ['v-adm'] });
    const memDevices = await twoDevices('v-mem');
    const ownDevice = await device('v-own');

    const byAdmin = await ok('v-adm', 'POST', '/groups/v-g/members', { userIds: ['v-1', 'v-mem', 'ghost-user', 'v-1'] });
    expect(reasons({ status: 200, body: byAdmin })).toEqual(['ok', 'ALREADY_EXISTS', 'USER_NOT_FOUND']);
    expect(byAdmin.results[0]).toMatchObject({ userId: 'v-1', ok: true, status: 'joined' });
    expect(byAdmin.memberCount).toBe(4);
    await expectNotice(memDevices, 'sg_v-g', 'groupMembersInvited', { opUserId: 'v-adm', groupId: 'v-g', userIds: ['v-1'] });
    expect((await members('v-g'))['v-1']).toMatchObject({ role: 'member', inviterUserId: 'v-adm' });

    // 'approval' (the default): a member's invitation waits for the owner or an admin.
    const byMember = await ok('v-mem', 'POST', '/groups/v-g/members', { userIds: ['v-2'] });
    expect(byMember).toMatchObject({ results: [{ userId: 'v-2', ok: true, status: 'applied' }], memberCount: 4 });
    await expectNotice([ownDevice], 'n_v-own', 'groupApplied', { groupId: 'v-g', userId: 'v-2', inviterUserId: 'v-mem' });
    expect((await ok('v-own', 'GET', '/groups/v-g/applications')).applications).toEqual([expect.objectContaining({ userId: 'v-2', inviterUserId: 'v-mem' })]);
    expect(reasons(await as('v-mem', 'POST', '/groups/v-g/members', { userIds: ['v-2'] }))).toEqual(['ALREADY_EXISTS']);
    await ok('v-own', 'POST', '/groups/v-g/applications/v-2/accept');
    expect((await members('v-g'))['v-2']).toMatchObject({ inviterUserId: 'v-mem' });

    await ok('v-own', 'PUT', '/groups/v-g', { joinPolicy: 'free' });
    expect(await ok('v-mem', 'POST', '/groups/v-g/members', { userIds: ['v-3'] })).toMatchObject({ results: [{ ok: true, status: 'joined' }], memberCount: 6 });
    await expectNotice(memDevices, 'sg_v-g', 'groupMembersInvited', { opUserId: 'v-mem', userIds: ['v-3'] });

    await ok('v-own', 'PUT', '/groups/v-g', { joinPolicy: 'invite' });
    expect(reason(await as('v-mem', 'POST', '/groups/v-g/members', { userIds: ['v-4'] }))).toBe('FORBIDDEN');
    expect(reason(await as('v-out', 'POST', '/groups/v-g/members', { userIds: ['v-4'] }))).toBe('NOT_GROUP_MEMBER');
    expect(Object.keys(await members('v-g')).sort()).toEqual(['v-1', 'v-2', 'v-3', 'v-adm', 'v-mem', 'v-own']);
    expect((await ok('v-out', 'GET', '/groups/v-g')).group.memberCount).toBe(6);
  });
});

describe('roles', () => {
  it('lets the owner kick anyone else and admins kick only members (groupMembersKicked); members kick nobody', async () => {
    await admin.register('k-own', 'k-adm', 'k-adm2', 'k-mem', 'k-mem2', 'k-mem3');
    await ok('k-own', 'POST', '/groups', { groupId: 'k-g', name: 'Kicks', memberUserIds: ['k-mem', 'k-mem2', 'k-mem3'], adminUserIds: ['k-adm', 'k-adm2'] });
    const watcher = await twoDevices('k-mem3');
    const all = Object.keys(await members('k-g'));

    expect(await as('k-mem', 'POST', '/groups/k-g/members/remove', { userIds: ['k-mem2'] })).toMatchObject({ status: 403, body: { error: { reason: 'FORBIDDEN' } } });
    const byAdmin = await ok('k-adm', 'POST', '/groups/k-g/members/remove', { userIds: ['k-own', 'k-adm2', 'k-adm'] });
    expect(reasons({ status: 200, body: byAdmin })).toEqual(['FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN']);
    expect(Object.keys(await members('k-g'))).toEqual(all);

    const kicked = await ok('k-adm', 'POST', '/groups/k-g/members/remove', { userIds: ['k-mem', 'k-own', 'nobody'] });
    expect(reasons({ status: 200, body: kicked })).toEqual(['ok', 'FORBIDDEN', 'NOT_GROUP_MEMBER']);
    expect(kicked.memberCount).toBe(5);
    await expectNotice(watcher, 'sg_k-g', 'groupMembersKicked', { opUserId: 'k-adm', groupId: 'k-g', userIds: ['k-mem'] });

    const byOwner = await ok('k-own', 'POST', '/groups/k-g/members/remove', { userIds: ['k-own', 'k-adm2'] });
    expect(reasons({ status: 200, body: byOwner })).toEqual(['FORBIDDEN', 'ok']);
    await expectNotice(watcher, 'sg_k-g', 'groupMembersKicked', { opUserId: 'k-own', userIds: ['k-adm2'] });
    expect((await ok('k-own', 'GET', '/groups/k-g')).group).toMatchObject({ memberCount: 4, adminUserIds: ['k-adm'] });
    expect(Object.keys(await members('k-g')).sort()).toEqual(['k-adm', 'k-mem2', 'k-mem3', 'k-own']);
  });

  it('lets the owner mute admins and members, admins only members, nobody the owner (groupMemberMuted/Unmuted); owner and admins mute the group', async () => {
    await admin.register('m-own', 'm-adm', 'm-adm2', 'm-mem', 'm-mem2');
    await ok('m-own', 'POST', '/groups', { groupId: 'm-g', name: 'Mutes', memberUserIds: ['m-mem', 'm-mem2'], adminUserIds: ['m-adm', 'm-adm2'] });
    const watcher = await twoDevices('m-mem2');

    expect(reason(await as('m-mem', 'POST', '/groups/m-g/members/m-mem2/mute', { seconds: 60 }))).toBe('FORBIDDEN');
    expect(reason(await as('m-adm', 'POST', '/groups/m-g/members/m-own/mute', { seconds: 60 }))).toBe('FORBIDDEN');
    expect(reason(await as('m-adm', 'POST', '/groups/m-g/members/m-adm2/mute', { seconds: 60 }))).toBe('FORBIDDEN');
    expect(reason(await as('@admin', 'POST', '/groups/m-g/members/m-own/mute', { seconds: 60 }))).toBe('FORBIDDEN');
    expect(reason(await as('m-own', 'POST', '/groups/m-g/members/m-mem/mute', { seconds: 30 * 86400 + 1 }))).toBe('INVALID_ARGUMENT');
    expect(Object.values(await members('m-g')).filter((m) => m.mutedUntil)).toEqual([]);

    const start = Date.now();
    const muted = await ok('m-adm', 'POST', '/groups/m-g/members/m-mem/mute', { seconds: 600 });
    expect(muted.member.mutedUntil).toBeGreaterThanOrEqual(start + 600_000);
    await expectNotice(watcher, 'sg_m-g', 'groupMemberMuted', { opUserId: 'm-adm', groupId: 'm-g', userId: 'm-mem', mutedUntil: muted.member.mutedUntil });
    expect((await members('m-g'))['m-mem'].mutedUntil).toBe(muted.member.mutedUntil);
    await ok('m-own', 'POST', '/groups/m-g/members/m-adm2/mute', { seconds: 60 });
    await expectNotice(watcher, 'sg_m-g', 'groupMemberMuted', { opUserId: 'm-own', userId: 'm-adm2' });

    const unmuted = await ok('m-adm', 'POST', '/groups/m-g/members/m-mem/mute', { seconds: 0 });
    expect(unmuted.member.mutedUntil).toBeUndefined();
    await expectNotice(watcher, 'sg_m-g', 'groupMemberUnmuted', { opUserId: 'm-adm', groupId: 'm-g', userId: 'm-mem' });

    expect(reason(await as('m-mem', 'POST', '/groups/m-g/mute', { muted: true }))).toBe('FORBIDDEN');
    expect((await ok('m-mem', 'GET', '/groups/m-g')).group.muteAll).toBe(false);
    expect((await ok('m-adm', 'POST', '/groups/m-g/mute', { muted: true })).group.muteAll).toBe(true);
    await expectNotice(watcher, 'sg_m-g', 'groupMuted', { opUserId: 'm-adm', groupId: 'm-g' });
    expect((await ok('m-own', 'POST', '/groups/m-g/mute', { muted: false })).group.muteAll).toBe(false);
    await expectNotice(watcher, 'sg_m-g', 'groupUnmuted', { opUserId: 'm-own', groupId: 'm-g' });
  });

  it("lets members set their own nickname, the owner anyone's and admins members' (groupMemberInfoSet)", async () => {
    await admin.register('n-own', 'n-adm', 'n-mem', 'n-mem2');
    await ok('n-own', 'POST', '/groups', { groupId: 'n-g', name: 'Names', memberUserIds: ['n-mem', 'n-mem2'], adminUserIds: ['n-adm'] });
    const watcher = await twoDevices('n-mem2');

    expect((await ok('n-mem', 'PUT', '/groups/n-g/members/n-mem', { nickname: 'Em' })).member).toMatchObject({ userId: 'n-mem', nickname: 'Em' });
    await expectNotice(watcher, 'sg_n-g', 'groupMemberInfoSet', { opUserId: 'n-mem', groupId: 'n-g', userId: 'n-mem', nickname: 'Em' });
    await ok('n-adm', 'PUT', '/groups/n-g/members/n-mem2', { nickname: 'Two' });
    await expectNotice(watcher, 'sg_n-g', 'groupMemberInfoSet', { opUserId: 'n-adm', userId: 'n-mem2', nickname: 'Two' });
    await ok('n-own', 'PUT', '/groups/n-g/members/n-adm', { nickname: 'Boss 2' });

    expect(reason(await as('n-mem', 'PUT', '/groups/n-g/members/n-mem2', { nickname: 'Hijacked' }))).toBe('FORBIDDEN');
    expect(reason(await as('n-adm', 'PUT', '/groups/n-g/members/n-own', { nickname: 'Hijacked' }))).toBe('FORBIDDEN');
    expect(reason(await as('n-own', 'PUT', '/groups/n-g/members/nobody', { nickname: 'x' }))).toBe('NOT_GROUP_MEMBER');
    const list = await members('n-g');
    expect([list['n-mem'].nickname, list['n-mem2'].nickname, list['n-adm'].nickname, list['n-own'].nickname]).toEqual(['Em', 'Two', 'Boss 2', undefined]);

    expect((await ok('n-mem', 'PUT', '/groups/n-g/members/n-mem', { nickname: '' })).member.nickname).toBeUndefined();
    expect((await members('n-g'))['n-mem'].nickname).toBeUndefined();
  });

  it('lets only the owner set roles, transfer and dismiss; the owner cannot quit until they transfer', async () => {
    await admin.register('o-own', 'o-adm', 'o-mem', 'o-out');
    await ok('o-own', 'POST', '/groups', { groupId: 'o-g', name: 'Owner', memberUserIds: ['o-mem'], adminUserIds: ['o-adm'] });
    const watcher = await twoDevices('o-mem');
    const before = (await ok('o-mem', 'GET', '/groups/o-g')).group;

    expect(reason(await as('o-adm', 'PUT', '/groups/o-g/members/o-mem/role', { role: 'admin' }))).toBe('FORBIDDEN');
    expect(reason(await as('o-adm', 'POST', '/groups/o-g/transfer', { newOwnerUserId: 'o-adm' }))).toBe('FORBIDDEN');
    expect(reason(await as('o-adm', 'DELETE', '/groups/o-g'))).toBe('FORBIDDEN');
    expect(reason(await as('o-mem', 'DELETE', '/groups/o-g'))).toBe('FORBIDDEN');
    expect(reason(await as('o-own', 'POST', '/users/o-own/groups/o-g/quit'))).toBe('FORBIDDEN');
    expect(reason(await as('o-own', 'PUT', '/groups/o-g/members/o-own/role', { role: 'member' }))).toBe('FORBIDDEN');
    expect(reason(await as('o-own', 'POST', '/groups/o-g/transfer', { newOwnerUserId: 'o-out' }))).toBe('NOT_GROUP_MEMBER');
    expect((await ok('o-mem', 'GET', '/groups/o-g')).group).toEqual(before);
    expect(Object.fromEntries(Object.values(await members('o-g')).map((m) => [m.userId, m.role]))).toEqual({ 'o-adm': 'admin', 'o-mem': 'member', 'o-own': 'owner' });

    expect((await ok('o-own', 'PUT', '/groups/o-g/members/o-mem/role', { role: 'admin' })).member).toMatchObject({ userId: 'o-mem', role: 'admin' });
    await expectNotice(watcher, 'sg_o-g', 'groupMemberRoleChanged', { opUserId: 'o-own', groupId: 'o-g', userId: 'o-mem', role: 'admin' });
    await ok('o-own', 'PUT', '/groups/o-g/members/o-mem/role', { role: 'member' });
    await expectNotice(watcher, 'sg_o-g', 'groupMemberRoleChanged', { userId: 'o-mem', role: 'member' });

    await ok('o-own', 'POST', '/groups/o-g/members/o-adm/mute', { seconds: 600 });
    const transferred = await ok('o-own', 'POST', '/groups/o-g/transfer', { newOwnerUserId: 'o-adm' });
    expect(transferred.group).toMatchObject({ ownerUserId: 'o-adm', adminUserIds: [] });
    await expectNotice(watcher, 'sg_o-g', 'groupOwnerTransferred', { opUserId: 'o-own', groupId: 'o-g', oldOwnerUserId: 'o-own', newOwnerUserId: 'o-adm' });
    const afterTransfer = await members('o-g');
    expect(Object.fromEntries(Object.values(afterTransfer).map((m) => [m.userId, m.role]))).toEqual({ 'o-adm': 'owner', 'o-mem': 'member', 'o-own': 'member' });
    expect(afterTransfer['o-adm'].mutedUntil).toBeUndefined(); // the owner is never muted
    expect(reason(await as('o-own', 'DELETE', '/groups/o-g'))).toBe('FORBIDDEN');

    expect(await ok('o-own', 'POST', '/users/o-own/groups/o-g/quit')).toEqual({ memberCount: 2 });
    await expectNotice(watcher, 'sg_o-g', 'groupMemberQuit', { groupId: 'o-g', userId: 'o-own' });
    expect(reason(await as('o-own', 'POST', '/users/o-own/groups/o-g/quit'))).toBe('NOT_GROUP_MEMBER');
    expect(reason(await as('o-mem', 'POST', '/users/o-adm/groups/o-g/quit'))).toBe('FORBIDDEN');

    const dismissed = await ok('o-adm', 'DELETE', '/groups/o-g');
    expect(dismissed.group.status).toBe('dismissed');
    await expectNotice(watcher, 'sg_o-g', 'groupDismissed', { opUserId: 'o-adm', groupId: 'o-g' });
    expect((await ok('o-out', 'GET', '/groups/o-g')).group.status).toBe('dismissed');
    const refusals = await Promise.all([
      as('o-adm', 'PUT', '/groups/o-g', { name: 'again' }),
      as('o-adm', 'POST', '/groups/o-g/members', { userIds: ['o-out'] }),
      as('o-adm', 'POST', '/groups/o-g/members/remove', { userIds: ['o-mem'] }),
      as('o-adm', 'POST', '/groups/o-g/members/o-mem/mute', { seconds: 60 }),
      as('o-adm', 'POST', '/groups/o-g/mute', { muted: true }),
      as('o-adm', 'PUT', '/groups/o-g/members/o-mem/role', { role: 'admin' }),
      as('o-adm', 'POST', '/groups/o-g/transfer', { newOwnerUserId: 'o-mem' }),
      as('o-adm', 'DELETE', '/groups/o-g'),
      as('o-mem', 'POST', '/users/o-mem/groups/o-g/quit'),
      as('o-out', 'POST', '/users/o-out/groups/o-g/apply', {}),
    ]);
    for (const r of refusals) expect(r).toMatchObject({ status: 410, body: { error: { code: 1207, reason: 'GROUP_DISMISSED' } } });
    // Members keep the group, its members and its history.
    expect(Object.keys(await members('o-g', 'o-mem')).sort()).toEqual(['o-adm', 'o-mem']);
    const mine = await ok('o-mem', 'GET', '/users/o-mem/groups');
    expect(mine.groups).toEqual([expect.objectContaining({ group: expect.objectContaining({ groupId: 'o-g', status: 'dismissed' }), role: 'member' })]);
  });
});

describe('lists', () => {
  it("pages a group's members for its members only, and a user's groups for that user only", async () => {
    await admin.register('l-a', 'l-b', 'l-c', 'l-out');
    for (const g of ['l-g1', 'l-g2', 'l-g3']) await ok('l-a', 'POST', '/groups', { groupId: g, name: g.toUpperCase(), memberUserIds: ['l-b', 'l-c'] });
    await ok('l-a', 'PUT', '/groups/l-g2/members/l-b/role', { role: 'admin' });

    const first = await ok('l-b', 'GET', '/users/l-b/groups?limit=2');
    expect(first.groups.map((g: { group: { groupId: string } }) => g.group.groupId)).toEqual(['l-g1', 'l-g2']);
    expect(first.groups[1]).toMatchObject({ role: 'admin', group: { name: 'L-G2', memberCount: 3, ownerUserId: 'l-a' } });
    expect(typeof first.groups[0].joinedAt).toBe('number');
    const second = await ok('l-b', 'GET', `/users/l-b/groups?limit=2&cursor=${first.nextCursor}`);
    expect(second.groups.map((g: { group: { groupId: string } }) => g.group.groupId)).toEqual(['l-g3']);
    expect(second.nextCursor).toBeNull();
    expect(reason(await as('l-c', 'GET', `/users/l-c/groups?cursor=${first.nextCursor}`))).toBe('INVALID_ARGUMENT');
    expect(reason(await as('l-c', 'GET', '/users/l-b/groups'))).toBe('FORBIDDEN');
    expect((await ok('@admin', 'GET', '/users/l-b/groups')).groups).toHaveLength(3);
    expect((await ok('l-out', 'GET', '/users/l-out/groups')).groups).toEqual([]);

    const page = await ok('l-c', 'GET', '/groups/l-g1/members?limit=2');
    expect(page.members.map((m: { userId: string }) => m.userId)).toEqual(['l-a', 'l-b']);
    expect(page.members[0]).toEqual({ userId: 'l-a', role: 'owner', joinedAt: expect.any(Number) });
    const next = await ok('l-c', 'GET', `/groups/l-g1/members?limit=2&cursor=${page.nextCursor}`);
    expect(next.members.map((m: { userId: string }) => m.userId)).toEqual(['l-c']);
    expect(reason(await as('l-out', 'GET', '/groups/l-g1/members'))).toBe('NOT_GROUP_MEMBER');
    expect(reason(await as('l-c', 'GET', `/groups/l-g2/members?cursor=${page.nextCursor}`))).toBe('INVALID_ARGUMENT');
    expect(reason(await as('l-c', 'GET', '/groups/l-g1/members?limit=101'))).toBe('INVALID_ARGUMENT');
  });
});
