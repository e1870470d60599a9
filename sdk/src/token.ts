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

function base64UrlDecode(text: string): string {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  const binary = atob(base64);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
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
