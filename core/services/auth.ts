/** Tokens for admins and users, and the checks that accept them. */
import { timingSafeEqual, createHash } from 'node:crypto';
import { secretValue } from '../auth/secrets';
import { issueToken, verifyToken, type Claims, type UserClaims } from '../auth/tokens';
import { config } from '../config';
import { newId } from '../domain/ids';
import { CirrusError, type ErrorReason } from '../errors';
import { sessions } from '../store/sessions';
import { nowSeconds } from '../store/dynamo';

export const ADMIN_TOKEN_SECONDS = 12 * 3600;
export const DEFAULT_USER_TOKEN_SECONDS = 7 * 86400;

const signingKey = () => secretValue(config.signingSecretId());

/** Verifies a token and, for a user token, that its session is live. */
export async function authenticate(token: string | undefined): Promise<Claims> {
  if (!token) throw new CirrusError('TOKEN_MISSING');
  const claims = verifyToken(token, await signingKey());
  if (claims.kind === 'user' && !(await sessions.getActive(claims.sub, claims.sid))) throw new CirrusError('TOKEN_REVOKED');
  return claims;
}

export type ConnectionAuth = { ok: true; userId: string; platformId: number; sessionId: string } | { ok: false; reason: ErrorReason };

/** The `$connect` check: only user tokens open connections. */
export async function authorizeConnection(token: string | undefined): Promise<ConnectionAuth> {
  try {
    const claims = await authenticate(token);
    if (claims.kind !== 'user') return { ok: false, reason: 'FORBIDDEN' };
    return { ok: true, userId: claims.sub, platformId: claims.plt, sessionId: claims.sid };
  } catch (err) {
    if (err instanceof CirrusError) return { ok: false, reason: err.reason };
    throw err;
  }
}

export async function issueAdminToken(secret: string): Promise<{ token: string; expiresAt: number }> {
  const expected = await secretValue(config.adminSecretId());
  // Compare digests so the comparison takes the same time whatever the input length.
  const a = createHash('sha256').update(secret).digest();
  const b = createHash('sha256').update(expected).digest();
  if (!timingSafeEqual(a, b)) throw new CirrusError('ADMIN_SECRET_INVALID');
  const iat = nowSeconds();
  const exp = iat + ADMIN_TOKEN_SECONDS;
  return { token: issueToken({ kind: 'admin', sub: 'admin', iat, exp }, await signingKey()), expiresAt: exp };
}

export async function issueUserToken(userId: string, platformId: number, expireSeconds = DEFAULT_USER_TOKEN_SECONDS): Promise<{ token: string; expiresAt: number; sessionId: string }> {
  const iat = nowSeconds();
  const exp = iat + expireSeconds;
  const sessionId = newId();
  await sessions.put({ userId, sessionId, platformId, createdAt: iat, expiresAt: exp });
  const claims: UserClaims = { kind: 'user', sub: userId, plt: platformId, sid: sessionId, iat, exp };
  return { token: issueToken(claims, await signingKey()), expiresAt: exp, sessionId };
}
