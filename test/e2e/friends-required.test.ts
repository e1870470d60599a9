/**
 * A deployment with REQUIRE_FRIENDSHIP: one-to-one messages need the sender's side of a
 * friendship. Its own file, because runtime settings are process-wide environment
 * variables.
 */
import { describe, expect, it } from 'vitest';
import { Device, syncConversation } from '../support/cirrus';
import { admin, device, text, token, useCirrus } from '../support/harness';
import { singleConversationId } from '../../core/domain/ids';

/** A user's device and the token it connected with. */
async function user(userId: string): Promise<{ device: Device; token: string }> {
  return { device: await device(userId), token: await token(userId) };
}

async function hasConversation(d: Device, conversationId: string): Promise<boolean> {
  const newest = await d.ok('getNewestSeq', {});
  return newest.conversations.some((c: { conversationId: string }) => c.conversationId === conversationId);
}

useCirrus({ settings: { requireFriendship: true } });

describe('when friendship is required', () => {
  it('refuses a message between non-friends with NOT_FRIENDS and stores nothing; once friends, both directions work; after unfriending, refused again', async () => {
    await admin.register('rq-amy', 'rq-ben');
    const amy = await user('rq-amy');
    const ben = await user('rq-ben');
    const conversationId = singleConversationId('rq-amy', 'rq-ben');

    const refused = await amy.device.request('sendMsg', { clientMsgId: 'before', recvId: 'rq-ben', ...text('hello stranger') });

    expect(refused.error).toMatchObject({ code: 1303, reason: 'NOT_FRIENDS' });
    expect(await hasConversation(amy.device, conversationId)).toBe(false);
    expect(await hasConversation(ben.device, conversationId)).toBe(false);

    const sent = await admin.call('POST', '/users/rq-amy/friend-requests', { toUserId: 'rq-ben', message: 'hi' }, amy.token);
    expect(sent.status).toBe(200);
    // A pending request is not a friendship.
    expect((await amy.device.request('sendMsg', { clientMsgId: 'pending', recvId: 'rq-ben', ...text('still no') })).error?.reason).toBe('NOT_FRIENDS');
    const accepted = await admin.call('POST', '/users/rq-ben/friend-requests/rq-amy/accept', {}, ben.token);
    expect(accepted.status).toBe(200);

    const first = await amy.device.ok('sendMsg', { clientMsgId: 'after', recvId: 'rq-ben', ...text('hello friend') });
    const reply = await ben.device.ok('sendMsg', { clientMsgId: 'reply', recvId: 'rq-amy', ...text('hello back') });

    expect(first).toMatchObject({ conversationId, seq: 1 });
    expect(reply).toMatchObject({ conversationId, seq: 2 });
    const pushed = await ben.device.until(() => ben.device.pushes.find((p) => p.conversationId === conversationId), 15_000, "Amy's message");
    expect(pushed.content).toEqual({ text: 'hello friend' });
    expect((await syncConversation(amy.device, conversationId, 2)).messages.map((m) => m.content)).toEqual([{ text: 'hello friend' }, { text: 'hello back' }]);

    expect((await admin.call('DELETE', '/users/rq-amy/friends/rq-ben', undefined, amy.token)).status).toBe(200);
    for (const [from, to] of [
      [amy, 'rq-ben'],
      [ben, 'rq-amy'],
    ] as const) {
      const again = await from.device.request('sendMsg', { clientMsgId: `gone-${to}`, recvId: to, ...text('are we still friends?') });
      expect(again.error?.reason).toBe('NOT_FRIENDS');
    }
    expect((await syncConversation(ben.device, conversationId, 2)).messages).toHaveLength(2);
  });

  it('lets friends made by an admin import message each other, and still lets the system notify anyone', async () => {
    await admin.register('rq-cat', 'rq-dov', 'rq-eve');
    const cat = await user('rq-cat');
    expect((await admin.call('POST', '/friends/import', { userId: 'rq-cat', friendUserIds: ['rq-dov'] })).status).toBe(200);

    const ack = await cat.device.ok('sendMsg', { clientMsgId: 'imported', recvId: 'rq-dov', ...text('hi dov') });
    const toEve = await cat.device.request('sendMsg', { clientMsgId: 'eve', recvId: 'rq-eve', ...text('hi eve') });

    expect(ack.conversationId).toBe(singleConversationId('rq-cat', 'rq-dov'));
    expect(toEve.error?.reason).toBe('NOT_FRIENDS');
    // The friendAdded notification reached Cat although `system` is nobody's friend.
    const notice = await cat.device.until(() => cat.device.pushes.find((p) => p.contentType === 1204), 15_000, 'friendAdded');
    expect(notice.conversationId).toBe('n_rq-cat');
  });
});
