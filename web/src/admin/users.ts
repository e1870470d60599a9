/**
 * Users: search (`GET /admin/users/search`, or the plain list `GET /users` without a query), and a
 * user's profile with their ban state and online status; ban (reason, duration), unban, force logout;
 * their data export and erasure (compliance.ts).
 */
import { describeError, seg, type Profile } from './api';
import { busy, el, field, formatNumber, formatTime, notice, setNotice } from './dom';
import { complianceBlock } from './compliance';
import type { ViewContext } from './main';

interface UserPage {
  users: Profile[];
  nextCursor: string | null;
}

interface OnlineResult {
  results: { userId: string; online: boolean; platforms: { platformId: number; connections: number }[] }[];
}

/** OpenIM's platform ids (docs/protocol.md). */
const PLATFORMS: Record<number, string> = { 1: 'iOS', 2: 'Android', 3: 'Windows', 4: 'macOS', 5: 'Web', 6: 'mini program', 7: 'Linux', 8: 'Android pad', 9: 'iPad', 10: 'admin' };

const DURATIONS: [string, string][] = [
  ['', 'Until lifted'],
  ['3600', '1 hour'],
  ['86400', '1 day'],
  ['604800', '7 days'],
  ['2592000', '30 days'],
];

export function usersView({ api, args, onArgs }: ViewContext): HTMLElement {
  const q = el('input', { type: 'search', name: 'q', placeholder: 'user id prefix or nickname', autocomplete: 'off', spellcheck: 'false' });
  const searchButton = el('button', { type: 'submit' }, 'Search');
  const status = notice();
  const list = el('ul', { class: 'rows users-list', 'aria-label': 'Users' });
  const more = el('button', { type: 'button', class: 'secondary', hidden: true }, 'More');
  const profile = el('section', { class: 'detail', 'aria-label': 'User', 'aria-live': 'polite' });
  let cursor: string | null = null;
  let query = '';
  /** Answers to an earlier search that come late are dropped. */
  let generation = 0;

  const page = async (append: boolean) => {
    const asked = ++generation;
    try {
      const result = query
        ? await api.get<UserPage>('/admin/users/search', { q: query, limit: 50, cursor: cursor ?? undefined })
        : await api.get<UserPage>('/users', { limit: 50, cursor: cursor ?? undefined });
      if (asked !== generation) return;
      if (!append) list.replaceChildren();
      for (const user of result.users) list.append(userRow(user));
      if (!append && result.users.length === 0) list.append(el('li', { class: 'empty' }, query ? `No user matches “${query}”.` : 'No users yet.'));
      cursor = result.nextCursor;
      more.hidden = !cursor;
      setNotice(status, query ? `Users matching “${query}”.` : 'All users, in registration order.');
    } catch (err) {
      if (asked !== generation) return;
      if (!append) list.replaceChildren();
      more.hidden = true;
      setNotice(status, describeError(err), 'error');
    }
  };
  const form = el('form', { class: 'toolbar', role: 'search' }, field('Search users', q), searchButton);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    query = q.value.trim();
    cursor = null;
    void busy(searchButton, () => page(false));
  });
  more.addEventListener('click', () => void busy(more, () => page(true)));
  void page(false);

  // Opening a profile keeps the list and its search.
  const open = (userId: string | undefined) => {
    for (const row of list.querySelectorAll<HTMLElement>('li[data-user-id]')) row.classList.toggle('selected', row.dataset.userId === userId);
    if (userId) void showProfile(api, userId, profile, (user) => list.querySelector(`li[data-user-id="${CSS.escape(user.userId)}"]`)?.replaceWith(userRow(user, true)));
    else profile.replaceChildren(el('p', { class: 'empty' }, 'Choose a user to see their profile, ban them or end their sessions.'));
  };
  onArgs((next) => open(next[0]));
  open(args[0]);

  return el(
    'section',
    { class: 'view-users', 'aria-labelledby': 'users-title' },
    el('h1', { id: 'users-title' }, 'Users'),
    el('div', { class: 'split' }, el('div', { class: 'master' }, form, status, list, more), profile),
  );
}

function userRow(user: Profile, selected = false): HTMLLIElement {
  return el(
    'li',
    { 'data-user-id': user.userId, class: selected ? 'selected' : undefined },
    el('a', { href: `#/users/${encodeURIComponent(user.userId)}`, class: 'row-link' }, el('strong', {}, user.userId), user.nickname ? el('small', {}, user.nickname) : null),
    user.banned ? el('span', { class: 'tag danger' }, 'banned') : null,
  );
}

