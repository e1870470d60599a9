/**
 * `$connect` and afterUserOnline: the callback is queued only once the connection is
 * accepted. A `$connect` that fails (the login policy's kicks erroring) rejects the upgrade,
 * and API Gateway never runs `$disconnect` for it: an afterUserOnline queued before would
 * never be followed by afterUserOffline.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';

const calls: string[] = [];
let policyFails = false;

vi.mock('../../core/store/connections', () => ({
  connections: { put: vi.fn(async () => void calls.push('put')) },
}));
vi.mock('../../core/services/login', () => ({
  enforceLoginPolicy: vi.fn(async () => {
    calls.push('policy');
    if (policyFails) throw new Error('DynamoDB unavailable');
    return [];
  }),
}));
vi.mock('../../core/webhooks/after', () => ({
  notifyAfter: vi.fn(async (name: string) => void calls.push(name)),
}));

const { handler } = await import('../../functions/ws-connect');

const event = { requestContext: { routeKey: '$connect', connectionId: 'conn-1', connectedAt: 1_700_000_000_000, authorizer: { userId: 'alice', platformId: 5, sessionId: 's1' } } };

describe('$connect', () => {
  beforeEach(() => {
    calls.length = 0;
    policyFails = false;
  });

  it('queues afterUserOnline for an accepted connection', async () => {
    expect(await handler(event)).toEqual({ statusCode: 200 });
    expect(calls).toContain('afterUserOnline');
  });

  it('queues no afterUserOnline when the connect fails', async () => {
    policyFails = true;
    await expect(handler(event)).rejects.toThrow('DynamoDB unavailable');
    expect(calls).not.toContain('afterUserOnline');
  });
});
