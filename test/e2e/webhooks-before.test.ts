/**
 * The before-callbacks on users, friends and groups, against a real HTTP receiver: each
 * one through its real route, allowing, refusing (the app's code reaches the caller),
 * modifying (within its schema; an invalid modification is a failure), and failing under
 * the open and the closed policy. Then the userIds / groupIds filters.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { admin, as, useCirrus } from '../support/harness';
import { expectSigned, startWebhookReceiver, type Answer } from '../support/webhook-receiver';
import { validateWebhookSettings, webhookEnv, type BeforeCallback, type WebhookCallbackSettings } from '../../core/webhooks/settings';

const SECRET = 'before-callbacks-secret';
const TIMEOUT_MS = 300;
const hooks = await startWebhookReceiver();

type Name = Exclude<BeforeCallback, 'beforeSendMessage' | 'beforeOfflinePush'>;
const NAMES: readonly Name[] = ['beforeUserRegister', 'beforeUpdateUserInfo', 'beforeAddFriend', 'beforeCreateGroup', 'beforeJoinGroup', 'beforeInviteToGroup', 'beforeSetGroupInfo'];
const enabled = (policy: 'open' | 'closed', extra: Partial<Record<Name, Partial<WebhookCallbackSettings>>> = {}) =>
  Object.fromEntries(NAMES.map((n) => [n, { enabled: true, failurePolicy: policy, ...extra[n] }]));

useCirrus({ settings: { webhooks: { url: hooks.url, signingSecret: SECRET, timeoutMs: TIMEOUT_MS, callbacks: enabled('open') } } });

/** Settings are read on use, as in Lambda: the same deployment with other callback settings. */
function useCallbacks(callbacks: Record<string, WebhookCallbackSettings>): void {
  Object.assign(process.env, webhookEnv(validateWebhookSettings({ url: hooks.url, timeoutMs: TIMEOUT_MS, callbacks })));
}

/** What an action came to: done (with the route's answer) or refused (with the error). */
interface Outcome {
  ok: boolean;
  value?: any;
  error?: { code: number; reason: string; message: string; appCode?: number; retryable?: boolean };
}
const outcome = (res: { status: number; body: any }): Outcome => (res.status === 200 ? { ok: true, value: res.body } : { ok: false, error: res.body?.error });

interface Case {
  /** Performs the action through its route, with ids made from `k`. */
  act(k: string): Promise<Outcome>;
  /** Picks this run's callback out of the receiver's calls. */
  match(data: any, k: string): boolean;
  /** What the callback's data holds. */
  data(k: string): Record<string, unknown>;
  /** A valid modification (the answer's fields besides `action`), and its effect. */
  modify: (k: string) => Record<string, unknown>;
  modified(o: Outcome, k: string): Promise<void>;
  /** A modification outside the callback's schema. */
  invalid: Record<string, unknown>;
  /** The action went through as asked. */
  unchanged(o: Outcome, k: string): Promise<void>;
  /** The action left no trace. */
  absent(k: string): Promise<void>;
}

const members = async (groupId: string): Promise<string[]> => (await as('owner', 'GET', `/groups/${groupId}/members?limit=100`)).body.members.map((m: { userId: string }) => m.userId);
const applications = async (groupId: string): Promise<Record<string, string>> =>
  Object.fromEntries((await as('owner', 'GET', `/groups/${groupId}/applications`)).body.applications.map((a: { userId: string; message: string }) => [a.userId, a.message]));
const profile = async (userId: string) => admin.call('GET', `/users/${userId}`);

