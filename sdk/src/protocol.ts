/**
 * The wire protocol as the SDK sees it. Types come from the server's schemas
 * (`core/protocol/*.ts`) with type-only imports, so there is one source of truth and no
 * zod at run time; the few runtime constants are copied here and checked against the
 * schemas by `test/sdk/contract.test.ts`.
 */
import type {
  ActionName,
  ActionRequest,
  ActionResult,
  EventFrame,
  Message as WireMessage,
  MessageBody as WireMessageBody,
  PushFrame,
} from '../../core/protocol/schema';
import type { NotificationName, NotificationPayload } from '../../core/protocol/notifications';
import type { WireError } from '../../core/errors';

export type { ActionName, ActionRequest, ActionResult, NotificationName, NotificationPayload, WireError };

/** A message as stored, synced and pushed by the server. */
export type Message = WireMessage;
/** Sendable content, discriminated by `contentType`. */
export type MessageBody = WireMessageBody;
/** An unsolicited event frame (conversationChanged, userInfoUpdated, typing, receipt, kicked, businessNotification). */
export type ServerEvent = EventFrame;
export type NewMessagePush = PushFrame;

/** Chat content types, numbered as OpenIM's. */
export const ContentType = {
  text: 101,
  picture: 102,
  voice: 103,
  video: 104,
  file: 105,
  mention: 106,
  mergeForward: 107,
  card: 108,
  location: 109,
  custom: 110,
  quote: 114,
  markdown: 118,
} as const;

/** The content type of every notification (messages from `system`). */
export const NotificationType = {
  friendRequested: 1201,
  friendRequestAccepted: 1202,
  friendRequestRefused: 1203,
  friendAdded: 1204,
  friendDeleted: 1205,
  friendRemarkSet: 1206,
  blacklistAdded: 1207,
  blacklistRemoved: 1208,
  groupCreated: 1501,
  groupInfoSet: 1502,
  groupApplied: 1503,
  groupApplicationAccepted: 1504,
  groupApplicationRefused: 1505,
  groupOwnerTransferred: 1506,
  groupMembersKicked: 1507,
  groupMembersInvited: 1508,
  groupMemberJoined: 1509,
  groupMemberQuit: 1510,
  groupDismissed: 1511,
  groupMemberMuted: 1512,
  groupMemberUnmuted: 1513,
  groupMuted: 1514,
  groupUnmuted: 1515,
  groupMemberInfoSet: 1516,
  groupMemberRoleChanged: 1517,
  groupJoinPolicySet: 1518,
  messageRevoked: 2101,
  messageDeleted: 2102,
  messageEdited: 2103,
  messageReactionChanged: 2104,
  messagesDeletedForMe: 2105,
  businessNotification: 2001,
} as const satisfies Record<NotificationName, number>;

const notificationNames = new Map<number, NotificationName>(Object.entries(NotificationType).map(([name, type]) => [type, name as NotificationName]));

/**
 * The notification a content type names, or undefined for chat content.
 *
 * @example
 * notificationName(1507); // 'groupMembersKicked'
 */
export function notificationName(contentType: number): NotificationName | undefined {
  return notificationNames.get(contentType);
}

/** The largest seq range one `pullMsgs` covers. */
export const MAX_PULL = 100;

/** A request frame, client → server. */
export interface RequestFrame {
  id: string;
  action: string;
  data?: unknown;
}

/** A reply frame, server → client. */
export interface ReplyFrame {
  id: string | null;
  action?: string;
  data?: unknown;
  error?: WireError;
}
