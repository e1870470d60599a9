declare module 'http_ece' {
  import type { ECDH } from 'node:crypto';
  interface Params {
    version?: 'aes128gcm' | 'aesgcm' | 'aesgcm128';
    key?: string | Buffer;
    salt?: string | Buffer;
    keyid?: string | Buffer;
    dh?: string | Buffer;
    privateKey?: ECDH;
    authSecret?: string | Buffer;
    rs?: number;
  }
  export function decrypt(buffer: Buffer, params: Params): Buffer;
  export function encrypt(buffer: Buffer, params: Params): Buffer;
  const ece: { decrypt: typeof decrypt; encrypt: typeof encrypt };
  export default ece;
}
