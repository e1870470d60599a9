/** Every WebSocket action, and `$default` (which answers UNKNOWN_ACTION). */
import { wsMessageHandler } from '../core/runtime/ws';
import { changeMessage, editMessage } from '../core/services/message-changes';
import { sendMessage } from '../core/services/send';
import { getNewestSeq, markRead, pullMsgs } from '../core/services/sync';
import { sendTyping } from '../core/services/typing';

export const handler = wsMessageHandler({
  sendMsg: (me, req: { clientMsgId: string; recvId?: string; groupId?: string; contentType: number; content: unknown }) =>
    sendMessage({ sender: { userId: me.userId, platformId: me.platformId, connectionId: me.connectionId }, ...req }),
  getNewestSeq: (me) => getNewestSeq(me.userId),
  pullMsgs: (me, req: { conversationId: string; fromSeq: number; toSeq: number; limit?: number }) => pullMsgs(me.userId, req),
  markRead: (me, req: { conversationId: string; seq: number }) => markRead(me.userId, req),
  heartbeat: async () => ({ serverTime: Date.now() }),
  typing: (me, req: { recvId: string; typing: boolean }) => sendTyping(me.userId, req),
  revokeMsg: (me, req: { conversationId: string; seq: number }) => changeMessage({ kind: 'user', userId: me.userId, platformId: me.platformId }, req, 'revoke'),
  editMsg: (me, req: { conversationId: string; seq: number; contentType: number; content: unknown }) =>
    editMessage({ kind: 'user', userId: me.userId, platformId: me.platformId }, req),
  deleteMsg: (me, req: { conversationId: string; seq: number }) => changeMessage({ kind: 'user', userId: me.userId, platformId: me.platformId }, req, 'delete'),
});
