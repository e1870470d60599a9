import { describe, expect, it } from 'vitest';
import { WebhookJobSchema } from '../../core/protocol/jobs';
import {
  AFTER_CALLBACKS,
  BEFORE_CALLBACKS,
  MAX_CALLBACK_SETTINGS_CHARS,
  MAX_WATCHED_IDS,
  passesFilters,
  validateWebhookSettings,
  WEBHOOK_CALLBACKS,
  webhookEnv,
} from '../../core/webhooks/settings';

const url = 'https://app.example.com/hooks';
const check = (callbacks: Record<string, unknown>) => () => validateWebhookSettings({ url, callbacks: callbacks as never });

describe('validateWebhookSettings', () => {
  it('accepts every callback, with filters where they apply, and passes them through the environment', () => {
    const callbacks = Object.fromEntries(WEBHOOK_CALLBACKS.map((name) => [name, { enabled: true }]));
    const settings = validateWebhookSettings({
      url,
      callbacks: {
        ...callbacks,
        beforeSendMessage: { enabled: true, failurePolicy: 'closed', skipContentTypes: [110], userIds: ['vip'] },
        afterJoinGroup: { enabled: true, userIds: ['a', 'a', 'b'], groupIds: ['lobby'] },
        afterUserOnline: { enabled: false, userIds: ['watched'] },
      },
    });
    expect(Object.keys(settings.callbacks).sort()).toEqual([...WEBHOOK_CALLBACKS].sort());
    // Listed twice, kept once.
    expect(settings.callbacks.afterJoinGroup).toEqual({ enabled: true, userIds: ['a', 'b'], groupIds: ['lobby'] });
    expect(JSON.parse(webhookEnv(settings).WEBHOOK_CALLBACKS)).toEqual(settings.callbacks);
    expect(validateWebhookSettings({ url, callbacks: JSON.parse(webhookEnv(settings).WEBHOOK_CALLBACKS) }).callbacks).toEqual(settings.callbacks);
  });

  it('knows the before- and after-callbacks apart', () => {
    expect(BEFORE_CALLBACKS.every((n) => n.startsWith('before'))).toBe(true);
    expect(AFTER_CALLBACKS.every((n) => n.startsWith('after'))).toBe(true);
    expect(WEBHOOK_CALLBACKS).toHaveLength(BEFORE_CALLBACKS.length + AFTER_CALLBACKS.length);
  });

  it.each([
    [{ beforeJoinGroup: { enabled: 'yes' } }, /callbacks.beforeJoinGroup.enabled must be true or false/],
    [{ afterMarkRead: { enabled: true, failurePolicy: 'open' } }, /afterMarkRead.failurePolicy applies only to before-callbacks/],
    [{ beforeAddFriend: { enabled: true, failurePolicy: 'strict' } }, /beforeAddFriend.failurePolicy must be 'open' or 'closed'; got strict/],
    [{ afterDismissGroup: { enabled: true, skipContentTypes: [101] } }, /afterDismissGroup.skipContentTypes applies only to message callbacks/],
    [{ afterSendMessage: { enabled: true, skipContentTypes: ['101'] } }, /skipContentTypes must be a list of whole numbers/],
    [{ afterAddFriend: { enabled: true, groupIds: ['g'] } }, /afterAddFriend.groupIds cannot apply: afterAddFriend is never about a group/],
    [{ beforeUserRegister: { enabled: true, groupIds: ['g'] } }, /beforeUserRegister.groupIds cannot apply/],
    [{ afterJoinGroup: { enabled: true, userIds: [] } }, /afterJoinGroup.userIds must list 1 to 100 ids/],
    [{ afterJoinGroup: { enabled: true, groupIds: 'lobby' } }, /afterJoinGroup.groupIds must list/],
    [{ afterJoinGroup: { enabled: true, userIds: ['ok', '-bad'] } }, /userIds must list .*"-bad"/],
    [{ afterJoinGroup: { enabled: true, userIds: ['x'.repeat(65)] } }, /userIds must list/],
    [{ afterJoinGroup: { enabled: true, userIds: Array.from({ length: MAX_WATCHED_IDS + 1 }, (_, i) => `u${i}`) } }, /userIds must list 1 to 100 ids/],
    [{ afterBanUser: { enabled: true } }, /afterBanUser is not a callback; expected one of beforeSendMessage, /],
  ])('rejects %j', (callbacks, message) => {
    expect(check(callbacks)).toThrow(message);
  });

  it('rejects callback settings over the size bound, saying how large they are', () => {
    const many = (prefix: string) => Array.from({ length: MAX_WATCHED_IDS }, (_, i) => `${prefix}-user-number-${i}`);
    const watching = (names: readonly string[]) => Object.fromEntries(names.map((name) => [name, { enabled: true, userIds: many(`${name}-u`), groupIds: many(`${name}-g`) }]));
    const groupCallbacks = ['afterJoinGroup', 'afterQuitGroup', 'afterKickGroupMember', 'afterDismissGroup', 'afterSetGroupInfo', 'afterCreateGroup', 'beforeJoinGroup', 'beforeInviteToGroup', 'beforeSetGroupInfo', 'beforeCreateGroup'];
    expect(check(watching(groupCallbacks.slice(0, 3)))).not.toThrow();
    expect(check(watching(groupCallbacks))).toThrow(
      new RegExp(`callbacks are too large \\(\\d+ characters as JSON, at most ${MAX_CALLBACK_SETTINGS_CHARS}\\)`),
    );
  });

  it('names where the settings came from', () => {
    expect(() => validateWebhookSettings({ url, callbacks: { afterMarkRead: { enabled: true, groupIds: [] } } }, 'settings.webhooks')).toThrow(/^settings.webhooks.callbacks.afterMarkRead.groupIds/);
  });
});

