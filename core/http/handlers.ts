/** One function per HTTP operation; inputs arrive validated against `routes.ts`. */
import { SYSTEM_SENDER, newId } from '../domain/ids';
import { CirrusError } from '../errors';
import { history } from '../history/history';
import { log } from '../log';
import { issueAdminToken, issueUserToken } from '../services/auth';
import { addMembers, createGroup, removeMembers } from '../services/groups';
import { disconnect } from '../services/push';
import { sendMessage } from '../services/send';
import { registerUsers, requireUsers } from '../services/users';
import { connections } from '../store/connections';
import { sessions } from '../store/sessions';
import { buildOpenApi } from './openapi';
import type { OperationId } from './routes';

export interface OperationInput {
  params: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  query: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

let openApi: Record<string, unknown> | undefined;

export const operations: Record<OperationId, (input: OperationInput) => Promise<unknown>> = {
  health: async () => ({ ok: true, serverTime: Date.now() }),
  getOpenApi: async () => (openApi ??= buildOpenApi()),
  getAdminToken: ({ body }) => issueAdminToken(body.secret),
  getUserToken: async ({ body }) => {
    await requireUsers([body.userId]);
    return issueUserToken(body.userId, body.platformId, body.expireSeconds);
  },
  forceLogout: async ({ body }) => {
    const revoked = await sessions.revoke(body.userId, body.platformId);
    // Close the live connections too; a failed close is harmless, the session check refuses the next connect.
    for (const conn of await connections.ofUser(body.userId)) {
      if (body.platformId !== undefined && conn.platformId !== body.platformId) continue;
      await disconnect(conn.connectionId).catch((err) => log.info('close after logout failed', { connectionId: conn.connectionId, err }));
      await connections.delete(conn.userId, conn.connectionId);
    }
    return { revoked };
  },
  registerUsers: async ({ body }) => ({ results: await registerUsers(body.users) }),
  createGroup: async ({ body }) => ({ group: await createGroup(body) }),
  addGroupMembers: ({ params, body }) => addMembers(params.groupId, body.userIds),
  removeGroupMembers: ({ params, body }) => removeMembers(params.groupId, body.userIds),
  sendMessage: async ({ body }) => {
    if (body.asSystem && body.sendId) throw new CirrusError('INVALID_ARGUMENT', 'Give either sendId or asSystem, not both');
    if (!body.asSystem && !body.sendId) throw new CirrusError('INVALID_ARGUMENT', 'sendId is required unless asSystem is true');
    const senderId: string = body.asSystem ? SYSTEM_SENDER : body.sendId;
    if (senderId !== SYSTEM_SENDER) await requireUsers([senderId]);
    return sendMessage({
      sender: { userId: senderId },
      clientMsgId: body.clientMsgId ?? newId(),
      recvId: body.recvId,
      groupId: body.groupId,
      contentType: body.contentType,
      content: body.content,
    });
  },
  getHistory: ({ params, query }) => history.page(params.conversationId, query.beforeSeq, query.limit ?? 50),
};
