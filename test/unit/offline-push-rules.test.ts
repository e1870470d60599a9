/** The offline push rules (core/offline-push/rules.ts) and the send path's decision (targets.ts). */
import { describe, expect, it } from 'vitest';
import { buildNotification, contentPreview, inQuietHours, isMentioned, pushRecipientsOf, truncate, type NotifyTarget, type PushMessage, type RecipientContext } from '../../core/offline-push/rules';
import { decideTargets, hasForegroundConnection, isAway, NOTIFY_JOB_TARGETS } from '../../core/offline-push/targets';
import { OfflinePush, SendMsgRequest } from '../../core/protocol/schema';
import { ruleSettings } from '../../core/offline-push/notify';
import { validatePushSettings } from '../../core/offline-push/settings';

const at = (iso: string) => Date.parse(iso);

const msg = (over: Partial<PushMessage> = {}): PushMessage => ({
  conversationId: 'si_alice_bob',
  seq: 7,
  serverMsgId: '0000018c0000abcdef0123',
  sessionType: 1,
  senderId: 'alice',
  recvId: 'bob',
  contentType: 101,
  content: { text: 'hello Bob' },
  sendTime: at('2026-12-03T12:00:00Z'),
  ...over,
});
const groupMsg = (over: Partial<PushMessage> = {}) => msg({ conversationId: 'sg_g1', sessionType: 3, recvId: undefined, groupId: 'g1', ...over });

const ctx = (over: Partial<RecipientContext> = {}, target: Partial<NotifyTarget> = {}): RecipientContext => ({
  target: { userId: 'bob', recvOpt: 0, ...target },
  names: { user: (id) => ({ alice: 'Alice', bob: 'Bob' })[id] ?? id, group: 'Climbers' },
  settings: { showPreview: true, mentionsBreakThrough: true },
  now: at('2026-12-03T12:00:00Z'),
  ...over,
});

describe('quiet hours', () => {
  const night = { start: '22:00', end: '07:00', timeZone: 'Europe/Berlin' };
  it('span midnight in the user’s time zone', () => {
    // 21:30 UTC is 22:30 in Berlin (winter, UTC+1): quiet.
    expect(inQuietHours(night, at('2026-12-03T21:30:00Z'))).toBe(true);
    // 05:59 UTC is 06:59 in Berlin: still quiet; 06:00 UTC is 07:00: over (end excluded).
    expect(inQuietHours(night, at('2026-12-04T05:59:00Z'))).toBe(true);
    expect(inQuietHours(night, at('2026-12-04T06:00:00Z'))).toBe(false);
    // 20:59 UTC is 21:59 in Berlin: not yet.
    expect(inQuietHours(night, at('2026-12-03T20:59:00Z'))).toBe(false);
  });

  it('follow the zone, its daylight saving time included', () => {
    const tokyo = { start: '22:00', end: '07:00', timeZone: 'Asia/Tokyo' };
    // 14:00 UTC is 23:00 in Tokyo, but only 09:00 in New York.
    expect(inQuietHours(tokyo, at('2026-12-03T14:00:00Z'))).toBe(true);
    expect(inQuietHours({ ...tokyo, timeZone: 'America/New_York' }, at('2026-12-03T14:00:00Z'))).toBe(false);
    // New York in summer is UTC-4: 02:30 UTC is 22:30 (quiet); in winter (UTC-5) 02:30 UTC is 21:30 (not).
    expect(inQuietHours({ ...tokyo, timeZone: 'America/New_York' }, at('2026-07-01T02:30:00Z'))).toBe(true);
    expect(inQuietHours({ ...tokyo, timeZone: 'America/New_York' }, at('2026-12-01T02:30:00Z'))).toBe(false);
  });

  it('within one day, start included and end excluded', () => {
    const lunch = { start: '12:00', end: '13:30', timeZone: 'UTC' };
    expect(inQuietHours(lunch, at('2026-12-03T11:59:00Z'))).toBe(false);
    expect(inQuietHours(lunch, at('2026-12-03T12:00:00Z'))).toBe(true);
    expect(inQuietHours(lunch, at('2026-12-03T13:29:00Z'))).toBe(true);
    expect(inQuietHours(lunch, at('2026-12-03T13:30:00Z'))).toBe(false);
  });

  it('are none for equal times, an unknown zone or malformed times', () => {
    expect(inQuietHours({ start: '08:00', end: '08:00', timeZone: 'UTC' }, at('2026-12-03T08:00:00Z'))).toBe(false);
    expect(inQuietHours({ start: '00:00', end: '23:59', timeZone: 'Mars/Olympus' }, at('2026-12-03T08:00:00Z'))).toBe(false);
    expect(inQuietHours({ start: '25:00', end: '07:00', timeZone: 'UTC' }, at('2026-12-03T02:00:00Z'))).toBe(false);
    expect(inQuietHours(undefined, at('2026-12-03T02:00:00Z'))).toBe(false);
  });

  it('make the notification silent: no alert, no sound, the badge and data still', () => {
    const n = buildNotification(msg(), ctx({ prefs: { quietHours: { start: '22:00', end: '07:00', timeZone: 'UTC' } }, now: at('2026-12-03T23:00:00Z'), badge: 3 }));
    expect(n).toMatchObject({ silent: true, badge: 3, priority: 'normal', data: { conversationId: 'si_alice_bob', seq: '7' } });
    expect(n.title).toBeUndefined();
    expect(n.body).toBeUndefined();
    expect(n.sound).toBeUndefined();
  });
});

