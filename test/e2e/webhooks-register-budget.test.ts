/**
 * `beforeUserRegister` on a large registration: one HTTP call registering hundreds of users
 * may spend REGISTER_CALLBACK_BUDGET_MS asking the app backend (the HTTP function has 15 s).
 * Users it could not ask in time count as a failure of the callback: registered unchanged
 * under the open policy, refused with APP_UNAVAILABLE (to retry) under the closed one.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { admin, useCirrus } from '../support/harness';
import { startWebhookReceiver } from '../support/webhook-receiver';
import { validateWebhookSettings, webhookEnv } from '../../core/webhooks/settings';

/** A call is only started while a full timeout still fits in the budget: (8 s − 1 s) / 250 ms × 16 ≈ 450 users at most. */
const TIMEOUT_MS = 1000;
/** Each answer is slow, though well within the timeout (a busy machine stretches it). */
const ANSWER_DELAY_MS = 250;
const USERS = 700;
const hooks = await startWebhookReceiver();
hooks.answers.beforeUserRegister = () => ({ json: { action: 'allow' }, delayMs: ANSWER_DELAY_MS });

const callbacks = (failurePolicy: 'open' | 'closed') => ({ beforeUserRegister: { enabled: true, failurePolicy } });
useCirrus({ settings: { webhooks: { url: hooks.url, signingSecret: 'budget-secret', timeoutMs: TIMEOUT_MS, callbacks: callbacks('open') } } });
afterAll(() => hooks.close());

function usePolicy(failurePolicy: 'open' | 'closed'): void {
  Object.assign(process.env, webhookEnv(validateWebhookSettings({ url: hooks.url, timeoutMs: TIMEOUT_MS, callbacks: callbacks(failurePolicy) })));
}

const asked = (prefix: string) => new Set(hooks.calls('beforeUserRegister', (d) => String(d.userId).startsWith(prefix)).map((r) => r.body.data.userId as string));
const ids = (prefix: string) => Array.from({ length: USERS }, (_, i) => `${prefix}${i}`);

describe('beforeUserRegister within one request', () => {
  it('open policy: asks as many as fit in the budget and registers everyone', async () => {
    usePolicy('open');
    const res = await admin.call('POST', '/users/register', { users: ids('bo-').map((userId) => ({ userId })) });
    expect(res.status).toBe(200);
    expect(res.body.results.filter((r: { ok: boolean }) => r.ok)).toHaveLength(USERS);
    const n = asked('bo-').size;
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(USERS);
    const found = await admin.call('POST', '/users/check', { userIds: ids('bo-').slice(-100) });
    expect(found.body.results.every((r: { registered: boolean }) => r.registered)).toBe(true);
  });

  it('closed policy: the users not asked in time are refused with APP_UNAVAILABLE, and a retry of them registers them', async () => {
    usePolicy('closed');
    const res = await admin.call('POST', '/users/register', { users: ids('bc-').map((userId) => ({ userId })) });
    expect(res.status).toBe(200);
    const results = res.body.results as { userId: string; ok: boolean; error?: { reason: string } }[];
    const askedOnce = asked('bc-');
    const refused = results.filter((r) => !r.ok);
    expect(refused.length).toBeGreaterThan(0);
    // Every user never put to the app was refused, with APP_UNAVAILABLE (so were any whose answer came too late);
    // every one registered was asked and allowed.
    expect(askedOnce.size).toBeLessThan(USERS);
    const refusedIds = new Set(refused.map((r) => r.userId));
    expect(ids('bc-').filter((id) => !askedOnce.has(id) && !refusedIds.has(id))).toEqual([]);
    expect(refused.filter((r) => r.error?.reason !== 'APP_UNAVAILABLE')).toEqual([]);
    expect(results.filter((r) => r.ok && !askedOnce.has(r.userId))).toEqual([]);
    // Nothing of the refused ones was stored.
    const check = await admin.call('POST', '/users/check', { userIds: refused.slice(0, 100).map((r) => r.userId) });
    expect(check.body.results.some((r: { registered: boolean }) => r.registered)).toBe(false);

    // Few enough to be asked in time: the retry registers them all.
    const retry = await admin.call('POST', '/users/register', { users: refused.slice(0, 200).map((r) => ({ userId: r.userId })) });
    expect(retry.body.results.every((r: { ok: boolean }) => r.ok)).toBe(true);
  });
});
