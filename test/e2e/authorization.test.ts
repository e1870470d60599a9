/**
 * The authorization matrix: every HTTP route × {the user itself, another user, an admin,
 * no token, an expired token}. A route added without a case here fails the test.
 *
 * "The user itself" is `mx-a`: the user named in the path, the owner of the group, a
 * party to the conversation. "Another user" is `mx-z`, registered but related to nothing.
 * Authorization runs before validation and before the operation, so a case only needs
 * inputs valid enough to reach the permission checks of `user` routes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { Admin, Device, startCirrus } from '../support/cirrus';
import type { LocalCirrus } from '../../local/runtime';
import { httpRoutes } from '../../core/http/routes';
import { issueToken } from '../../core/auth/tokens';
import { singleConversationId } from '../../core/domain/ids';

let cirrus: LocalCirrus;
let admin: Admin;
const tokens: Record<string, string> = {};
let expired = '';
let groupCounter = 0;

/** What another user (mx-z) gets: allowed, or refused with this status. */
type OtherOutcome = 'allowed' | 403 | 404;

interface Case {
  params?: Record<string, string>;
  query?: string;
  body?: unknown;
  other?: OtherOutcome;
  /** What an admin token gets when it is refused (routes an admin may not act on for a user): the status. */
  admin?: 403;
  /** Restores what the user's own call used up, before the admin's call. */
  reset?: () => Promise<void>;
}

/** A fresh group per case, so one case's changes (dismiss, transfer) cannot affect another's. */
async function group(owner = 'mx-a', members = ['mx-b', 'mx-c']): Promise<string> {
  const groupId = `mx-g${++groupCounter}`;
  const res = await admin.call('POST', '/groups', { groupId, name: groupId, ownerUserId: owner, memberUserIds: members });
  if (res.status !== 200) throw new Error(`group: ${JSON.stringify(res.body)}`);
  return groupId;
}

const conv = singleConversationId('mx-a', 'mx-b');

