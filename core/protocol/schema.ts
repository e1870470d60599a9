/**
 * The WebSocket protocol, in one place. The server validates with these schemas, the
 * tests and SDK build frames from them, and `docs/protocol.md` is generated from them
 * (`npm run docs`).
 */
import * as z from 'zod';
import { SessionType } from './constants';

export { SessionType };

/** User and group ids: no `_`, which separates the parts of conversation ids. */
export const idPattern = /^[A-Za-z0-9][A-Za-z0-9.@-]{0,63}$/;
export const UserId = z.string().regex(idPattern, 'letters, digits, ".", "@" or "-", 1-64 characters, not starting with a symbol').describe('User id');
export const GroupId = z.string().regex(idPattern, 'letters, digits, ".", "@" or "-", 1-64 characters, not starting with a symbol').describe('Group id');
export const ConversationId = z
  .string()
  .regex(/^(si_[A-Za-z0-9.@-]+_[A-Za-z0-9.@-]+|sg_[A-Za-z0-9.@-]+|n_[A-Za-z0-9.@-]+)$/, 'si_<a>_<b>, sg_<groupId> or n_<userId>')
  .describe('Conversation id: `si_<a>_<b>` (1:1, ids sorted), `sg_<groupId>` (group) or `n_<userId>` (notifications)');
export const Seq = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).describe('Position of a message in its conversation, from 1');
export const ClientMsgId = z.string().min(1).max(64).describe('Chosen by the sender; resending the same id returns the first ack');

/** Serialized content may not exceed this many bytes (UTF-8 JSON), well inside the 32 KB frame. */
export const MAX_CONTENT_BYTES = 16 * 1024;

export const PLATFORMS = { 1: 'iOS', 2: 'Android', 3: 'Windows', 4: 'macOS', 5: 'Web', 6: 'MiniWeb', 7: 'Linux', 8: 'AndroidPad', 9: 'iPad', 10: 'Admin', 11: 'HarmonyOS' } as const;
export const PlatformId = z.number().int().min(1).max(11).describe('1 iOS, 2 Android, 3 Windows, 4 macOS, 5 Web, 6 MiniWeb, 7 Linux, 8 AndroidPad, 9 iPad, 10 Admin, 11 HarmonyOS');

export const ContentType = { text: 101, custom: 110 } as const;

export const TextContent = z.strictObject({ text: z.string().min(1).describe('The text') });
export const CustomContent = z.strictObject({
  data: z.string().describe('App-defined payload, usually JSON'),
  description: z.string().max(1024).optional(),
  extension: z.string().max(1024).optional(),
});

/** Content, discriminated by contentType. New types add a branch here. */
export const MessageBody = z.discriminatedUnion('contentType', [
  z.strictObject({ contentType: z.literal(ContentType.text).describe('101 text'), content: TextContent }),
  z.strictObject({ contentType: z.literal(ContentType.custom).describe('110 custom'), content: CustomContent }),
]);
export type MessageBody = z.infer<typeof MessageBody>;

export const SendMsgRequest = z
  .strictObject({
    clientMsgId: ClientMsgId,
    recvId: UserId.optional().describe('Recipient of a 1:1 message (exactly one of recvId, groupId)'),
    groupId: GroupId.optional().describe('Group of a group message (exactly one of recvId, groupId)'),
    contentType: z.union([z.literal(ContentType.text), z.literal(ContentType.custom)]).describe('101 text, 110 custom'),
    content: z.unknown().describe('Shape depends on contentType'),
  })
  .describe('Send a message to a user or a group.');
export type SendMsgRequest = z.infer<typeof SendMsgRequest>;

export const SendMsgResult = z.strictObject({
  serverMsgId: z.string(),
  conversationId: ConversationId,
  seq: Seq,
  sendTime: z.number().int().describe('Server time of acceptance, ms since the epoch'),
});
export type SendMsgResult = z.infer<typeof SendMsgResult>;

/** A message as stored, synced and pushed. */
export const Message = z.strictObject({
  serverMsgId: z.string(),
  clientMsgId: ClientMsgId,
  conversationId: ConversationId,
  seq: Seq,
  sessionType: z.union([z.literal(1), z.literal(3), z.literal(4)]).describe('1 single, 3 group, 4 notification'),
  senderId: z.string().describe('User id of the sender, or `system`'),
  senderPlatformId: z.number().int().optional(),
  recvId: z.string().optional(),
  groupId: z.string().optional(),
  contentType: z.number().int(),
  content: z.unknown(),
  sendTime: z.number().int(),
});
export type Message = z.infer<typeof Message>;

