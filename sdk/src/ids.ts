/** Conversation ids as the server forms them (`core/domain/ids.ts`), without its Node imports. */

/** The 1:1 conversation of two users: `si_<a>_<b>`, ids sorted. */
export function singleConversationId(a: string, b: string): string {
  return a < b ? `si_${a}_${b}` : `si_${b}_${a}`;
}

/** The conversation of a group: `sg_<groupId>`. */
export function groupConversationId(groupId: string): string {
  return `sg_${groupId}`;
}

/** A user's notification conversation: `n_<userId>`. */
export function notificationConversationId(userId: string): string {
  return `n_${userId}`;
}

/** A fresh clientMsgId: random, so two devices never pick the same one. */
export function newClientMsgId(): string {
  return globalThis.crypto.randomUUID();
}