const cases: Record<string, () => Promise<Case>> = {
  health: async () => ({}),
  getOpenApi: async () => ({}),
  getAdminToken: async () => ({ body: { secret: cirrus.adminSecret } }),
  getUserToken: async () => ({ body: { userId: 'mx-a', platformId: 5 } }),
  forceLogout: async () => ({ body: { userId: 'mx-c' } }),
  registerUsers: async () => ({ body: { users: [{ userId: 'mx-new' }] } }),
  listUsers: async () => ({}),
  listWebhookDeadLetters: async () => ({ query: 'limit=5' }),
  redriveWebhookDeadLetters: async () => ({}),
  getUser: async () => ({ params: { userId: 'mx-a' }, other: 'allowed' }),
  getUsers: async () => ({ body: { userIds: ['mx-a'] }, other: 'allowed' }),
  updateUser: async () => ({ params: { userId: 'mx-a' }, body: { nickname: 'A' } }),
  setGlobalRecvOpt: async () => ({ params: { userId: 'mx-a' }, body: { globalRecvOpt: 0 } }),
  checkUsers: async () => ({ body: { userIds: ['mx-a'] }, other: 'allowed' }),
  getOnlineStatus: async () => ({ body: { userIds: ['mx-a'] }, other: 'allowed' }),
  sendFriendRequest: async () => ({ params: { userId: 'mx-a' }, body: { toUserId: 'mx-c', message: 'hi' } }),
  listFriendRequests: async () => ({ params: { userId: 'mx-a' }, query: 'direction=incoming' }),
  countUnhandledFriendRequests: async () => ({ params: { userId: 'mx-a' } }),
  acceptFriendRequest: async () => {
    await admin.call('POST', '/users/mx-d/friend-requests', { toUserId: 'mx-a', message: 'hi' });
    return { params: { userId: 'mx-a', fromUserId: 'mx-d' }, body: {} };
  },
  refuseFriendRequest: async () => {
    await admin.call('POST', '/users/mx-e/friend-requests', { toUserId: 'mx-a', message: 'hi' });
    return { params: { userId: 'mx-a', fromUserId: 'mx-e' }, body: {} };
  },
  listFriends: async () => ({ params: { userId: 'mx-a' } }),
  checkFriend: async () => ({ params: { userId: 'mx-a', friendUserId: 'mx-b' } }),
  setFriendRemark: async () => ({ params: { userId: 'mx-a', friendUserId: 'mx-b' }, body: { remark: 'B' } }),
  deleteFriend: async () => ({ params: { userId: 'mx-a', friendUserId: 'mx-f' } }),
  importFriends: async () => ({ body: { userId: 'mx-a', friendUserIds: ['mx-f'] } }),
  addToBlacklist: async () => ({ params: { userId: 'mx-a' }, body: { blockedUserId: 'mx-c' } }),
  removeFromBlacklist: async () => ({ params: { userId: 'mx-a', blockedUserId: 'mx-c' } }),
  listBlacklist: async () => ({ params: { userId: 'mx-a' } }),
  createGroup: async () => ({ body: { name: 'made by a user', memberUserIds: ['mx-b'] }, other: 'allowed' }),
  getGroup: async () => ({ params: { groupId: await group() }, other: 'allowed' }),
  setGroupInfo: async () => ({ params: { groupId: await group() }, body: { name: 'renamed' }, other: 403 }),
  dismissGroup: async () => ({ params: { groupId: await group() }, other: 403 }),
  transferGroup: async () => ({ params: { groupId: await group() }, body: { newOwnerUserId: 'mx-b' }, other: 403 }),
  muteGroup: async () => ({ params: { groupId: await group() }, body: { muted: true }, other: 403 }),
  listGroupMembers: async () => ({ params: { groupId: await group() }, other: 403 }),
  addGroupMembers: async () => ({ params: { groupId: await group() }, body: { userIds: ['mx-d'] }, other: 403 }),
  removeGroupMembers: async () => ({ params: { groupId: await group() }, body: { userIds: ['mx-b'] }, other: 403 }),
  setGroupMemberInfo: async () => ({ params: { groupId: await group(), userId: 'mx-b' }, body: { nickname: 'bee' }, other: 403 }),
  setGroupMemberRole: async () => ({ params: { groupId: await group(), userId: 'mx-b' }, body: { role: 'admin' }, other: 403 }),
  muteGroupMember: async () => ({ params: { groupId: await group(), userId: 'mx-b' }, body: { seconds: 60 }, other: 403 }),
  listGroupApplications: async () => ({ params: { groupId: await group() }, other: 403 }),
  acceptGroupApplication: async () => {
    const groupId = await group();
    await admin.call('POST', `/users/mx-d/groups/${groupId}/apply`, { message: 'let me in' });
    return { params: { groupId, userId: 'mx-d' }, other: 403 };
  },
  refuseGroupApplication: async () => {
    const groupId = await group();
    await admin.call('POST', `/users/mx-e/groups/${groupId}/apply`, { message: 'let me in' });
    return { params: { groupId, userId: 'mx-e' }, body: {}, other: 403 };
  },
  applyToGroup: async () => ({ params: { userId: 'mx-a', groupId: await group('mx-b', ['mx-c']) }, body: { message: 'hello' } }),
  quitGroup: async () => {
    const groupId = await group('mx-b', ['mx-a']);
    return { params: { userId: 'mx-a', groupId }, reset: async () => void (await admin.call('POST', `/groups/${groupId}/members`, { userIds: ['mx-a'] })) };
  },
  listJoinedGroups: async () => ({ params: { userId: 'mx-a' } }),
  listUserGroupApplications: async () => ({ params: { userId: 'mx-a' } }),
  listConversations: async () => ({ params: { userId: 'mx-a' } }),
  getTotalUnread: async () => ({ params: { userId: 'mx-a' } }),
  getConversation: async () => ({ params: { userId: 'mx-a', conversationId: conv } }),
  setConversation: async () => ({ params: { userId: 'mx-a', conversationId: conv }, body: { pinned: true } }),
  clearConversation: async () => ({ params: { userId: 'mx-a', conversationId: conv } }),
  readConversation: async () => ({ params: { userId: 'mx-a', conversationId: conv }, body: {} }),
  deleteConversation: async () => ({ params: { userId: 'mx-a', conversationId: conv } }),
  sendMessage: async () => ({ body: { sendId: 'mx-b', recvId: 'mx-a', contentType: 101, content: { text: 'x' } } }),
  searchMessages: async () => ({ params: { userId: 'mx-a' }, query: 'q=hello' }),
  getStatistics: async () => ({ query: 'from=2026-01-01&to=2026-01-31' }),
  searchUsers: async () => ({ query: 'q=mx' }),
  getHistory: async () => ({ params: { conversationId: conv }, other: 404 }),
  revokeMessage: async () => {
    const sent = await admin.call('POST', '/messages', { sendId: 'mx-a', recvId: 'mx-b', contentType: 101, content: { text: 'revoke me' } });
    return { params: { conversationId: conv, seq: String(sent.body.seq) }, other: 404 };
  },
  // Another user may not upload as mx-a; any user may ask for a download URL (a well-formed key nobody uploaded: 404).
  createMediaUpload: async () => ({ body: { userId: 'mx-a', fileName: 'a.png', contentType: 'image/png', size: 10 }, other: 403 }),
  getMediaDownloadUrl: async () => ({ query: `objectKey=${encodeURIComponent('media/mx-a/AAAAAAAAAAAAAAAAAAAAAA/a.png')}`, other: 404 }),
  deleteMessage: async () => {
    const sent = await admin.call('POST', '/messages', { sendId: 'mx-a', recvId: 'mx-b', contentType: 101, content: { text: 'delete me' } });
    return { params: { conversationId: conv, seq: String(sent.body.seq) }, other: 404 };
  },
  banUser: async () => ({ params: { userId: 'mx-ban' }, body: { reason: 'test' } }),
  unbanUser: async () => ({ params: { userId: 'mx-ban' } }),
  getReadReceipts: async () => ({ params: { userId: 'mx-a', conversationId: conv }, query: 'seqs=1' }),
  getMessageReaders: async () => ({ params: { userId: 'mx-a', conversationId: conv, seq: '1' }, query: 'status=read' }),
  reactToMessage: async () => ({ params: { userId: 'mx-a', conversationId: conv, seq: '1' }, body: { emoji: '👍', reacted: true } }),
  editMessage: async () => {
    const sent = await admin.call('POST', '/messages', { sendId: 'mx-a', recvId: 'mx-b', contentType: 101, content: { text: 'edit me' } });
    return { params: { userId: 'mx-a', conversationId: conv, seq: String(sent.body.seq) }, body: { contentType: 101, content: { text: 'edited' } } };
  },
  deleteMessagesForMe: async () => ({ params: { userId: 'mx-a', conversationId: conv }, body: { seqs: [1] } }),
  batchSendMessages: async () => ({ body: { sendId: 'mx-b', recvIds: ['mx-c'], contentType: 101, content: { text: 'batch' }, batchId: 'mx-batch' } }),
  getMessageBatch: async () => {
    await admin.call('POST', '/messages/batch', { asSystem: true, recvIds: ['mx-d'], contentType: 101, content: { text: 'batch' }, batchId: 'mx-batch-2' });
    return { params: { batchId: 'mx-batch-2' } };
  },
  sendBusinessNotification: async () => ({ body: { recvIds: ['mx-c'], key: 'k', data: 'd' } }),
  purgeMessages: async () => {
    const sent = await admin.call('POST', '/messages', { sendId: 'mx-e', recvId: 'mx-f', contentType: 101, content: { text: 'purge me' } });
    return { params: { conversationId: sent.body.conversationId }, body: { seqs: [sent.body.seq] } };
  },
  searchAllMessages: async () => ({ query: 'q=hello' }),
  registerPushDevice: async () => ({ params: { userId: 'mx-a', deviceId: 'phone' }, body: { provider: 'apns', token: 'ab'.repeat(32), platformId: 1, appId: 'com.example.app' } }),
  unregisterPushDevice: async () => ({ params: { userId: 'mx-a', deviceId: 'phone' } }),
  listPushDevices: async () => ({ params: { userId: 'mx-a' } }),
  getPushSettings: async () => ({ params: { userId: 'mx-a' } }),
  setPushSettings: async () => ({ params: { userId: 'mx-a' }, body: { hidePreview: true } }),
  getPushConfig: async () => ({ other: 'allowed' }),
  listAuditLog: async () => ({ query: 'limit=5' }),
  getLimits: async () => ({}),
  // Key packages are published with the user's own token only: an admin token cannot add a device to anyone's conversations.
  publishKeyPackages: async () => ({ params: { userId: 'mx-a', deviceId: 'd1' }, body: { keyPackages: [] }, admin: 403 }),
  listE2eeDevices: async () => ({ params: { userId: 'mx-a' }, other: 'allowed' }),
  claimKeyPackages: async () => ({ params: { userId: 'mx-a' }, body: {}, other: 'allowed' }),
  removeE2eeDevice: async () => ({ params: { userId: 'mx-a', deviceId: 'd1' } }),
  getGroupRetention: async () => ({ params: { groupId: await group() } }),
  setGroupRetention: async () => ({ params: { groupId: await group() }, body: { days: 30 } }),
  eraseUser: async () => ({ params: { userId: 'mx-erase' }, body: { confirmUserId: 'mx-erase' } }),
  startUserExport: async () => ({ params: { userId: 'mx-a' } }),
  getUserExport: async () => {
    const started = await admin.call('POST', '/admin/users/mx-a/exports');
    if (started.status !== 200) throw new Error(`export: ${JSON.stringify(started.body)}`);
    return { params: { userId: 'mx-a', exportId: started.body.exportId } };
  },
  // Ends the session of the token it is called with: both users get fresh tokens before the admin's call.
  logout: async () => ({
    other: 'allowed',
    reset: async () => {
      for (const u of ['mx-a', 'mx-z']) tokens[u] = await admin.userToken(u);
    },
  }),
};