describe('receive options and mentions', () => {
  it('silently (2) means no alert and no sound', () => {
    const n = buildNotification(msg(), ctx({}, { recvOpt: 2 }));
    expect(n.silent).toBe(true);
    expect(n.sound).toBeUndefined();
  });

  it('an @mention or @all in a silenced group breaks through when the deployment allows it', () => {
    const mention = groupMsg({ contentType: 106, content: { text: '@Bob look', atUserIds: ['bob'] } });
    expect(buildNotification(mention, ctx({}, { recvOpt: 2, mentioned: true }))).toMatchObject({ silent: false, sound: 'default', title: 'Climbers', body: 'Alice: @Bob look' });
    expect(buildNotification(mention, ctx({ settings: { showPreview: true, mentionsBreakThrough: false } }, { recvOpt: 2, mentioned: true })).silent).toBe(true);
    // Quiet hours are not broken by a mention.
    expect(buildNotification(mention, ctx({ prefs: { quietHours: { start: '11:00', end: '13:00', timeZone: 'UTC' } } }, { recvOpt: 2, mentioned: true })).silent).toBe(true);
  });

  it('a mention in a 1:1 conversation does not break through its silence', () => {
    const mention = msg({ contentType: 106, content: { text: '@Bob', atUserIds: ['bob'] } });
    expect(buildNotification(mention, ctx({}, { recvOpt: 2, mentioned: true })).silent).toBe(true);
  });

  it('mentions are @user, or @all in a group only', () => {
    const all = { contentType: 106, content: { text: 'hi all', atUserIds: [], atAll: true } };
    expect(isMentioned(groupMsg(all), 'bob')).toBe(true);
    expect(isMentioned(msg(all), 'bob')).toBe(false);
    expect(isMentioned(groupMsg({ contentType: 106, content: { text: 'x', atUserIds: ['carol'] } }), 'bob')).toBe(false);
    expect(isMentioned(groupMsg({ contentType: 101, content: { text: '@bob' } }), 'bob')).toBe(false);
  });
});

