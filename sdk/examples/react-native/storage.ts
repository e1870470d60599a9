/**
 * React Native: the SDK's local store in AsyncStorage, one prefix per user, and a stable id
 * for this installation (the `deviceId` a push token is registered under).
 *
 * `@react-native-async-storage/async-storage` fits `KeyValueStorage` as it is; so does
 * `expo-sqlite/kv-store` (AsyncStorage's API on SQLite) or any storage with the same methods.
 */
import AsyncStorage from '@react-native-async-storage/async-storage';
import { CirrusClient, createKeyValueStore, newClientMsgId, readToken, type CirrusClientOptions } from '@cirrus-im/sdk';

/** Opens the signed-in user's client on their store in AsyncStorage (history shows before the first connect). */
export async function openCirrus(options: Omit<CirrusClientOptions, 'store'>): Promise<CirrusClient> {
  const userId = readToken(options.token)?.userId;
  if (!userId) throw new Error('Not a Cirrus user token');
  const store = await createKeyValueStore(AsyncStorage, { prefix: `cirrus:${userId}:` });
  return CirrusClient.create({ ...options, store });
}

/** Signs out: the user's store is emptied, so the next user of the phone starts clean. */
export async function signOut(client: CirrusClient): Promise<void> {
  await client.store.clear();
  await client.close();
}

const INSTALLATION_KEY = 'cirrus:installationId';

/** A random id kept for as long as the app is installed: the deviceId of this phone's push registration. */
export async function installationId(): Promise<string> {
  const known = await AsyncStorage.getItem(INSTALLATION_KEY);
  if (known) return known;
  const id = newClientMsgId();
  await AsyncStorage.setItem(INSTALLATION_KEY, id);
  return id;
}
