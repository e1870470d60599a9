/**
 * The WebSocket protocol, in one place. The server validates with these schemas, the
 * tests and SDK build frames from them, and `docs/protocol.md` is generated from them
 * (`npm run docs`).
 *
 * Every schema is built by a call marked `@__PURE__`: a function's bundle keeps (and builds
 * when it starts) only the schemas its code uses, not the whole protocol (esbuild drops an
 * unused pure call). zod/mini's style nests calls (`z.optional(z.string().check(z.maxLength(n),
 * z.describe(...)))`), and esbuild keeps an argument that is an unmarked call, so every call
 * inside a schema is marked too, checks and descriptions included (a kept `z.describe` call
 * would keep its text in the bundle).
 */
import * as z from 'zod/mini';
import { OFFLINE_PUSH_LIMITS } from '../offline-push/rules';
import { REPLY_PAGE_BYTES, SessionType } from './constants';
import { isAcceptedString } from './strings';
import { descriptionOf } from './describe';
import { EncryptedContentType, MlsApplicationContent, MlsHandshakeContent, MlsWelcomeContent } from './e2ee';
import { RegisterPushDeviceRequest, RegisterPushDeviceResult, SetAppBackgroundRequest, SetAppBackgroundResult, UnregisterPushDeviceRequest, UnregisterPushDeviceResult } from './push-devices';

export { SessionType };

/** User and group ids: no `_`, which separates the parts of conversation ids. */
export const idPattern = /^[A-Za-z0-9][A-Za-z0-9.@-]{0,63}$/;
export const UserId = /* @__PURE__ */ z.string().check(
  /* @__PURE__ */ z.regex(idPattern, 'letters, digits, ".", "@" or "-", 1-64 characters, not starting with a symbol'),
  /* @__PURE__ */ z.describe('User id'),
);
export const GroupId = /* @__PURE__ */ z.string().check(
  /* @__PURE__ */ z.regex(idPattern, 'letters, digits, ".", "@" or "-", 1-64 characters, not starting with a symbol'),
  /* @__PURE__ */ z.describe('Group id'),
);
export const ConversationId = /* @__PURE__ */ z.string().check(
  /* @__PURE__ */ z.regex(/^(si_[A-Za-z0-9.@-]+_[A-Za-z0-9.@-]+|sg_[A-Za-z0-9.@-]+|n_[A-Za-z0-9.@-]+)$/, 'si_<a>_<b>, sg_<groupId> or n_<userId>'),
  /* @__PURE__ */ z.describe('Conversation id: `si_<a>_<b>` (1:1, ids sorted), `sg_<groupId>` (group) or `n_<userId>` (notifications)'),
);
export const Seq = /* @__PURE__ */ z.int().check(
  /* @__PURE__ */ z.gte(1),
  /* @__PURE__ */ z.lte(Number.MAX_SAFE_INTEGER),
  /* @__PURE__ */ z.describe('Position of a message in its conversation, from 1'),
);
/** Key-forming: every string of a request is checked (core/protocol/strings.ts); the schema says so too, for clients. */
export const ClientMsgId = /* @__PURE__ */ z.string().check(
  /* @__PURE__ */ z.minLength(1),
  /* @__PURE__ */ z.maxLength(64),
  /* @__PURE__ */ z.refine(isAcceptedString, 'must be well-formed Unicode (no lone surrogates) without U+0000'),
  /* @__PURE__ */ z.describe('Chosen by the sender; resending the same id returns the first ack'),
);

/** Serialized content may not exceed this many bytes (UTF-8 JSON), well inside the 32 KB frame. */
export const MAX_CONTENT_BYTES = 16 * 1024;

export const PLATFORMS = { 1: 'iOS', 2: 'Android', 3: 'Windows', 4: 'macOS', 5: 'Web', 6: 'MiniWeb', 7: 'Linux', 8: 'AndroidPad', 9: 'iPad', 10: 'Admin', 11: 'HarmonyOS' } as const;
export const PlatformId = /* @__PURE__ */ z.int().check(
  /* @__PURE__ */ z.gte(1),
  /* @__PURE__ */ z.lte(11),
  /* @__PURE__ */ z.describe('1 iOS, 2 Android, 3 Windows, 4 macOS, 5 Web, 6 MiniWeb, 7 Linux, 8 AndroidPad, 9 iPad, 10 Admin, 11 HarmonyOS'),
);

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

const HttpsUrl = /* @__PURE__ */ z.url({ protocol: /^https$/, error: 'must be an https URL' }).check(
  /* @__PURE__ */ z.maxLength(2048),
  /* @__PURE__ */ z.describe('An https URL (never a data: URL)'),
);

/** A MIME type without parameters, `type/subtype`. */
export const MimeType = /* @__PURE__ */ z.string().check(
  /* @__PURE__ */ z.regex(/^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,127}$/, 'a MIME type such as image/png'),
  /* @__PURE__ */ z.describe('MIME type, e.g. `image/jpeg`'),
);

/**
 * Media is referenced, never embedded: a message carries an object key of the deployment's
 * media store or an https URL, and what a client needs to lay it out before fetching it.
 */