describe('passesFilters', () => {
  it('lets everything through without filters, except skipped content types', () => {
    expect(passesFilters({ enabled: true }, {})).toBe(true);
    expect(passesFilters({ enabled: true, skipContentTypes: [110] }, { contentType: 110 })).toBe(false);
    expect(passesFilters({ enabled: true, skipContentTypes: [110] }, { contentType: 101 })).toBe(true);
  });

  it('with userIds and/or groupIds, lets through only events involving a watched user or group', () => {
    const watch = { enabled: true, userIds: ['vip'], groupIds: ['lobby'] };
    expect(passesFilters(watch, { userIds: ['a', 'vip'] })).toBe(true);
    expect(passesFilters(watch, { userIds: ['a', undefined], groupId: 'lobby' })).toBe(true);
    expect(passesFilters(watch, { userIds: ['a'], groupId: 'other' })).toBe(false);
    expect(passesFilters(watch, {})).toBe(false);
    expect(passesFilters({ enabled: true, groupIds: ['lobby'] }, { userIds: ['vip'] })).toBe(false);
    // A watched user's message of a skipped type is still skipped.
    expect(passesFilters({ ...watch, skipContentTypes: [110] }, { userIds: ['vip'], contentType: 110 })).toBe(false);
  });
});

describe('WebhookJobSchema', () => {
  it('types the data by callback name', () => {
    const at = 1_700_000_000_000;
    expect(WebhookJobSchema.parse({ callback: 'afterQuitGroup', id: 'afterQuitGroup-1', data: { groupId: 'g', userId: 'u', at } }).callback).toBe('afterQuitGroup');
    expect(WebhookJobSchema.safeParse({ callback: 'afterQuitGroup', id: 'afterQuitGroup-1', data: { groupId: 'g', at } }).success).toBe(false);
    expect(WebhookJobSchema.safeParse({ callback: 'afterUserKicked', id: 'x', data: { userId: 'u', platformId: 1, connectionId: 'c', reason: 'bored', at } }).success).toBe(false);
    expect(WebhookJobSchema.safeParse({ callback: 'beforeSendMessage', id: 'x', data: {} }).success).toBe(false);
  });
});