describe('content', () => {
  it('per type: a text preview, placeholders for media with loc keys', () => {
    const media = { source: { objectKey: 'a', mimeType: 'image/png', size: 1 } };
    expect(contentPreview(101, { text: 'hi' })).toEqual({ text: 'hi' });
    expect(contentPreview(102, media)).toEqual({ text: '[Picture]', locKey: 'CIRRUS_PICTURE' });
    expect(contentPreview(103, {})).toEqual({ text: '[Voice]', locKey: 'CIRRUS_VOICE' });
    expect(contentPreview(104, {})).toEqual({ text: '[Video]', locKey: 'CIRRUS_VIDEO' });
    expect(contentPreview(105, { fileName: 'report.pdf' })).toEqual({ text: '[File] report.pdf', locKey: 'CIRRUS_FILE', locArgs: ['report.pdf'] });
    expect(contentPreview(108, {})).toMatchObject({ text: '[Contact card]' });
    expect(contentPreview(109, {})).toMatchObject({ text: '[Location]' });
    expect(contentPreview(114, { text: 'yes', quoted: {} })).toEqual({ text: 'yes' });
    expect(contentPreview(118, { markdown: '**bold**' })).toEqual({ text: '**bold**' });
    expect(contentPreview(110, { data: '{}' })).toEqual({ text: '[Message]', locKey: 'CIRRUS_MESSAGE' });
  });

  it('1:1: the sender as title, the preview as body; group: the group as title, "Sender: " before the body', () => {
    expect(buildNotification(msg(), ctx())).toMatchObject({ title: 'Alice', body: 'hello Bob', sound: 'default', silent: false, priority: 'high' });
    const pic = groupMsg({ contentType: 102, content: {} });
    expect(buildNotification(pic, ctx())).toMatchObject({ title: 'Climbers', body: 'Alice: [Picture]', bodyLocKey: 'CIRRUS_PICTURE_FROM', bodyLocArgs: ['Alice'] });
  });

  it('cuts long texts to 200 characters (code points, never a broken surrogate pair) and titles to 100', () => {
    const long = '😀'.repeat(300);
    const n = buildNotification(msg({ content: { text: long } }), ctx({ names: { user: () => 'N'.repeat(150) } }));
    expect(Array.from(n.body!)).toHaveLength(200);
    expect(n.body!.endsWith('…')).toBe(true);
    expect(Buffer.from(n.body!, 'utf8').toString('utf8')).toBe(n.body);
    expect(Array.from(n.title!)).toHaveLength(100);
    expect(truncate('a  b\n\nc', 10)).toBe('a b c');
  });

  it('hides the content when the deployment or the user says so, behind a loc key', () => {
    const hidden = { body: 'New message', bodyLocKey: 'CIRRUS_NEW_MESSAGE', title: 'Alice' };
    expect(buildNotification(msg(), ctx({ settings: { showPreview: false, mentionsBreakThrough: true } }))).toMatchObject(hidden);
    expect(buildNotification(msg(), ctx({ prefs: { hidePreview: true } }))).toMatchObject(hidden);
    // The message's own push body is content too.
    expect(buildNotification(msg({ offlinePush: { body: 'secret' } }), ctx({ prefs: { hidePreview: true } })).body).toBe('New message');
  });

  it('the message’s offlinePush replaces title, body and sound and adds ex to the data', () => {
    const n = buildNotification(msg({ offlinePush: { title: 'Order', body: 'Shipped', sound: 'bell.caf', ex: '{"order":1}' } }), ctx());
    expect(n).toMatchObject({ title: 'Order', body: 'Shipped', sound: 'bell.caf', data: { ex: '{"order":1}', senderId: 'alice', serverMsgId: '0000018c0000abcdef0123' } });
  });

  it('threads by conversation, collapses by message, and carries what a tap needs', () => {
    const n = buildNotification(msg(), ctx({ badge: 12 }));
    expect(n).toMatchObject({ threadId: 'si_alice_bob', collapseId: '0000018c0000abcdef0123', badge: 12, data: { conversationId: 'si_alice_bob', seq: '7', serverMsgId: '0000018c0000abcdef0123', senderId: 'alice' } });
    expect(Buffer.byteLength(n.collapseId)).toBeLessThanOrEqual(64);
    expect(Object.values(n.data).every((v) => typeof v === 'string')).toBe(true);
  });

  it('system notifications: loc keys with arguments', () => {
    const req = msg({ senderId: 'system', conversationId: 'n_bob', sessionType: 4, contentType: 1201, content: { fromUserId: 'alice', toUserId: 'bob', message: 'hi' } });
    expect(buildNotification(req, ctx())).toMatchObject({ title: 'Friend request', titleLocKey: 'CIRRUS_FRIEND_REQUEST_TITLE', body: 'Alice wants to be your friend', bodyLocKey: 'CIRRUS_FRIEND_REQUEST', bodyLocArgs: ['Alice'] });
    const added = groupMsg({ senderId: 'system', contentType: 1508, content: { opUserId: 'alice', groupId: 'g1', userIds: ['bob'] } });
    expect(buildNotification(added, ctx())).toMatchObject({ body: 'Alice added you to Climbers', bodyLocKey: 'CIRRUS_GROUP_ADDED', bodyLocArgs: ['Alice', 'Climbers'] });
  });

  it('offlinePush is bounded: title 100, body 500, sound 64, ex 1024 characters', () => {
    expect(OfflinePush.safeParse({ title: 't'.repeat(100), body: 'b'.repeat(500), sound: 's'.repeat(64), ex: 'e'.repeat(1024), disabled: false }).success).toBe(true);
    for (const bad of [{ title: 't'.repeat(101) }, { body: 'b'.repeat(501) }, { sound: 's'.repeat(65) }, { ex: 'e'.repeat(1025) }, { other: 1 }, { title: '' }]) {
      expect(OfflinePush.safeParse(bad).success).toBe(false);
    }
    expect(SendMsgRequest.safeParse({ clientMsgId: 'c', recvId: 'bob', contentType: 101, content: { text: 'x' }, offlinePush: { title: 'T' } }).success).toBe(true);
  });
});