export const MediaRef = /* @__PURE__ */ z.strictObject({
    objectKey: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.string().check(
      /* @__PURE__ */ z.minLength(1),
      /* @__PURE__ */ z.maxLength(1024),
      /* @__PURE__ */ z.regex(/^[A-Za-z0-9!_.*'()/-]+$/, 'letters, digits and !_.*\'()/- only'),
    )).check(/* @__PURE__ */ z.describe("Key of an object in the deployment's media store (exactly one of objectKey, url)")),
    url: /* @__PURE__ */ z.optional(HttpsUrl).check(/* @__PURE__ */ z.describe('https URL of the media elsewhere (exactly one of objectKey, url); data: URLs are refused')),
    mimeType: MimeType,
    size: /* @__PURE__ */ z.int().check(/* @__PURE__ */ z.gte(0), /* @__PURE__ */ z.lte(Number.MAX_SAFE_INTEGER), /* @__PURE__ */ z.describe('Size in bytes')),
    width: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.int().check(/* @__PURE__ */ z.gte(0), /* @__PURE__ */ z.lte(100_000))).check(/* @__PURE__ */ z.describe('Pixels (images, videos)')),
    height: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.int().check(/* @__PURE__ */ z.gte(0), /* @__PURE__ */ z.lte(100_000))).check(/* @__PURE__ */ z.describe('Pixels (images, videos)')),
  }).check(
  /* @__PURE__ */ z.refine((m) => (m.objectKey === undefined) !== (m.url === undefined), { message: 'exactly one of objectKey and url is required' }),
  /* @__PURE__ */ z.describe('A media object: {objectKey | url, mimeType, size, width?, height?}'),
);

const Duration = /* @__PURE__ */ z.int().check(/* @__PURE__ */ z.gte(0), /* @__PURE__ */ z.lte(86_400), /* @__PURE__ */ z.describe('Length in whole seconds'));

export const TextContent = /* @__PURE__ */ z.strictObject({ text: /* @__PURE__ */ z.string().check(/* @__PURE__ */ z.minLength(1), /* @__PURE__ */ z.describe('The text')) });
export const PictureContent = /* @__PURE__ */ z.strictObject({
  source: /* @__PURE__ */ MediaRef.check(/* @__PURE__ */ z.describe('The original picture')),
  big: /* @__PURE__ */ z.optional(MediaRef).check(/* @__PURE__ */ z.describe('A large rendition')),
  snapshot: /* @__PURE__ */ z.optional(MediaRef).check(/* @__PURE__ */ z.describe('A thumbnail')),
});
export const VoiceContent = /* @__PURE__ */ z.strictObject({ sound: /* @__PURE__ */ MediaRef.check(/* @__PURE__ */ z.describe('The recording')), durationSeconds: Duration });
export const VideoContent = /* @__PURE__ */ z.strictObject({ video: /* @__PURE__ */ MediaRef.check(/* @__PURE__ */ z.describe('The video')), snapshot: /* @__PURE__ */ z.optional(MediaRef).check(/* @__PURE__ */ z.describe('A poster frame')), durationSeconds: Duration });
export const FileContent = /* @__PURE__ */ z.strictObject({ file: /* @__PURE__ */ MediaRef.check(/* @__PURE__ */ z.describe('The file')), fileName: /* @__PURE__ */ z.string().check(
  /* @__PURE__ */ z.minLength(1),
  /* @__PURE__ */ z.maxLength(255),
  /* @__PURE__ */ z.describe('Name shown to the recipient'),
) });
export const MentionContent = /* @__PURE__ */ z.strictObject({
  text: /* @__PURE__ */ z.string().check(/* @__PURE__ */ z.minLength(1), /* @__PURE__ */ z.describe('The text, mentioning the users')),
  atUserIds: /* @__PURE__ */ z.array(UserId).check(/* @__PURE__ */ z.maxLength(100), /* @__PURE__ */ z.describe('Mentioned users (at most 100)')),
  atAll: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.boolean()).check(/* @__PURE__ */ z.describe('Mentions everyone; `true` only in group messages')),
});
export const MergeForwardContent = /* @__PURE__ */ z.strictObject({
  title: /* @__PURE__ */ z.string().check(
    /* @__PURE__ */ z.minLength(1),
    /* @__PURE__ */ z.maxLength(255),
    /* @__PURE__ */ z.describe('E.g. "Chat history of Alice and Bob"'),
  ),
  summaries: /* @__PURE__ */ z.array(/* @__PURE__ */ z.string().check(/* @__PURE__ */ z.maxLength(200))).check(
    /* @__PURE__ */ z.maxLength(10),
    /* @__PURE__ */ z.describe('Preview lines (at most 10, 200 characters each)'),
  ),
  messages: /* @__PURE__ */ z.array(
      /* @__PURE__ */ z.strictObject({
        senderId: /* @__PURE__ */ z.string().check(/* @__PURE__ */ z.minLength(1), /* @__PURE__ */ z.maxLength(64), /* @__PURE__ */ z.describe('Original sender')),
        contentType: /* @__PURE__ */ z.int().check(/* @__PURE__ */ z.describe('Original content type')),
        content: /* @__PURE__ */ z.unknown().check(/* @__PURE__ */ z.describe('Original content')),
        sendTime: /* @__PURE__ */ z.int().check(/* @__PURE__ */ z.gte(0), /* @__PURE__ */ z.describe('Original send time, ms since the epoch')),
      }),
    ).check(/* @__PURE__ */ z.minLength(1), /* @__PURE__ */ z.maxLength(100), /* @__PURE__ */ z.describe('The forwarded messages (1 to 100)')),
});
export const CardContent = /* @__PURE__ */ z.strictObject({
  userId: /* @__PURE__ */ UserId.check(/* @__PURE__ */ z.describe('The user the card introduces')),
  nickname: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.string().check(/* @__PURE__ */ z.maxLength(255))),
  faceUrl: /* @__PURE__ */ z.optional(HttpsUrl).check(/* @__PURE__ */ z.describe('Avatar URL (https)')),
  ex: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.string().check(/* @__PURE__ */ z.maxLength(1024))).check(/* @__PURE__ */ z.describe('App-defined extra data')),
});
export const LocationContent = /* @__PURE__ */ z.strictObject({
  latitude: /* @__PURE__ */ z.number().check(/* @__PURE__ */ z.gte(-90), /* @__PURE__ */ z.lte(90), /* @__PURE__ */ z.describe('Degrees, -90 to 90')),
  longitude: /* @__PURE__ */ z.number().check(/* @__PURE__ */ z.gte(-180), /* @__PURE__ */ z.lte(180), /* @__PURE__ */ z.describe('Degrees, -180 to 180')),
  description: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.string().check(/* @__PURE__ */ z.maxLength(1024))).check(/* @__PURE__ */ z.describe('E.g. an address')),
});
export const CustomContent = /* @__PURE__ */ z.strictObject({
  data: /* @__PURE__ */ z.string().check(/* @__PURE__ */ z.describe('App-defined payload, usually JSON')),
  description: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.string().check(/* @__PURE__ */ z.maxLength(1024))),
  extension: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.string().check(/* @__PURE__ */ z.maxLength(1024))),
});
export const QuoteContent = /* @__PURE__ */ z.strictObject({
  text: /* @__PURE__ */ z.string().check(/* @__PURE__ */ z.minLength(1), /* @__PURE__ */ z.describe('The reply')),
  quoted: /* @__PURE__ */ z.strictObject({
      conversationId: /* @__PURE__ */ ConversationId.check(/* @__PURE__ */ z.describe('Must be the conversation the reply is sent to')),
      seq: Seq,
      serverMsgId: /* @__PURE__ */ z.string().check(/* @__PURE__ */ z.minLength(1), /* @__PURE__ */ z.maxLength(64)),
      senderId: /* @__PURE__ */ z.string().check(/* @__PURE__ */ z.minLength(1), /* @__PURE__ */ z.maxLength(64)),
      contentType: /* @__PURE__ */ z.int(),
      summary: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.string().check(/* @__PURE__ */ z.maxLength(200))).check(/* @__PURE__ */ z.describe('Preview of the quoted message (at most 200 characters)')),
    }).check(/* @__PURE__ */ z.describe('The quoted message, in the same conversation')),
});
export const MarkdownContent = /* @__PURE__ */ z.strictObject({ markdown: /* @__PURE__ */ z.string().check(/* @__PURE__ */ z.minLength(1), /* @__PURE__ */ z.describe('CommonMark text')) });

