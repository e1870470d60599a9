/**
 * `CirrusClient`: what an app holds. It owns one connection, the local store, sync, the
 * outbox and the HTTP API, and turns what they report into typed listeners named after
 * OpenIM's (`connectSuccess`, `recvNewMessage`, `totalUnreadMessageCountChanged`, …).
 */
import type { BackoffOptions } from './backoff';
import { defaultBackoff } from './backoff';
import { Connection, type ConnectingReason, type DisconnectReason, type KickedEvent, type StateChangeEvent, type WebSocketConstructor } from './connection';
import { Emitter } from './emitter';
import { CirrusSdkError } from './errors';
import { createUserApi, HttpClient, type FetchLike } from './http/client';
import type { UserApi } from './http/routes.gen';
import type { ApiInput, ApiOutput } from './http/types';
import { Media } from './media';
import { Outbox, type MessageStatusEvent, type SendInput } from './outbox';
import { notificationEvents, type FriendEvents, type GroupEvents, type NotificationEvent } from './notifications';
import { ContentType, NotificationType, type ActionName, type ActionRequest, type ActionResult, type Message, type MessageBody } from './protocol';
import { IndexedDbStore } from './store/indexeddb';
import { MemoryStore } from './store/memory';
import type { LocalMessage, LocalStore, MessageRange, StoredConversation } from './store/store';
import { newestSeqs, SyncEngine, type SyncProgressEvent } from './sync';
import { realTimers, type Timers } from './timers';
import { readToken } from './token';

/** Whether the app is on screen (`active`) or not (`background`): in the background the user gets offline pushes. */
export type AppState = 'active' | 'background';

/** A device to register for offline push (see `registerPushDevice`). */
export type PushDeviceRegistration = ActionRequest<'registerPushDevice'>;

export interface CirrusClientOptions {
  /** The WebSocket URL: locally `ws://localhost:8080/ws`, on AWS the stack's `WebSocketUrl`. */
  wsUrl: string;
  /**
   * The HTTP API URL: locally `http://localhost:8080/api`, on AWS the stack's `HttpApiUrl`.
   * Needed for `client.api`, `client.media`, and to tell a revoked token from a network failure in browsers.
   */
  apiUrl?: string;
  /** A user token from the app backend (`POST /auth/user-token`); it names the user and platform. */
  token: string;
  /** Called for a new token when the current one expired or is about to; return undefined if there is none. */
  refreshToken?: (context: { reason: 'expired' | 'expiring' }) => Promise<string | undefined>;
  /**
   * Where the device keeps conversations and messages: a `LocalStore`, or `'indexeddb'` / `'memory'`.
   * @default 'indexeddb' where IndexedDB exists, else 'memory'
   */
  store?: LocalStore | 'indexeddb' | 'memory';
  /** @default globalThis.WebSocket (pass the `ws` package's export in Node < 22) */
  WebSocket?: WebSocketConstructor;
  /** @default globalThis.fetch */
  fetch?: FetchLike;
  /** @default real time */
  timers?: Timers;
  /** @default Math.random */
  random?: () => number;
  /** Reconnect and resend backoff. @default { minDelayMs: 500, maxDelayMs: 20000 } */
  backoff?: BackoffOptions;
  /** @default 240000 (4 minutes; API Gateway closes idle connections after 10) */
  heartbeatIntervalMs?: number;
  /** @default 6600000 (110 minutes; API Gateway closes connections after 2 hours) */
  rotateAfterMs?: number;
  /** @default 15000 */
  requestTimeoutMs?: number;
  /** Delay before pending seqs are asked again. @default 5000 */
  pendingRetryMs?: number;
  /**
   * A send refused with THROTTLED (too fast for the deployment's limits, or a group's slow mode)
   * is sent again by itself after the server's `retryAfterMs` when that is at most this long
   * (`messageStatusChanged` reports it still `sending`, with the error and `retryAt`); a longer
   * wait, or 0, marks it `failed` with the error, whose `retryAfterMs` says when
   * `resendMessage` can succeed.
   * @default 60000
   */
  maxThrottleWaitMs?: number;
}