const cases: Record<Name, Case> = {
  beforeUserRegister: {
    async act(k) {
      const res = await admin.call('POST', '/users/register', { users: [{ userId: `reg-${k}`, nickname: 'Original', faceUrl: 'https://img/1' }, { userId: `reg-${k}-other` }] });
      expect(res.status).toBe(200);
      // Only this user's registration is judged apart: the other item goes through.
      expect(res.body.results[1]).toEqual({ userId: `reg-${k}-other`, ok: true });
      const item = res.body.results[0];
      return item.ok ? { ok: true, value: item } : { ok: false, error: item.error };
    },
    match: (d, k) => d.userId === `reg-${k}`,
    data: (k) => ({ userId: `reg-${k}`, nickname: 'Original', faceUrl: 'https://img/1' }),
    modify: () => ({ nickname: 'Set by the app', ex: '{"tier":"gold"}' }),
    async modified(_o, k) {
      expect((await profile(`reg-${k}`)).body.user).toMatchObject({ nickname: 'Set by the app', faceUrl: 'https://img/1', ex: '{"tier":"gold"}' });
    },
    invalid: { userId: 'someone-else' },
    async unchanged(_o, k) {
      expect((await profile(`reg-${k}`)).body.user).toMatchObject({ userId: `reg-${k}`, nickname: 'Original' });
    },
    async absent(k) {
      expect((await profile(`reg-${k}`)).status).toBe(404);
    },
  },
  beforeUpdateUserInfo: {
    act: async (k) => outcome(await as('alice', 'PUT', '/users/alice', { nickname: `nick-${k}` })),
    match: (d, k) => d.changes?.nickname === `nick-${k}`,
    data: (k) => ({ userId: 'alice', changes: { nickname: `nick-${k}` } }),
    modify: (k) => ({ changes: { nickname: `app-${k}`, faceUrl: 'https://img/app' } }),
    async modified(o, k) {
      expect(o.value.user).toMatchObject({ nickname: `app-${k}`, faceUrl: 'https://img/app' });
      expect((await profile('alice')).body.user.nickname).toBe(`app-${k}`);
    },
    invalid: { changes: { nickname: 'x'.repeat(65) } },
    async unchanged(o, k) {
      expect(o.value.user.nickname).toBe(`nick-${k}`);
      expect((await profile('alice')).body.user.nickname).toBe(`nick-${k}`);
    },
    async absent(k) {
      expect((await profile('alice')).body.user.nickname).not.toBe(`nick-${k}`);
    },
  },
  beforeAddFriend: {
    async act(k) {
      await admin.register(`fa-${k}`, `fb-${k}`);
      return outcome(await as(`fa-${k}`, 'POST', `/users/fa-${k}/friend-requests`, { toUserId: `fb-${k}`, message: 'hi, it is me' }));
    },
    match: (d, k) => d.fromUserId === `fa-${k}`,
    data: (k) => ({ fromUserId: `fa-${k}`, toUserId: `fb-${k}`, message: 'hi, it is me', opUserId: `fa-${k}` }),
    modify: () => ({ message: 'hi (checked by the app)' }),
    async modified(o, k) {
      expect(o.value.request).toMatchObject({ fromUserId: `fa-${k}`, toUserId: `fb-${k}`, message: 'hi (checked by the app)', status: 'pending' });
    },
    invalid: { message: 42 },
    async unchanged(o) {
      expect(o.value.request).toMatchObject({ message: 'hi, it is me', status: 'pending' });
    },
    async absent(k) {
      expect((await as(`fb-${k}`, 'GET', `/users/fb-${k}/friend-requests`)).body.requests).toEqual([]);
    },
  },
  beforeCreateGroup: {
    act: async (k) => outcome(await as('alice', 'POST', '/groups', { groupId: `cg-${k}`, name: 'Original', memberUserIds: ['bob'], joinPolicy: 'free' })),
    match: (d, k) => d.groupId === `cg-${k}`,
    data: (k) => ({ groupId: `cg-${k}`, name: 'Original', ownerUserId: 'alice', memberUserIds: ['alice', 'bob'], opUserId: 'alice', joinPolicy: 'free' }),
    modify: () => ({ name: 'Named by the app', introduction: 'Moderated' }),
    async modified(o, k) {
      expect(o.value.group).toMatchObject({ groupId: `cg-${k}`, name: 'Named by the app', introduction: 'Moderated', ownerUserId: 'alice', joinPolicy: 'free' });
      expect((await admin.call('GET', `/groups/cg-${k}`)).body.group.name).toBe('Named by the app');
    },
    // The owner is not the app's to change.
    invalid: { ownerUserId: 'bob' },
    async unchanged(o, k) {
      expect(o.value.group).toMatchObject({ groupId: `cg-${k}`, name: 'Original', ownerUserId: 'alice' });
    },
    async absent(k) {
      expect((await admin.call('GET', `/groups/cg-${k}`)).status).toBe(404);
    },
  },
  beforeJoinGroup: {
    async act(k) {
      await admin.register(`j-${k}`);
      return outcome(await as(`j-${k}`, 'POST', `/users/j-${k}/groups/join-g/apply`, { message: 'let me in' }));
    },
    match: (d, k) => d.userId === `j-${k}`,
    data: (k) => ({ groupId: 'join-g', userId: `j-${k}`, message: 'let me in', joinPolicy: 'approval' }),
    modify: () => ({ message: 'let me in (vouched for by the app)' }),
    async modified(o, k) {
      expect(o.value.status).toBe('applied');
      expect((await applications('join-g'))[`j-${k}`]).toBe('let me in (vouched for by the app)');
    },
    invalid: { message: null },
    async unchanged(o, k) {
      expect(o.value.status).toBe('applied');
      expect((await applications('join-g'))[`j-${k}`]).toBe('let me in');
    },
    async absent(k) {
      expect(await applications('join-g')).not.toHaveProperty(`j-${k}`);
    },
  },
  beforeInviteToGroup: {
    async act(k) {
      await admin.register(`i-${k}-a`, `i-${k}-b`);
      return outcome(await as('owner', 'POST', '/groups/invite-g/members', { userIds: [`i-${k}-a`, `i-${k}-b`] }));
    },
    match: (d, k) => d.userIds?.includes(`i-${k}-a`),
    data: (k) => ({ groupId: 'invite-g', opUserId: 'owner', userIds: [`i-${k}-a`, `i-${k}-b`], direct: true }),
    // The app narrows the invitation: the user left out fails alone.
    modify: (k) => ({ userIds: [`i-${k}-a`] }),
    async modified(o, k) {
      expect(o.value.results).toEqual([
        { userId: `i-${k}-a`, ok: true, status: 'joined' },
        { userId: `i-${k}-b`, ok: false, error: expect.objectContaining({ code: 1310, reason: 'REFUSED_BY_APP' }) },
      ]);
      const now = await members('invite-g');
      expect(now).toContain(`i-${k}-a`);
      expect(now).not.toContain(`i-${k}-b`);
    },
    // Adding someone who was not invited is not a narrowing.
    invalid: { userIds: ['owner'] },
    async unchanged(o, k) {
      expect(o.value.results.map((r: { ok: boolean }) => r.ok)).toEqual([true, true]);
      expect(await members('invite-g')).toEqual(expect.arrayContaining([`i-${k}-a`, `i-${k}-b`]));
    },
    async absent(k) {
      const now = await members('invite-g');
      expect(now).not.toContain(`i-${k}-a`);
      expect(now).not.toContain(`i-${k}-b`);
    },
  },
  beforeSetGroupInfo: {
    act: async (k) => outcome(await as('owner', 'PUT', '/groups/set-g', { name: `name-${k}` })),
    match: (d, k) => d.changes?.name === `name-${k}`,
    data: (k) => ({ groupId: 'set-g', opUserId: 'owner', changes: { name: `name-${k}` } }),
    modify: (k) => ({ changes: { name: `app-${k}`, announcement: 'Be nice' } }),
    async modified(o, k) {
      expect(o.value.group).toMatchObject({ name: `app-${k}`, announcement: 'Be nice' });
      expect((await admin.call('GET', '/groups/set-g')).body.group.name).toBe(`app-${k}`);
    },
    invalid: { changes: { muteAll: true } },
    async unchanged(o, k) {
      expect(o.value.group.name).toBe(`name-${k}`);
    },
    async absent(k) {
      expect((await admin.call('GET', '/groups/set-g')).body.group.name).not.toBe(`name-${k}`);
    },
  },
};