const body = <T extends number, C extends z.ZodMiniType>(contentType: T, name: string, content: C, description: string) =>
  /* @__PURE__ */ z.strictObject({ contentType: /* @__PURE__ */ z.literal(contentType).check(/* @__PURE__ */ z.describe(`${contentType} ${name}`)), content }).check(/* @__PURE__ */ z.describe(description));

/** Content, discriminated by contentType. New types add a branch here. */
export const MessageBody = /* @__PURE__ */ z.discriminatedUnion('contentType', [
  body(ContentType.text, 'text', TextContent, 'Plain text.'),
  body(ContentType.picture, 'picture', PictureContent, 'A picture, with optional large and thumbnail renditions.'),
  body(ContentType.voice, 'voice', VoiceContent, 'A voice recording.'),
  body(ContentType.video, 'video', VideoContent, 'A video, with an optional poster frame.'),
  body(ContentType.file, 'file', FileContent, 'A file.'),
  body(ContentType.mention, 'mention', MentionContent, 'Text mentioning users (`@`); `atAll` only in group messages.'),
  body(ContentType.mergeForward, 'mergeForward', MergeForwardContent, 'Several messages forwarded as one (1 to 100).'),
  body(ContentType.card, 'card', CardContent, "A user's contact card."),
  body(ContentType.location, 'location', LocationContent, 'A point on the map.'),
  body(ContentType.custom, 'custom', CustomContent, 'App-defined content.'),
  body(ContentType.quote, 'quote', QuoteContent, 'A reply quoting an earlier message of the same conversation.'),
  body(ContentType.markdown, 'markdown', MarkdownContent, 'Markdown text.'),
  body(EncryptedContentType.mlsApplication, 'mlsApplication', MlsApplicationContent, 'Encrypted conversations: an MLS application message carrying the chat content (any of the types above, edits and reactions), opaque to Cirrus.'),
  body(EncryptedContentType.mlsHandshake, 'mlsHandshake', MlsHandshakeContent, 'Encrypted conversations: an MLS commit or proposal; the first commit of an epoch by seq wins.'),
  body(EncryptedContentType.mlsWelcome, 'mlsWelcome', MlsWelcomeContent, 'Encrypted conversations: the MLS Welcome for the devices a commit added.'),
]);
export type MessageBody = z.infer<typeof MessageBody>;

/** The content types a client may send, derived from `MessageBody`. */
export const sendableContentTypes = /* @__PURE__ */ MessageBody.def.options.map((o) => o.shape.contentType.def.values[0]);
export const SendableContentType = /* @__PURE__ */ z.literal(sendableContentTypes).check(/* @__PURE__ */ z.describe(`One of ${MessageBody.def.options.map((o) => descriptionOf(o.shape.contentType)).join(', ')}`));

/** What the offline push of a message says instead of what Cirrus would build (like OpenIM's offlinePushInfo). */
export const OfflinePush = /* @__PURE__ */ z.strictObject({
    title: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.string().check(/* @__PURE__ */ z.minLength(1), /* @__PURE__ */ z.maxLength(OFFLINE_PUSH_LIMITS.title))).check(/* @__PURE__ */ z.describe(`Replaces the title (at most ${OFFLINE_PUSH_LIMITS.title} characters)`)),
    body: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.string().check(/* @__PURE__ */ z.minLength(1), /* @__PURE__ */ z.maxLength(OFFLINE_PUSH_LIMITS.body))).check(/* @__PURE__ */ z.describe(`Replaces the body (at most ${OFFLINE_PUSH_LIMITS.body} characters; cut to 200 in the notification; a recipient who hides previews sees "New message")`)),
    sound: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.string().check(/* @__PURE__ */ z.minLength(1), /* @__PURE__ */ z.maxLength(OFFLINE_PUSH_LIMITS.sound))).check(/* @__PURE__ */ z.describe('A sound the app bundles, instead of `default`')),
    ex: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.string().check(/* @__PURE__ */ z.maxLength(OFFLINE_PUSH_LIMITS.ex))).check(/* @__PURE__ */ z.describe(`App-defined data, delivered in the notification's data as \`ex\` (at most ${OFFLINE_PUSH_LIMITS.ex} characters)`)),
    disabled: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.boolean()).check(/* @__PURE__ */ z.describe('true: no offline push for this message')),
  }).check(/* @__PURE__ */ z.describe("The message's own offline push title, body, sound and data, or none at all; stored with the message"));
