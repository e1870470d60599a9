/** Every WebSocket action, and `$default` (which answers UNKNOWN_ACTION). */
import type { ActionRequest } from '../core/protocol/schema';
import { wsMessageHandler } from '../core/runtime/ws';
import { deleteMessagesForMe } from '../core/services/conversations';
import { changeMessage, editMessage, reactToMessage } from '../core/services/message-changes';
import { getMessageReaders, getReadReceipts, markDelivered } from '../core/services/receipts';
import { sendMessage } from '../core/services/send';
import { limitSend, limitTyping } from '../core/services/limits';
import { getNewestSeq, markRead, pullMsgs } from '../core/services/sync';
import { sendTyping } from '../core/services/typing';
import { registerDevice, unregisterDevice } from '../core/services/devices';
import { connections } from '../core/store/connections';

export const handler = wsMessageHandler({
  sendMsg: async (me, req: ActionRequest<'sendMsg'>) => {
    // The connection's and the user's buckets in this container; their throttle across containers in the send's precheck.
    limitSend(me.userId, me.connectionId);
    return sendMessage({ sender: { userId: me.userId, platformId: me.platformId, connectionId: me.connectionId }, ...req, windowed: true, limited: true });
  },
  getNewestSeq: (me, req: ActionRequest<'getNewestSeq'>) => getNewestSeq(me.userId, req),
  pullMsgs: (me, req: ActionRequest<'pullMsgs'>) => pullMsgs(me.userId, req),
  markRead: (me, req: ActionRequest<'markRead'>) => markRead(me.userId, req),
  // Answered by API Gateway's MOCK route without invoking this function (core/protocol/heartbeat.ts);
  // the action table stays complete, and a frame routed here (a stage without that route) still gets its reply.
  heartbeat: async () => ({ serverTime: Date.now() }),
  typing: async (me, req: ActionRequest<'typing'>) => {
    limitTyping(me.connectionId);
    return sendTyping(me.userId, req);
  },
  // Changes of messages reach every member like a message: held by the same buckets as sendMsg.
  revokeMsg: async (me, req: ActionRequest<'revokeMsg'>) => {
    limitSend(me.userId, me.connectionId);
    return changeMessage({ kind: 'user', userId: me.userId, platformId: me.platformId }, req, 'revoke');
  },
  editMsg: async (me, req: ActionRequest<'editMsg'>) => {
    limitSend(me.userId, me.connectionId);
    return editMessage({ kind: 'user', userId: me.userId, platformId: me.platformId }, req);
  },
  deleteMsg: async (me, req: ActionRequest<'deleteMsg'>) => {
    limitSend(me.userId, me.connectionId);
    return changeMessage({ kind: 'user', userId: me.userId, platformId: me.platformId }, req, 'delete');
  },
  markDelivered: (me, req: ActionRequest<'markDelivered'>) => markDelivered(me.userId, req),
  getReadReceipts: (me, req: ActionRequest<'getReadReceipts'>) => getReadReceipts(me.userId, req),
  getMessageReaders: (me, req: ActionRequest<'getMessageReaders'>) => getMessageReaders(me.userId, req),
  reactMsg: async (me, req: ActionRequest<'reactMsg'>) => {
    limitSend(me.userId, me.connectionId);
    return reactToMessage(me.userId, req);
  },
  deleteMsgsForMe: (me, req: ActionRequest<'deleteMsgsForMe'>) => deleteMessagesForMe(me.userId, req),
  registerPushDevice: (me, { deviceId, ...reg }: ActionRequest<'registerPushDevice'>) => registerDevice(me.userId, { deviceId, ...reg }, me.sessionId || undefined),
  unregisterPushDevice: (me, req: ActionRequest<'unregisterPushDevice'>) => unregisterDevice(me.userId, req.deviceId),
  setAppBackground: async (me, req: ActionRequest<'setAppBackground'>) => {
    await connections.setBackground(me.userId, me.connectionId, req.background);
    return { background: req.background };
  },
});
