/**
 * Sync: the device's copy of every conversation, kept whole. On every connect (and after a
 * rotation) `getNewestSeq` tells what exists (following its pages); each conversation is
 * pulled from its `syncedSeq + 1` in pages of at most 100 seqs, each cut by size by the
 * server (`truncated`); pushes arriving meanwhile are stored at once. The
 * store deduplicates by `(conversationId, seq)`, so a push racing a pull of the same seq is
 * reported once. Holes never hold a message and are skipped; pending seqs are asked again
 * later. A push above `syncedSeq + 1` reveals a gap, which is pulled.
 *
 * Every change to a conversation goes through one per-conversation queue, so a push and a
 * page of a pull never overwrite each other's update.
 */
import type { Connection } from './connection';
import { Emitter } from './emitter';
import { CirrusSdkError } from './errors';
import { MAX_PULL, NotificationType, type ActionResult, type Message } from './protocol';
import type { LocalStore, StoredConversation } from './store/store';
import type { Timers } from './timers';

export interface SyncProgressEvent {
  /** Conversations done, of `total` that needed a pull. */
  done: number;
  total: number;
  /** Messages stored by this sync so far. */
  messages: number;
}

export interface SyncEngineEvents {
  syncStart: { reason: 'connected' | 'rotated' | 'requested' };
  syncProgress: SyncProgressEvent;
  syncFinish: { conversations: number; messages: number; pendingSeqs: number };
  syncFailed: { error: CirrusSdkError };
  /** Messages stored for the first time (a pull or a push), ascending per conversation. */
  messagesAdded: { messages: Message[]; source: 'sync' | 'push' | 'sent' };
  /** Stored messages replaced by a newer version (revoked, deleted, edited). */
  messagesChanged: { messages: Message[] };
  conversationAdded: { conversation: StoredConversation };
  conversationUpdated: { conversation: StoredConversation };
}

export interface SyncOptions {
  /** The signed-in user (their own messages never count as unread). */
  userId: string;
  timers: Timers;
  /**
   * Delay before pending seqs are asked again.
   * @default 5000
   */
  pendingRetryMs?: number;
}

/** A fresh record for a conversation the device has not seen. */
export function emptyConversation(conversationId: string): StoredConversation {
  return { conversationId, maxSeq: 0, readSeq: 0, minSeq: 0, syncedSeq: 0, pendingSeqs: [], unread: 0 };
}

const unreadOf = (c: StoredConversation) => Math.max(0, c.maxSeq - Math.max(c.readSeq, c.minSeq));

const changeTypes = new Set<number>([NotificationType.messageRevoked, NotificationType.messageDeleted, NotificationType.messageEdited, NotificationType.messageReactionChanged]);

/** How many times `findSent` asks again about pending seqs before it answers not found. */
const FIND_SENT_PENDING_ROUNDS = 6;

export class SyncEngine extends Emitter<SyncEngineEvents> {
  private readonly queues = new Map<string, Promise<unknown>>();
  private running?: Promise<void>;
  private rerun?: SyncEngineEvents['syncStart']['reason'];
  private pendingTimer?: unknown;
  private readonly pendingRetryMs: number;
  private readonly gapPulls = new Set<string>();

  constructor(
    private readonly connection: Connection,
    private readonly store: LocalStore,
    private readonly options: SyncOptions,
  ) {
    super();
    this.pendingRetryMs = options.pendingRetryMs ?? 5_000;
  }

  /** Runs `fn` on the conversation's record after every earlier update of it, and stores the result. */
  update(conversationId: string, fn: (c: StoredConversation) => Promise<void> | void): Promise<StoredConversation> {
    const previous = this.queues.get(conversationId) ?? Promise.resolve();
    const next = previous.then(async () => {
      const stored = await this.store.getConversation(conversationId);
      const c = stored ?? emptyConversation(conversationId);
      const before = JSON.stringify(c);
      await fn(c);
      c.unread = unreadOf(c);
      if (!stored || JSON.stringify(c) !== before) {
        await this.store.putConversation(c);
        this.emit(stored ? 'conversationUpdated' : 'conversationAdded', { conversation: c });
      }
      return c;
    });
    const settled = next.catch(() => undefined);
    this.queues.set(conversationId, settled);
    void settled.then(() => {
      if (this.queues.get(conversationId) === settled) this.queues.delete(conversationId);
    });
    return next;
  }