describe('who is told', () => {
  it('chat content from anyone, a few system notifications to those they concern, never changes to messages', () => {
    expect(pushRecipientsOf(msg())).toBe('all');
    expect(pushRecipientsOf(msg({ senderId: 'system' }))).toBe('all');
    expect(pushRecipientsOf(msg({ offlinePush: { disabled: true } }))).toBe('none');
    expect(pushRecipientsOf(msg({ senderId: 'system', contentType: 1201, content: { fromUserId: 'alice', toUserId: 'bob' } }))).toEqual(['bob']);
    expect(pushRecipientsOf(msg({ senderId: 'system', contentType: 1202, content: { fromUserId: 'alice', toUserId: 'bob' } }))).toEqual(['alice']);
    expect(pushRecipientsOf(msg({ senderId: 'system', contentType: 1508, content: { opUserId: 'alice', userIds: ['bob', 'alice'] } }))).toEqual(['bob']);
    for (const contentType of [2101, 2102, 2103, 2104, 2105, 1204, 1207, 1502, 1509]) expect(pushRecipientsOf(msg({ senderId: 'system', contentType, content: {} }))).toBe('none');
  });

  it('away means devices and no live connection without bg', () => {
    const now = 1_000;
    expect(isAway({ devs: { d1: 'apns' } }, now)).toBe(true);
    expect(isAway({ devs: {} }, now)).toBe(false);
    expect(isAway({ devs: { d1: 'apns' }, conns: { c1: { e: 2_000 } } }, now)).toBe(false);
    expect(isAway({ devs: { d1: 'apns' }, conns: { c1: { e: 2_000, bg: 1 } } }, now)).toBe(true);
    // An expired entry is no connection.
    expect(isAway({ devs: { d1: 'apns' }, conns: { c1: { e: 500 } } }, now)).toBe(true);
    expect(hasForegroundConnection({ c1: { e: 2_000, bg: 1 }, c2: { e: 2_000 } }, now)).toBe(true);
  });

  it('the targets: away recipients but the sender, not "do not receive", with their option and mention', () => {
    const m = groupMsg({ contentType: 106, content: { text: '@carol', atUserIds: ['carol'] } });
    const options = new Map<string, 0 | 1 | 2>([['bob', 1], ['carol', 2]]);
    expect(decideTargets(m, ['alice', 'bob', 'carol', 'dave'], options)).toEqual([
      { userId: 'carol', recvOpt: 2, mentioned: true },
      { userId: 'dave', recvOpt: 0 },
    ]);
    expect(decideTargets(groupMsg({ senderId: 'system', contentType: 2104, content: {} }), ['bob'], new Map())).toEqual([]);
    // The applicant of a group application is told nothing; its owner is.
    expect(decideTargets(msg({ senderId: 'system', contentType: 1503, content: { userId: 'bob', groupId: 'g1' } }), ['bob', 'owner'], new Map())).toEqual([{ userId: 'owner', recvOpt: 0 }]);
    expect(NOTIFY_JOB_TARGETS).toBe(100);
  });
});

describe('the deployment’s rule settings', () => {
  const webpush = { publicKey: 'BMFxXTvZPUi2rzMQaphhnJSox-YaJ42ExKjmF1N6wp6NGROklLSUzVhXSTcveUJJV1_p3Wdtz1NXS-RWTEfPowA', subject: 'mailto:ops@example.com', privateKeyParameter: '/chat/vapid' };

  it('showPreview and mentionsBreakThrough default to true and may be turned off in offlinePush', () => {
    expect(ruleSettings(undefined)).toEqual({ showPreview: true, mentionsBreakThrough: true });
    const settings = validatePushSettings({ webpush, showPreview: false, mentionsBreakThrough: false }, 'offlinePush');
    expect(settings).toMatchObject({ showPreview: false, mentionsBreakThrough: false });
    expect(ruleSettings(settings)).toEqual({ showPreview: false, mentionsBreakThrough: false });
    expect(ruleSettings(validatePushSettings({ webpush }, 'offlinePush'))).toEqual({ showPreview: true, mentionsBreakThrough: true });
  });

  it('are refused unless true or false, with a sentence naming them', () => {
    expect(() => validatePushSettings({ webpush, showPreview: 'no' }, 'offlinePush')).toThrow('offlinePush.showPreview must be true or false; got "no".');
    expect(() => validatePushSettings({ showPreview: false }, 'offlinePush')).toThrow(/must configure at least one provider/);
  });
});
