/**
 * Review findings on the admin operations: bad input answered with a clear error (never a
 * 500), and what a retry after a partial failure must still do.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../support/cirrus';
import { admin, as, useCirrus } from '../support/harness';
import { startWebhookReceiver } from '../support/webhook-receiver';
import { faults } from '../../core/faults';
import { singleConversationId, SYSTEM_SENDER } from '../../core/domain/ids';

const hooks = await startWebhookReceiver();
afterAll(() => hooks.close());
afterEach(() => faults.clear());

useCirrus({
  settings: { webhooks: { url: hooks.url, signingSecret: 'review-secret', timeoutMs: 1000, callbacks: { afterRevokeMessage: { enabled: true } } } },
  queueOverrides: { webhook: { visibilityTimeoutSeconds: 1, maxReceiveCount: 3 } },
});

describe('times beyond what the history can store', () => {
  it('purge before a far-future time is not a 500', async () => {
    expect((await admin.call('POST', '/users/register', { users: [{ userId: 'rv-a' }, { userId: 'rv-b' }] })).status).toBe(200);
    expect((await admin.call('POST', '/messages', { sendId: 'rv-a', recvId: 'rv-b', contentType: 101, content: { text: 'hi' } })).status).toBe(200);
    const conv = singleConversationId('rv-a', 'rv-b');
    for (const before of [Number.MAX_SAFE_INTEGER, 300_000_000_000_000]) {
      const res = await admin.call('POST', `/admin/conversations/${conv}/messages/purge`, { before });
      expect(res.status, JSON.stringify(res.body)).toBeLessThan(500);
    }
  });

  it('the moderation search with far-future times is not a 500', async () => {
    for (const q of [`to=${Number.MAX_SAFE_INTEGER}`, `from=300000000000000`, `from=0&to=300000000000000`]) {
      const res = await admin.call('GET', `/admin/messages/search?${q}`);
      expect(res.status, `${q}: ${JSON.stringify(res.body)}`).toBeLessThan(500);
    }
  });
});

describe('after-callbacks of a change retried after a partial failure', () => {
  it('a revoke whose announcement failed still makes afterRevokeMessage when retried', async () => {
    expect((await admin.call('POST', '/users/register', { users: [{ userId: 'rk-a' }, { userId: 'rk-b' }] })).status).toBe(200);
    const sent = await admin.call('POST', '/messages', { sendId: 'rk-a', recvId: 'rk-b', contentType: 101, content: { text: 'oops' }, clientMsgId: 'rk-1' });
    expect(sent.status).toBe(200);
    const { conversationId, seq } = sent.body;
    // The revoke is stored, then its notification fails (a queue or table error): the caller gets an error and retries.
    let left = 1;
    faults.arm('send.afterAllocate', (d) => {
      if (d.conversationId === conversationId && left-- > 0) throw new Error('Injected fault while announcing the revoke');
    });
    const first = await as('rk-a', 'POST', `/conversations/${conversationId}/messages/${seq}/revoke`);
    expect(first.status).toBe(500);
    const retry = await as('rk-a', 'POST', `/conversations/${conversationId}/messages/${seq}/revoke`);
    expect(retry.status, JSON.stringify(retry.body)).toBe(200);
    const calls = await eventually(async () => {
      const c = hooks.calls('afterRevokeMessage', (d) => d.message.conversationId === conversationId && d.message.seq === seq);
      return c.length > 0 && c;
    }, 10_000);
    expect(calls[0].body.data).toMatchObject({ revokedBy: 'rk-a', message: { senderId: 'rk-a', content: null } });
    expect(SYSTEM_SENDER).toBe('system');
  });
});
