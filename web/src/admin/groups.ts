/** Groups: look a group up by id (`GET /groups/{groupId}`), page through its members, set its slow mode and history retention. */
import { describeError, seg } from './api';
import { busy, el, field, formatNumber, formatTime, notice, setNotice } from './dom';
import type { ViewContext } from './main';

interface Group {
  groupId: string;
  name: string;
  ownerUserId: string;
  adminUserIds: string[];
  introduction?: string;
  announcement?: string;
  joinPolicy: string;
  historyVisibleToNewMembers: boolean;
  status: 'active' | 'dismissed';
  muteAll: boolean;
  slowModeSeconds?: number;
  memberCount: number;
  createdAt: number;
}

interface Retention {
  groupId: string;
  days: number | null;
  effectiveDays: number | null;
}

interface Member {
  userId: string;
  role: string;
  nickname?: string;
  mutedUntil?: number;
  joinedAt: number;
}

export function groupsView({ api, args, onArgs }: ViewContext): HTMLElement {
  const id = el('input', { name: 'groupId', required: true, autocomplete: 'off', spellcheck: 'false', value: args[0] ?? '' });
  const button = el('button', { type: 'submit' }, 'Look up');
  const status = notice();
  const detail = el('div', { class: 'group-detail' });
  const form = el('form', { class: 'toolbar' }, field('Group id', id), button);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const groupId = id.value.trim();
    if (location.hash !== `#/groups/${encodeURIComponent(groupId)}`) location.hash = `#/groups/${encodeURIComponent(groupId)}`;
    else void busy(button, () => show(groupId));
  });

  const show = async (groupId: string) => {
    detail.replaceChildren();
    setNotice(status, `Loading ${groupId}…`);
    try {
      const { group } = await api.get<{ group: Group }>(`/groups/${seg(groupId)}`);
      setNotice(status, '');
      const facts = el(
        'dl',
        { class: 'facts' },
        ...([
          ['Name', group.name],
          ['Status', group.status + (group.muteAll ? ', muted (only the owner and admins may send)' : '')],
          ['Owner', group.ownerUserId],
          ['Admins', group.adminUserIds.join(', ') || '—'],
          ['Members', formatNumber(group.memberCount)],
          ['Join policy', group.joinPolicy],
          ['History visible to new members', group.historyVisibleToNewMembers ? 'yes' : 'no'],
          ['Created', `${formatTime(group.createdAt)} UTC`],
          ['Introduction', group.introduction || '—'],
          ['Announcement', group.announcement || '—'],
        ] as const).flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]),
      );
      const rows = el('tbody');
      const more = el('button', { type: 'button', class: 'secondary', hidden: true }, 'More members');
      const membersStatus = notice();
      let cursor: string | null = null;
      const page = async () => {
        try {
          const result = await api.get<{ members: Member[]; nextCursor: string | null }>(`/groups/${seg(groupId)}/members`, { limit: 50, cursor: cursor ?? undefined });
          for (const m of result.members) {
            rows.append(
              el(
                'tr',
                { 'data-user-id': m.userId },
                el('th', { scope: 'row' }, el('a', { href: `#/users/${encodeURIComponent(m.userId)}` }, m.userId)),
                el('td', {}, m.role),
                el('td', {}, m.nickname ?? ''),
                el('td', {}, `${formatTime(m.joinedAt)}`),
                el('td', {}, m.mutedUntil && m.mutedUntil > Date.now() ? `until ${formatTime(m.mutedUntil)}` : ''),
              ),
            );
          }
          cursor = result.nextCursor;
          more.hidden = !cursor;
          setNotice(membersStatus, `${rows.children.length} of ${formatNumber(group.memberCount)} members shown.`);
        } catch (err) {
          setNotice(membersStatus, describeError(err), 'error');
        }
      };
      more.addEventListener('click', () => void busy(more, page));
      // The group's own retention of the history (GET/PUT /admin/groups/{groupId}/retention).
      const days = el('input', { type: 'number', name: 'retentionDays', min: 1, max: 36500, step: 1, placeholder: 'deployment default' });
      const saveRetention = el('button', { type: 'submit' }, 'Set retention');
      const retentionStatus = notice();
      const showRetention = (r: Retention) => {
        days.value = r.days === null ? '' : String(r.days);
        setNotice(retentionStatus, r.effectiveDays === null ? 'The history keeps its messages for good.' : `The history keeps its messages ${formatNumber(r.effectiveDays)} days${r.days === null ? ' (the deployment’s retention)' : ''}.`);
      };
      const retentionForm = el('form', { class: 'toolbar retention' }, field('Retention in days', days, 'Empty: the deployment’s retention'), saveRetention);
      retentionForm.addEventListener('submit', (event) => {
        event.preventDefault();
        void busy(saveRetention, async () => {
          try {
            showRetention(await api.call<Retention>('PUT', `/admin/groups/${seg(groupId)}/retention`, { body: { days: days.value === '' ? null : Number(days.value) } }));
          } catch (err) {
            setNotice(retentionStatus, describeError(err), 'error');
          }
        });
      });
      void api.get<Retention>(`/admin/groups/${seg(groupId)}/retention`).then(showRetention, (err: unknown) => setNotice(retentionStatus, describeError(err), 'error'));
      // Slow mode (PUT /groups/{groupId} with slowModeSeconds): one message per member per interval, the owner and admins excepted.
      const slow = el('input', { type: 'number', name: 'slowModeSeconds', min: 0, max: 86400, step: 1, value: String(group.slowModeSeconds ?? 0) });
      const saveSlow = el('button', { type: 'submit' }, 'Set slow mode');
      const slowStatus = notice();
      const describeSlow = (seconds: number) => setNotice(slowStatus, seconds > 0 ? `Members other than the owner and admins may send one message every ${formatNumber(seconds)} s.` : 'Off.');
      describeSlow(group.slowModeSeconds ?? 0);
      const slowForm = el('form', { class: 'toolbar slow-mode' }, field('Slow mode in seconds', slow, '0: off'), saveSlow);
      slowForm.addEventListener('submit', (event) => {
        event.preventDefault();
        void busy(saveSlow, async () => {
          try {
            const { group: updated } = await api.call<{ group: Group }>('PUT', `/groups/${seg(groupId)}`, { body: { slowModeSeconds: Number(slow.value || 0) } });
            describeSlow(updated.slowModeSeconds ?? 0);
          } catch (err) {
            setNotice(slowStatus, describeError(err), 'error');
          }
        });
      });
      detail.replaceChildren(
        el('h2', {}, `${group.name} `, el('small', {}, group.groupId)),
        facts,
        el('p', {}, el('a', { href: `#/moderation/conversation/${encodeURIComponent(`sg_${group.groupId}`)}` }, 'Read its messages')),
        el('h3', {}, 'Slow mode'),
        slowForm,
        slowStatus,
        el('h3', {}, 'History retention'),
        retentionForm,
        retentionStatus,
        el('h3', {}, 'Members'),
        el(
          'div',
          { class: 'table-wrap' },
          el(
            'table',
            { class: 'data members' },
            el('thead', {}, el('tr', {}, ...['User', 'Role', 'Nickname in group', 'Joined (UTC)', 'Muted'].map((h) => el('th', { scope: 'col' }, h)))),
            rows,
          ),
        ),
        membersStatus,
        more,
      );
      await page();
    } catch (err) {
      setNotice(status, describeError(err), 'error');
    }
  };
  onArgs((next) => {
    if (next[0]) {
      id.value = next[0];
      void busy(button, () => show(next[0]!));
    }
  });
  if (args[0]) void show(args[0]);
  return el('section', { class: 'view-groups', 'aria-labelledby': 'groups-title' }, el('h1', { id: 'groups-title' }, 'Groups'), form, status, detail);
}
