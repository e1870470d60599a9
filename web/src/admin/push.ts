/**
 * Push notifications (local runtime only): what the local APNs, FCM and Web Push stand-ins
 * received, newest first (`GET /local/push/notifications` on the runtime's origin, which
 * deployed stacks do not have).
 */
import { busy, el, fetchLocal, notice, setNotice } from './dom';
import type { ViewContext } from './main';

interface Received {
  id: string;
  provider: string;
  token: string;
  receivedAt: string;
  title?: string;
  body?: string;
  badge?: number;
}

const short = (token: string) => (token.length > 16 ? `…${token.slice(-12)}` : token);

export function pushView({ api }: ViewContext): HTMLElement {
  const status = notice();
  const body = el('div', { class: 'push-notifications', 'aria-live': 'polite' });
  const refresh = el('button', { type: 'button', class: 'secondary' }, 'Refresh');
  const load = async () => {
    // The stand-ins answer on the runtime's origin, beside its /api.
    const found = await fetchLocal<{ notifications: Received[] }>(
      api.session.apiUrl,
      '/local/push/notifications?limit=50',
      body,
      'Push notifications are listed here by the local runtime only (its APNs, FCM and Web Push stand-ins). A deployed stack sends them to the real services.',
    );
    setNotice(status, '');
    if (!found) return;
    const { notifications } = found;
    body.replaceChildren(
      notifications.length === 0
        ? el('p', { class: 'empty' }, 'None received yet: a recipient with a registered device and no foreground connection gets one.')
        : el(
            'div',
            { class: 'table-wrap' },
            el(
              'table',
              { class: 'data' },
              el('thead', {}, el('tr', {}, ...['Provider', 'Device', 'Title', 'Body', 'Badge', 'Received (UTC)'].map((h) => el('th', { scope: 'col' }, h)))),
              el(
                'tbody',
                {},
                ...notifications.map((n) =>
                  el(
                    'tr',
                    { 'data-id': n.id },
                    el('th', { scope: 'row' }, n.provider),
                    el('td', {}, el('code', { title: n.token }, short(n.token))),
                    el('td', {}, n.title ?? ''),
                    el('td', {}, n.body ?? ''),
                    el('td', {}, n.badge === undefined ? '' : String(n.badge)),
                    el('td', {}, n.receivedAt.replace('T', ' ').slice(0, 19)),
                  ),
                ),
              ),
            ),
          ),
    );
    setNotice(status, '');
  };
  refresh.addEventListener('click', () => void busy(refresh, () => load()));
  void load();
  return el('section', { class: 'view-push', 'aria-labelledby': 'push-title' }, el('h1', { id: 'push-title' }, 'Push notifications'), el('div', { class: 'toolbar' }, refresh), status, body);
}