export type OfflinePush = z.infer<typeof OfflinePush>;

export const SendMsgRequest = /* @__PURE__ */ z.strictObject({
    clientMsgId: ClientMsgId,
    recvId: /* @__PURE__ */ z.optional(UserId).check(/* @__PURE__ */ z.describe('Recipient of a 1:1 message (exactly one of recvId, groupId)')),
    groupId: /* @__PURE__ */ z.optional(GroupId).check(/* @__PURE__ */ z.describe('Group of a group message (exactly one of recvId, groupId)')),
    contentType: SendableContentType,
    content: /* @__PURE__ */ z.unknown().check(/* @__PURE__ */ z.describe(`Shape depends on contentType (see Messages); at most ${MAX_CONTENT_BYTES} bytes as JSON`)),
    offlinePush: /* @__PURE__ */ z.optional(OfflinePush),
  }).check(/* @__PURE__ */ z.describe('Send a message to a user or a group.'));
export type SendMsgRequest = z.infer<typeof SendMsgRequest>;

export const SendMsgResult = /* @__PURE__ */ z.strictObject({
  serverMsgId: /* @__PURE__ */ z.string(),
  conversationId: ConversationId,
  seq: Seq,
  sendTime: /* @__PURE__ */ z.int().check(/* @__PURE__ */ z.describe('Server time of acceptance, ms since the epoch')),
});
export type SendMsgResult = z.infer<typeof SendMsgResult>;

/** Who revoked or deleted a message, and when. */
export const ChangeMark = /* @__PURE__ */ z.strictObject({
  by: /* @__PURE__ */ z.string().check(/* @__PURE__ */ z.describe('A user id, or `@admin` for an admin token')),
  at: /* @__PURE__ */ z.int().check(/* @__PURE__ */ z.describe('ms since the epoch')),
});

/** A message as stored, synced and pushed. */
export const Message = /* @__PURE__ */ z.strictObject({
  serverMsgId: /* @__PURE__ */ z.string(),
  clientMsgId: ClientMsgId,
  conversationId: ConversationId,
  seq: Seq,
  sessionType: /* @__PURE__ */ z.union([/* @__PURE__ */ z.literal(1), /* @__PURE__ */ z.literal(3), /* @__PURE__ */ z.literal(4)]).check(/* @__PURE__ */ z.describe('1 single, 3 group, 4 notification')),
  senderId: /* @__PURE__ */ z.string().check(/* @__PURE__ */ z.describe('User id of the sender, or `system`')),
  senderPlatformId: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.int()),
  recvId: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.string()),
  groupId: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.string()),
  contentType: /* @__PURE__ */ z.int(),
  content: /* @__PURE__ */ z.unknown().check(/* @__PURE__ */ z.describe('null once revoked or deleted')),
  offlinePush: /* @__PURE__ */ z.optional(OfflinePush).check(/* @__PURE__ */ z.describe("The sender's offlinePush, as sent")),
  sendTime: /* @__PURE__ */ z.int(),
  version: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.int().check(/* @__PURE__ */ z.gte(0))).check(/* @__PURE__ */ z.describe('Number of changes (revoke, delete, edit, reaction) applied; absent or 0: as sent')),
  revoked: /* @__PURE__ */ z.optional(ChangeMark).check(/* @__PURE__ */ z.describe('Set when the message was revoked: its content is gone (null)')),
  deleted: /* @__PURE__ */ z.optional(ChangeMark).check(/* @__PURE__ */ z.describe('Set when the message was deleted for everyone: its content is gone (null)')),
  edited: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.strictObject({ at: /* @__PURE__ */ z.int().check(/* @__PURE__ */ z.describe('ms since the epoch')), version: /* @__PURE__ */ z.int().check(/* @__PURE__ */ z.gte(1), /* @__PURE__ */ z.describe('The version the edit produced')) })).check(/* @__PURE__ */ z.describe('Set when the sender edited the content (the last edit)')),
  reactions: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.record(/* @__PURE__ */ z.string(), /* @__PURE__ */ z.array(/* @__PURE__ */ z.string()))).check(/* @__PURE__ */ z.describe('Emoji → the users who reacted with it, in the order they did; absent when nobody reacted')),
});
export type Message = z.infer<typeof Message>;

export const ConversationSeq = /* @__PURE__ */ z.strictObject({
  conversationId: ConversationId,
  maxSeq: /* @__PURE__ */ z.int().check(/* @__PURE__ */ z.gte(0), /* @__PURE__ */ z.describe('Highest allocated seq the user may read')),
  readSeq: /* @__PURE__ */ z.int().check(/* @__PURE__ */ z.gte(0), /* @__PURE__ */ z.describe('Highest seq the user has read')),
  minSeq: /* @__PURE__ */ z.int().check(/* @__PURE__ */ z.gte(0), /* @__PURE__ */ z.describe('Messages at or below this seq are not returned to the user')),
  unread: /* @__PURE__ */ z.int().check(/* @__PURE__ */ z.gte(0), /* @__PURE__ */ z.describe('maxSeq - max(readSeq, minSeq)')),
});

export const GetNewestSeqRequest = /* @__PURE__ */ z.strictObject({
    cursor: /* @__PURE__ */ z.optional(ConversationId).check(/* @__PURE__ */ z.describe('`nextCursor` of the previous page; absent: the first page')),
  }).check(/* @__PURE__ */ z.describe("Every conversation of the user with its newest seq and the user's read position, in conversation id order and in pages cut by size " +
      `(a page's \`conversations\` stay under ${REPLY_PAGE_BYTES / 1024} KB as JSON, inside API Gateway's 128 KB message): ask again with \`cursor\` set to \`nextCursor\` until a page has none.`));