/** Connection listeners (OpenIM's `OnConnListener`). */
export interface ConnectionEvents {
  connecting: { reason: ConnectingReason; attempt: number; delayMs: number };
  connectSuccess: { connectedAt: number };
  connectFailed: { attempt: number; error: string };
  /** Every state transition, with its reason. */
  connectionStateChanged: StateChangeEvent;
  disconnected: { reason: DisconnectReason };
  /** Logged in elsewhere, or forced logout: the token is revoked; sign in again. */
  kickedOffline: KickedEvent;
  /** The token expired and `refreshToken` gave no new one. */
  userTokenExpired: Record<string, never>;
  /** The token was revoked or is not valid here. */
  userTokenInvalid: { reason: 'revoked' | 'invalid' };
}

/** Sync listeners. */
export interface SyncEvents {
  syncServerStart: { reason: 'connected' | 'rotated' | 'requested' };
  syncServerProgress: SyncProgressEvent;
  syncServerFinish: { conversations: number; messages: number; pendingSeqs: number };
  syncServerFailed: { error: CirrusSdkError };
}

/** Conversation listeners (OpenIM's `OnConversationListener`). */
export interface ConversationEvents {
  newConversation: { conversation: StoredConversation };
  conversationChanged: { conversation: StoredConversation };
  totalUnreadMessageCountChanged: { total: number };
}

/** Message listeners (OpenIM's `OnAdvancedMsgListener`). */
export interface MessageEvents {
  /** A message new to this device (pushed or synced), sent by someone else or by another device of the user. */
  recvNewMessage: { message: Message; source: 'push' | 'sync' };
  /** A message of this device went sending → sent, or → failed. */
  messageStatusChanged: MessageStatusEvent;
  /** A message was revoked: `message` is the marker (content null, `revoked` set). */
  newRecvMessageRevoked: { message: Message; notification: NotificationEvent<'messageRevoked'> };
  /** A message was deleted for everyone: `message` is the marker. */
  recvMessageDeleted: { message: Message; notification: NotificationEvent<'messageDeleted'> };
  /**
   * A message's content was edited (Cirrus's counterpart of OpenIM's
   * `onRecvMessageExtensionsChanged`: the one change to a sent message besides revoke and delete).
   */
  recvMessageEdited: { message: Message; notification: NotificationEvent<'messageEdited'> };
  /** Someone added or removed a reaction: `message` carries the new `reactions`, the notification the counts. */
  recvMessageReactionChanged: { message: Message; notification: NotificationEvent<'messageReactionChanged'> };
  /** Messages were deleted for the signed-in user on another device; they are gone from the local store. */
  messagesDeletedForMe: { conversationId: string; seqs: number[] };
  /**
   * A read or delivery position moved: the other user's in a 1:1 conversation, or your own on
   * another device. In groups ask `getReadReceipts` when showing receipts.
   */
  readReceiptChanged: { conversationId: string; userId: string; readSeq?: number; deliveredSeq?: number };
  /** The other user of a 1:1 conversation started or stopped typing. */
  typingStatusChanged: { conversationId: string; userId: string; typing: boolean };
  /**
   * The app backend's business notification (OpenIM's `OnRecvCustomBusinessMessage`): live
   * while connected; a reliable one missed while offline comes on the next sync.
   */
  businessNotification: { key: string; data: string; sendTime: number };
}

/** User listeners (OpenIM's `OnUserListener`). */
export interface UserEvents {
  /** The user's own profile changed (on another device or by the app backend). */
  selfInfoUpdated: { userId: string; changes: Record<string, unknown> };
}

export type CirrusEvents = ConnectionEvents & SyncEvents & ConversationEvents & MessageEvents & FriendEvents & GroupEvents & UserEvents;

const changeEvents = {
  [NotificationType.messageRevoked]: 'newRecvMessageRevoked',
  [NotificationType.messageDeleted]: 'recvMessageDeleted',
  [NotificationType.messageEdited]: 'recvMessageEdited',
  [NotificationType.messageReactionChanged]: 'recvMessageReactionChanged',
} as const;

const changeTypeNames = {
  newRecvMessageRevoked: 'messageRevoked',
  recvMessageDeleted: 'messageDeleted',
  recvMessageEdited: 'messageEdited',
  recvMessageReactionChanged: 'messageReactionChanged',
} as const;

/**
 * A Cirrus IM client: connection, sync, local store, sending, and the HTTP API.
 *
 * @example
 * const client = await CirrusClient.create({ wsUrl, apiUrl, token });
 * client.on('recvNewMessage', ({ message }) => console.log(message.content));
 * await client.connect();
 */
