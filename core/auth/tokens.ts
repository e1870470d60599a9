/**
 * Cirrus tokens: `base64url(claims).base64url(HMAC-SHA256(claims))`, signed with the
 * deployment's signing key. A user token also names a session item, so it can be
 * revoked before it expires (force logout); admin tokens are short-lived instead.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { CirrusError } from '../errors';

export interface UserClaims {
  kind: 'user';
  sub: string;
  plt: number;
  sid: string;
  iat: number;
  exp: number;
}

export interface AdminClaims {
  kind: 'admin';
  sub: 'admin';
  /** The operator's name given when the token was issued (the audit log's actor). */
  name?: string;
  /** The token's own id, recorded with each audited action it takes. */
  jti?: string;
  iat: number;
  exp: number;
}

export type Claims = UserClaims | AdminClaims;

function sign(payload: string, key: string): string {
  return createHmac('sha256', key).update(payload).digest('base64url');
}

export function issueToken(claims: Claims, key: string): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${payload}.${sign(payload, key)}`;
}

/** Verifies signature and expiry; throws TOKEN_INVALID or TOKEN_EXPIRED. */
export function verifyToken(token: string, key: string, nowSeconds = Math.floor(Date.now() / 1000)): Claims {
  const parts = token.split('.');
  if (parts.length !== 2 || !parts[0] || !parts[1]) throw new CirrusError('TOKEN_INVALID');
  const [payload, signature] = parts;
  const expected = Buffer.from(sign(payload, key));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw new CirrusError('TOKEN_INVALID');
  let claims: Claims;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw new CirrusError('TOKEN_INVALID');
  }
  if (typeof claims?.exp !== 'number' || (claims.kind !== 'user' && claims.kind !== 'admin')) throw new CirrusError('TOKEN_INVALID');
  if (claims.exp <= nowSeconds) throw new CirrusError('TOKEN_EXPIRED');
  return claims;
}