export const ConversationSeq = z.strictObject({
  conversationId: ConversationId,
  maxSeq: z.number().int().min(0).describe('Highest allocated seq the user may read'),
  readSeq: z.number().int().min(0).describe('Highest seq the user has read'),
  minSeq: z.number().int().min(0).describe('Messages at or below this seq are not returned to the user'),
  unread: z.number().int().min(0).describe('maxSeq - max(readSeq, minSeq)'),
});

export const GetNewestSeqRequest = z.strictObject({}).describe("Every conversation of the user with its newest seq and the user's read position.");
export const GetNewestSeqResult = z.strictObject({
  conversations: z.array(ConversationSeq),
  serverTime: z.number().int(),
});

export const MAX_PULL = 100;
export const PullMsgsRequest = z
  .strictObject({
    conversationId: ConversationId,
    fromSeq: Seq,
    toSeq: Seq,
    limit: z.number().int().min(1).max(MAX_PULL).optional().describe(`At most this many seqs are covered (default and maximum ${MAX_PULL})`),
  })
  .refine((r) => r.toSeq >= r.fromSeq, { message: 'toSeq must be >= fromSeq', path: ['toSeq'] })
  .describe('Messages of one conversation by seq range, ascending.');
export const PullMsgsResult = z.strictObject({
  conversationId: ConversationId,
  fromSeq: z.number().int().describe('First seq covered (raised to minSeq + 1)'),
  toSeq: z.number().int().describe('Last seq covered (lowered to maxSeq and to fromSeq + limit - 1); continue from toSeq + 1'),
  messages: z.array(Message),
  holes: z.array(Seq).describe('Seqs in the covered range that will never hold a message (settled holes, expired messages)'),
  pending: z.array(Seq).describe('Seqs in the covered range whose message may still appear; ask again later, later messages are not blocked'),
});

export const MarkReadRequest = z.strictObject({ conversationId: ConversationId, seq: z.number().int().min(0) }).describe('Move the read position forward (never backward).');
export const MarkReadResult = z.strictObject({ conversationId: ConversationId, readSeq: z.number().int(), unread: z.number().int() });

export const HeartbeatRequest = z.strictObject({}).describe('Keeps the connection from the 10-minute idle timeout.');
export const HeartbeatResult = z.strictObject({ serverTime: z.number().int() });

export const actions = {
  sendMsg: { request: SendMsgRequest, result: SendMsgResult },
  getNewestSeq: { request: GetNewestSeqRequest, result: GetNewestSeqResult },
  pullMsgs: { request: PullMsgsRequest, result: PullMsgsResult },
  markRead: { request: MarkReadRequest, result: MarkReadResult },
  heartbeat: { request: HeartbeatRequest, result: HeartbeatResult },
} as const;
export type ActionName = keyof typeof actions;
export type ActionRequest<A extends ActionName> = z.infer<(typeof actions)[A]['request']>;
export type ActionResult<A extends ActionName> = z.infer<(typeof actions)[A]['result']>;

/** Client → server. */
export const RequestFrame = z.strictObject({
  id: z.string().min(1).max(64).describe('Chosen by the client; echoed in the reply'),
  action: z.string().describe('One of the actions'),
  data: z.unknown().optional(),
});

export const WireErrorSchema = z.strictObject({
  code: z.number().int(),
  reason: z.string(),
  message: z.string(),
  retryable: z.boolean(),
});

/** Server → client, answering a request. */
export const ReplyFrame = z.union([
  z.strictObject({ id: z.string().nullable(), action: z.string().optional(), data: z.unknown() }),
  z.strictObject({ id: z.string().nullable(), action: z.string().optional(), error: WireErrorSchema }),
]);

/** Server → client, unsolicited: a new message (stored; sync is the source of truth). */
export const PushFrame = z.strictObject({
  push: z.literal('newMsg'),
  data: Message,
  silent: z.literal(true).optional().describe('The user receives this conversation silently (recvOpt 2): show it, do not alert'),
});
export type PushFrame = z.infer<typeof PushFrame>;

/**
 * Server → client, unsolicited: the user's own state changed on another device. Not
 * stored: a device that missed it reads the state (conversation list, profile) on reconnect.
 */
export const EventFrame = z.discriminatedUnion('push', [
  z.strictObject({
    push: z.literal('conversationChanged'),
    data: z.strictObject({ conversationId: ConversationId, changes: z.record(z.string(), z.unknown()).describe('pinned, recvOpt, hidden, minSeq') }),
  }),
  z.strictObject({
    push: z.literal('userInfoUpdated'),
    data: z.strictObject({ userId: UserId, changes: z.record(z.string(), z.unknown()) }),
  }),
]);
export type EventFrame = z.infer<typeof EventFrame>;
