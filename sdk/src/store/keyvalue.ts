/**
 * The local store on a string key-value storage: what React Native apps have
 * (`@react-native-async-storage/async-storage`, MMKV, expo-sqlite's `kv-store`, …).
 *
 * Layout, every key under one prefix (one prefix per user, e.g. `cirrus:alice:`):
 * - `c:<conversationId>`: a conversation;
 * - `m:<chunk>:<conversationId>`: the messages of seqs `chunk·chunkSize … chunk·chunkSize + chunkSize - 1`,
 *   so a push rewrites one small value, never the whole store, and a page of history is a few reads;
 * - `o:<clientMsgId>`: an outgoing message.
 *
 * Each write is one `setItem` of one self-contained value, so a crash (the app killed between
 * two writes) leaves every key either before or after its write: sync writes messages before the
 * conversation's `syncedSeq` moves past them, so messages written without their conversation
 * are pulled again and stored once. Which keys exist is read once with `getAllKeys` when the
 * store opens and then kept in memory; the store must be the only writer under its prefix.
 */
import type { Message } from '../protocol';
import { byCreatedAt, replaces, type LocalStore, type MessageRange, type OutgoingMessage, type StoredConversation } from './store';

/**
 * A string key-value storage. `@react-native-async-storage/async-storage`'s default export is
 * one as it is; anything with these methods will do (all values are JSON strings).
 */
export interface KeyValueStorage {
  getItem(key: string): Promise<string | null | undefined>;
  setItem(key: string, value: string): Promise<void>;
  removeItem(key: string): Promise<void>;
  getAllKeys(): Promise<readonly string[]>;
  /** Several reads in one call (one bridge crossing in React Native); optional. */
  multiGet?(keys: readonly string[]): Promise<readonly (readonly [string, string | null | undefined])[]>;
  /** Several removals in one call; optional. */
  multiRemove?(keys: readonly string[]): Promise<void>;
}

export interface KeyValueStoreOptions {
  /**
   * Prefix of every key: one per user, so two users of one device never share a store.
   * @default 'cirrus:'
   */
  prefix?: string;
  /**
   * Seqs per message key. Android's AsyncStorage reads a value through a 2 MB window: keep
   * `chunkSize × largest message` below it.
   * @default 20
   */
  chunkSize?: number;
  /** Values kept in memory (read-through, write-through) to spare the storage repeated reads. @default 64 */
  cacheSize?: number;
}

const CONVERSATION = 'c:';
const MESSAGES = 'm:';
const OUTGOING = 'o:';

/**
 * Opens the local store kept in a key-value storage.
 *
 * @example
 * import AsyncStorage from '@react-native-async-storage/async-storage';
 * const store = await createKeyValueStore(AsyncStorage, { prefix: `cirrus:${userId}:` });
 * const client = await CirrusClient.create({ wsUrl, apiUrl, token, store });
 */
export async function createKeyValueStore(storage: KeyValueStorage, options: KeyValueStoreOptions = {}): Promise<LocalStore> {
  const store = new KeyValueStore(storage, options);
  await store.load();
  return store;
}

