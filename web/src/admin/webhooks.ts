/** Webhooks: callbacks pending in the webhook queue, its dead letters (deliveries that failed every retry), and a redrive. */
import { describeError } from './api';
import { busy, el, formatNumber, formatTime, notice, setNotice } from './dom';
import type { ViewContext } from './main';

interface DeadLetters {
  configured: boolean;
  approximateCount: number;
  pending: { waiting: number; inFlight: number };
  messages: { receiptId: string; callback: string; deliveryId: string; data: unknown; sentAt?: number; receiveCount?: number }[];
}

export function webhooksView({ api }: ViewContext): HTMLElement {
  const status = notice();
  const body = el('div', { class: 'dead-letters', 'aria-live': 'polite' });
  const refresh = el('button', { type: 'button', class: 'secondary' }, 'Refresh');

  const load = async (message?: string) => {
    try {
      const result = await api.get<DeadLetters>('/admin/webhooks/dead-letters', { limit: 50 });
      if (!result.configured) {
        body.dataset.state = 'not-configured';
        body.replaceChildren(el('p', { class: 'empty' }, 'Webhooks are not configured for this deployment: no callbacks are sent, so none are pending and there are no dead letters.'));
        setNotice(status, message ?? '');
        return;
      }
      body.dataset.state = 'configured';
      const redrive = el('button', { type: 'button', disabled: result.approximateCount === 0 }, 'Redrive all');
      redrive.addEventListener('click', () =>
        void busy(redrive, async () => {
          try {
            const { moved } = await api.post<{ moved: number }>('/admin/webhooks/dead-letters/redrive');
            await load(`${formatNumber(moved)} dead letter(s) moved back to the webhook queue for another try.`);
          } catch (err) {
            setNotice(status, describeError(err), 'error');
          }
        }),
      );
      body.replaceChildren(
        el(
          'p',
          { class: 'pending' },
          `Webhook queue: about ${formatNumber(result.pending.waiting)} callback(s) waiting, ${formatNumber(result.pending.inFlight)} being sent or waiting for a retry.`,
        ),
        el('p', { class: 'count' }, `About ${formatNumber(result.approximateCount)} dead letter(s).`, ' ', redrive),
        result.messages.length === 0
          ? el('p', { class: 'empty' }, 'No dead letters.')
          : el(
              'div',
              { class: 'table-wrap' },
              el(
                'table',
                { class: 'data' },
                el('thead', {}, el('tr', {}, ...['Callback', 'Delivery id', 'Queued (UTC)', 'Receives', 'Data'].map((h) => el('th', { scope: 'col' }, h)))),
                el(
                  'tbody',
                  {},
                  ...result.messages.map((m) =>
                    el(
                      'tr',
                      { 'data-delivery-id': m.deliveryId },
                      el('th', { scope: 'row' }, m.callback),
                      el('td', {}, el('code', {}, m.deliveryId)),
                      el('td', {}, formatTime(m.sentAt)),
                      el('td', {}, m.receiveCount === undefined ? '' : String(m.receiveCount)),
                      el('td', {}, el('code', { class: 'clip' }, truncate(JSON.stringify(m.data) ?? ''))),
                    ),
                  ),
                ),
              ),
            ),
      );
      setNotice(status, message ?? '');
    } catch (err) {
      body.dataset.state = 'error';
      body.replaceChildren();
      setNotice(status, describeError(err), 'error');
    }
  };
  refresh.addEventListener('click', () => void busy(refresh, () => load()));
  void load();
  return el('section', { class: 'view-webhooks', 'aria-labelledby': 'webhooks-title' }, el('h1', { id: 'webhooks-title' }, 'Webhook deliveries'), el('div', { class: 'toolbar' }, refresh), status, body);
}

const truncate = (s: string) => (s.length > 160 ? `${s.slice(0, 160)}…` : s);
