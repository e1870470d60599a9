/** Operations: messages from the app backend, and their revocation or deletion (history pages: ./history.ts). */
import { newId, SYSTEM_SENDER } from '../../domain/ids';
import { CirrusError } from '../../errors';
import { changeMessage } from '../../services/message-changes';
import { sendMessage } from '../../services/send';
import { limitSend, refuseIfThrottled } from '../../services/limits';
import { users } from '../../store/users';
import type { messageRoutes } from '../routes/messages';
import type { Operations } from '../routes/types';

export const messageOperations: Operations<typeof messageRoutes> = {
  sendMessage: async ({ body }) => {
    if (body.asSystem && body.sendId) throw new CirrusError('INVALID_ARGUMENT', 'Give either sendId or asSystem, not both');
    if (!body.asSystem && !body.sendId) throw new CirrusError('INVALID_ARGUMENT', 'sendId is required unless asSystem is true');
    const senderId: string = body.asSystem ? SYSTEM_SENDER : body.sendId;
    if (senderId !== SYSTEM_SENDER) {
      // The sender's item, read anyway to check they exist, carries their throttle across containers.
      const sender = await users.sender(senderId);
      if (!sender) throw new CirrusError('USER_NOT_FOUND', `Not registered: ${senderId}`);
      refuseIfThrottled(senderId, sender.throttledUntil);
      limitSend(senderId);
    }
    return sendMessage({
      sender: { userId: senderId },
      limited: senderId !== SYSTEM_SENDER,
      clientMsgId: body.clientMsgId ?? newId(),
      recvId: body.recvId,
      groupId: body.groupId,
      contentType: body.contentType,
      content: body.content,
      ...(body.offlinePush ? { offlinePush: body.offlinePush } : {}),
    });
  },
  revokeMessage: ({ actor, params }) => changeMessage(actor, { conversationId: params.conversationId, seq: params.seq }, 'revoke'),
  deleteMessage: ({ actor, params }) => changeMessage(actor, { conversationId: params.conversationId, seq: params.seq }, 'delete'),
};
