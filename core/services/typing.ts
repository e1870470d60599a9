/**
 * Typing indicators: an event frame pushed to the other user of a 1:1 conversation,
 * never stored. One BatchGetItem checks that the recipient exists and has not blocked
 * the sender; then the recipient's live connections get the event.
 */
import { config } from '../config';
import { singleConversationId } from '../domain/ids';
import { CirrusError } from '../errors';
import { batchGet } from '../store/dynamo';
import { pushEvent } from './push';

export async function sendTyping(senderId: string, req: { recvId: string; typing: boolean }): Promise<{ delivered: number }> {
  const { recvId, typing } = req;
  const users = config.tableName('users');
  const blacklist = config.tableName('blacklist');
  const found = await batchGet({
    [users]: { Keys: [{ userId: recvId }], ProjectionExpression: 'userId' },
    [blacklist]: { Keys: [{ userId: recvId, blockedUserId: senderId }], ProjectionExpression: 'userId' },
  });
  if (!found[users]?.length) throw new CirrusError('USER_NOT_FOUND', `User ${recvId} is not registered`);
  if (found[blacklist]?.length) throw new CirrusError('BLOCKED', `${recvId} has blocked ${senderId}`);
  const conversationId = singleConversationId(senderId, recvId);
  const outcome = await pushEvent(recvId, { push: 'typing', data: { conversationId, userId: senderId, typing } });
  return { delivered: outcome.delivered };
}
