/** Operations: messages from the app backend, and history. */
import { newId, SYSTEM_SENDER } from '../../domain/ids';
import { CirrusError } from '../../errors';
import { history } from '../../history/history';
import { changeMessage } from '../../services/message-changes';
import { sendMessage } from '../../services/send';
import { requireUsers } from '../../services/users';
import { conversations } from '../../store/conversations';
import type { messageRoutes } from '../routes/messages';
import type { Operations } from '../routes/types';

export const messageOperations: Operations<typeof messageRoutes> = {
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
  getHistory: async ({ actor, params, query }) => {
    let bounds: { afterSeq: number; throughSeq?: number; skip?: number[] } = { afterSeq: 0 };
    if (actor.kind === 'user') {
      const { state } = await conversations.stateAndCounter(actor.userId, params.conversationId);
      if (!state) throw new CirrusError('CONVERSATION_NOT_FOUND', `No conversation ${params.conversationId} for ${actor.userId}`);
      bounds = { afterSeq: state.minSeq ?? 0, throughSeq: state.leftSeq, skip: state.deletedSeqs ? [...state.deletedSeqs] : undefined };
    }
    return history.page(params.conversationId, query.beforeSeq, query.limit ?? 50, bounds);
  },
  revokeMessage: ({ actor, params }) => changeMessage(actor, { conversationId: params.conversationId, seq: params.seq }, 'revoke'),
  deleteMessage: ({ actor, params }) => changeMessage(actor, { conversationId: params.conversationId, seq: params.seq }, 'delete'),
};
