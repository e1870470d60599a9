/**
 * Review findings on the admin operations: bad input answered with a clear error (never a
 * 500), and what a retry after a partial failure must still do.
 */
import { describe, expect, it } from 'vitest';
import { admin, useCirrus } from '../support/harness';
import { singleConversationId } from '../../core/domain/ids';

useCirrus();

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
