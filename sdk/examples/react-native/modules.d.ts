/**
 * The parts of React Native libraries the example uses, as they declare them, so the example
 * type-checks in this repository without them installed. In an app, the real packages' types apply.
 */
declare module '@react-native-async-storage/async-storage' {
  const AsyncStorage: {
    getItem(key: string): Promise<string | null>;
    setItem(key: string, value: string): Promise<void>;
    removeItem(key: string): Promise<void>;
    getAllKeys(): Promise<readonly string[]>;
    multiGet(keys: readonly string[]): Promise<readonly [string, string | null][]>;
    multiRemove(keys: readonly string[]): Promise<void>;
  };
  export default AsyncStorage;
}
