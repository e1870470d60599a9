/**
 * An in-memory AsyncStorage: the API of `@react-native-async-storage/async-storage` (strings
 * only, every call async), with counters of what was read and written, and a way to make the
 * storage fail from the n-th write on, as an app killed between two writes would.
 */
import type { KeyValueStorage } from '../../../sdk/src/store/keyvalue';

export class FakeAsyncStorage implements KeyValueStorage {
  readonly data = new Map<string, string>();
  readonly writes: { key: string; bytes: number }[] = [];
  reads = 0;
  /** Writes allowed before every further write throws (the app is "killed"). */
  failAfterWrites = Infinity;

  constructor(private readonly options: { multi?: boolean } = {}) {
    if (options.multi === false) {
      // The optional batch methods are absent: the store must do with the four required ones.
      (this as { multiGet?: unknown }).multiGet = undefined;
      (this as { multiRemove?: unknown }).multiRemove = undefined;
    }
  }

  private async tick(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  private written(key: string, bytes: number): void {
    if (this.writes.length >= this.failAfterWrites) throw new Error('storage unavailable: the app was killed');
    this.writes.push({ key, bytes });
  }

  async getItem(key: string): Promise<string | null> {
    await this.tick();
    this.reads++;
    return this.data.get(key) ?? null;
  }

  async setItem(key: string, value: string): Promise<void> {
    if (typeof value !== 'string') throw new Error(`AsyncStorage stores strings; got ${typeof value} for ${key}`);
    await this.tick();
    this.written(key, value.length);
    this.data.set(key, value);
  }

  async removeItem(key: string): Promise<void> {
    await this.tick();
    this.written(key, 0);
    this.data.delete(key);
  }

  async getAllKeys(): Promise<readonly string[]> {
    await this.tick();
    return [...this.data.keys()];
  }

  async multiGet(keys: readonly string[]): Promise<readonly [string, string | null][]> {
    await this.tick();
    this.reads++;
    return keys.map((k) => [k, this.data.get(k) ?? null]);
  }

  async multiRemove(keys: readonly string[]): Promise<void> {
    await this.tick();
    for (const k of keys) {
      this.written(k, 0);
      this.data.delete(k);
    }
  }
}
