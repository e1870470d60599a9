/**
 * Banning a user: every device is kicked and closed, every token stops working, no new
 * token is issued until the ban is lifted or expires; admins see the ban, others do not.
 */
import { describe, expect, it } from 'vitest';
import { Device, eventually, sleep } from '../support/cirrus';
import { admin, as, cirrus, device, text, useCirrus } from '../support/harness';

useCirrus();

const kicksOf = (d: Device) => d.frames.filter((f) => (f as { push?: string }).push === 'kicked') as { data: { reason: string } }[];

describe('banning a user', () => {
  it('kicks and closes every device, revokes every token, refuses new ones until lifted', async () => {
    await admin.register('bn-a', 'bn-b');
    const phone = await device('bn-a', 1);
    const web = await device('bn-a', 5);
    const oldToken = await admin.userToken('bn-a', 3);
    const b = await device('bn-b');

    const res = await admin.call('POST', '/users/bn-a/ban', { reason: 'spam' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ user: { userId: 'bn-a', banned: { reason: 'spam' } }, kicked: 2 });
    expect(res.body.revoked).toBeGreaterThanOrEqual(3);
    expect(res.body.user.banned.until).toBeUndefined();
    for (const d of [phone, web]) {
      await d.until(() => d.closed, 10_000, 'close');
      expect(kicksOf(d).map((k) => k.data.reason)).toEqual(['banned']);
    }

    // Old tokens: refused on HTTP and on connect. New tokens: refused with USER_BANNED.
    const http = await admin.call('GET', '/users/bn-a', undefined, oldToken);
    expect(http.status).toBe(401);
    expect(http.body.error.reason).toBe('TOKEN_REVOKED');
    await expect(Device.connect(cirrus.wsUrl, oldToken)).rejects.toMatchObject({ statusCode: 401 });
    const refused = await admin.call('POST', '/auth/user-token', { userId: 'bn-a', platformId: 5 });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ reason: 'USER_BANNED', code: 1109 });

    // Admins see the ban; other users and the user's profile for others do not.
    expect((await admin.call('GET', '/users/bn-a')).body.user.banned).toMatchObject({ reason: 'spam' });
    expect((await as('bn-b', 'GET', '/users/bn-a')).body.user.banned).toBeUndefined();
    // Others are not affected.
    expect((await b.request('heartbeat')).data).toBeDefined();

    const lifted = await admin.call('DELETE', '/users/bn-a/ban');
    expect(lifted.status).toBe(200);
    expect(lifted.body.user.banned).toBeUndefined();
    const back = await Device.connect(cirrus.wsUrl, await admin.userToken('bn-a', 5));
    await back.ok('sendMsg', { clientMsgId: 'back', recvId: 'bn-b', ...text('I am back') });
    await b.waitForPushes(1);
    await back.close();
    // The tokens revoked by the ban stay revoked.
    expect((await admin.call('GET', '/users/bn-a', undefined, oldToken)).status).toBe(401);
  });

  it('ends a timed ban by itself', async () => {
    await admin.register('bn-t');
    const res = await admin.call('POST', '/users/bn-t/ban', { durationSeconds: 1 });
    expect(res.body.user.banned.until - res.body.user.banned.at).toBe(1000);
    expect((await admin.call('POST', '/auth/user-token', { userId: 'bn-t', platformId: 5 })).body.error).toMatchObject({ reason: 'USER_BANNED' });
    await sleep(1100);
    await eventually(async () => (await admin.call('POST', '/auth/user-token', { userId: 'bn-t', platformId: 5 })).status === 200);
  });

  it('refuses unknown users, bad input and user tokens', async () => {
    await admin.register('bn-x');
    expect((await admin.call('POST', '/users/bn-nobody/ban', {})).body.error).toMatchObject({ reason: 'USER_NOT_FOUND' });
    expect((await admin.call('DELETE', '/users/bn-nobody/ban')).body.error).toMatchObject({ reason: 'USER_NOT_FOUND' });
    expect((await admin.call('POST', '/users/bn-x/ban', { reason: 'x'.repeat(257) })).body.error).toMatchObject({ reason: 'INVALID_ARGUMENT' });
    expect((await admin.call('POST', '/users/bn-x/ban', { durationSeconds: 0 })).body.error).toMatchObject({ reason: 'INVALID_ARGUMENT' });
    const self = await as('bn-x', 'POST', '/users/bn-x/ban', {});
    expect(self.status).toBe(403);
    expect(self.body.error.reason).toBe('ADMIN_REQUIRED');
    expect((await admin.call('GET', '/users/bn-x')).body.user.banned).toBeUndefined();
  });
});