export class CirrusClient extends Emitter<CirrusEvents> {
  /** The signed-in user, read from the token. */
  readonly userId: string;
  /** The platform the token was issued for. */
  readonly platformId: number;
  readonly store: LocalStore;
  private readonly connection: Connection;
  private readonly engine: SyncEngine;
  private readonly outbox: Outbox;
  private readonly http?: HttpClient;
  private apiValue?: UserApi;
  private mediaValue?: Media;
  private readonly unread = new Map<string, number>();
  private totalUnread = 0;
  /** Revoke, delete and edit notifications whose changed message has not been reported yet, by `conversationId:seq` of the notification. */
  private readonly pendingChanges = new Map<string, Message>();
  /** The app state the app last gave (`setAppState`); told to the server on every new connection. */
  private appState: AppState = 'active';

  private constructor(options: CirrusClientOptions, store: LocalStore, conversations: StoredConversation[]) {
    super();
    const claims = readToken(options.token);
    if (!claims) throw new CirrusSdkError('TOKEN_INVALID', 'The token is not a Cirrus user token', { code: 1102 });
    this.userId = claims.userId;
    this.platformId = claims.platformId;
    this.store = store;
    const timers = options.timers ?? realTimers;
    const random = options.random ?? Math.random;
    const backoff = options.backoff ?? defaultBackoff;
    if (options.apiUrl) this.http = new HttpClient({ apiUrl: options.apiUrl, token: () => this.connection.token, fetch: options.fetch });
    this.connection = new Connection({
      url: options.wsUrl,
      token: options.token,
      refreshToken: options.refreshToken,
      tokenProbe: this.http ? (token) => this.http!.tokenStatus(token, this.userId) : undefined,
      WebSocket: options.WebSocket,
      timers,
      random,
      backoff,
      heartbeatIntervalMs: options.heartbeatIntervalMs,
      rotateAfterMs: options.rotateAfterMs,
      requestTimeoutMs: options.requestTimeoutMs,
    });
    this.engine = new SyncEngine(this.connection, store, { userId: this.userId, timers, pendingRetryMs: options.pendingRetryMs });
    this.outbox = new Outbox(this.connection, store, this.engine, { userId: this.userId, platformId: this.platformId, timers, random, backoff, maxThrottleWaitMs: options.maxThrottleWaitMs });
    for (const c of conversations) this.countUnread(c);
    this.totalUnread = this.sumUnread();
    this.wire();
  }

  /**
   * Creates a client and opens its local store (nothing is sent until `connect()`).
   *
   * @example
   * const client = await CirrusClient.create({
   *   wsUrl: 'ws://localhost:8080/ws',
   *   apiUrl: 'http://localhost:8080/api',
   *   token, // from your app backend
   *   refreshToken: async () => (await fetch('/my-backend/cirrus-token')).text(),
   * });
   */
  static async create(options: CirrusClientOptions): Promise<CirrusClient> {
    const claims = readToken(options.token);
    if (!claims) throw new CirrusSdkError('TOKEN_INVALID', 'The token is not a Cirrus user token', { code: 1102 });
    const choice = options.store ?? (typeof globalThis.indexedDB === 'undefined' ? 'memory' : 'indexeddb');
    let store: LocalStore;
    if (choice === 'memory') store = new MemoryStore();
    else if (choice !== 'indexeddb') store = choice;
    else {
      try {
        store = await IndexedDbStore.open(`cirrus-${claims.userId}`);
      } catch (err) {
        // Asked for explicitly, a failure is the app's to see; by default (e.g. a private window refusing storage) memory will do.
        if (options.store === 'indexeddb') throw err;
        store = new MemoryStore();
      }
    }
    return new CirrusClient(options, store, await store.listConversations());
  }