export const GetNewestSeqResult = /* @__PURE__ */ z.strictObject({
  conversations: /* @__PURE__ */ z.array(ConversationSeq),
  nextCursor: /* @__PURE__ */ z.optional(ConversationId).check(/* @__PURE__ */ z.describe('Present when more conversations follow: pass it as `cursor` for the next page')),
  serverTime: /* @__PURE__ */ z.int(),
});

export const MAX_PULL = 100;
export const PullMsgsRequest = /* @__PURE__ */ z.strictObject({
    conversationId: ConversationId,
    fromSeq: Seq,
    toSeq: Seq,
    limit: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.int().check(/* @__PURE__ */ z.gte(1), /* @__PURE__ */ z.lte(MAX_PULL))).check(/* @__PURE__ */ z.describe(`At most this many seqs are covered (default and maximum ${MAX_PULL})`)),
  }).check(
  /* @__PURE__ */ z.refine((r) => r.toSeq >= r.fromSeq, { message: 'toSeq must be >= fromSeq', path: ['toSeq'] }),
  /* @__PURE__ */ z.describe(`Messages of one conversation by seq range, ascending. A reply covers at most \`limit\` seqs and is cut by size: its messages stay under ${REPLY_PAGE_BYTES / 1024} KB as JSON ` +
        "(at least one message per reply), inside API Gateway's 128 KB message; `truncated` says it stopped early. Continue from `toSeq + 1` until the range is covered."),
);
export const PullMsgsResult = /* @__PURE__ */ z.strictObject({
  conversationId: ConversationId,
  fromSeq: /* @__PURE__ */ z.int().check(/* @__PURE__ */ z.describe('First seq covered (raised to minSeq + 1)')),
  toSeq: /* @__PURE__ */ z.int().check(/* @__PURE__ */ z.describe('Last seq covered (lowered to maxSeq, to fromSeq + limit - 1, and where the size cut stopped); continue from toSeq + 1')),
  truncated: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.literal(true)).check(/* @__PURE__ */ z.describe('Set when the size cut stopped the reply before the requested range and limit: more messages follow from toSeq + 1')),
  messages: /* @__PURE__ */ z.array(Message),
  holes: /* @__PURE__ */ z.array(Seq).check(/* @__PURE__ */ z.describe('Seqs in the covered range that will never hold a message (settled holes, expired messages)')),
  pending: /* @__PURE__ */ z.array(Seq).check(/* @__PURE__ */ z.describe('Seqs in the covered range whose message may still appear; ask again later, later messages are not blocked')),
});

export const MarkReadRequest = /* @__PURE__ */ z.strictObject({ conversationId: ConversationId, seq: /* @__PURE__ */ z.int().check(/* @__PURE__ */ z.gte(0)) }).check(/* @__PURE__ */ z.describe('Move the read position forward (never backward).'));
export const MarkReadResult = /* @__PURE__ */ z.strictObject({ conversationId: ConversationId, readSeq: /* @__PURE__ */ z.int(), unread: /* @__PURE__ */ z.int() });

export const MarkDeliveredRequest = /* @__PURE__ */ z.strictObject({ conversationId: ConversationId, seq: /* @__PURE__ */ z.int().check(/* @__PURE__ */ z.gte(0)) }).check(/* @__PURE__ */ z.describe("Acknowledge that this user's device has received the conversation up to `seq` (never backward): the delivery receipt. One write per call, not per message: " +
      'acknowledge once per conversation after a sync and at most every few seconds for pushes. Reading implies delivery (markRead counts as delivered too). ' +
      'In a 1:1 conversation the other user gets a `receipt` event.'));
export const MarkDeliveredResult = /* @__PURE__ */ z.strictObject({ conversationId: ConversationId, deliveredSeq: /* @__PURE__ */ z.int() });

export const MAX_RECEIPT_SEQS = 100;
export const GetReadReceiptsRequest = /* @__PURE__ */ z.strictObject({
    conversationId: ConversationId,
    seqs: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.array(Seq).check(/* @__PURE__ */ z.maxLength(MAX_RECEIPT_SEQS))).check(/* @__PURE__ */ z.describe(`Messages to count receipts for (at most ${MAX_RECEIPT_SEQS}); omit for the peer's positions only`)),
  }).check(/* @__PURE__ */ z.describe("Read and delivery receipts, computed from the members' read and delivered positions (each member's position is one number; nothing is written per message): " +
      'for each seq, how many members (other than its sender, and only those who could see it) have read it, have it delivered, and have not read it. ' +
      'In a 1:1 conversation also the other user\'s readSeq and deliveredSeq. Reads every member position of the conversation once per call.'));
export const Receipt = /* @__PURE__ */ z.strictObject({
  seq: Seq,
  senderId: /* @__PURE__ */ z.nullable(/* @__PURE__ */ z.string()).check(/* @__PURE__ */ z.describe('The sender, or null when the message is not in the offline store')),
  readCount: /* @__PURE__ */ z.int().check(/* @__PURE__ */ z.gte(0), /* @__PURE__ */ z.describe('Members other than the sender whose readSeq >= seq')),
  deliveredCount: /* @__PURE__ */ z.int().check(
    /* @__PURE__ */ z.gte(0),
    /* @__PURE__ */ z.describe('Members other than the sender who have it delivered (deliveredSeq or readSeq >= seq)'),
  ),
  unreadCount: /* @__PURE__ */ z.int().check(
    /* @__PURE__ */ z.gte(0),
    /* @__PURE__ */ z.describe('Members other than the sender who could see it and have not read it'),
  ),
});
export const GetReadReceiptsResult = /* @__PURE__ */ z.strictObject({
  conversationId: ConversationId,
  memberCount: /* @__PURE__ */ z.int().check(/* @__PURE__ */ z.gte(0), /* @__PURE__ */ z.describe('Current members of the conversation')),
  receipts: /* @__PURE__ */ z.array(Receipt),
  peer: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.strictObject({ userId: UserId, readSeq: /* @__PURE__ */ z.int(), deliveredSeq: /* @__PURE__ */ z.int() })).check(/* @__PURE__ */ z.describe('1:1 conversations: the other user\'s positions')),
});

