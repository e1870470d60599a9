/**
 * The rules of offline push, free of I/O: which messages notify whom, and what each
 * notification says. The send path uses `pushRecipientsOf` to decide; the notify
 * function (core/offline-push/notify.ts) uses `buildNotification` per recipient.
 */
import type { Notification } from './types';

/** Receive options as the send path computes them: 0 receive, 1 do not receive, 2 silently. */
export type RecvOpt = 0 | 1 | 2;

/** `offlinePush` of a message (sendMsg, POST /messages), like OpenIM's offlinePushInfo. */
export interface OfflinePushInfo {
  title?: string;
  body?: string;
  sound?: string;
  ex?: string;
  disabled?: boolean;
}

/** Bounds of `offlinePush`, checked by the schemas (core/protocol/schema.ts). */
export const OFFLINE_PUSH_LIMITS = { title: 100, body: 500, sound: 64, ex: 1024 } as const;

/** A user's own push settings (`pushPrefs` on their user item). */
export interface PushPrefs {
  /** Notifications between start and end (HH:MM, local time of `timeZone`, across midnight when end < start) are silent. */
  quietHours?: { start: string; end: string; timeZone: string };
  /** Notifications say "New message" instead of the content. */
  hidePreview?: boolean;
}

/** The deployment's rules (settings PUSH_SHOW_PREVIEW and PUSH_MENTIONS_BREAK_THROUGH). */
export interface RuleSettings {
  /** false: every notification hides the content (default true). */
  showPreview: boolean;
  /** true: an @mention or @all in a group the user set to receive silently still alerts (default true). */
  mentionsBreakThrough: boolean;
}

/** A recipient the send path decided to notify, as a notify job carries them. */
export interface NotifyTarget {
  userId: string;
  /** The effective receive option of the conversation: 0 or 2 (1 is never notified). */
  recvOpt: 0 | 2;
  /** Mentioned by the message (@user, or @all in a group). */
  mentioned?: boolean;
  /** A batch send: this target's own message (the job's message is the others' template). */
  m?: MessageRef;
}

/** What differs between the messages of one batch page. */
export interface MessageRef {
  conversationId: string;
  seq: number;
  serverMsgId: string;
  sendTime: number;
  recvId?: string;
}

/** The parts of a message the rules read. */
export interface PushMessage {
  conversationId: string;
  seq: number;
  serverMsgId: string;
  sessionType: number;
  senderId: string;
  recvId?: string;
  groupId?: string;
  contentType: number;
  content: unknown;
  sendTime: number;
  offlinePush?: OfflinePushInfo;
}

/** Chat content types (core/protocol/schema.ts ContentType): each notifies every recipient but its sender. */
export const CHAT_CONTENT_TYPES: ReadonlySet<number> = new Set([101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 114, 118, 150]);

/**
 * Encrypted content (core/protocol/e2ee.ts): an MLS application message notifies like chat
 * content but never shows more than "New message" (Cirrus cannot read it, and the sender's own
 * offlinePush title and body are not shown either, so no app puts a preview there by mistake);
 * handshake messages and Welcomes notify nobody.
 */
const ENCRYPTED_APPLICATION = 150;

const SYSTEM = 'system';
const GROUP = 3;

type Payload = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/**
 * Who of a message's recipients may be notified about it: `all` (every recipient but the
 * sender), a list (system notifications that concern some users: the friend request's
 * addressee, the members added to a group), or `none`: typing and receipts are not
 * messages, and changes to messages (revoke, delete, edit, reactions), settings and other
 * system notifications are not worth waking a phone for.
 */
export function pushRecipientsOf(message: Pick<PushMessage, 'senderId' | 'contentType' | 'content' | 'offlinePush'>): 'all' | 'none' | string[] {
  if (message.offlinePush?.disabled) return 'none';
  // Chat content, also sent as `system` by the app backend (POST /messages, batch sends).
  if (CHAT_CONTENT_TYPES.has(message.contentType)) return 'all';
  if (message.senderId !== SYSTEM) return 'none';
  const p = (message.content ?? {}) as Payload;
  const op = str(p.opUserId);
  switch (message.contentType) {
    case 1201: // friendRequested: the addressee
      return strs([p.toUserId]);
    case 1202: // friendRequestAccepted: the requester
      return strs([p.fromUserId]);
    case 1501: // groupCreated: the members added, not their creator
      return strs(p.memberUserIds).filter((u) => u !== op && u !== p.ownerUserId);
    case 1508: // groupMembersInvited: the members added
      return strs(p.userIds).filter((u) => u !== op);
    case 1503: // groupApplied: the owner and admins who decide (not the applicant)
      return 'all';
    case 1504: // groupApplicationAccepted: the applicant
      return strs([p.userId]);
    case 2001: // businessNotification
      return 'all';
    default:
      return 'none';
  }
}

/** Users a system notification never notifies even when it reaches them (the applicant of 1503). */
export function excludedFrom(message: Pick<PushMessage, 'senderId' | 'contentType' | 'content'>): string | undefined {
  if (message.senderId === SYSTEM && message.contentType === 1503) return str((message.content as Payload | undefined)?.userId);
  return undefined;
}

