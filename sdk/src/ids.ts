/** Conversation ids as the server forms them (`core/domain/ids.ts`), without its Node imports. */

/**
 * The 1:1 conversation of two users: `si_<a>_<b>`, ids sorted.
 *
 * @example
 * singleConversationId('bob', 'alice'); // 'si_alice_bob'
 */
export function singleConversationId(a: string, b: string): string {
  return a < b ? `si_${a}_${b}` : `si_${b}_${a}`;
}

/**
 * The conversation of a group: `sg_<groupId>`.
 *
 * @example
 * groupConversationId('hiking'); // 'sg_hiking'
 */
export function groupConversationId(groupId: string): string {
  return `sg_${groupId}`;
}

/**
 * A user's notification conversation: `n_<userId>`.
 *
 * @example
 * notificationConversationId('alice'); // 'n_alice'
 */
export function notificationConversationId(userId: string): string {
  return `n_${userId}`;
}

/**
 * A fresh clientMsgId: random, so two devices never pick the same one.
 *
 * @example
 * await client.sendMessage({ clientMsgId: newClientMsgId(), recvId: 'bob', contentType: 101, content: { text: 'hi' } });
 */
export function newClientMsgId(): string {
  return globalThis.crypto.randomUUID();
}
