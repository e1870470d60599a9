/** Conversation ids and message ids. */
import { randomBytes } from 'node:crypto';
import { SessionType } from '../protocol/constants';

/** The reserved sender of system messages; registration refuses this id. */
export const SYSTEM_SENDER = 'system';

/** How notifications name an admin token as the actor; `@` cannot start a user id. */
export const ADMIN_ACTOR = '@admin';

export function singleConversationId(a: string, b: string): string {
  return a < b ? `si_${a}_${b}` : `si_${b}_${a}`;
}

export function groupConversationId(groupId: string): string {
  return `sg_${groupId}`;
}

export function notificationConversationId(userId: string): string {
  return `n_${userId}`;
}

export type ParsedConversation =
  | { sessionType: typeof SessionType.single; members: [string, string] }
  | { sessionType: typeof SessionType.group; groupId: string }
  | { sessionType: typeof SessionType.notification; userId: string };

export function parseConversationId(conversationId: string): ParsedConversation | undefined {
  if (conversationId.startsWith('si_')) {
    const parts = conversationId.slice(3).split('_');
    if (parts.length !== 2 || !parts[0] || !parts[1]) return undefined;
    return { sessionType: SessionType.single, members: [parts[0], parts[1]] };
  }
  if (conversationId.startsWith('sg_') && conversationId.length > 3) return { sessionType: SessionType.group, groupId: conversationId.slice(3) };
  if (conversationId.startsWith('n_') && conversationId.length > 2) return { sessionType: SessionType.notification, userId: conversationId.slice(2) };
  return undefined;
}

/** Time-ordered, unique message id: 12 hex digits of ms time + 10 random hex digits. */
export function newServerMsgId(now = Date.now()): string {
  return now.toString(16).padStart(12, '0') + randomBytes(5).toString('hex');
}

/**
 * A generated group id: hex, so it always matches the id pattern (base64url could put a
 * `_`, the separator of conversation ids, into it, or start it with `-`).
 */
export function newGroupId(): string {
  return randomBytes(8).toString('hex');
}

export function newId(bytes = 9): string {
  return randomBytes(bytes).toString('base64url');
}
