import { describe, expect, it } from 'vitest';
import { issueToken, verifyToken } from '../../core/auth/tokens';
import { CirrusError } from '../../core/errors';

const key = 'k'.repeat(64);
const claims = { kind: 'user' as const, sub: 'alice', plt: 5, sid: 's1', iat: 1000, exp: 2000 };

const reasonOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return (err as CirrusError).reason;
  }
  return 'no error';
};

describe('tokens', () => {
  it('round-trips the claims of a valid token', () => {
    expect(verifyToken(issueToken(claims, key), key, 1500)).toEqual(claims);
  });

  it('rejects a token signed with another key as TOKEN_INVALID', () => {
    expect(reasonOf(() => verifyToken(issueToken(claims, 'other'), key, 1500))).toBe('TOKEN_INVALID');
  });

  it('rejects a token whose claims were altered as TOKEN_INVALID', () => {
    const [, sig] = issueToken(claims, key).split('.');
    const altered = Buffer.from(JSON.stringify({ ...claims, sub: 'mallory' })).toString('base64url');
    expect(reasonOf(() => verifyToken(`${altered}.${sig}`, key, 1500))).toBe('TOKEN_INVALID');
  });

  it('rejects an expired token as TOKEN_EXPIRED', () => {
    expect(reasonOf(() => verifyToken(issueToken(claims, key), key, 2000))).toBe('TOKEN_EXPIRED');
  });

  it('rejects garbage as TOKEN_INVALID', () => {
    for (const t of ['', 'abc', 'a.b.c', '.', 'x.y']) expect(reasonOf(() => verifyToken(t, key, 1500))).toBe('TOKEN_INVALID');
  });
});
