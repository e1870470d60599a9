import { describe, expect, it } from 'vitest';
import { newGroupId, parseConversationId, singleConversationId } from '../../core/domain/ids';
import { idPattern } from '../../core/protocol/schema';

describe('generated ids', () => {
  it('gives groups ids that always match the id pattern and never contain the conversation-id separator', () => {
    for (let i = 0; i < 2000; i++) {
      const id = newGroupId();
      expect(id).toMatch(idPattern);
      expect(id).not.toContain('_');
    }
  });
});

describe('conversation ids', () => {
  it('name a 1:1 conversation the same from either side and parse back to its members', () => {
    expect(singleConversationId('bob', 'alice')).toBe(singleConversationId('alice', 'bob'));
    expect(parseConversationId(singleConversationId('bob', 'alice'))).toEqual({ sessionType: 1, members: ['alice', 'bob'] });
    expect(parseConversationId('sg_g1')).toEqual({ sessionType: 3, groupId: 'g1' });
    expect(parseConversationId('n_alice')).toEqual({ sessionType: 4, userId: 'alice' });
    expect(parseConversationId('si_a_b_c')).toBeUndefined();
  });
});