let runs = 0;
/** Runs one case with the receiver answering `answer` to this run's callback (and allowing any other). */
async function run(name: Name, answer: Answer | ((k: string) => Answer)) {
  const k = `${++runs}`;
  const c = cases[name];
  hooks.answers[name] = (r) => (c.match(r.body.data, k) ? (typeof answer === 'function' ? answer(k) : answer) : { json: { action: 'allow' } });
  const o = await c.act(k);
  return { k, c, o, calls: hooks.calls(name, (d) => c.match(d, k)) };
}

beforeAll(async () => {
  await admin.register('owner', 'alice', 'bob');
  for (const [groupId, joinPolicy] of [['join-g', 'approval'], ['invite-g', 'approval'], ['set-g', 'approval']]) {
    const res = await admin.call('POST', '/groups', { groupId, name: groupId, ownerUserId: 'owner', memberUserIds: ['bob'], joinPolicy });
    expect(res.status).toBe(200);
  }
});

afterEach(() => {
  for (const name of NAMES) delete hooks.answers[name];
});

afterAll(() => hooks.close());

describe.each(NAMES)('%s', (name) => {
  const index = NAMES.indexOf(name);

  it('allow: the action goes through; one signed callback carries its data', async () => {
    const { k, c, o, calls } = await run(name, { json: { action: 'allow' } });
    expect(o.error).toBeUndefined();
    await c.unchanged(o, k);
    expect(calls).toHaveLength(1);
    expectSigned(calls[0], SECRET);
    expect(calls[0].body.callback).toBe(name);
    expect(calls[0].body.data).toMatchObject(c.data(k));
  });

  it("refuse: the caller gets REFUSED_BY_APP with the app's code and message; nothing happens", async () => {
    const appCode = 10100 + index;
    const { k, c, o } = await run(name, { json: { action: 'refuse', code: appCode, message: `No (${name})` } });
    expect(o.ok).toBe(false);
    expect(o.error).toMatchObject({ code: 1310, reason: 'REFUSED_BY_APP', message: `No (${name})`, appCode });
    await c.absent(k);
  });

  it("modify: the app's modification is what takes effect", async () => {
    const { k, c, o } = await run(name, (k) => ({ json: { action: 'modify', ...cases[name].modify(k) } }));
    expect(o.error).toBeUndefined();
    await c.modified(o, k);
  });

  it('open policy: an invalid modification, a 500 and a timeout each let the action through unchanged', async () => {
    for (const answer of [{ json: { action: 'modify', ...cases[name].invalid } }, { status: 500, json: { action: 'refuse', code: 10001 } }, { delayMs: TIMEOUT_MS * 3, json: { action: 'refuse', code: 10001 } }]) {
      const { k, c, o, calls } = await run(name, answer);
      expect(o.error, JSON.stringify(answer)).toBeUndefined();
      await c.unchanged(o, k);
      expect(calls).toHaveLength(1);
    }
  });

  describe('closed policy', () => {
    beforeAll(() => useCallbacks(enabled('closed')));
    afterAll(() => useCallbacks(enabled('open')));

    it.each([
      ['a timeout', { delayMs: TIMEOUT_MS * 3, json: { action: 'allow' } }],
      ['a 500', { status: 500, json: { action: 'allow' } }],
      ['a malformed answer', { json: { action: 'refuse', code: 7 } }],
      ['an invalid modification', undefined],
    ] as const)('after %s the action is refused with APP_UNAVAILABLE (retryable) and nothing happens', async (_what, given) => {
      const answer = given ?? { json: { action: 'modify', ...cases[name].invalid } };
      const { k, c, o } = await run(name, answer);
      expect(o.ok).toBe(false);
      // A registration item's error has no retryable flag: its code says it (1503).
      expect(o.error).toMatchObject({ code: 1503, reason: 'APP_UNAVAILABLE', ...(name === 'beforeUserRegister' ? {} : { retryable: true }) });
      expect(o.error?.message).not.toContain(hooks.url);
      await c.absent(k);
    });
  });
});