  /**
   * Syncs every conversation. Calls during a sync make one more run after it, so nothing
   * that happened meanwhile is skipped.
   */
  sync(reason: SyncEngineEvents['syncStart']['reason'] = 'requested'): Promise<void> {
    if (this.running) {
      this.rerun = reason;
      return this.running;
    }
    const run = async () => {
      let next: typeof reason | undefined = reason;
      while (next) {
        this.rerun = undefined;
        await this.runOnce(next);
        next = this.rerun;
      }
    };
    this.running = run().finally(() => {
      this.running = undefined;
      void this.fillGaps();
    });
    return this.running;
  }

  private async runOnce(reason: SyncEngineEvents['syncStart']['reason']): Promise<void> {
    this.emit('syncStart', { reason });
    let messages = 0;
    try {
      const newest = await newestSeqs(this.connection);
      const stale: string[] = [];
      for (const server of newest.conversations) {
        const c = await this.update(server.conversationId, (c) => {
          c.maxSeq = Math.max(c.maxSeq, server.maxSeq);
          c.readSeq = Math.max(c.readSeq, server.readSeq);
          c.minSeq = server.minSeq;
          // Nothing at or below minSeq will ever be returned: no need to pull it.
          if (c.syncedSeq < c.minSeq) c.syncedSeq = c.minSeq;
        });
        if (c.syncedSeq < c.maxSeq || c.pendingSeqs.length) stale.push(c.conversationId);
      }
      this.emit('syncProgress', { done: 0, total: stale.length, messages });
      let done = 0;
      // A few conversations at a time: the server handles each pull in one short request.
      await pool(stale, 4, async (conversationId) => {
        messages += await this.pullMissing(conversationId);
        this.emit('syncProgress', { done: ++done, total: stale.length, messages });
      });
      // Pushes that raced the pulls may have raised maxSeq above what was pulled.
      for (const c of await this.store.listConversations()) if (c.syncedSeq < c.maxSeq) messages += await this.pullMissing(c.conversationId);
      const pendingSeqs = (await this.store.listConversations()).reduce((n, c) => n + c.pendingSeqs.length, 0);
      if (pendingSeqs) this.armPendingRetry();
      this.emit('syncFinish', { conversations: newest.conversations.length, messages, pendingSeqs });
    } catch (err) {
      const error = err instanceof CirrusSdkError ? err : new CirrusSdkError('HTTP_FAILED', String(err), { cause: err });
      this.emit('syncFailed', { error });
      throw error;
    }
  }

  /** Pulls from `syncedSeq + 1` to `maxSeq`, and pending seqs again; returns how many messages were new. */
  async pullMissing(conversationId: string): Promise<number> {
    let added = 0;
    const start = await this.store.getConversation(conversationId);
    if (!start) return 0;
    if (start.pendingSeqs.length) {
      const pending = [...start.pendingSeqs].sort((a, b) => a - b);
      added += await this.pullRange(conversationId, pending[0], Math.min(pending.at(-1)!, start.syncedSeq), true);
    }
    for (;;) {
      const c = await this.store.getConversation(conversationId);
      if (!c || c.syncedSeq >= c.maxSeq) return added;
      added += await this.pullRange(conversationId, c.syncedSeq + 1, c.maxSeq, false);
    }
  }

  /** Pulls of at most 100 seqs each, applied to the conversation; a reply cut by size is followed to the end of its seqs. */
  private async pullRange(conversationId: string, fromSeq: number, toSeq: number, recheck: boolean): Promise<number> {
    let added = 0;
    for (let from = fromSeq; from <= toSeq; ) {
      const page = await this.pullPage(conversationId, from, toSeq, recheck);
      added += page.added;
      if (!page.truncated || page.toSeq < from) break;
      from = page.toSeq + 1;
    }
    return added;
  }

