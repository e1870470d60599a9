/**
 * Multi-device login policies (MULTI_LOGIN_POLICY): which of a user's connections a new
 * connection kicks. Settings are read from the environment on every invocation, so each
 * block sets the policy for its own tests and restores it after.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { admin, as, cirrus, useCirrus } from '../support/harness';
import { Device, sleep } from '../support/cirrus';
import type { LoginPolicy } from '../../core/domain/login-policy';

useCirrus();

interface Login {
  platformId: number;
  token: string;
  device: Device;
}

const open: Device[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((d) => d.close()));
});

/** A fresh token (its own session) and a device connected with it. */
async function login(userId: string, platformId: number): Promise<Login> {
  const token = await admin.userToken(userId, platformId);
  const device = await Device.connect(cirrus.wsUrl, token);
  open.push(device);
  return { platformId, token, device };
}

function withPolicy(policy: LoginPolicy): void {
  let before: string | undefined;
  beforeAll(() => {
    before = process.env.MULTI_LOGIN_POLICY;
    process.env.MULTI_LOGIN_POLICY = policy;
  });
  afterAll(() => {
    if (before === undefined) delete process.env.MULTI_LOGIN_POLICY;
    else process.env.MULTI_LOGIN_POLICY = before;
  });
}

const kickedFrames = (d: Device) => d.frames.filter((f) => (f as { push?: string }).push === 'kicked');

/** The kicked devices got exactly one `kicked` frame and were closed; their tokens are refused. */
async function expectKicked(logins: Login[], data: { reason: string; platformId?: number }): Promise<void> {
  for (const { device, token } of logins) {
    await device.until(() => device.closed, 5000, 'close');
    expect(kickedFrames(device)).toEqual([{ push: 'kicked', data }]);
    // Server-side close (DeleteConnection); the frame above arrived before it.
    expect(device.closed?.code).toBe(1000);
    await expect(Device.connect(cirrus.wsUrl, token)).rejects.toMatchObject({ statusCode: 401 });
  }
}

/** The devices are still connected, got no `kicked` frame and still answer. */
async function expectConnected(logins: Login[]): Promise<void> {
  for (const { device } of logins) {
    expect(device.closed).toBeUndefined();
    expect(kickedFrames(device)).toEqual([]);
    expect((await device.ok('heartbeat', {})).serverTime).toBeGreaterThan(0);
  }
}

async function onlinePlatforms(userId: string): Promise<{ platformId: number; connections: number }[]> {
  const res = await as('@admin', 'POST', '/users/online', { userIds: [userId] });
  expect(res.status).toBe(200);
  return res.body.results[0].platforms;
}

describe("policy 'multiple'", () => {
  withPolicy('multiple');

  it('never kicks: every device stays connected, even two on one platform', async () => {
    await admin.register('mona');
    const logins = [await login('mona', 1), await login('mona', 3), await login('mona', 5), await login('mona', 1)];
    await sleep(200);
    await expectConnected(logins);
    expect(await onlinePlatforms('mona')).toEqual([
      { platformId: 1, connections: 2 },
      { platformId: 3, connections: 1 },
      { platformId: 5, connections: 1 },
    ]);
  });
});