export const GetMessageReadersRequest = /* @__PURE__ */ z.strictObject({
    conversationId: ConversationId,
    seq: Seq,
    status: /* @__PURE__ */ z.enum(['read', 'unread']).check(/* @__PURE__ */ z.describe('read: members (other than the sender) whose readSeq >= seq; unread: those who could see it and have not read it')),
    limit: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.int().check(/* @__PURE__ */ z.gte(1), /* @__PURE__ */ z.lte(500))).check(/* @__PURE__ */ z.describe('Page size (default 100, at most 500)')),
    cursor: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.string().check(/* @__PURE__ */ z.maxLength(2048))).check(/* @__PURE__ */ z.describe('From the previous page')),
  }).check(/* @__PURE__ */ z.describe('Who has read a message, or who has not, paged ("who has read this" in groups).'));
export const GetMessageReadersResult = /* @__PURE__ */ z.strictObject({
  conversationId: ConversationId,
  seq: Seq,
  users: /* @__PURE__ */ z.array(/* @__PURE__ */ z.strictObject({ userId: UserId, readSeq: /* @__PURE__ */ z.int() })),
  cursor: /* @__PURE__ */ z.nullable(/* @__PURE__ */ z.string()).check(/* @__PURE__ */ z.describe('Pass as cursor for the next page; null at the end')),
});

export const MAX_REACTION_EMOJI = 50;
export const Emoji = /* @__PURE__ */ z.string().check(
  /* @__PURE__ */ z.minLength(1),
  /* @__PURE__ */ z.maxLength(32),
  /* @__PURE__ */ z.regex(/^[^\p{Cc}\s]+$/u, 'no spaces or control characters'),
  /* @__PURE__ */ z.describe('An emoji ("👍") or a short code (":party:"), 1-32 characters'),
);
export const ReactMsgRequest = /* @__PURE__ */ z.strictObject({ conversationId: ConversationId, seq: Seq, emoji: Emoji, reacted: /* @__PURE__ */ z.boolean().check(/* @__PURE__ */ z.describe('true: add your reaction; false: remove it')) }).check(/* @__PURE__ */ z.describe(`Add or remove your reaction to a message. Idempotent: adding a reaction you have (or removing one you do not) changes nothing and sends nothing. ` +
      `A change updates the message's \`reactions\` and puts a \`messageReactionChanged\` notification (2104) into the conversation. ` +
      `At most ${MAX_REACTION_EMOJI} different emoji per message (TOO_MANY_REACTIONS); MESSAGE_NOT_EDITABLE for revoked or deleted messages and notifications.`));

export const MAX_DELETE_FOR_ME = 100;
export const MAX_DELETED_PER_CONVERSATION = 1000;
export const DeleteMsgsForMeRequest = /* @__PURE__ */ z.strictObject({ conversationId: ConversationId, seqs: /* @__PURE__ */ z.array(Seq).check(
    /* @__PURE__ */ z.minLength(1),
    /* @__PURE__ */ z.maxLength(MAX_DELETE_FOR_ME),
    /* @__PURE__ */ z.describe(`At most ${MAX_DELETE_FOR_ME} per call`),
  ) }).check(/* @__PURE__ */ z.describe('Delete messages for yourself only: they stop being returned to you (pullMsgs lists them in `holes`; history, search and the conversation list leave them out) and stay for everyone else. ' +
      `A \`messagesDeletedForMe\` notification (2105) in your notification conversation tells your other devices. At most ${MAX_DELETED_PER_CONVERSATION} per conversation (TOO_MANY_DELETED): clear the conversation for more.`));
export const DeleteMsgsForMeResult = /* @__PURE__ */ z.strictObject({ conversationId: ConversationId, deletedSeqs: /* @__PURE__ */ z.array(Seq).check(/* @__PURE__ */ z.describe('Every seq of the conversation you deleted for yourself, ascending')) });

export const HeartbeatRequest = /* @__PURE__ */ z.strictObject({}).check(/* @__PURE__ */ z.describe('Keeps the connection from the 10-minute idle timeout. Answered by API Gateway itself, with no function (a MOCK integration): the reply is ' +
      '`{"id": null, "action": "heartbeat", "data": {"serverTime": …}}`. Its `id` is always null, since API Gateway cannot echo the request\'s: ' +
      'take it as the answer to your oldest heartbeat still waiting (the SDK does). The frame is not read, so any frame whose `action` is ' +
      '`heartbeat` gets this reply, whatever else it holds.'));
export const HeartbeatResult = /* @__PURE__ */ z.strictObject({ serverTime: /* @__PURE__ */ z.int().check(/* @__PURE__ */ z.describe('When API Gateway received the heartbeat, in milliseconds since the epoch')) });

export const TypingRequest = /* @__PURE__ */ z.strictObject({
    recvId: /* @__PURE__ */ UserId.check(/* @__PURE__ */ z.describe('The other user of the 1:1 conversation')),
    typing: /* @__PURE__ */ z.boolean().check(/* @__PURE__ */ z.describe('true: started typing; false: stopped')),
  }).check(/* @__PURE__ */ z.describe("Tell the other user of a 1:1 conversation that you started or stopped typing. Pushed to their live connections as a `typing` event, never stored. USER_NOT_FOUND when they are not registered, BLOCKED when they blocked you. THROTTLED with `retryAfterMs` when the connection sends them faster than the deployment allows (`limits.typing`: 1 a second, burst 5, by default). Send it at most every few seconds while typing; clients should treat a `typing: true` as expired after about 10 seconds without another."));
