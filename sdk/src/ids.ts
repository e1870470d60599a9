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
 * A fresh clientMsgId: random, so two devices never pick the same one. A v4 UUID from
 * `crypto.randomUUID` or `crypto.getRandomValues` where they exist (browsers, Node); where
 * there is no `crypto` (React Native's Hermes without a polyfill) a v7 UUID: the time in
 * ms and 74 bits of `Math.random`, which the server needs only to be unique among the
 * sender's own recent messages.
 *
 * @example
 * await client.sendMessage({ clientMsgId: newClientMsgId(), recvId: 'bob', contentType: 101, content: { text: 'hi' } });
 */
export function newClientMsgId(): string {
  const crypto = (globalThis as { crypto?: Partial<Pick<Crypto, 'randomUUID' | 'getRandomValues'>> }).crypto;
  if (typeof crypto?.randomUUID === 'function') return crypto.randomUUID();
  const bytes = new Uint8Array(16);
  if (typeof crypto?.getRandomValues === 'function') {
    crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
  } else {
    for (let i = 6; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
    let ms = Date.now();
    for (let i = 5; i >= 0; i--) {
      bytes[i] = ms % 256;
      ms = Math.floor(ms / 256);
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x70;
  }
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
