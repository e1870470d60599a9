/** The audit log (`GET /admin/audit`): administrative actions, newest first, filtered and paged. */
import { describeError } from './api';
import { busy, el, field, formatTime, notice, setNotice } from './dom';
import type { ViewContext } from './main';

interface AuditEntry {
  at: number;
  id: string;
  actor: string;
  tokenId?: string;
  action: string;
  target?: string;
  outcome: string;
  correlationId: string;
  details?: Record<string, string | number | boolean>;
}

/** ms since the epoch of a `datetime-local` value read as UTC, or undefined when empty. */
const utcMs = (value: string): number | undefined => (value ? Date.parse(`${value}Z`) : undefined);

export function auditView({ api }: ViewContext): HTMLElement {
  const actor = el('input', { name: 'actor', autocomplete: 'off', spellcheck: 'false', placeholder: 'alice@example.com' });
  const action = el('input', { name: 'action', autocomplete: 'off', spellcheck: 'false', placeholder: 'banUser' });
  const target = el('input', { name: 'target', autocomplete: 'off', spellcheck: 'false', placeholder: 'user:alice' });
  const from = el('input', { type: 'datetime-local', name: 'from', step: 1 });
  const to = el('input', { type: 'datetime-local', name: 'to', step: 1 });
  const search = el('button', { type: 'submit' }, 'Show');
  const more = el('button', { type: 'button', class: 'secondary', hidden: true }, 'Older');
  const status = notice();
  const rows = el('tbody');
  const table = el(
    'table',
    { class: 'audit-log' },
    el('thead', {}, el('tr', {}, ...['When (UTC)', 'Actor', 'Action', 'Target', 'Outcome', 'Details', 'Correlation id'].map((h) => el('th', { scope: 'col' }, h)))),
    rows,
  );
  let cursor: string | null = null;
  const load = async (append: boolean) => {
    try {
      const page = await api.get<{ entries: AuditEntry[]; nextCursor: string | null }>('/admin/audit', {
        actor: actor.value.trim(),
        action: action.value.trim(),
        target: target.value.trim(),
        from: utcMs(from.value),
        to: utcMs(to.value),
        limit: 50,
        cursor: append && cursor ? cursor : undefined,
      });
      if (!append) rows.replaceChildren();
      for (const e of page.entries) {
        rows.append(
          el(
            'tr',
            { class: e.outcome === 'ok' ? '' : 'refused' },
            el('td', {}, formatTime(e.at)),
            el('td', { title: e.tokenId ? `token ${e.tokenId}` : 'no token' }, e.actor),
            el('th', { scope: 'row' }, e.action),
            el('td', {}, e.target ?? ''),
            el('td', {}, e.outcome),
            el('td', {}, el('code', {}, e.details ? Object.entries(e.details).map(([k, v]) => `${k}=${v}`).join(' ') : '')),
            el('td', {}, el('code', {}, e.correlationId)),
          ),
        );
      }
      cursor = page.nextCursor;
      more.hidden = !cursor;
      const n = rows.children.length;
      setNotice(status, n ? `${n} entr${n === 1 ? 'y' : 'ies'}${cursor ? ', more are older' : ''}.` : cursor ? 'None among the newest entries read; press Older to read on.' : 'No entries match.');
    } catch (err) {
      setNotice(status, describeError(err), 'error');
    }
  };
  const form = el(
    'form',
    { class: 'audit-filters' },
    field('Actor', actor),
    field('Action', action, 'An operationId'),
    field('Target', target, 'user:<id>, group:<id>, conversation:<id> or batch:<id>'),
    field('From (UTC)', from),
    field('To (UTC)', to),
    search,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    cursor = null;
    void busy(search, () => load(false));
  });
  more.addEventListener('click', () => void busy(more, () => load(true)));
  void load(false);
  return el(
    'section',
    { class: 'view-audit', 'aria-labelledby': 'audit-title' },
    el('h1', { id: 'audit-title' }, 'Audit log'),
    el('p', { class: 'hint' }, 'Every administrative change, content read and admin sign-in, newest first.'),
    form,
    status,
    el('div', { class: 'table-wrap' }, table),
    more,
  );
}
