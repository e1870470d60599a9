/** Offline push of encrypted conversations: "New message" and nothing more, whatever the sender asks for. */
import { describe, expect, it } from 'vitest';
import { buildNotification, pushRecipientsOf, type PushMessage, type RecipientContext } from '../../core/offline-push/rules';

const base: PushMessage = {
  conversationId: 'si_alice_bob',
  seq: 3,
  serverMsgId: '0000018c0000abcdef0001',
  sessionType: 1,
  senderId: 'alice',
  recvId: 'bob',
  contentType: 150,
  content: { data: 'AAAA', epoch: 2 },
  sendTime: 0,
};
const ctx: RecipientContext = {
  target: { userId: 'bob', recvOpt: 0 },
  names: { user: (id) => ({ alice: 'Alice' })[id] ?? id, group: 'Climbers' },
  settings: { showPreview: true, mentionsBreakThrough: true },
  now: 0,
};

describe('offline push of encrypted content', () => {
  it('notifies every recipient of an application message with "New message", ignoring an offlinePush body or title', () => {
    expect(pushRecipientsOf(base)).toBe('all');
    const n = buildNotification({ ...base, offlinePush: { title: 'secret title', body: 'secret preview' } }, ctx);
    expect(n).toMatchObject({ title: 'Alice', body: 'New message', bodyLocKey: 'CIRRUS_NEW_MESSAGE', silent: false });
    expect(JSON.stringify(n)).not.toMatch(/secret|AAAA/);
    const group = buildNotification({ ...base, conversationId: 'sg_g1', sessionType: 3, recvId: undefined, groupId: 'g1' }, ctx);
    expect(group).toMatchObject({ title: 'Climbers', body: 'New message' });
  });

  it('notifies nobody of handshake messages and Welcomes', () => {
    expect(pushRecipientsOf({ ...base, contentType: 151 })).toBe('none');
    expect(pushRecipientsOf({ ...base, contentType: 152, content: { data: 'AAAA', commitSeq: 1, devices: [] } })).toBe('none');
  });
});
