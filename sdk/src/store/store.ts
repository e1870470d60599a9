/**
 * The local store: what a device keeps so the app reads conversations and messages offline
 * and sync pulls only what is missing. One interface, two adapters: IndexedDB in browsers
 * (`IndexedDbStore`), memory elsewhere (`MemoryStore`); `test/sdk/store.test.ts` runs one
 * contract suite against both.
 */
import type { Message } from '../protocol';

/** A conversation as the device knows it. */
export interface StoredConversation {
  conversationId: string;
  /** Newest seq the user may see, as last learned (getNewestSeq, a push, or a pull). */
  maxSeq: number;
  /** The user's read position. */
  readSeq: number;
  /** Seqs at or below are hidden from the user (cleared, or before they joined). */
  minSeq: number;
  /**
   * Every seq up to this one is stored, a settled hole, or listed in `pendingSeqs`: sync
   * pulls from `syncedSeq + 1`. Only pulls move it; pushes above it are stored but leave it.
   */
  syncedSeq: number;
  /** Seqs the server reported as pending (the message may still appear); asked again later. */
  pendingSeqs: number[];
  /** `maxSeq - max(readSeq, minSeq)`. */
  unread: number;
  lastMessage?: Message;
  draft?: { text: string; updatedAt: number };
  /** Settings from the conversation list of the HTTP API or `conversationChanged` events. */
  pinned?: boolean;
  recvOpt?: number;
  hidden?: boolean;
  /** End-to-end encrypted (MLS): from the conversation list, or since a stored MLS message (content type 150-152). */
  encrypted?: boolean;
}

export type SendStatus = 'sending' | 'sent' | 'failed';

/** A message this device is sending (or failed to send): shown at once, before the server gives it a seq. */
export interface OutgoingMessage {
  clientMsgId: string;
  conversationId: string;
  senderId: string;
  recvId?: string;
  groupId?: string;
  contentType: number;
  content: unknown;
  status: 'sending' | 'failed';
  /** ms since the epoch, when the app asked to send it. */
  createdAt: number;
  /** Why the last attempt failed. */
  error?: { reason: string; message: string };
  /**
   * Set before the first attempt: the newest seq the device then knew of the conversation.
   * An attempted message may have been stored without its ack arriving, so before it is
   * sent again the conversation is pulled from above this seq to look for it.
   */
  attempted?: { afterSeq: number };
}

/** A message as the app shows it: a stored one (sent) or one on its way. */
export type LocalMessage = (Message & { status: 'sent' }) | OutgoingMessage;

export interface MessageRange {
  /** Only seqs below this one. */
  beforeSeq?: number;
  /** Only seqs above this one. */
  afterSeq?: number;
  /** The newest this many of the range (default 50). */
  limit?: number;
}

export interface LocalStore {
  getConversation(conversationId: string): Promise<StoredConversation | undefined>;
  /** Every conversation, in no particular order. */
  listConversations(): Promise<StoredConversation[]>;
  putConversation(conversation: StoredConversation): Promise<void>;
  /**
   * Stores messages by `(conversationId, seq)`. A message replaces a stored one only when its
   * `version` is higher (a revoke, delete or edit), so duplicates from pushes racing sync
   * change nothing. Resolves with the messages actually written, in the order given.
   */
  putMessages(messages: readonly Message[]): Promise<Message[]>;
  getMessage(conversationId: string, seq: number): Promise<Message | undefined>;
  /** Removes messages (deleted for the user on another device). */
  deleteMessages(conversationId: string, seqs: readonly number[]): Promise<void>;
  /** Messages of a conversation in a seq range, ascending: the newest `limit` of the range. */
  listMessages(conversationId: string, range?: MessageRange): Promise<Message[]>;
  putOutgoing(message: OutgoingMessage): Promise<void>;
  deleteOutgoing(clientMsgId: string): Promise<void>;
  /** Outgoing messages, oldest first; of one conversation when given. */
  listOutgoing(conversationId?: string): Promise<OutgoingMessage[]>;
  /** Removes everything (e.g. on logout). */
  clear(): Promise<void>;
  close(): Promise<void>;
}

/** Whether `incoming` should replace `stored` (absent, or a newer version of the same seq). */
export function replaces(incoming: Message, stored: Message | undefined): boolean {
  return stored === undefined || (incoming.version ?? 0) > (stored.version ?? 0);
}

export function byCreatedAt(a: OutgoingMessage, b: OutgoingMessage): number {
  return a.createdAt - b.createdAt || (a.clientMsgId < b.clientMsgId ? -1 : a.clientMsgId > b.clientMsgId ? 1 : 0);
}