export const TypingResult = /* @__PURE__ */ z.strictObject({ delivered: /* @__PURE__ */ z.int().check(/* @__PURE__ */ z.gte(0), /* @__PURE__ */ z.describe("Connections of the recipient reached (0: not online)")) });

export const RevokeMsgRequest = /* @__PURE__ */ z.strictObject({ conversationId: ConversationId, seq: Seq }).check(/* @__PURE__ */ z.describe('Revoke a message for everyone: its content is replaced by a marker (`revoked: {by, at}`, content null; seq, serverMsgId, sender and sendTime stay), and a `messageRevoked` notification (2101) goes into the same conversation. ' +
      'The sender may revoke within the revoke window (REVOKE_WINDOW_SECONDS, default 120; REVOKE_WINDOW_PASSED after it); in a group the owner may revoke any message and an admin those of ordinary members; others get FORBIDDEN. ' +
      'Revoking a revoked (or deleted) message returns it unchanged. MESSAGE_NOT_FOUND when there is no message at that seq.'));
export const DeleteMsgRequest = /* @__PURE__ */ z.strictObject({ conversationId: ConversationId, seq: Seq }).check(/* @__PURE__ */ z.describe('Delete a message for everyone (the sender, at any time; over HTTP also an admin token): like revokeMsg, the content is replaced by a marker (`deleted: {by, at}`) and a `messageDeleted` notification (2102) goes into the conversation. Deleting again returns it unchanged. ' +
      'To delete messages for yourself only, use deleteMsgsForMe.'));
export const EditMsgRequest = /* @__PURE__ */ z.strictObject({
    conversationId: ConversationId,
    seq: Seq,
    contentType: /* @__PURE__ */ SendableContentType.check(/* @__PURE__ */ z.describe('The same content type as the message, or, for text (101), mention (106) and markdown (118), another of these three')),
    content: /* @__PURE__ */ z.unknown().check(/* @__PURE__ */ z.describe(`Validated as in sendMsg; at most ${MAX_CONTENT_BYTES} bytes as JSON`)),
  }).check(/* @__PURE__ */ z.describe('Edit the content of your own message (the sender only; no time limit): the content is replaced, `edited: {at, version}` is set, and a `messageEdited` notification (2103) goes into the conversation; devices pull the seq for the new content. ' +
      'The history keeps the replaced content. MESSAGE_NOT_EDITABLE for revoked or deleted messages.'));
export const ChangedMsgResult = /* @__PURE__ */ Message.check(/* @__PURE__ */ z.describe('The message as now stored (the marker)'));

export const actions = {
  sendMsg: { request: SendMsgRequest, result: SendMsgResult },
  getNewestSeq: { request: GetNewestSeqRequest, result: GetNewestSeqResult },
  pullMsgs: { request: PullMsgsRequest, result: PullMsgsResult },
  markRead: { request: MarkReadRequest, result: MarkReadResult },
  heartbeat: { request: HeartbeatRequest, result: HeartbeatResult },
  typing: { request: TypingRequest, result: TypingResult },
  revokeMsg: { request: RevokeMsgRequest, result: ChangedMsgResult },
  deleteMsg: { request: DeleteMsgRequest, result: ChangedMsgResult },
  editMsg: { request: EditMsgRequest, result: /* @__PURE__ */ ChangedMsgResult.check(/* @__PURE__ */ z.describe('The message as now stored')) },
  markDelivered: { request: MarkDeliveredRequest, result: MarkDeliveredResult },
  getReadReceipts: { request: GetReadReceiptsRequest, result: GetReadReceiptsResult },
  getMessageReaders: { request: GetMessageReadersRequest, result: GetMessageReadersResult },
  reactMsg: { request: ReactMsgRequest, result: /* @__PURE__ */ ChangedMsgResult.check(/* @__PURE__ */ z.describe('The message as now stored, with its reactions')) },
  deleteMsgsForMe: { request: DeleteMsgsForMeRequest, result: DeleteMsgsForMeResult },
  registerPushDevice: { request: RegisterPushDeviceRequest, result: RegisterPushDeviceResult },
  unregisterPushDevice: { request: UnregisterPushDeviceRequest, result: UnregisterPushDeviceResult },
  setAppBackground: { request: SetAppBackgroundRequest, result: SetAppBackgroundResult },
} as const;
export type ActionName = keyof typeof actions;
export type ActionRequest<A extends ActionName> = z.infer<(typeof actions)[A]['request']>;
export type ActionResult<A extends ActionName> = z.infer<(typeof actions)[A]['result']>;

/**
 * Each action's request schema alone: what the WebSocket route validates (core/runtime/ws.ts).
 * A bundle that only validates requests leaves the result schemas out (they document the
 * replies and build the SDK's types; the server does not parse its own replies).
 */
export const actionRequests: { readonly [A in ActionName]: (typeof actions)[A]['request'] } = {
  sendMsg: SendMsgRequest,
  getNewestSeq: GetNewestSeqRequest,
  pullMsgs: PullMsgsRequest,
  markRead: MarkReadRequest,
  heartbeat: HeartbeatRequest,
  typing: TypingRequest,
  revokeMsg: RevokeMsgRequest,
  deleteMsg: DeleteMsgRequest,
  editMsg: EditMsgRequest,
  markDelivered: MarkDeliveredRequest,
  getReadReceipts: GetReadReceiptsRequest,
  getMessageReaders: GetMessageReadersRequest,
  reactMsg: ReactMsgRequest,
  deleteMsgsForMe: DeleteMsgsForMeRequest,
  registerPushDevice: RegisterPushDeviceRequest,
  unregisterPushDevice: UnregisterPushDeviceRequest,
  setAppBackground: SetAppBackgroundRequest,
};