  private wire(): void {
    const c = this.connection;
    c.on('state', (e) => this.emit('connectionStateChanged', e));
    c.on('connecting', (e) => this.emit('connecting', { reason: e.reason, attempt: e.attempt, delayMs: e.delayMs }));
    c.on('connectFailed', (e) => this.emit('connectFailed', { attempt: e.attempt, error: e.error }));
    c.on('connected', (e) => {
      // First: a new connection starts in the foreground on the server.
      void this.sendAppState(true);
      this.emit('connectSuccess', e);
      void this.outbox.resume();
      void this.loadSettings();
      this.engine.sync('connected').catch(() => undefined);
    });
    c.on('rotated', () => {
      void this.sendAppState(true);
      void this.engine.sync('rotated').catch(() => undefined);
    });
    c.on('disconnected', (e) => {
      this.engine.stop();
      this.emit('disconnected', e);
    });
    c.on('kicked', (e) => this.emit('kickedOffline', e));
    c.on('tokenExpired', () => this.emit('userTokenExpired', {}));
    c.on('tokenRevoked', () => this.emit('userTokenInvalid', { reason: 'revoked' }));
    c.on('tokenInvalid', () => this.emit('userTokenInvalid', { reason: 'invalid' }));
    c.on('newMessage', ({ message }) => void this.engine.onPush(message).catch(() => undefined));
    c.on('serverEvent', (event) => {
      if (event.push === 'typing') this.emit('typingStatusChanged', event.data);
      else if (event.push === 'userInfoUpdated') this.emit('selfInfoUpdated', event.data);
      else if (event.push === 'conversationChanged') void this.applyConversationChanges(event.data.conversationId, event.data.changes);
      else if (event.push === 'receipt') this.emit('readReceiptChanged', event.data);
      else if (event.push === 'businessNotification') this.emit('businessNotification', event.data);
    });

    const e = this.engine;
    e.on('syncStart', (x) => this.emit('syncServerStart', x));
    e.on('syncProgress', (x) => this.emit('syncServerProgress', x));
    e.on('syncFinish', (x) => this.emit('syncServerFinish', x));
    e.on('syncFailed', (x) => this.emit('syncServerFailed', x));
    e.on('conversationAdded', ({ conversation }) => {
      this.countUnread(conversation);
      this.emit('newConversation', { conversation });
    });
    e.on('conversationUpdated', ({ conversation }) => {
      this.countUnread(conversation);
      this.emit('conversationChanged', { conversation });
    });
    e.on('messagesAdded', ({ messages, source }) => {
      if (source === 'sent') return;
      for (const message of messages) {
        this.emit('recvNewMessage', { message, source });
        for (const { name, event } of notificationEvents(message, this.userId)) this.emit(name, event as never);
        // Live ones came as an event already; a stored one is news only when synced (missed while offline).
        if (message.contentType === NotificationType.businessNotification && source === 'sync') {
          const { key, data } = message.content as { key: string; data: string };
          this.emit('businessNotification', { key, data, sendTime: message.sendTime });
        }
        if (message.contentType === NotificationType.messagesDeletedForMe) void this.forgetDeleted(message.content as { conversationId: string; seqs: number[] });
        if (message.contentType in changeEvents) {
          const { conversationId, seq } = message.content as { conversationId: string; seq: number };
          this.pendingChanges.set(`${message.conversationId}:${message.seq}`, message);
          void this.store.getMessage(conversationId, seq).then((m) => {
            // The marker may already be stored (a pull brought it first): report it now.
            if (m && (m.version ?? 0) >= ((message.content as { version?: number }).version ?? 1)) this.reportChange(message, m);
          });
        }
      }
    });
    e.on('messagesChanged', ({ messages }) => {
      for (const m of messages) {
        const notification = [...this.pendingChanges.values()].find((n) => {
          const c = n.content as { conversationId: string; seq: number };
          return c.conversationId === m.conversationId && c.seq === m.seq;
        });
        if (notification) this.reportChange(notification, m);
      }
    });
    this.outbox.on('status', (x) => this.emit('messageStatusChanged', x));
  }

  /** Drops messages deleted for this user on another device, then tells the app. */
  private async forgetDeleted({ conversationId, seqs }: { conversationId: string; seqs: number[] }): Promise<void> {
    await this.engine.update(conversationId, async () => {
      await this.store.deleteMessages(conversationId, seqs);
    });
    this.emit('messagesDeletedForMe', { conversationId, seqs });
  }

  /** Emits the revoke, delete, edit or reaction event of a notification once. */
  private reportChange(notification: Message, message: Message): void {
    if (!this.pendingChanges.delete(`${notification.conversationId}:${notification.seq}`)) return;
    const name = changeEvents[notification.contentType as keyof typeof changeEvents];
    const type = changeTypeNames[name];
    this.emit(name, { message, notification: { type, payload: notification.content, message: notification } } as never);
  }

  private countUnread(c: StoredConversation): void {
    this.unread.set(c.conversationId, c.recvOpt ? 0 : c.unread);
    const total = this.sumUnread();
    if (total !== this.totalUnread) {
      this.totalUnread = total;
      this.emit('totalUnreadMessageCountChanged', { total });
    }
  }