describe("policy 'onePerPlatform' (the default)", () => {
  withPolicy('onePerPlatform');

  it('kicks the connection on the same platform only, and revokes its token', async () => {
    await admin.register('pete');
    const ios = await login('pete', 1);
    const web = await login('pete', 5);
    const windows = await login('pete', 3);
    const ios2 = await login('pete', 1);

    await expectKicked([ios], { reason: 'loggedInElsewhere', platformId: 1 });
    await expectConnected([web, windows, ios2]);
    expect(await onlinePlatforms('pete')).toEqual([
      { platformId: 1, connections: 1 },
      { platformId: 3, connections: 1 },
      { platformId: 5, connections: 1 },
    ]);
  });

  it('is the default when the setting is absent', async () => {
    const before = process.env.MULTI_LOGIN_POLICY;
    delete process.env.MULTI_LOGIN_POLICY;
    try {
      await admin.register('dora');
      const first = await login('dora', 2);
      const other = await login('dora', 4);
      const second = await login('dora', 2);
      await expectKicked([first], { reason: 'loggedInElsewhere', platformId: 2 });
      await expectConnected([other, second]);
    } finally {
      if (before !== undefined) process.env.MULTI_LOGIN_POLICY = before;
    }
  });

  it('closes an older connection with the same token but keeps the token, which the new connection holds', async () => {
    await admin.register('sami');
    const token = await admin.userToken('sami', 5);
    const first = await Device.connect(cirrus.wsUrl, token);
    open.push(first);
    const second = await Device.connect(cirrus.wsUrl, token);
    open.push(second);

    await first.until(() => first.closed, 5000, 'close');
    expect(kickedFrames(first)).toEqual([{ push: 'kicked', data: { reason: 'loggedInElsewhere', platformId: 5 } }]);
    expect((await second.ok('heartbeat', {})).serverTime).toBeGreaterThan(0);
    expect(await onlinePlatforms('sami')).toEqual([{ platformId: 5, connections: 1 }]);
  });
});

describe("policy 'onePerClass'", () => {
  withPolicy('onePerClass');

  it('kicks the connections of the same class (mobile, pc, web, pad) only', async () => {
    await admin.register('cleo');
    const ios = await login('cleo', 1);
    const windows = await login('cleo', 3);
    const web = await login('cleo', 5);
    const ipad = await login('cleo', 9);
    const android = await login('cleo', 2); // mobile: kicks iOS

    await expectKicked([ios], { reason: 'loggedInElsewhere', platformId: 2 });
    await expectConnected([windows, web, ipad, android]);

    const linux = await login('cleo', 7); // pc: kicks Windows
    await expectKicked([windows], { reason: 'loggedInElsewhere', platformId: 7 });
    await expectConnected([web, ipad, android, linux]);
    expect(await onlinePlatforms('cleo')).toEqual([
      { platformId: 2, connections: 1 },
      { platformId: 5, connections: 1 },
      { platformId: 7, connections: 1 },
      { platformId: 9, connections: 1 },
    ]);
  });
});

describe("policy 'pcUnlimited'", () => {
  withPolicy('pcUnlimited');

  it('keeps every PC connection and at most one other', async () => {
    await admin.register('paul');
    const windows = await login('paul', 3);
    const mac = await login('paul', 4);
    const ios = await login('paul', 1);
    const linux = await login('paul', 7); // PC: kicks nobody
    await sleep(200);
    await expectConnected([windows, mac, ios, linux]);

    const web = await login('paul', 5); // non-PC: kicks iOS
    await expectKicked([ios], { reason: 'loggedInElsewhere', platformId: 5 });
    await expectConnected([windows, mac, linux, web]);
    expect(await onlinePlatforms('paul')).toEqual([
      { platformId: 3, connections: 1 },
      { platformId: 4, connections: 1 },
      { platformId: 5, connections: 1 },
      { platformId: 7, connections: 1 },
    ]);
  });
});

describe('force logout', () => {
  withPolicy('multiple');

  it("tells the platform's connections why with a kicked frame, then closes them", async () => {
    await admin.register('fern');
    const web = await login('fern', 5);
    const web2 = await login('fern', 5);
    const phone = await login('fern', 1);

    const res = await admin.call('POST', '/auth/force-logout', { userId: 'fern', platformId: 5 });

    expect(res.body).toEqual({ revoked: 2 });
    await expectKicked([web, web2], { reason: 'forcedLogout' });
    await expectConnected([phone]);
    expect(await onlinePlatforms('fern')).toEqual([{ platformId: 1, connections: 1 }]);
  });
});