/** Client → server. */
export const RequestFrame = /* @__PURE__ */ z.strictObject({
  id: /* @__PURE__ */ z.string().check(
    /* @__PURE__ */ z.minLength(1),
    /* @__PURE__ */ z.maxLength(64),
    /* @__PURE__ */ z.describe('Chosen by the client; echoed in the reply'),
  ),
  action: /* @__PURE__ */ z.string().check(/* @__PURE__ */ z.describe('One of the actions')),
  data: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.unknown()),
});

export const WireErrorSchema = /* @__PURE__ */ z.strictObject({
  code: /* @__PURE__ */ z.int(),
  reason: /* @__PURE__ */ z.string(),
  message: /* @__PURE__ */ z.string(),
  retryable: /* @__PURE__ */ z.boolean(),
  appCode: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.int()).check(/* @__PURE__ */ z.describe("REFUSED_BY_APP only: the app backend's own refusal code (10000–19999)")),
  retryAfterMs: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.int()).check(/* @__PURE__ */ z.describe('THROTTLED by a limit (sending too fast, a group\'s slow mode): milliseconds until a retry can succeed')),
});

/** Server → client, answering a request. */
export const ReplyFrame = /* @__PURE__ */ z.union([
  /* @__PURE__ */ z.strictObject({ id: /* @__PURE__ */ z.nullable(/* @__PURE__ */ z.string()), action: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.string()), data: /* @__PURE__ */ z.unknown() }),
  /* @__PURE__ */ z.strictObject({ id: /* @__PURE__ */ z.nullable(/* @__PURE__ */ z.string()), action: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.string()), error: WireErrorSchema }),
]);

/** Server → client, unsolicited: a new message (stored; sync is the source of truth). */
export const PushFrame = /* @__PURE__ */ z.strictObject({
  push: /* @__PURE__ */ z.literal('newMsg'),
  data: Message,
  silent: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.literal(true)).check(/* @__PURE__ */ z.describe('The user receives this conversation silently (recvOpt 2): show it, do not alert')),
});
export type PushFrame = z.infer<typeof PushFrame>;

/**
 * Server → client, unsolicited: the user's own state changed on another device. Not
 * stored: a device that missed it reads the state (conversation list, profile) on reconnect.
 */
export const EventFrame = /* @__PURE__ */ z.discriminatedUnion('push', [
  /* @__PURE__ */ z.strictObject({
    push: /* @__PURE__ */ z.literal('conversationChanged'),
    data: /* @__PURE__ */ z.strictObject({ conversationId: ConversationId, changes: /* @__PURE__ */ z.record(/* @__PURE__ */ z.string(), /* @__PURE__ */ z.unknown()).check(/* @__PURE__ */ z.describe('pinned, recvOpt, hidden, minSeq')) }),
  }),
  /* @__PURE__ */ z.strictObject({
    push: /* @__PURE__ */ z.literal('userInfoUpdated'),
    data: /* @__PURE__ */ z.strictObject({ userId: UserId, changes: /* @__PURE__ */ z.record(/* @__PURE__ */ z.string(), /* @__PURE__ */ z.unknown()) }),
  }),
  /* @__PURE__ */ z.strictObject({
    push: /* @__PURE__ */ z.literal('typing'),
    data: /* @__PURE__ */ z.strictObject({ conversationId: ConversationId, userId: /* @__PURE__ */ UserId.check(/* @__PURE__ */ z.describe('Who is typing')), typing: /* @__PURE__ */ z.boolean().check(/* @__PURE__ */ z.describe('false: stopped')) }),
  }).check(/* @__PURE__ */ z.describe('The other user of a 1:1 conversation started or stopped typing (see the `typing` action)')),
  /* @__PURE__ */ z.strictObject({
    push: /* @__PURE__ */ z.literal('receipt'),
    data: /* @__PURE__ */ z.strictObject({
      conversationId: ConversationId,
      userId: /* @__PURE__ */ UserId.check(/* @__PURE__ */ z.describe('Whose position moved: the other user of the 1:1 conversation, or yourself on another device')),
      readSeq: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.int()).check(/* @__PURE__ */ z.describe('Their new read position')),
      deliveredSeq: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.int()).check(/* @__PURE__ */ z.describe('Their new delivered position')),
    }),
  }).check(/* @__PURE__ */ z.describe('A read or delivery position moved: sent to the other user of a 1:1 conversation and to your own other devices (group receipts: ask with getReadReceipts)')),
  /* @__PURE__ */ z.strictObject({
    push: /* @__PURE__ */ z.literal('kicked'),
    data: /* @__PURE__ */ z.strictObject({
      reason: /* @__PURE__ */ z.enum(['loggedInElsewhere', 'forcedLogout', 'banned']).check(/* @__PURE__ */ z.describe('loggedInElsewhere: a new connection of the user took its place under the multi-login policy; forcedLogout: an admin ended the session; banned: an admin banned the user')),
      platformId: /* @__PURE__ */ z.optional(PlatformId).check(/* @__PURE__ */ z.describe('The platform of the new connection (loggedInElsewhere)')),
    }),
  }).check(/* @__PURE__ */ z.describe('The server is about to close this connection, and its token is revoked: do not reconnect with it (the upgrade is refused with 401)')),
  /* @__PURE__ */ z.strictObject({
    push: /* @__PURE__ */ z.literal('businessNotification'),
    data: /* @__PURE__ */ z.strictObject({
      key: /* @__PURE__ */ z.string().check(/* @__PURE__ */ z.describe("The app's own kind of notification")),
      data: /* @__PURE__ */ z.string().check(/* @__PURE__ */ z.describe("The app's own payload, usually JSON")),
      sendTime: /* @__PURE__ */ z.int().check(/* @__PURE__ */ z.describe('When it was sent (ms since the epoch)')),
    }),
  }).check(/* @__PURE__ */ z.describe("An app backend's business notification (POST /notifications/business; OpenIM's 2001), live only: a reliable one is also stored in the user's notification conversation as content type 2001")),
]);
export type EventFrame = z.infer<typeof EventFrame>;
