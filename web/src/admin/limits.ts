/** The limits against abuse in force and the users throttled now (`GET /admin/limits`). */
import { describeError } from './api';
import { busy, el, formatNumber, formatTime, notice, setNotice } from './dom';
import type { ViewContext } from './main';

interface Rate {
  perSecond: number;
  burst: number;
}

interface LimitsView {
  limits: { connection: Rate; user: Rate; window: { messages: number; seconds: number; throttleSeconds: number }; http: Rate; typing: Rate } | null;
  throttled: { userId: string; until: number; at: number; messages: number; windowSeconds: number; groupIds: string[] }[];
}

const rate = (r: Rate) => (r.perSecond > 0 ? `${formatNumber(r.perSecond)} a second, burst ${formatNumber(r.burst)}` : 'off');

export function limitsView({ api }: ViewContext): HTMLElement {
  const status = notice();
  const facts = el('dl', { class: 'facts limits' });
  const rows = el('tbody');
  const refresh = el('button', { type: 'button', class: 'secondary' }, 'Refresh');
  const load = async () => {
    try {
      const view = await api.get<LimitsView>('/admin/limits');
      const l = view.limits;
      facts.replaceChildren(
        ...(l
          ? ([
              ['Per connection (sendMsg, changes of messages)', rate(l.connection)],
              ['Per user (sends)', rate(l.user)],
              ['Across containers', l.window.messages > 0 ? `over ${formatNumber(l.window.messages)} messages in ${formatNumber(l.window.seconds)} s: throttled ${formatNumber(l.window.throttleSeconds)} s` : 'off'],
              ['Per HTTP caller', rate(l.http)],
              ['Typing indicators per connection', rate(l.typing)],
            ] as const)
          : ([['Limits', 'none: this deployment has no limits against abuse']] as const)
        ).flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]),
      );
      rows.replaceChildren(
        ...view.throttled.map((t) =>
          el(
            'tr',
            { 'data-user-id': t.userId },
            el('th', { scope: 'row' }, el('a', { href: `#/users/${encodeURIComponent(t.userId)}` }, t.userId)),
            el('td', {}, formatTime(t.until)),
            el('td', {}, formatTime(t.at)),
            el('td', {}, `${formatNumber(t.messages)} in ${formatNumber(t.windowSeconds)} s`),
            el('td', {}, t.groupIds.join(', ')),
          ),
        ),
      );
      const n = view.throttled.length;
      setNotice(status, n ? `${n} user${n === 1 ? '' : 's'} throttled now.` : 'Nobody is throttled now.');
    } catch (err) {
      setNotice(status, describeError(err), 'error');
    }
  };
  refresh.addEventListener('click', () => void busy(refresh, load));
  void load();
  return el(
    'section',
    { class: 'view-limits', 'aria-labelledby': 'limits-title' },
    el('h1', { id: 'limits-title' }, 'Limits'),
    el('p', { class: 'hint' }, 'The limits against abuse in force, and the users refused every send until their throttle ends. A group’s slow mode is set on its page under Groups.'),
    facts,
    el('h2', {}, 'Throttled users'),
    status,
    el(
      'div',
      { class: 'table-wrap' },
      el('table', { class: 'data throttled' }, el('thead', {}, el('tr', {}, ...['User', 'Until (UTC)', 'Since (UTC)', 'Counted', 'Groups flooded'].map((h) => el('th', { scope: 'col' }, h)))), rows),
    ),
    refresh,
  );
}