  /** One pull, applied to the conversation. */
  private async pullPage(conversationId: string, fromSeq: number, toSeq: number, recheck: boolean): Promise<{ added: number; toSeq: number; truncated: boolean }> {
    const page = await this.connection.request('pullMsgs', { conversationId, fromSeq, toSeq, limit: MAX_PULL });
    let added: Message[] = [];
    let changed: Message[] = [];
    await this.update(conversationId, async (c) => {
      [added, changed] = await this.storeMessages(c, page.messages);
      const covered = (s: number) => s >= page.fromSeq && s <= page.toSeq;
      // Re-asked seqs leave the pending list once they are messages or holes.
      const stillPending = c.pendingSeqs.filter((s) => !covered(s) || page.pending.includes(s));
      c.pendingSeqs = [...new Set([...stillPending, ...page.pending])].sort((a, b) => a - b);
      if (!recheck) c.syncedSeq = Math.max(c.syncedSeq, page.toSeq, fromSeq - 1);
      // A page that covers nothing (everything below minSeq) must still end the loop.
      if (!recheck && page.toSeq < fromSeq) c.syncedSeq = Math.max(c.syncedSeq, toSeq);
      c.maxSeq = Math.max(c.maxSeq, c.syncedSeq);
    });
    if (added.length) this.emit('messagesAdded', { messages: added, source: 'sync' });
    if (changed.length) this.emit('messagesChanged', { messages: changed });
    await this.followChanges(added);
    return { added: added.length, toSeq: page.toSeq, truncated: page.truncated === true };
  }

  /** Stores messages into a conversation being updated: seq positions, last message, own read position. */
  private async storeMessages(c: StoredConversation, messages: readonly Message[]): Promise<[Message[], Message[]]> {
    const existing = await Promise.all(messages.map((m) => this.store.getMessage(m.conversationId, m.seq)));
    const written = await this.store.putMessages(messages);
    const added = written.filter((m) => !existing.some((e) => e && e.seq === m.seq));
    const changed = written.filter((m) => existing.some((e) => e && e.seq === m.seq));
    for (const m of written) {
      c.maxSeq = Math.max(c.maxSeq, m.seq);
      // The server moves the sender's read position past their own message.
      if (m.senderId === this.options.userId) c.readSeq = Math.max(c.readSeq, m.seq);
      if (!c.lastMessage || m.seq >= c.lastMessage.seq) c.lastMessage = m;
      // An MLS message makes a 1:1 conversation encrypted on the server (never undone); groups are so from their creation.
      if (m.contentType >= 150 && m.contentType <= 152) c.encrypted = true;
    }
    return [added, changed];
  }

  /** A pushed message: stored at once; a gap below it is pulled. */
  async onPush(message: Message): Promise<void> {
    let added: Message[] = [];
    let changed: Message[] = [];
    const c = await this.update(message.conversationId, async (c) => {
      [added, changed] = await this.storeMessages(c, [message]);
      if (message.seq === c.syncedSeq + 1) c.syncedSeq = message.seq;
      // A hidden conversation comes back with its next message, as on the server.
      if (added.length && c.hidden) c.hidden = false;
    });
    if (added.length) this.emit('messagesAdded', { messages: added, source: 'push' });
    if (changed.length) this.emit('messagesChanged', { messages: changed });
    await this.followChanges(added);
    if (c.syncedSeq < c.maxSeq && !this.running) await this.fillGap(c.conversationId);
  }