/** Whether `userId` is mentioned by the message: in its atUserIds, or by @all in a group. */
export function isMentioned(message: Pick<PushMessage, 'contentType' | 'content' | 'sessionType'>, userId: string): boolean {
  if (message.contentType !== 106) return false;
  const c = (message.content ?? {}) as Payload;
  return (c.atAll === true && message.sessionType === GROUP) || strs(c.atUserIds).includes(userId);
}

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;
const minutesOf = (hhmm: string): number | undefined => {
  const m = HHMM.exec(hhmm);
  return m ? Number(m[1]) * 60 + Number(m[2]) : undefined;
};

/** The minutes since local midnight at `now` in `timeZone`; undefined for an unknown zone. */
export function localMinutes(now: number, timeZone: string): number | undefined {
  try {
    const parts = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(now));
    const hour = Number(parts.find((p) => p.type === 'hour')?.value);
    const minute = Number(parts.find((p) => p.type === 'minute')?.value);
    return Number.isFinite(hour) && Number.isFinite(minute) ? hour * 60 + minute : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether `now` falls in the quiet hours: from `start` (included) to `end` (excluded), local
 * time of `timeZone` (daylight saving included), across midnight when end is before start.
 * Equal start and end, an unknown zone or a malformed time: no quiet hours.
 */
export function inQuietHours(quiet: PushPrefs['quietHours'], now: number): boolean {
  if (!quiet) return false;
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  const local = localMinutes(now, quiet.timeZone);
  if (start === undefined || end === undefined || local === undefined || start === end) return false;
  return start < end ? local >= start && local < end : local >= start || local < end;
}

/** At most `max` characters (code points), with an ellipsis when cut; whitespace runs collapsed. */
export function truncate(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const chars = Array.from(flat);
  return chars.length <= max ? flat : `${chars.slice(0, max - 1).join('')}…`;
}

/** Longest preview of a message's text in a notification body, in characters. */
export const PREVIEW_CHARS = 200;
/** Longest title, in characters. */
export const TITLE_CHARS = 100;

/** A body and its localisation key (the app may show its own translation of the key). */
interface Text {
  text: string;
  locKey?: string;
  locArgs?: string[];
}

/** The body of a chat message by content type: text previews, placeholders for media. */
export function contentPreview(contentType: number, content: unknown): Text {
  const c = (content ?? {}) as Payload;
  const t = (s: unknown): Text => ({ text: truncate(str(s) ?? '', PREVIEW_CHARS) });
  switch (contentType) {
    case 101:
    case 106:
    case 114:
      return t(c.text);
    case 118:
      return t(c.markdown);
    case 102:
      return { text: '[Picture]', locKey: 'CIRRUS_PICTURE' };
    case 103:
      return { text: '[Voice]', locKey: 'CIRRUS_VOICE' };
    case 104:
      return { text: '[Video]', locKey: 'CIRRUS_VIDEO' };
    case 105: {
      const name = truncate(str(c.fileName) ?? '', 100);
      return { text: `[File] ${name}`, locKey: 'CIRRUS_FILE', locArgs: [name] };
    }
    case 107:
      return { text: '[Chat history]', locKey: 'CIRRUS_CHAT_HISTORY' };
    case 108:
      return { text: '[Contact card]', locKey: 'CIRRUS_CARD' };
    case 109:
      return { text: '[Location]', locKey: 'CIRRUS_LOCATION' };
    default:
      return str(c.description) ? t(c.description) : { text: '[Message]', locKey: 'CIRRUS_MESSAGE' };
  }
}

/** Names the notification's text needs: users by id (nickname, else the id), the group's name. */
export interface Names {
  user(userId: string): string;
  group?: string;
}

/** The title and body of a system notification, with their localisation keys and arguments. */
function systemText(message: PushMessage, names: Names): { title: Text; body: Text } {
  const p = (message.content ?? {}) as Payload;
  const group = names.group ?? str(p.name) ?? str(p.groupId) ?? '';
  const who = (id: unknown) => names.user(str(id) ?? '');
  switch (message.contentType) {
    case 1201:
      return { title: { text: 'Friend request', locKey: 'CIRRUS_FRIEND_REQUEST_TITLE' }, body: { text: `${who(p.fromUserId)} wants to be your friend`, locKey: 'CIRRUS_FRIEND_REQUEST', locArgs: [who(p.fromUserId)] } };
    case 1202:
      return { title: { text: 'New friend', locKey: 'CIRRUS_FRIEND_ACCEPTED_TITLE' }, body: { text: `${who(p.toUserId)} accepted your friend request`, locKey: 'CIRRUS_FRIEND_ACCEPTED', locArgs: [who(p.toUserId)] } };
    case 1501:
    case 1508: {
      const by = who(p.opUserId ?? p.ownerUserId);
      return { title: { text: group, locKey: 'CIRRUS_GROUP_ADDED_TITLE', locArgs: [group] }, body: { text: `${by} added you to ${group}`, locKey: 'CIRRUS_GROUP_ADDED', locArgs: [by, group] } };
    }
    case 1503: {
      const invited = str(p.inviterUserId);
      return invited
        ? { title: { text: group, locKey: 'CIRRUS_GROUP_INVITATION_TITLE', locArgs: [group] }, body: { text: `${who(invited)} invites ${who(p.userId)} to ${group}`, locKey: 'CIRRUS_GROUP_INVITATION', locArgs: [who(invited), who(p.userId), group] } }
        : { title: { text: group, locKey: 'CIRRUS_GROUP_APPLICATION_TITLE', locArgs: [group] }, body: { text: `${who(p.userId)} asks to join ${group}`, locKey: 'CIRRUS_GROUP_APPLICATION', locArgs: [who(p.userId), group] } };
    }
    case 1504:
      return { title: { text: group, locKey: 'CIRRUS_GROUP_JOINED_TITLE', locArgs: [group] }, body: { text: `You joined ${group}`, locKey: 'CIRRUS_GROUP_JOINED', locArgs: [group] } };
    default:
      return { title: { text: 'Notification', locKey: 'CIRRUS_NOTIFICATION_TITLE' }, body: { text: 'New notification', locKey: 'CIRRUS_NOTIFICATION' } };
  }
}

/** What one recipient's notification depends on besides the message. */
export interface RecipientContext {
  target: NotifyTarget;
  prefs?: PushPrefs;
  names: Names;
  settings: RuleSettings;
  /** The recipient's total unread (absent: no badge). */
  badge?: number;
  now: number;
}

/** How long a provider keeps a notification for an unreachable device. */
export const PUSH_TTL_SECONDS = 24 * 3600;

/**
 * The notification of one message for one recipient (the same for each of their devices):
 * - receive option 2 (silently), or the recipient's quiet hours: `silent` (no alert, no
 *   sound; the badge and the data still arrive), unless a group message mentions them and
 *   the deployment lets mentions break through (quiet hours are never broken);
 * - the deployment's or the recipient's choice to hide content: the body is "New message"
 *   (loc key CIRRUS_NEW_MESSAGE), the message's own push body too;
 * - otherwise the message's own `offlinePush` title and body, else by content type;
 * - threadId the conversation, collapseId the message (a repeated notification of the same
 *   message replaces the earlier one), data what a tap needs to open and sync the chat.
 */
export function buildNotification(message: PushMessage, ctx: RecipientContext): Notification {
  const { target, prefs, names, settings } = ctx;
  const info = message.offlinePush ?? {};
  const group = message.sessionType === GROUP;
  const silencedByOption = target.recvOpt === 2 && !(group && target.mentioned && settings.mentionsBreakThrough);
  const silent = silencedByOption || inQuietHours(prefs?.quietHours, ctx.now);
  const data: Record<string, string> = {
    conversationId: message.conversationId,
    seq: String(message.seq),
    serverMsgId: message.serverMsgId,
    senderId: message.senderId,
    ...(info.ex !== undefined ? { ex: info.ex } : {}),
  };
  const base = {
    threadId: message.conversationId,
    collapseId: message.serverMsgId,
    data,
    ttlSeconds: PUSH_TTL_SECONDS,
    ...(ctx.badge !== undefined ? { badge: ctx.badge } : {}),
  };
  if (silent) return { ...base, silent: true, priority: 'normal' };
  const hide = !settings.showPreview || prefs?.hidePreview === true;
  let title: Text;
  let body: Text;
  if (message.senderId === SYSTEM && !CHAT_CONTENT_TYPES.has(message.contentType)) {
    ({ title, body } = systemText(message, names));
  } else {
    const sender = names.user(message.senderId);
    title = { text: group ? (names.group ?? message.groupId ?? '') : sender };
    const preview = contentPreview(message.contentType, message.content);
    body = group ? { ...preview, text: `${sender}: ${preview.text}` } : preview;
    if (group && preview.locKey) body = { text: body.text, locKey: `${preview.locKey}_FROM`, locArgs: [sender, ...(preview.locArgs ?? [])] };
  }
  const encrypted = message.contentType === ENCRYPTED_APPLICATION;
  if (info.title !== undefined && !encrypted) title = { text: info.title };
  if (info.body !== undefined && !encrypted) body = { text: info.body };
  if (hide || encrypted) body = { text: 'New message', locKey: 'CIRRUS_NEW_MESSAGE' };
  return {
    ...base,
    title: truncate(title.text, TITLE_CHARS),
    body: truncate(body.text, PREVIEW_CHARS),
    ...(title.locKey ? { titleLocKey: title.locKey, ...(title.locArgs ? { titleLocArgs: title.locArgs } : {}) } : {}),
    ...(body.locKey ? { bodyLocKey: body.locKey, ...(body.locArgs ? { bodyLocArgs: body.locArgs } : {}) } : {}),
    sound: info.sound ?? 'default',
    silent: false,
    priority: 'high',
  };
}