  private sumUnread(): number {
    let total = 0;
    for (const n of this.unread.values()) total += n;
    return total;
  }

  /**
   * Conversation settings (pinned, receive option, hidden) are the user's, kept by the server:
   * a device reads them from the conversation list on each connect and follows
   * `conversationChanged` events while connected.
   */
  private async loadSettings(): Promise<void> {
    if (!this.http) return;
    try {
      const { conversations } = await this.api.listConversations({ query: { includeHidden: 'true' } });
      await Promise.all(
        conversations.map((view) =>
          this.engine.update(view.conversationId, (c) => {
            c.pinned = view.pinned;
            c.recvOpt = view.recvOpt;
            c.hidden = view.hidden;
            if (view.encrypted) c.encrypted = true;
          }),
        ),
      );
    } catch {
      // Read again on the next connect; messages do not depend on settings.
    }
  }

  private async applyConversationChanges(conversationId: string, changes: Record<string, unknown>): Promise<void> {
    await this.engine.update(conversationId, (c) => {
      if (typeof changes.pinned === 'boolean') c.pinned = changes.pinned;
      if (typeof changes.recvOpt === 'number') c.recvOpt = changes.recvOpt;
      if (typeof changes.hidden === 'boolean') c.hidden = changes.hidden;
      if (typeof changes.minSeq === 'number') c.minSeq = changes.minSeq;
    });
  }

  /** `disconnected`, `connecting` or `connected`. */
  get state(): Connection['state'] {
    return this.connection.state;
  }

  /** The token in use (after refreshes, the newest). */
  get token(): string {
    return this.connection.token;
  }

  /**
   * Every HTTP route an app may call with the user's token, one typed method each.
   *
   * @example
   * const { friends } = await client.api.listFriends();
   * await client.api.createGroup({ body: { name: 'Hiking', memberUserIds: ['bob'] } });
   */
  get api(): UserApi {
    if (!this.http) throw new CirrusSdkError('USAGE', 'client.api needs options.apiUrl');
    return (this.apiValue ??= createUserApi(this.http, () => this.userId));
  }

  /**
   * Upload and download helpers for pictures, voice, video and files.
   *
   * @example
   * const source = await client.media.upload(file);
   */
  get media(): Media {
    if (!this.http) throw new CirrusSdkError('USAGE', 'client.media needs options.apiUrl');
    return (this.mediaValue ??= new Media(this.http));
  }

  /**
   * Connects (and keeps reconnecting), then syncs; resolves once connected, rejects if the
   * connection stops first (kicked, token refused).
   *
   * @example
   * await client.connect();
   */
  async connect(): Promise<void> {
    this.connection.connect();
    await this.connection.ready();
  }

  /**
   * Disconnects and stays disconnected until `connect()`. The local store stays readable.
   *
   * @example
   * client.disconnect();
   */
  disconnect(): void {
    this.connection.disconnect();
  }

  /**
   * Disconnects and closes the local store.
   *
   * @example
   * await client.close();
   */
  async close(): Promise<void> {
    this.outbox.close();
    this.connection.disconnect();
    this.engine.stop();
    await this.store.close();
  }

  /**
   * Syncs every conversation now (it also runs by itself on every connect); resolves when done.
   *
   * @example
   * await client.sync();
   */
  sync(): Promise<void> {
    return this.engine.sync('requested');
  }

  /**
   * The conversation list from the local store (works offline): pinned first, then by latest message.
   *
   * @example
   * for (const c of await client.getConversations()) console.log(c.conversationId, c.unread, c.lastMessage?.content);
   */
  async getConversations(): Promise<StoredConversation[]> {
    const all = await this.store.listConversations();
    const activity = (c: StoredConversation) => c.lastMessage?.sendTime ?? 0;
    return all.filter((c) => !c.hidden).sort((a, b) => Number(!!b.pinned) - Number(!!a.pinned) || activity(b) - activity(a));
  }

  /**
   * One conversation from the local store.
   *
   * @example
   * const c = await client.getConversation('si_alice_bob');
   */
  getConversation(conversationId: string): Promise<StoredConversation | undefined> {
    return this.store.getConversation(conversationId);
  }

  /**
   * The total unread count over conversations received normally (as `totalUnreadMessageCountChanged` reports it).
   *
   * @example
   * badge.textContent = String(client.getTotalUnread());
   */
  getTotalUnread(): number {
    return this.totalUnread;
  }