  /**
   * Whether a message this user sent with `clientMsgId` is stored in the conversation above
   * `afterSeq` (the newest seq the device knew before its first attempt), pulled from the
   * server: the stored message, or undefined. Called before an outgoing message is sent
   * again, so that one whose ack was lost is acknowledged from sync rather than sent twice,
   * whatever happened meanwhile (other devices of the user sending, a long time offline):
   * the server recognizes a repeated clientMsgId only among the sender's last sends in a
   * 1:1 conversation (docs/protocol.md, "Idempotency"). Seqs the server reports pending
   * (possibly this very message, still being written) are asked again first, a few times.
   */
  async findSent(conversationId: string, clientMsgId: string, afterSeq: number): Promise<Message | undefined> {
    const mine = (m: Message) => m.senderId === this.options.userId && m.clientMsgId === clientMsgId;
    for (let round = 0; ; round++) {
      let pending = false;
      for (let from = afterSeq + 1; ; ) {
        let page: ActionResult<'pullMsgs'>;
        try {
          page = await this.connection.request('pullMsgs', { conversationId, fromSeq: from, toSeq: from + MAX_PULL - 1, limit: MAX_PULL });
        } catch (err) {
          // No such conversation: nothing was ever stored in it.
          if (err instanceof CirrusSdkError && err.reason === 'CONVERSATION_NOT_FOUND') return undefined;
          throw err;
        }
        let added: Message[] = [];
        await this.update(conversationId, async (c) => {
          [added] = await this.storeMessages(c, page.messages);
        });
        if (added.length) this.emit('messagesAdded', { messages: added, source: 'sync' });
        const found = page.messages.find(mine);
        if (found) return found;
        if (page.pending.length) pending = true;
        // The end: nothing in range, or a page that stopped short of its limit without being cut by size.
        if (page.toSeq < from || (!page.truncated && page.toSeq < from + MAX_PULL - 1)) break;
        from = page.toSeq + 1;
      }
      if (!pending || round >= FIND_SENT_PENDING_ROUNDS) return undefined;
      await new Promise<void>((resolve) => this.options.timers.setTimeout(resolve, this.pendingRetryMs));
    }
  }

  /** A message this device sent, from its ack. */
  async onSent(message: Message): Promise<void> {
    let added: Message[] = [];
    const c = await this.update(message.conversationId, async (c) => {
      [added] = await this.storeMessages(c, [message]);
      if (message.seq === c.syncedSeq + 1) c.syncedSeq = message.seq;
    });
    if (added.length) this.emit('messagesAdded', { messages: added, source: 'sent' });
    if (c.syncedSeq < c.maxSeq && !this.running) await this.fillGap(c.conversationId);
  }

  /** Gaps that pushes revealed while a sync was running. */
  private async fillGaps(): Promise<void> {
    if (this.connection.state !== 'connected') return;
    for (const c of await this.store.listConversations()) if (c.syncedSeq < c.maxSeq) await this.fillGap(c.conversationId);
  }

  private async fillGap(conversationId: string): Promise<void> {
    if (this.gapPulls.has(conversationId)) return;
    this.gapPulls.add(conversationId);
    try {
      await this.pullMissing(conversationId);
    } catch {
      // The next sync (every connect) pulls it; a failed gap pull is not an error of the push.
    } finally {
      this.gapPulls.delete(conversationId);
    }
  }

  /** Revoke, delete and edit notifications: pull the changed seq for its new version. */
  private async followChanges(messages: readonly Message[]): Promise<void> {
    for (const n of messages) {
      if (!changeTypes.has(n.contentType)) continue;
      const { conversationId, seq } = n.content as { conversationId: string; seq: number };
      const stored = await this.store.getMessage(conversationId, seq);
      if (!stored) continue; // not on this device (cleared, or before it joined): nothing to replace
      try {
        await this.pullRange(conversationId, seq, seq, true);
      } catch {
        // The marker comes with the next full pull of the seq; nothing is lost.
      }
    }
  }

  private armPendingRetry(): void {
    if (this.pendingTimer !== undefined) return;
    this.pendingTimer = this.options.timers.setTimeout(() => {
      this.pendingTimer = undefined;
      if (this.connection.state === 'connected') void this.sync('requested').catch(() => undefined);
    }, this.pendingRetryMs);
  }

  stop(): void {
    if (this.pendingTimer !== undefined) this.options.timers.clearTimeout(this.pendingTimer);
    this.pendingTimer = undefined;
  }
}

/**
 * Every conversation from `getNewestSeq`, following `nextCursor` page by page; `serverTime`
 * is the last page's.
 */
export async function newestSeqs(connection: Pick<Connection, 'request'>): Promise<ActionResult<'getNewestSeq'>> {
  const conversations: ActionResult<'getNewestSeq'>['conversations'] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await connection.request('getNewestSeq', cursor === undefined ? {} : { cursor });
    conversations.push(...page.conversations);
    if (page.nextCursor === undefined || page.nextCursor === cursor) return { conversations, serverTime: page.serverTime };
    cursor = page.nextCursor;
  }
}

/** Runs `fn` over `items` with at most `size` at a time. */
async function pool<T>(items: readonly T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
}
