/** The key-package directory is rate-limited per caller like every HTTP route: claims cannot drain a user's key packages at will. */
import { describe, expect, it } from 'vitest';
import { admin, as, useCirrus } from '../support/harness';
import { generateKeyPackage, newSignatureKeys } from '../../sdk/src/e2ee/mls';

useCirrus({ settings: { limits: { http: { perSecond: 1, burst: 3 } } } });

describe('claiming key packages', () => {
  it('is THROTTLED past the per-caller limit, and what was refused was not handed out', async () => {
    await admin.register('kl-a', 'kl-b');
    const keys = await newSignatureKeys();
    const kps = await Promise.all(Array.from({ length: 6 }, async () => (await generateKeyPackage('kl-a', 'd1', keys)).b64));
    expect((await as('kl-a', 'PUT', '/users/kl-a/e2ee/devices/d1', { keyPackages: kps.slice(1), lastResort: kps[0] })).status).toBe(200);
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await as('kl-b', 'POST', '/users/kl-a/e2ee/key-packages/claim', {}));
    const throttled = results.filter((r) => r.status === 429);
    expect(throttled.length).toBeGreaterThan(0);
    expect(throttled[0]!.body.error.reason).toBe('THROTTLED');
    const handed = results.filter((r) => r.status === 200).length;
    expect((await as('@admin', 'GET', '/users/kl-a/e2ee/devices')).status).toBe(200);
    const left = await as('kl-a', 'GET', '/users/kl-a/e2ee/devices');
    expect(left.body.devices[0].keyPackages).toBe(5 - handed);
  });
});