  /**
   * Messages of a conversation from the local store (works offline), oldest first: the newest
   * `limit` stored ones below `beforeSeq`, then, on the newest page, the messages still sending or failed.
   *
   * @example
   * const page = await client.getMessages('si_alice_bob', { limit: 30 });
   * const older = await client.getMessages('si_alice_bob', { beforeSeq: page[0].seq, limit: 30 });
   */
  async getMessages(conversationId: string, range: MessageRange = {}): Promise<LocalMessage[]> {
    // What the user cleared (or what came before they joined) stays hidden even if the device still holds it.
    const minSeq = (await this.store.getConversation(conversationId))?.minSeq ?? 0;
    const visible = { ...range, afterSeq: Math.max(range.afterSeq ?? 0, minSeq) };
    const stored: LocalMessage[] = (await this.store.listMessages(conversationId, visible)).map((m) => ({ ...m, status: 'sent' as const }));
    if (range.beforeSeq !== undefined) return stored;
    // A sync can store a message of this device before its ack arrives: show it once.
    const ids = new Set(stored.filter((m) => m.senderId === this.userId).map((m) => m.clientMsgId));
    return [...stored, ...(await this.store.listOutgoing(conversationId)).filter((m) => !ids.has(m.clientMsgId))];
  }

  /**
   * Sends a message: it is stored at once as `sending` (see `messageStatusChanged`), sent after
   * earlier messages of the same conversation (offline, at the next connect), retried with the
   * same clientMsgId, and resolves with the stored message (with its seq) — or rejects when the
   * server refuses it, leaving it `failed` for `resendMessage`.
   *
   * @example
   * const sent = await client.sendMessage({ recvId: 'bob', contentType: 101, content: { text: 'Hi Bob' } });
   * await client.sendMessage({ groupId: 'hiking', contentType: 106, content: { text: '@all ready?', atUserIds: [], atAll: true } });
   */
  sendMessage(input: SendInput): Promise<Message> {
    return this.outbox.send(input);
  }

  /**
   * Sends a text message to a user or a group.
   *
   * @example
   * await client.sendText({ recvId: 'bob' }, 'Hello!');
   */
  sendText(to: { recvId: string } | { groupId: string }, text: string): Promise<Message> {
    return this.outbox.send({ ...to, contentType: ContentType.text, content: { text } } as SendInput);
  }

  /**
   * Sends a failed message again, with the same clientMsgId.
   *
   * @example
   * client.on('messageStatusChanged', (e) => { if (e.status === 'failed') retryButton.onclick = () => client.resendMessage(e.clientMsgId); });
   */
  resendMessage(clientMsgId: string): Promise<Message> {
    return this.outbox.resend(clientMsgId);
  }

  /**
   * Moves the read position of a conversation (to its newest message by default); never backwards.
   *
   * @example
   * await client.markRead('si_alice_bob');
   */
  async markRead(conversationId: string, seq?: number): Promise<ActionResult<'markRead'>> {
    const target = seq ?? (await this.store.getConversation(conversationId))?.maxSeq ?? 0;
    const result = await this.connection.request('markRead', { conversationId, seq: target });
    await this.engine.update(conversationId, (c) => {
      c.readSeq = Math.max(c.readSeq, result.readSeq);
    });
    return result;
  }

  /**
   * Sets (or, with an empty text, clears) the draft of a conversation; kept in the local store only.
   *
   * @example
   * await client.setDraft('si_alice_bob', input.value);
   */
  async setDraft(conversationId: string, text: string): Promise<void> {
    await this.engine.update(conversationId, (c) => {
      if (text) c.draft = { text, updatedAt: Date.now() };
      else delete c.draft;
    });
  }

  /**
   * Tells the other user of a 1:1 conversation that you started or stopped typing. Sent more
   * often than the deployment allows (1 a second, burst 5, by default), it rejects with a
   * THROTTLED error whose `retryAfterMs` says when the next one can pass; nothing needs resending.
   *
   * @example
   * await client.typing('bob', true);
   */
  typing(recvId: string, typing: boolean): Promise<ActionResult<'typing'>> {
    return this.connection.request('typing', { recvId, typing });
  }

