/**
 * Friend, blacklist and group events, derived from notification messages
 * (`core/protocol/notifications.ts`) under the names of OpenIM's listeners, so an app
 * ported from OpenIM finds the callbacks it knows.
 */
import type { Message, NotificationName, NotificationPayload } from './protocol';
import { notificationName } from './protocol';

/** A notification as an event: its name, its typed payload, and the message that carried it. */
export interface NotificationEvent<N extends NotificationName = NotificationName> {
  type: N;
  payload: NotificationPayload<N>;
  message: Message;
}

type Of<N extends NotificationName> = NotificationEvent<N>;

/** Friend and blacklist events (OpenIM's `OnFriendshipListener`). */
export interface FriendEvents {
  /** A friend request was sent, by or to the user (1201). */
  friendApplicationAdded: Of<'friendRequested'>;
  friendApplicationAccepted: Of<'friendRequestAccepted'>;
  friendApplicationRejected: Of<'friendRequestRefused'>;
  friendAdded: Of<'friendAdded'>;
  friendDeleted: Of<'friendDeleted'>;
  /** The user's remark of a friend changed (on another device) (1206). */
  friendInfoChanged: Of<'friendRemarkSet'>;
  blackAdded: Of<'blacklistAdded'>;
  blackDeleted: Of<'blacklistRemoved'>;
}

/** Group events (OpenIM's `OnGroupListener`). */
export interface GroupEvents {
  /** The user became a member: created with them, invited, joined, application accepted. */
  joinedGroupAdded: Of<'groupCreated' | 'groupMembersInvited' | 'groupMemberJoined' | 'groupApplicationAccepted'>;
  /** The user is no longer a member: kicked, quit, or the group was dismissed. */
  joinedGroupDeleted: Of<'groupMembersKicked' | 'groupMemberQuit' | 'groupDismissed'>;
  groupInfoChanged: Of<'groupInfoSet' | 'groupOwnerTransferred' | 'groupMuted' | 'groupUnmuted' | 'groupJoinPolicySet'>;
  groupMemberAdded: Of<'groupMembersInvited' | 'groupMemberJoined'>;
  groupMemberDeleted: Of<'groupMembersKicked' | 'groupMemberQuit'>;
  groupMemberInfoChanged: Of<'groupMemberMuted' | 'groupMemberUnmuted' | 'groupMemberInfoSet' | 'groupMemberRoleChanged' | 'groupOwnerTransferred'>;
  groupApplicationAdded: Of<'groupApplied'>;
  groupApplicationAccepted: Of<'groupApplicationAccepted'>;
  groupApplicationRejected: Of<'groupApplicationRefused'>;
  groupDismissed: Of<'groupDismissed'>;
}

type EventName = keyof FriendEvents | keyof GroupEvents;

/** Which events a notification raises: always `always`, plus `mine` when it concerns the signed-in user. */
// Changes to messages are raised by the client itself, once the changed message is stored.
const routing: Record<Exclude<NotificationName, 'messageRevoked' | 'messageDeleted' | 'messageEdited' | 'messageReactionChanged' | 'messagesDeletedForMe' | 'businessNotification'>, { always: EventName[]; mine?: EventName[] }> = {
  friendRequested: { always: ['friendApplicationAdded'] },
  friendRequestAccepted: { always: ['friendApplicationAccepted'] },
  friendRequestRefused: { always: ['friendApplicationRejected'] },
  friendAdded: { always: ['friendAdded'] },
  friendDeleted: { always: ['friendDeleted'] },
  friendRemarkSet: { always: ['friendInfoChanged'] },
  blacklistAdded: { always: ['blackAdded'] },
  blacklistRemoved: { always: ['blackDeleted'] },
  groupCreated: { always: [], mine: ['joinedGroupAdded'] },
  groupInfoSet: { always: ['groupInfoChanged'] },
  groupApplied: { always: ['groupApplicationAdded'] },
  groupApplicationAccepted: { always: ['groupApplicationAccepted'], mine: ['joinedGroupAdded'] },
  groupApplicationRefused: { always: ['groupApplicationRejected'] },
  groupOwnerTransferred: { always: ['groupInfoChanged', 'groupMemberInfoChanged'] },
  groupMembersKicked: { always: ['groupMemberDeleted'], mine: ['joinedGroupDeleted'] },
  groupMembersInvited: { always: ['groupMemberAdded'], mine: ['joinedGroupAdded'] },
  groupMemberJoined: { always: ['groupMemberAdded'], mine: ['joinedGroupAdded'] },
  groupMemberQuit: { always: ['groupMemberDeleted'], mine: ['joinedGroupDeleted'] },
  groupDismissed: { always: ['groupDismissed', 'joinedGroupDeleted'] },
  groupMemberMuted: { always: ['groupMemberInfoChanged'] },
  groupMemberUnmuted: { always: ['groupMemberInfoChanged'] },
  groupMuted: { always: ['groupInfoChanged'] },
  groupUnmuted: { always: ['groupInfoChanged'] },
  groupMemberInfoSet: { always: ['groupMemberInfoChanged'] },
  groupMemberRoleChanged: { always: ['groupMemberInfoChanged'] },
  groupJoinPolicySet: { always: ['groupInfoChanged'] },
};

function concernsUser(payload: Record<string, unknown>, userId: string): boolean {
  if (payload.userId === userId) return true;
  for (const key of ['userIds', 'memberUserIds']) if (Array.isArray(payload[key]) && (payload[key] as unknown[]).includes(userId)) return true;
  return payload.ownerUserId === userId;
}

/** The friend and group events a message raises for the user (none for chat messages). */
export function notificationEvents(message: Message, userId: string): { name: EventName; event: NotificationEvent }[] {
  const type = notificationName(message.contentType);
  if (!type || !(type in routing) || message.content === null || typeof message.content !== 'object') return [];
  const route = routing[type as keyof typeof routing];
  const payload = message.content as Record<string, unknown>;
  const names = [...route.always, ...(route.mine && concernsUser(payload, userId) ? route.mine : [])];
  const event = { type, payload, message } as NotificationEvent;
  return names.map((name) => ({ name, event }));
}
