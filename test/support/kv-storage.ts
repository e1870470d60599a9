import type { KeyValueStorage } from '../../sdk/src/store/keyvalue';

/** A device's key-value storage in memory, open to the test (`m`): it outlives the E2ee that used it, as a restart after a crash opens the same. */
export class DeviceStorage implements KeyValueStorage {
  readonly m = new Map<string, string>();
  async getItem(k: string) {
    return this.m.get(k);
  }
  async setItem(k: string, v: string) {
    this.m.set(k, v);
  }
  async removeItem(k: string) {
    this.m.delete(k);
  }
  async getAllKeys() {
    return [...this.m.keys()];
  }
}
