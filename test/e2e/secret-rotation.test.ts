/**
 * Rotating the signing key and the admin secret with `PutParameter --overwrite` on their
 * SecureString parameters while the local runtime runs, as an operator does on AWS: warm functions keep a fetched secret for at
 * most 5 minutes, fetch it again (at most once per 10 seconds) when a token does not verify
 * with it, and sign new tokens and check the admin secret with a value at most 10 seconds
 * old. The clock is moved forward (Date only; timers run in real time) to cross those ages.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { randomBytes } from 'node:crypto';
import { admin, cirrus, useCirrus } from '../support/harness';
import { awsRequests } from '../../core/aws/accounting';
import { REFRESH_INTERVAL_MS, SECRET_TTL_MS } from '../../core/auth/secrets';
import { issueToken } from '../../core/auth/tokens';

useCirrus();

let secrets: SSMClient;
const newKey = () => randomBytes(48).toString('base64url');

beforeAll(async () => {
  secrets = new SSMClient({ endpoint: cirrus.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  await admin.register('sr-ann');
});

afterAll(() => {
  secrets?.destroy();
  vi.useRealTimers();
});

/** Moves the clock `ms` forward; it keeps running from there (and never goes back: the caches hold fetch times). */
function advance(ms: number): void {
  const now = Date.now();
  if (!vi.isFakeTimers()) vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
  vi.setSystemTime(now + ms);
}

const put = (name: string, value: string) => secrets.send(new PutParameterCommand({ Name: name, Value: value, Overwrite: true }));
const reason = (res: { status: number; body: any }) => `${res.status} ${res.body?.error?.reason ?? ''}`.trim();
const asToken = (token: string) => admin.call('GET', '/users/sr-ann/conversations', undefined, token);
const adminToken = async (secret: string) => admin.call<{ token: string }>('POST', '/auth/admin-token', { secret }, null);
/** A user token issued now, by an admin token issued now. */
async function userToken(userId: string): Promise<string> {
  const res = await admin.call<{ token: string }>('POST', '/auth/user-token', { userId, platformId: 5 }, (await adminToken(cirrus.adminSecret)).body.token);
  expect(res.status).toBe(200);
  return res.body.token;
}

describe('rotating the signing key', () => {
  it('accepts a token signed with the new key at once, and then refuses every token signed with the old one', async () => {
    // Prepare
    const oldUser = await userToken('sr-ann');
    const oldAdmin = (await adminToken(cirrus.adminSecret)).body.token;
    expect(reason(await asToken(oldUser))).toBe('200');
    const key = newKey();

    // Act: rotate; a token signed with the new key (as a container that fetched it issues) reaches this one.
    await put(process.env.SIGNING_SECRET_ID!, key);
    advance(REFRESH_INTERVAL_MS + 1000);
    const now = Math.floor(Date.now() / 1000);
    const fresh = issueToken({ kind: 'admin', sub: 'admin', iat: now, exp: now + 600 }, key);
    const withFresh = await asToken(fresh);
    const withOldUser = await asToken(oldUser);
    const withOldAdmin = await asToken(oldAdmin);
    const issued = await userToken('sr-ann');
    const withIssued = await asToken(issued);

    // Assess
    expect(reason(withFresh)).toBe('200');
    expect(reason(withOldUser)).toBe('401 TOKEN_INVALID');
    expect(reason(withOldAdmin)).toBe('401 TOKEN_INVALID');
    expect(reason(withIssued)).toBe('200');
  });

  it('refuses tokens signed with the old key once the cached key is 5 minutes old, with no token signed by the new key seen', async () => {
    // Prepare
    const before = await userToken('sr-ann');
    expect(reason(await asToken(before))).toBe('200');

    // Act
    await put(process.env.SIGNING_SECRET_ID!, newKey());
    const rightAfter = await asToken(before);
    advance(SECRET_TTL_MS + 1000);
    const later = await asToken(before);
    const signedNow = (await adminToken(cirrus.adminSecret)).body.token;

    // Assess: until the cached key expires, a warm function still knows only the old key.
    expect(reason(rightAfter)).toBe('200');
    expect(reason(later)).toBe('401 TOKEN_INVALID');
    expect(reason(await asToken(signedNow))).toBe('200');
  });

  it('fetches the key again at most once per 10 seconds however many bad tokens arrive', async () => {
    // Prepare
    advance(REFRESH_INTERVAL_MS + 1000);
    const forged = Array.from({ length: 20 }, (_, i) => issueToken({ kind: 'admin', sub: 'admin', iat: 0, exp: 4_000_000_000 + i }, newKey()));
    const before = awsRequests.snapshot();
    const started = Date.now();

    // Act
    const answers = await Promise.all(forged.map(asToken));
    for (const token of forged) await asToken(token);
    const elapsed = Date.now() - started;

    // Assess: one fetch, and one more per 10 seconds the 40 requests took on a slow machine.
    expect(answers.map(reason)).toEqual(forged.map(() => '401 TOKEN_INVALID'));
    const fetches = awsRequests.since(before)['SSM']?.GetParameter ?? 0;
    expect(fetches).toBeGreaterThanOrEqual(1);
    expect(fetches).toBeLessThanOrEqual(1 + Math.floor(elapsed / REFRESH_INTERVAL_MS));
  });
});

describe('rotating the admin secret', () => {
  it('refuses the old admin secret within 10 seconds and accepts the new one', async () => {
    // Prepare
    const oldSecret = cirrus.adminSecret;
    expect((await adminToken(oldSecret)).status).toBe(200);
    const newSecret = randomBytes(18).toString('base64url');

    // Act
    await put(process.env.ADMIN_SECRET_ID!, newSecret);
    advance(REFRESH_INTERVAL_MS + 1000);
    const withOld = await adminToken(oldSecret);
    const withNew = await adminToken(newSecret);
    const stored = await secrets.send(new GetParameterCommand({ Name: process.env.ADMIN_SECRET_ID!, WithDecryption: true }));

    // Assess
    expect(reason(withOld)).toBe('401 ADMIN_SECRET_INVALID');
    expect(withNew.status).toBe(200);
    expect(reason(await asToken(withNew.body.token))).toBe('200');
    expect(stored.Parameter?.Value).toBe(newSecret);
    expect(cirrus.adminSecret).toBe(newSecret);
  });
});