function pathOf(template: string, params: Record<string, string> = {}): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    if (!(name in params)) throw new Error(`case lacks path parameter ${name} for ${template}`);
    return encodeURIComponent(params[name]);
  });
}

beforeAll(async () => {
  cirrus = await startCirrus();
  admin = new Admin(cirrus.apiUrl, cirrus.adminSecret);
  await admin.register('mx-a', 'mx-b', 'mx-c', 'mx-d', 'mx-e', 'mx-f', 'mx-z', 'mx-ban', 'mx-erase');
  for (const u of ['mx-a', 'mx-z']) tokens[u] = await admin.userToken(u);
  // mx-a and mx-b are friends and share a conversation.
  await admin.call('POST', '/friends/import', { userId: 'mx-a', friendUserIds: ['mx-b'] });
  const b = await Device.connect(cirrus.wsUrl, await admin.userToken('mx-b'));
  await b.ok('sendMsg', { clientMsgId: 'm1', recvId: 'mx-a', contentType: 101, content: { text: 'hello' } });
  await b.close();
  const secrets = new SSMClient({ endpoint: cirrus.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const key = (await secrets.send(new GetParameterCommand({ Name: process.env.SIGNING_SECRET_ID, WithDecryption: true }))).Parameter!.Value!;
  secrets.destroy();
  const claims = JSON.parse(Buffer.from(tokens['mx-a'].split('.')[0], 'base64url').toString());
  const now = Math.floor(Date.now() / 1000);
  expired = issueToken({ ...claims, iat: now - 7200, exp: now - 60 }, key);
});

afterAll(async () => {
  await cirrus?.stop();
});

describe('the authorization matrix', () => {
  it('has a case for every route', () => {
    expect(httpRoutes.map((r) => r.operationId).filter((id) => !(id in cases))).toEqual([]);
  });

  for (const route of httpRoutes) {
    it(`${route.method} ${route.path} (${route.auth})`, async () => {
      const c = await cases[route.operationId]();
      const url = pathOf(route.path, c.params) + (c.query ? `?${c.query}` : '');
      const call = (token: string | null) => admin.call(route.method, url, route.method === 'GET' || route.method === 'DELETE' ? undefined : (c.body ?? {}), token);
      const outcome = (res: { status: number; body: any }) => `${res.status} ${res.body?.error?.reason ?? ''}`.trim();

      const none = await call(null);
      if (route.auth === 'none') {
        expect(none.status, outcome(none)).not.toBe(401);
        return;
      }
      expect(outcome(none)).toBe('401 TOKEN_MISSING');
      expect(outcome(await call(expired))).toBe('401 TOKEN_EXPIRED');

      const other = await call(tokens['mx-z']);
      if (route.auth === 'admin') expect(outcome(other)).toBe('403 ADMIN_REQUIRED');
      else if (route.auth === 'self') expect(outcome(other)).toBe('403 FORBIDDEN');
      else if (c.other === 'allowed' || c.other === undefined) expect([401, 403], outcome(other)).not.toContain(other.status);
      else expect(other.status, outcome(other)).toBe(c.other);

      const self = await call(tokens['mx-a']);
      if (route.auth === 'admin') expect(outcome(self)).toBe('403 ADMIN_REQUIRED');
      else expect([401, 403], outcome(self)).not.toContain(self.status);

      await c.reset?.();
      const asAdmin = await call(await admin.adminToken());
      if (c.admin) expect(outcome(asAdmin)).toBe(`${c.admin} FORBIDDEN`);
      else expect([401, 403], outcome(asAdmin)).not.toContain(asAdmin.status);
    });
  }
});