describe('filters', () => {
  afterEach(() => useCallbacks(enabled('open')));

  it('userIds: a before-callback is made only when a watched user is involved', async () => {
    useCallbacks(enabled('open', { beforeCreateGroup: { userIds: ['bob'] }, beforeUpdateUserInfo: { userIds: ['bob'] } }));
    const before = hooks.received.length;
    expect((await as('alice', 'POST', '/groups', { groupId: 'filter-unwatched', name: 'x' })).status).toBe(200);
    expect((await as('alice', 'PUT', '/users/alice', { nickname: 'unwatched' })).status).toBe(200);
    expect(hooks.received.length).toBe(before);
    // bob is a member of this one: watched.
    hooks.answers.beforeCreateGroup = () => ({ json: { action: 'refuse', code: 10555, message: 'Not with bob' } });
    const res = await as('alice', 'POST', '/groups', { groupId: 'filter-watched', name: 'x', memberUserIds: ['bob'] });
    expect(res.body.error).toMatchObject({ reason: 'REFUSED_BY_APP', appCode: 10555 });
    expect(hooks.calls('beforeCreateGroup', (d) => d.groupId === 'filter-watched')).toHaveLength(1);
    expect(hooks.calls('beforeCreateGroup', (d) => d.groupId === 'filter-unwatched')).toHaveLength(0);
  });

  it('groupIds: a before-callback is made only for a watched group', async () => {
    useCallbacks(enabled('open', { beforeSetGroupInfo: { groupIds: ['set-g'] } }));
    const before = hooks.calls('beforeSetGroupInfo').length;
    expect((await as('owner', 'PUT', '/groups/join-g', { introduction: 'not watched' })).status).toBe(200);
    expect(hooks.calls('beforeSetGroupInfo').length).toBe(before);
    expect((await as('owner', 'PUT', '/groups/set-g', { introduction: 'watched' })).status).toBe(200);
    expect(hooks.calls('beforeSetGroupInfo', (d) => d.groupId === 'set-g' && d.changes.introduction === 'watched')).toHaveLength(1);
  });

  it('a disabled callback is not made', async () => {
    useCallbacks({ ...enabled('open'), beforeAddFriend: { enabled: false } });
    await admin.register('off-a', 'off-b');
    const before = hooks.calls('beforeAddFriend').length;
    expect((await as('off-a', 'POST', '/users/off-a/friend-requests', { toUserId: 'off-b' })).status).toBe(200);
    expect(hooks.calls('beforeAddFriend').length).toBe(before);
  });
});
