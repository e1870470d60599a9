/// <reference lib="dom" />
/**
 * The local store in IndexedDB, for browsers: one database per user (`cirrus-<userId>`),
 * messages keyed by `[conversationId, seq]` so a range of one conversation is one cursor.
 * The IndexedDB globals may be injected (e.g. from `fake-indexeddb` in Node tests).
 */
import type { Message } from '../protocol';
import { byCreatedAt, replaces, type LocalStore, type MessageRange, type OutgoingMessage, type StoredConversation } from './store';

const VERSION = 1;
const CONVERSATIONS = 'conversations';
const MESSAGES = 'messages';
const OUTGOING = 'outgoing';

function done<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function finished(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

/** The IndexedDB implementation to use; the browser's globals by default. */
export interface IndexedDbEnvironment {
  indexedDB?: IDBFactory;
  IDBKeyRange?: typeof IDBKeyRange;
}

export class IndexedDbStore implements LocalStore {
  private constructor(
    private readonly db: IDBDatabase,
    private readonly keyRange: typeof IDBKeyRange,
  ) {}

  /**
   * Opens (or creates) the store of one user.
   *
   * @example
   * const store = await IndexedDbStore.open('cirrus-alice');
   */
  static async open(name: string, env: IndexedDbEnvironment = {}): Promise<IndexedDbStore> {
    const idb = env.indexedDB ?? globalThis.indexedDB;
    const keyRange = env.IDBKeyRange ?? globalThis.IDBKeyRange;
    const request = idb.open(name, VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      db.createObjectStore(CONVERSATIONS, { keyPath: 'conversationId' });
      db.createObjectStore(MESSAGES, { keyPath: ['conversationId', 'seq'] });
      db.createObjectStore(OUTGOING, { keyPath: 'clientMsgId' }).createIndex('conversationId', 'conversationId');
    };
    return new IndexedDbStore(await done(request), keyRange);
  }

  private store(name: string, mode: IDBTransactionMode = 'readonly'): IDBObjectStore {
    return this.db.transaction(name, mode).objectStore(name);
  }

  async getConversation(conversationId: string): Promise<StoredConversation | undefined> {
    return done(this.store(CONVERSATIONS).get(conversationId));
  }

  async listConversations(): Promise<StoredConversation[]> {
    return done(this.store(CONVERSATIONS).getAll());
  }

  async putConversation(conversation: StoredConversation): Promise<void> {
    await done(this.store(CONVERSATIONS, 'readwrite').put(conversation));
  }

  async putMessages(messages: readonly Message[]): Promise<Message[]> {
    if (messages.length === 0) return [];
    const tx = this.db.transaction(MESSAGES, 'readwrite');
    const complete = finished(tx);
    const store = tx.objectStore(MESSAGES);
    const written: Message[] = [];
    // Reads and writes in one transaction: a push and a pull of the same seq cannot both count as new.
    await Promise.all(
      messages.map(async (m) => {
        const stored = (await done(store.get([m.conversationId, m.seq]))) as Message | undefined;
        if (replaces(m, stored) && !written.some((w) => w.conversationId === m.conversationId && w.seq === m.seq && !replaces(m, w))) {
          store.put(m);
          written.push(m);
        }
      }),
    );
    await complete;
    return messages.filter((m) => written.includes(m));
  }

  async deleteMessages(conversationId: string, seqs: readonly number[]): Promise<void> {
    if (seqs.length === 0) return;
    const tx = this.db.transaction(MESSAGES, 'readwrite');
    const complete = finished(tx);
    const store = tx.objectStore(MESSAGES);
    for (const seq of seqs) store.delete([conversationId, seq]);
    await complete;
  }

  async getMessage(conversationId: string, seq: number): Promise<Message | undefined> {
    return done(this.store(MESSAGES).get([conversationId, seq]));
  }

  async listMessages(conversationId: string, range: MessageRange = {}): Promise<Message[]> {
    const { beforeSeq = Number.MAX_SAFE_INTEGER, afterSeq = 0, limit = 50 } = range;
    if (beforeSeq - afterSeq <= 1) return [];
    const keys = this.keyRange.bound([conversationId, afterSeq], [conversationId, beforeSeq], true, true);
    const out: Message[] = [];
    const cursor = this.store(MESSAGES).openCursor(keys, 'prev');
    await new Promise<void>((resolve, reject) => {
      cursor.onerror = () => reject(cursor.error);
      cursor.onsuccess = () => {
        const c = cursor.result;
        if (!c || out.length >= limit) return resolve();
        out.push(c.value as Message);
        c.continue();
      };
    });
    return out.reverse();
  }

  async putOutgoing(message: OutgoingMessage): Promise<void> {
    await done(this.store(OUTGOING, 'readwrite').put(message));
  }

  async deleteOutgoing(clientMsgId: string): Promise<void> {
    await done(this.store(OUTGOING, 'readwrite').delete(clientMsgId));
  }

  async listOutgoing(conversationId?: string): Promise<OutgoingMessage[]> {
    const store = this.store(OUTGOING);
    const all = (await done(conversationId === undefined ? store.getAll() : store.index('conversationId').getAll(conversationId))) as OutgoingMessage[];
    return all.sort(byCreatedAt);
  }

  async clear(): Promise<void> {
    const tx = this.db.transaction([CONVERSATIONS, MESSAGES, OUTGOING], 'readwrite');
    const complete = finished(tx);
    for (const name of [CONVERSATIONS, MESSAGES, OUTGOING]) tx.objectStore(name).clear();
    await complete;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
