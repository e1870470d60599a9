/**
 * React Native: the SDK's local store in MMKV (`react-native-mmkv`), whose synchronous API
 * is wrapped into the `KeyValueStorage` the SDK takes.
 *
 * @example
 * import { MMKV } from 'react-native-mmkv';
 * const store = await createKeyValueStore(mmkvStorage(new MMKV({ id: 'cirrus' })), { prefix: `cirrus:${userId}:` });
 */
import type { KeyValueStorage } from '@cirrus-im/sdk';

/** The methods of an `MMKV` instance the adapter uses. */
export interface MmkvLike {
  getString(key: string): string | undefined;
  set(key: string, value: string): void;
  delete(key: string): void;
  getAllKeys(): string[];
}

export function mmkvStorage(mmkv: MmkvLike): KeyValueStorage {
  return {
    getItem: async (key) => mmkv.getString(key) ?? null,
    setItem: async (key, value) => mmkv.set(key, value),
    removeItem: async (key) => mmkv.delete(key),
    getAllKeys: async () => mmkv.getAllKeys(),
    multiGet: async (keys) => keys.map((key) => [key, mmkv.getString(key) ?? null] as const),
    multiRemove: async (keys) => {
      for (const key of keys) mmkv.delete(key);
    },
  };
}