  /**
   * Revokes a message for everyone (the sender within the revoke window; group owners and admins).
   *
   * @example
   * await client.revokeMessage('si_alice_bob', 12);
   */
  revokeMessage(conversationId: string, seq: number): Promise<Message> {
    return this.changeMessage('revokeMsg', { conversationId, seq });
  }

  /**
   * Deletes your message for everyone.
   *
   * @example
   * await client.deleteMessage('si_alice_bob', 12);
   */
  deleteMessage(conversationId: string, seq: number): Promise<Message> {
    return this.changeMessage('deleteMsg', { conversationId, seq });
  }

  /**
   * Replaces the content of your message.
   *
   * @example
   * await client.editMessage('si_alice_bob', 12, { contentType: 101, content: { text: 'fixed typo' } });
   */
  editMessage(conversationId: string, seq: number, body: MessageBody): Promise<Message> {
    return this.changeMessage('editMsg', { conversationId, seq, ...body } as ActionRequest<'editMsg'>);
  }

  /**
   * Adds (or, with `reacted: false`, removes) your reaction to a message.
   *
   * @example
   * await client.reactToMessage('sg_team', 12, '👍');
   */
  reactToMessage(conversationId: string, seq: number, emoji: string, reacted = true): Promise<Message> {
    return this.changeMessage('reactMsg', { conversationId, seq, emoji, reacted });
  }

  /**
   * Deletes messages for yourself only (your other devices drop them too; others keep them).
   *
   * @example
   * await client.deleteMessagesForMe('si_alice_bob', [12, 13]);
   */
  async deleteMessagesForMe(conversationId: string, seqs: number[]): Promise<ActionResult<'deleteMsgsForMe'>> {
    const result = await this.connection.request('deleteMsgsForMe', { conversationId, seqs });
    await this.engine.update(conversationId, async () => {
      await this.store.deleteMessages(conversationId, seqs);
    });
    return result;
  }

  /**
   * Acknowledges that this device has received a conversation up to `seq` (delivery receipts).
   * Call it once after a sync and at most every few seconds for pushes: it costs a write.
   *
   * @example
   * await client.markDelivered('si_alice_bob', 42);
   */
  markDelivered(conversationId: string, seq: number): Promise<ActionResult<'markDelivered'>> {
    return this.connection.request('markDelivered', { conversationId, seq });
  }

  /**
   * Read and delivery counts for messages (and, in 1:1 conversations, the other user's positions).
   *
   * @example
   * const { receipts } = await client.getReadReceipts('sg_team', [40, 41, 42]);
   */
  getReadReceipts(conversationId: string, seqs: number[] = []): Promise<ActionResult<'getReadReceipts'>> {
    return this.connection.request('getReadReceipts', { conversationId, seqs });
  }

  /**
   * Who has read a message (or who has not), a page at a time.
   *
   * @example
   * const { users, cursor } = await client.getMessageReaders({ conversationId: 'sg_team', seq: 42, status: 'read' });
   */
  getMessageReaders(request: ActionRequest<'getMessageReaders'>): Promise<ActionResult<'getMessageReaders'>> {
    return this.connection.request('getMessageReaders', request);
  }

  private async changeMessage<A extends 'revokeMsg' | 'deleteMsg' | 'editMsg' | 'reactMsg'>(action: A, data: ActionRequest<A>): Promise<Message> {
    const marker = (await this.connection.request(action, data)) as Message;
    await this.engine.update(marker.conversationId, async () => {
      await this.store.putMessages([marker]);
    });
    return marker;
  }

  /**
   * Every conversation of the user with its newest seq and read position (the first step of
   * sync), all pages of it: the server cuts each reply by size and this follows `nextCursor`.
   *
   * @example
   * const { conversations } = await client.getNewestSeq();
   */
  getNewestSeq(): Promise<ActionResult<'getNewestSeq'>> {
    return newestSeqs(this.connection);
  }

  /**
   * Messages of one conversation by seq range, as the server has them, without storing them: one
   * reply, at most 100 seqs and cut by size (`truncated`); continue from `toSeq + 1` for more.
   *
   * @example
   * const page = await client.pullMessages({ conversationId: 'si_alice_bob', fromSeq: 1, toSeq: 100 });
   */
  pullMessages(request: ActionRequest<'pullMsgs'>): Promise<ActionResult<'pullMsgs'>> {
    return this.connection.request('pullMsgs', request);
  }

  /**
   * Sends a heartbeat now (the client also sends them by itself when the connection is quiet).
   *
   * @example
   * const { serverTime } = await client.heartbeat();
   */
  heartbeat(): Promise<ActionResult<'heartbeat'>> {
    return this.connection.request('heartbeat', {});
  }

