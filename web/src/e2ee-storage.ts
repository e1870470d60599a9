/** The demo's storage for encrypted conversations: the browser's localStorage as the SDK's KeyValueStorage. */
import type { KeyValueStorage } from '@cirrus-im/sdk';

export function localStorageKv(prefix: string): KeyValueStorage {
  return {
    async getItem(key) {
      return localStorage.getItem(prefix + key);
    },
    async setItem(key, value) {
      localStorage.setItem(prefix + key, value);
    },
    async removeItem(key) {
      localStorage.removeItem(prefix + key);
    },
    async getAllKeys() {
      const keys: string[] = [];
      for (let i = 0; i < localStorage.length; i++) {
        const k = localStorage.key(i);
        if (k?.startsWith(prefix)) keys.push(k.slice(prefix.length));
      }
      return keys;
    },
  };
}

/** This browser's device id for a user, kept across reloads. */
export function deviceIdFor(userId: string): string {
  const key = `cirrus-demo.device.${userId}`;
  let id = localStorage.getItem(key);
  if (!id) {
    id = `web-${crypto.randomUUID()}`;
    localStorage.setItem(key, id);
  }
  return id;
}
