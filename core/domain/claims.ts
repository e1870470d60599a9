/**
 * Claims on the counter: the idempotency window of WebSocket sends into 1:1 (`si_`) and
 * notification (`n_`) conversations, kept on the conversation's counter item itself so
 * that one conditional UpdateItem allocates the seq, claims the clientMsgId and records
 * the sender's own position.
 *
 * Each sender has a map attribute `c#<userId>` on the counter: a short hash of each of
 * their last `CLAIM_WINDOW` clientMsgIds in the conversation → the seq it was given. The
 * allocation is conditioned on the hash being absent, so concurrent sends of one
 * clientMsgId allocate exactly one seq; the one that lost learns that seq from the item
 * returned with the failed condition. The oldest entries are removed in the same update,
 * so a send older than the sender's last `CLAIM_WINDOW` sends in the conversation is no
 * longer recognized: that is the window (docs/protocol.md, "Idempotency").
 *
 * The sender's own position (the seq of their latest own message, which counts as read)
 * is the highest value of their map, so no per-message write of UserConversations is needed.
 *
 * Besides the claims, the counter mirrors what the send-time rules need about each
 * member, written together with their source rows: `blk#<userId>` (the user blocked the
 * other member) and `ro#<userId>` (the user's receive option of this conversation).
 */
import { createHash } from 'node:crypto';
import { parseConversationId, SYSTEM_SENDER } from './ids';
import { SessionType } from '../protocol/constants';

/** How many of a sender's latest clientMsgIds a 1:1 or notification conversation recognizes. */
export const CLAIM_WINDOW = 8;
const HASH_CHARS = 8;

export const claimAttribute = (userId: string): string => `c#${userId}`;
export const blockAttribute = (userId: string): string => `blk#${userId}`;
export const recvOptAttribute = (userId: string): string => `ro#${userId}`;

/** The map key of a clientMsgId: 48 bits of its SHA-256, base64url. */
export function claimHash(clientMsgId: string): string {
  return createHash('sha256').update(clientMsgId).digest('base64url').slice(0, HASH_CHARS);
}

/** Conversations whose counter carries claims and mirrors: 1:1 and notification ones. */
export function claimsOnCounter(conversationId: string): boolean {
  const parsed = parseConversationId(conversationId);
  return parsed?.sessionType === SessionType.single || parsed?.sessionType === SessionType.notification;
}

/** The members a counter mirrors: both users of `si_<a>_<b>`, the user of `n_<userId>`, and `system` for the latter's claims. */
export function counterMembers(conversationId: string): string[] {
  const parsed = parseConversationId(conversationId);
  if (parsed?.sessionType === SessionType.single) return [...new Set(parsed.members)];
  if (parsed?.sessionType === SessionType.notification) return [parsed.userId];
  return [];
}

/** The claim senders a counter gets maps for when it is linked. */
export function claimSenders(conversationId: string): string[] {
  const parsed = parseConversationId(conversationId);
  if (parsed?.sessionType === SessionType.single) return [...new Set(parsed.members)];
  if (parsed?.sessionType === SessionType.notification) return [SYSTEM_SENDER];
  return [];
}

type Claims = Record<string, number> | undefined;

/** A sender's claim map as the counter holds it. */
export const claimsOf = (counter: Record<string, unknown> | undefined, userId: string): Claims => counter?.[claimAttribute(userId)] as Claims;

/** The seq of the user's latest own message recorded on the counter (0 when none). */
export function ownSeqOnCounter(counter: Record<string, unknown> | undefined, userId: string): number {
  const claims = claimsOf(counter, userId);
  let own = 0;
  if (claims) for (const seq of Object.values(claims)) if (Number(seq) > own) own = Number(seq);
  return own;
}

/**
 * The keys to remove so that, with one more entry, the map holds at most `CLAIM_WINDOW`:
 * the oldest (lowest seqs).
 */
export function claimsToDrop(claims: Claims): string[] {
  if (!claims) return [];
  const entries = Object.entries(claims).sort((a, b) => Number(a[1]) - Number(b[1]));
  return entries.slice(0, Math.max(0, entries.length - (CLAIM_WINDOW - 1))).map(([key]) => key);
}