  /**
   * Registers (or refreshes) this device for offline push: while the app is in the background
   * or closed, messages reach it through APNs, FCM or Web Push. Register at every start with
   * the token the platform gives (it may change); the device goes when the user logs out.
   * Over HTTP when `apiUrl` is set (works while connecting), else over the connection.
   *
   * @example
   * await client.registerPushDevice({ deviceId: installationId, provider: 'apns', token: apnsTokenHex, appId: 'com.example.chat', platformId: 1, locale: 'en-US' });
   * // In a browser: the subscription from PushManager.subscribe({ applicationServerKey: (await client.api.getPushConfig()).webpush.publicKey, userVisibleOnly: true })
   * await client.registerPushDevice({ deviceId, provider: 'webpush', token: subscription.toJSON(), appId: location.origin, platformId: 5 });
   */
  async registerPushDevice(device: PushDeviceRegistration): Promise<ActionResult<'registerPushDevice'>> {
    const { deviceId, ...body } = device;
    if (this.http) return this.api.registerPushDevice({ params: { deviceId }, body });
    return this.connection.request('registerPushDevice', device);
  }

  /**
   * Stops offline pushes to a device of the user (e.g. when the user turns notifications off).
   *
   * @example
   * await client.unregisterPushDevice(installationId);
   */
  async unregisterPushDevice(deviceId: string): Promise<ActionResult<'unregisterPushDevice'>> {
    if (this.http) return this.api.unregisterPushDevice({ params: { deviceId } });
    return this.connection.request('unregisterPushDevice', { deviceId });
  }

  /**
   * Tells the server whether the app is on screen (`active`, the default) or in the background:
   * in the background the user gets offline pushes for new messages, as if offline. Sent at
   * once when connected, and again after every reconnect (a new connection starts active on
   * the server). Call it from the platform's app state events (React Native's `AppState`,
   * the browser's `visibilitychange`).
   *
   * @example
   * AppState.addEventListener('change', (s) => void client.setAppState(s === 'active' ? 'active' : 'background'));
   */
  async setAppState(state: AppState): Promise<void> {
    if (state !== 'active' && state !== 'background') throw new CirrusSdkError('USAGE', `setAppState takes 'active' or 'background', not ${String(state)}`);
    this.appState = state;
    await this.sendAppState(false);
  }

  /** The app state given last to `setAppState`. */
  get currentAppState(): AppState {
    return this.appState;
  }

  /** Tells the current connection the app state; on a fresh connection only when it is not the server's default (active). */
  private async sendAppState(fresh: boolean): Promise<void> {
    if (this.connection.state !== 'connected' || (fresh && this.appState === 'active')) return;
    try {
      await this.connection.request('setAppBackground', { background: this.appState === 'background' });
    } catch {
      // The connection went: the next one is told when it opens.
    }
  }

  /**
   * The user's offline push settings (quiet hours, hidden previews). Needs `apiUrl`.
   *
   * @example
   * const { quietHours, hidePreview } = await client.getPushSettings();
   */
  getPushSettings(): Promise<ApiOutput<'getPushSettings'>> {
    return this.api.getPushSettings();
  }

  /**
   * Changes the user's offline push settings; fields left out stay as they are, `quietHours: null` turns quiet hours off. Needs `apiUrl`.
   *
   * @example
   * await client.setPushSettings({ quietHours: { start: '22:00', end: '07:00', timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone } });
   */
  setPushSettings(changes: ApiInput<'setPushSettings'>['body']): Promise<ApiOutput<'setPushSettings'>> {
    return this.api.setPushSettings({ body: changes });
  }

  /**
   * Signs out on this device: the server revokes this token's session and removes the push
   * devices registered with it, then the client closes (connection and local store). Needs `apiUrl`.
   *
   * @example
   * await client.logout();
   */
  async logout(): Promise<void> {
    await this.api.logout();
    await this.close();
  }

  /**
   * Any WebSocket action by name, typed by the protocol (`docs/protocol.md`).
   *
   * @example
   * const result = await client.request('markRead', { conversationId: 'si_alice_bob', seq: 3 });
   */
  request<A extends ActionName>(action: A, data: ActionRequest<A>): Promise<ActionResult<A>> {
    return this.connection.request(action, data);
  }
}