class KeyValueStore implements LocalStore {
  private readonly prefix: string;
  private readonly chunkSize: number;
  private readonly cacheSize: number;
  /** Known keys, from `getAllKeys` at open and kept current by this store's writes. */
  private readonly conversations = new Set<string>();
  /** conversationId → chunk numbers stored. */
  private readonly chunks = new Map<string, Set<number>>();
  private readonly outgoing = new Set<string>();
  /** Recently read or written values, in least recently used order (null: known absent). */
  private readonly cache = new Map<string, string | null>();
  /** Reads under way, by key: concurrent reads of one key share one storage call. */
  private readonly inflight = new Map<string, Promise<string | null>>();
  /** Per key written in this session, how many writes it had: a read keeps its value only if no write ran meanwhile. */
  private readonly versions = new Map<string, number>();
  /** Writes of a key in progress: read-modify-writes of one chunk run one after another. */
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    private readonly storage: KeyValueStorage,
    options: KeyValueStoreOptions,
  ) {
    this.prefix = options.prefix ?? 'cirrus:';
    this.chunkSize = options.chunkSize ?? 20;
    this.cacheSize = options.cacheSize ?? 64;
    if (!Number.isInteger(this.chunkSize) || this.chunkSize < 1) throw new RangeError('chunkSize must be a positive integer');
  }

  async load(): Promise<void> {
    for (const key of await this.storage.getAllKeys()) {
      if (!key.startsWith(this.prefix)) continue;
      const rest = key.slice(this.prefix.length);
      if (rest.startsWith(CONVERSATION)) this.conversations.add(rest.slice(CONVERSATION.length));
      else if (rest.startsWith(OUTGOING)) this.outgoing.add(rest.slice(OUTGOING.length));
      else if (rest.startsWith(MESSAGES)) {
        const colon = rest.indexOf(':', MESSAGES.length);
        const chunk = Number(rest.slice(MESSAGES.length, colon));
        if (colon < 0 || !Number.isInteger(chunk)) continue;
        this.chunkSet(rest.slice(colon + 1)).add(chunk);
      }
    }
  }

  private chunkSet(conversationId: string): Set<number> {
    let set = this.chunks.get(conversationId);
    if (!set) this.chunks.set(conversationId, (set = new Set()));
    return set;
  }

  private conversationKey(conversationId: string): string {
    return `${this.prefix}${CONVERSATION}${conversationId}`;
  }

  private chunkKey(conversationId: string, chunk: number): string {
    return `${this.prefix}${MESSAGES}${chunk}:${conversationId}`;
  }

  private outgoingKey(clientMsgId: string): string {
    return `${this.prefix}${OUTGOING}${clientMsgId}`;
  }

  private remember(key: string, value: string | null): void {
    this.cache.delete(key);
    this.cache.set(key, value);
    while (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
  }

  private async read(keys: readonly string[]): Promise<(string | null)[]> {
    // One storage call for every key neither in memory nor already being read.
    const fetch = [...new Set(keys.filter((k) => !this.cache.has(k) && !this.inflight.has(k)))];
    if (fetch.length) {
      const batch = this.storage.multiGet
        ? this.storage.multiGet(fetch).then((pairs) => new Map(pairs.map(([k, v]) => [k, v ?? null])))
        : Promise.all(fetch.map(async (k) => [k, (await this.storage.getItem(k)) ?? null] as const)).then((pairs) => new Map(pairs));
      for (const k of fetch) {
        const version = this.versions.get(k) ?? 0;
        const value = batch.then((values) => values.get(k) ?? null);
        this.inflight.set(k, value);
        void value.then(
          (v) => {
            if (this.inflight.get(k) !== value) return;
            this.inflight.delete(k);
            // Not kept when a write of the key ran meanwhile: the value read may be the one it replaced.
            if ((this.versions.get(k) ?? 0) === version) this.remember(k, v);
          },
          () => {
            if (this.inflight.get(k) === value) this.inflight.delete(k);
          },
        );
      }
    }
    return Promise.all(
      keys.map((k) => {
        if (!this.cache.has(k)) return this.inflight.get(k)!;
        const v = this.cache.get(k)!;
        this.remember(k, v);
        return v;
      }),
    );
  }

  private async write(key: string, value: string | null): Promise<void> {
    // Forget first: a failed write must not leave a value in memory the storage does not have,
    // and a read started before this write must not answer a read started after it.
    this.cache.delete(key);
    this.inflight.delete(key);
    this.versions.set(key, (this.versions.get(key) ?? 0) + 1);
    if (value === null) await this.storage.removeItem(key);
    else await this.storage.setItem(key, value);
    this.versions.set(key, (this.versions.get(key) ?? 0) + 1);
    this.inflight.delete(key);
    this.remember(key, value);
  }

  private locked<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const before = this.locks.get(key) ?? Promise.resolve();
    const run = before.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.locks.set(key, tail);
    void tail.then(() => {
      if (this.locks.get(key) === tail) this.locks.delete(key);
    });
    return run;
  }

  private async readChunk(key: string): Promise<Message[]> {
    const [raw] = await this.read([key]);
    return parse<Message[]>(raw) ?? [];
  }

  async getConversation(conversationId: string): Promise<StoredConversation | undefined> {
    if (!this.conversations.has(conversationId)) return undefined;
    const [raw] = await this.read([this.conversationKey(conversationId)]);
    return parse<StoredConversation>(raw);
  }

  async listConversations(): Promise<StoredConversation[]> {
    const raws = await this.read([...this.conversations].map((id) => this.conversationKey(id)));
    return raws.map((raw) => parse<StoredConversation>(raw)).filter((c): c is StoredConversation => c !== undefined);
  }

  async putConversation(conversation: StoredConversation): Promise<void> {
    await this.write(this.conversationKey(conversation.conversationId), JSON.stringify(conversation));
    this.conversations.add(conversation.conversationId);
  }

  async putMessages(messages: readonly Message[]): Promise<Message[]> {
    const byChunk = new Map<string, { conversationId: string; chunk: number; messages: Message[] }>();
    for (const m of messages) {
      const chunk = Math.floor(m.seq / this.chunkSize);
      const key = this.chunkKey(m.conversationId, chunk);
      const group = byChunk.get(key) ?? { conversationId: m.conversationId, chunk, messages: [] };
      group.messages.push(m);
      byChunk.set(key, group);
    }
    const written = new Set<Message>();
    await Promise.all(
      [...byChunk].map(([key, group]) =>
        this.locked(key, async () => {
          const stored = await this.readChunk(key);
          const bySeq = new Map(stored.map((m) => [m.seq, m]));
          let changed = false;
          for (const m of group.messages) {
            if (!replaces(m, bySeq.get(m.seq))) continue;
            bySeq.set(m.seq, m);
            written.add(m);
            changed = true;
          }
          if (!changed) return;
          await this.write(key, JSON.stringify([...bySeq.values()].sort((a, b) => a.seq - b.seq)));
          this.chunkSet(group.conversationId).add(group.chunk);
        }),
      ),
    );
    return messages.filter((m) => written.has(m));
  }

  async deleteMessages(conversationId: string, seqs: readonly number[]): Promise<void> {
    const byChunk = new Map<number, Set<number>>();
    for (const seq of seqs) {
      const chunk = Math.floor(seq / this.chunkSize);
      if (!this.chunks.get(conversationId)?.has(chunk)) continue;
      byChunk.set(chunk, (byChunk.get(chunk) ?? new Set()).add(seq));
    }
    await Promise.all(
      [...byChunk].map(([chunk, drop]) => {
        const key = this.chunkKey(conversationId, chunk);
        return this.locked(key, async () => {
          const stored = await this.readChunk(key);
          const kept = stored.filter((m) => !drop.has(m.seq));
          if (kept.length === stored.length) return;
          await this.write(key, kept.length ? JSON.stringify(kept) : null);
          if (!kept.length) this.chunks.get(conversationId)?.delete(chunk);
        });
      }),
    );
  }

  async getMessage(conversationId: string, seq: number): Promise<Message | undefined> {
    const chunk = Math.floor(seq / this.chunkSize);
    if (!this.chunks.get(conversationId)?.has(chunk)) return undefined;
    return (await this.readChunk(this.chunkKey(conversationId, chunk))).find((m) => m.seq === seq);
  }

  async listMessages(conversationId: string, range: MessageRange = {}): Promise<Message[]> {
    const { beforeSeq = Number.MAX_SAFE_INTEGER, afterSeq = 0, limit = 50 } = range;
    if (beforeSeq - afterSeq <= 1 || limit <= 0) return [];
    const low = Math.floor((afterSeq + 1) / this.chunkSize);
    const high = Math.floor((beforeSeq - 1) / this.chunkSize);
    // Newest chunk first, until the page is full: a page of history is a read or two.
    const candidates = [...(this.chunks.get(conversationId) ?? [])].filter((c) => c >= low && c <= high).sort((a, b) => b - a);
    const out: Message[] = [];
    for (const chunk of candidates) {
      const inRange = (await this.readChunk(this.chunkKey(conversationId, chunk))).filter((m) => m.seq > afterSeq && m.seq < beforeSeq);
      out.push(...inRange.reverse());
      if (out.length >= limit) break;
    }
    return out.slice(0, limit).reverse();
  }

  async putOutgoing(message: OutgoingMessage): Promise<void> {
    await this.write(this.outgoingKey(message.clientMsgId), JSON.stringify(message));
    this.outgoing.add(message.clientMsgId);
  }

  async deleteOutgoing(clientMsgId: string): Promise<void> {
    if (!this.outgoing.has(clientMsgId)) return;
    await this.write(this.outgoingKey(clientMsgId), null);
    this.outgoing.delete(clientMsgId);
  }

  async listOutgoing(conversationId?: string): Promise<OutgoingMessage[]> {
    const raws = await this.read([...this.outgoing].map((id) => this.outgoingKey(id)));
    return raws
      .map((raw) => parse<OutgoingMessage>(raw))
      .filter((m): m is OutgoingMessage => m !== undefined && (conversationId === undefined || m.conversationId === conversationId))
      .sort(byCreatedAt);
  }

  async clear(): Promise<void> {
    const mine = (await this.storage.getAllKeys()).filter((k) => k.startsWith(this.prefix));
    const kind = (k: string) => k.slice(this.prefix.length, this.prefix.length + 2);
    // Outgoing messages first, so a crash half way never leaves a message to be sent after a logout; then the rest.
    for (const keys of [mine.filter((k) => kind(k) === OUTGOING), mine.filter((k) => kind(k) !== OUTGOING)]) {
      for (const k of keys) {
        this.cache.delete(k);
        this.inflight.delete(k);
        this.versions.set(k, (this.versions.get(k) ?? 0) + 1);
      }
      if (!keys.length) continue;
      if (this.storage.multiRemove) await this.storage.multiRemove(keys);
      else for (const k of keys) await this.storage.removeItem(k);
    }
    this.conversations.clear();
    this.chunks.clear();
    this.outgoing.clear();
    this.cache.clear();
  }

  async close(): Promise<void> {
    await Promise.all([...this.locks.values()]);
  }
}

/** A stored value, or undefined when absent or not JSON (a value written by something else is ignored, not fatal). */
function parse<T>(raw: string | null): T | undefined {
  if (raw === null) return undefined;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return undefined;
  }
}
