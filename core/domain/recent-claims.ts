/**
 * Recent claims: a small fixed set of slots on each conversation's counter item that lets
 * the seq allocation itself refuse a duplicate send already in flight, in the same
 * UpdateItem (no extra request on the normal path).
 *
 * A send of (sender, clientMsgId) hashes to one of `RECENT_CLAIM_SLOTS` slots (top-level
 * attributes `rc0`…`rc31`) and writes there `hash + time`: an 8-character hash of the send
 * (and of the seq its claim moves away from, for a resend after its seq settled) followed
 * by the allocation time in fixed-width base 36, so that one string comparison tells
 * whether the same send allocated less than `windowMs` ago. Another send colliding into
 * the slot just overwrites it: the hash decides, never the slot. Sizes: 32 slots of at
 * most 3 + 17 bytes keep the counter item under 1 KB (an allocation stays 1 write unit)
 * with the longest conversation id (132 characters).
 */
import { createHash } from 'node:crypto';

export const RECENT_CLAIM_SLOTS = 32;
const HASH_CHARS = 8;
const TIME_CHARS = 9;

export interface RecentClaimGuard {
  /** Attribute name of the slot. */
  slot: string;
  /** Hash of the send: what the slot starts with while this send is recent. */
  hash: string;
  /** The value to write: hash + allocation time. */
  value: string;
  /** hash + (now − windowMs): a slot value below it is stale. */
  staleBelow: string;
}

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();
const time = (ms: number): string => Math.max(0, Math.floor(ms)).toString(36).padStart(TIME_CHARS, '0');

/** The slot of a send of (sender, clientMsgId): `rc0`…`rc31`. */
export function recentClaimSlot(senderId: string, clientMsgId: string): string {
  return `rc${digest(`slot\u0000${senderId}\u0000${clientMsgId}`).readUInt32BE(0) % RECENT_CLAIM_SLOTS}`;
}

/**
 * The guard of one allocation for (sender, clientMsgId). `fromSeq` is the seq a resend
 * moves the claim away from (0 for a first send), so that moving a claim is not mistaken
 * for the first send of the same clientMsgId.
 */
export function recentClaimGuard(senderId: string, clientMsgId: string, fromSeq: number, now: number, windowMs: number): RecentClaimGuard {
  const hash = digest(`claim\u0000${senderId}\u0000${clientMsgId}\u0000${fromSeq}`).toString('base64url').slice(0, HASH_CHARS);
  return { slot: recentClaimSlot(senderId, clientMsgId), hash, value: hash + time(now), staleBelow: hash + time(now - windowMs) };
}