/** Shows a user's profile and actions in `into`; `changed` gets the profile as read after each load. */
async function showProfile(api: ViewContext['api'], userId: string, into: HTMLElement, changed: (user: Profile) => void): Promise<void> {
  into.replaceChildren(el('p', { class: 'empty' }, `Loading ${userId}…`));
  const status = notice();
  const render = async (message?: string, kind?: 'ok' | 'error') => {
    let user: Profile;
    try {
      user = (await api.get<{ user: Profile }>(`/users/${seg(userId)}`)).user;
    } catch (err) {
      into.replaceChildren(el('h2', {}, userId), el('p', { class: 'error', role: 'alert' }, describeError(err)));
      return;
    }
    changed(user);
    const online = await api
      .post<OnlineResult>('/users/online', { userIds: [userId] })
      .then((r) => r.results[0])
      .catch((err: unknown) => describeError(err));

    const facts = el(
      'dl',
      { class: 'facts' },
      el('dt', {}, 'Nickname'),
      el('dd', {}, user.nickname || '—'),
      el('dt', {}, 'Registered'),
      el('dd', {}, `${formatTime(user.createdAt)} UTC`),
      el('dt', {}, 'Online'),
      el(
        'dd',
        { class: 'online-status', 'data-online': typeof online === 'object' ? String(!!online?.online) : undefined },
        typeof online === 'string'
          ? online
          : online?.online
            ? `Online: ${online.platforms.map((p) => `${PLATFORMS[p.platformId] ?? `platform ${p.platformId}`} (${formatNumber(p.connections)})`).join(', ')}`
            : 'Offline',
      ),
      el('dt', {}, 'Status'),
      el(
        'dd',
        { class: 'ban-state', 'data-banned': String(!!user.banned), 'data-erased': String(!!user.erased) },
        user.erased
          ? `Erased ${formatTime(user.erased.at)} UTC`
          : user.banned
          ? `Banned since ${formatTime(user.banned.at)} UTC${user.banned.until ? `, until ${formatTime(user.banned.until)} UTC` : ', until lifted'}${user.banned.reason ? ` — “${user.banned.reason}”` : ''}`
          : 'Active',
      ),
    );

    const actions = el('div', { class: 'actions-block' });
    if (user.banned) {
      const unban = el('button', { type: 'button' }, 'Unban');
      unban.addEventListener('click', () =>
        void busy(unban, async () => {
          try {
            await api.del(`/users/${seg(userId)}/ban`);
            await render(`${userId} is no longer banned.`);
          } catch (err) {
            setNotice(status, describeError(err), 'error');
          }
        }),
      );
      actions.append(unban);
    } else {
      const reason = el('input', { name: 'reason', maxlength: 256, placeholder: 'spam' });
      const duration = el('select', { name: 'duration' }, ...DURATIONS.map(([value, label]) => el('option', { value }, label)));
      const ban = el('button', { type: 'submit', class: 'danger' }, 'Ban');
      const form = el('form', { class: 'ban-form' }, el('h3', {}, 'Ban'), field('Reason', reason, 'Kept with the ban, shown to admins'), field('Duration', duration), ban);
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        void busy(ban, async () => {
          try {
            const body = { ...(reason.value.trim() ? { reason: reason.value.trim() } : {}), ...(duration.value ? { durationSeconds: Number(duration.value) } : {}) };
            const result = await api.post<{ revoked: number; kicked: number }>(`/users/${seg(userId)}/ban`, body);
            await render(`${userId} is banned: ${result.revoked} session(s) revoked, ${result.kicked} connection(s) closed.`);
          } catch (err) {
            setNotice(status, describeError(err), 'error');
          }
        });
      });
      actions.append(form);
    }
    const logout = el('button', { type: 'button', class: 'secondary' }, 'Force logout (all platforms)');
    logout.addEventListener('click', () =>
      void busy(logout, async () => {
        try {
          const result = await api.post<{ revoked: number }>('/auth/force-logout', { userId });
          await render(`${result.revoked} session(s) of ${userId} revoked.`);
        } catch (err) {
          setNotice(status, describeError(err), 'error');
        }
      }),
    );
    actions.append(el('div', { class: 'row-actions' }, logout, el('a', { href: `#/moderation/sender/${encodeURIComponent(userId)}` }, 'Their messages')));

    const compliance = complianceBlock(api, userId, !!user.erased, status, (text) => render(text));
    into.replaceChildren(el('h2', { 'data-user-id': userId }, userId), facts, actions, status, compliance);
    if (message) setNotice(status, message, kind);
  };
  await render();
}
