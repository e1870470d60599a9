/**
 * Reading a Cirrus user token on the client: `base64url(claims).signature`. The SDK only
 * reads the claims (who, which platform, until when) to know the user without an extra
 * option and to refresh before expiry; it never checks the signature (the server does).
 */

export interface TokenClaims {
  /** The user id. */
  userId: string;
  /** The platform id the token was issued for. */
  platformId: number;
  /** Expiry, ms since the epoch. */
  expiresAt: number;
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * base64url → UTF-8 text without `atob` or `TextDecoder` (React Native's Hermes has neither
 * in older releases, and no `TextDecoder` in any); throws on anything else.
 */
function base64UrlDecode(text: string): string {
  const bytes: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of text.replace(/=+$/, '')) {
    const digit = BASE64URL.indexOf(ch === '+' ? '-' : ch === '/' ? '_' : ch);
    if (digit < 0) throw new Error('not base64url');
    value = ((value << 6) | digit) & 0xffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((value >> bits) & 0xff);
    }
  }
  // decodeURIComponent is a strict UTF-8 decoder: malformed sequences throw.
  return decodeURIComponent(bytes.map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''));
}

/**
 * The claims of a user token, or undefined when it is not one (malformed, or an admin token).
 *
 * @example
 * const { userId, expiresAt } = readToken(token)!;
 */
export function readToken(token: string): TokenClaims | undefined {
  const [payload] = token.split('.');
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(base64UrlDecode(payload)) as { kind?: unknown; sub?: unknown; plt?: unknown; exp?: unknown };
    if (claims.kind !== 'user' || typeof claims.sub !== 'string' || typeof claims.plt !== 'number' || typeof claims.exp !== 'number') return undefined;
    return { userId: claims.sub, platformId: claims.plt, expiresAt: claims.exp * 1000 };
  } catch {
    return undefined;
  }
}
