/** Tokens for admins and users, and the checks that accept them. */
import { timingSafeEqual, createHash } from 'node:crypto';
import { recentSecretValue, secretValue } from '../auth/secrets';
import { issueToken, verifyToken, type Claims, type UserClaims } from '../auth/tokens';
import { config } from '../config';
import { newId } from '../domain/ids';
import { CirrusError, type ErrorReason } from '../errors';
import { sessions } from '../store/sessions';
import { nowSeconds } from '../store/dynamo';

export const ADMIN_TOKEN_SECONDS = 12 * 3600;
export const DEFAULT_USER_TOKEN_SECONDS = 7 * 86400;

/** The key tokens are verified with: the cached one (at most 5 minutes old). */
const signingKey = () => secretValue(config.signingSecretId());
/** The key new tokens are signed with: at most 10 seconds old, so none is signed with a key rotated out minutes ago. */
const currentSigningKey = () => recentSecretValue(config.signingSecretId());

/**
 * Verifies the token's signature and expiry. A signature that does not verify with the
 * cached key may be by a key rotated in since it was fetched: the key is fetched again (at
 * most once per 10 seconds) and, if it changed, the token checked against the new one.
 */
async function verifySigned(token: string): Promise<Claims> {
  const cached = await signingKey();
  try {
    return verifyToken(token, cached);
  } catch (err) {
    if (!(err instanceof CirrusError) || err.reason !== 'TOKEN_INVALID') throw err;
    const recent = await currentSigningKey();
    if (recent === cached) throw err;
    return verifyToken(token, recent);
  }
}

/** Verifies a token and, for a user token, that its session is live. */
export async function authenticate(token: string | undefined): Promise<Claims> {
  if (!token) throw new CirrusError('TOKEN_MISSING');
  const claims = await verifySigned(token);
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

/** An admin token for the holder of the admin secret, naming the operator (`name`) for the audit log. */
export async function issueAdminToken(secret: string, name?: string): Promise<{ token: string; expiresAt: number; tokenId: string }> {
  // At most 10 seconds old: a rotated admin secret stops working within seconds on every container.
  const expected = await recentSecretValue(config.adminSecretId());
  // Compare digests so the comparison takes the same time whatever the input length.
  const a = createHash('sha256').update(secret).digest();
  const b = createHash('sha256').update(expected).digest();
  if (!timingSafeEqual(a, b)) throw new CirrusError('ADMIN_SECRET_INVALID');
  const iat = nowSeconds();
  const exp = iat + ADMIN_TOKEN_SECONDS;
  const jti = newId();
  return { token: issueToken({ kind: 'admin', sub: 'admin', ...(name ? { name } : {}), jti, iat, exp }, await currentSigningKey()), expiresAt: exp, tokenId: jti };
}

export async function issueUserToken(userId: string, platformId: number, expireSeconds = DEFAULT_USER_TOKEN_SECONDS): Promise<{ token: string; expiresAt: number; sessionId: string }> {
  const iat = nowSeconds();
  const exp = iat + expireSeconds;
  const sessionId = newId();
  await sessions.put({ userId, sessionId, platformId, createdAt: iat, expiresAt: exp });
  const claims: UserClaims = { kind: 'user', sub: userId, plt: platformId, sid: sessionId, iat, exp };
  return { token: issueToken(claims, await currentSigningKey()), expiresAt: exp, sessionId };
}
