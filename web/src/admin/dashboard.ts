/** Dashboard: totals and per-day charts of `GET /admin/statistics` for a date range, and who is online now. */
import { describeError, type Statistics } from './api';
import { barChart } from './chart';
import { busy, el, field, formatNumber, formatTime, isoDay, notice, setNotice } from './dom';
import type { ViewContext } from './main';

const DAY_MS = 86_400_000;
/** Names of the content types (docs/protocol.md); others show as their number. */
const CONTENT_TYPES: Record<string, string> = {
  '101': 'text', '102': 'picture', '103': 'voice', '104': 'video', '105': 'file', '106': 'mention', '107': 'merge forward',
  '108': 'card', '109': 'location', '110': 'custom', '114': 'quote', '118': 'markdown',
};

export const contentTypeName = (type: number | string): string => CONTENT_TYPES[String(type)] ?? (Number(type) >= 1000 ? `notification ${type}` : String(type));

/** `text (101)`, `notification 1501`. */
export const contentTypeLabel = (type: number | string): string => (CONTENT_TYPES[String(type)] ? `${CONTENT_TYPES[String(type)]} (${type})` : contentTypeName(type));

export function dashboardView({ api }: ViewContext): HTMLElement {
  const today = new Date();
  const from = el('input', { type: 'date', name: 'from', required: true, value: isoDay(new Date(today.getTime() - 13 * DAY_MS)) });
  const to = el('input', { type: 'date', name: 'to', required: true, value: isoDay(today) });
  const button = el('button', { type: 'submit' }, 'Show');
  const status = notice();
  const output = el('div', { class: 'dashboard', 'aria-live': 'polite', 'aria-busy': 'false' });
  const form = el('form', { class: 'toolbar' }, field('From (UTC)', from), field('To (UTC)', to), button);

  const load = () =>
    busy(button, async () => {
      output.setAttribute('aria-busy', 'true');
      setNotice(status, 'Loading…');
      try {
        const stats = await api.get<Statistics>('/admin/statistics', { from: from.value, to: to.value });
        output.replaceChildren(...renderStats(stats));
        setNotice(status, `Generated ${formatTime(stats.generatedAt)} UTC.`);
      } catch (err) {
        output.replaceChildren();
        setNotice(status, describeError(err), 'error');
      } finally {
        output.setAttribute('aria-busy', 'false');
      }
    });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void load();
  });
  void load();
  return el('section', { class: 'view-dashboard', 'aria-labelledby': 'dashboard-title' }, el('h1', { id: 'dashboard-title' }, 'Dashboard'), form, status, output);
}

function card(label: string, value: number, key: string, note?: string): HTMLElement {
  return el('div', { class: 'card', 'data-total': key }, el('span', { class: 'label' }, label), el('strong', { class: 'value' }, formatNumber(value)), note ? el('small', {}, note) : null);
}

function renderStats(stats: Statistics): HTMLElement[] {
  const dates = stats.days.map((d) => d.date);
  const pick = (f: (d: Statistics['days'][number]) => number) => stats.days.map(f);
  const cards = el(
    'div',
    { class: 'cards' },
    card('Online now', stats.online.users, 'online', `${formatNumber(stats.online.connections)} connections`),
    card('Messages', stats.totals.messages, 'messages'),
    card('New users', stats.totals.newUsers, 'newUsers'),
    card('Active users', stats.totals.activeUsers, 'activeUsers', 'distinct over the range'),
    card('Groups created', stats.totals.groupsCreated, 'groupsCreated'),
    card('Active groups', stats.totals.activeGroups, 'activeGroups', 'distinct over the range'),
  );
  const charts = el(
    'div',
    { class: 'charts' },
    barChart({
      id: 'messages',
      title: 'Messages',
      dates,
      series: [
        { name: 'One-to-one', cls: 's1', values: pick((d) => d.messages.single) },
        { name: 'Group', cls: 's2', values: pick((d) => d.messages.group) },
        { name: 'Notification', cls: 's3', values: pick((d) => d.messages.notification) },
      ],
    }),
    barChart({ id: 'activeUsers', title: 'Active users', dates, series: [{ name: 'Active users', cls: 's1', values: pick((d) => d.activeUsers) }] }),
    barChart({ id: 'newUsers', title: 'New users', dates, series: [{ name: 'New users', cls: 's2', values: pick((d) => d.newUsers) }] }),
    barChart({ id: 'activeGroups', title: 'Active groups', dates, series: [{ name: 'Active groups', cls: 's1', values: pick((d) => d.activeGroups) }] }),
    barChart({ id: 'groupsCreated', title: 'Groups created', dates, series: [{ name: 'Groups created', cls: 's2', values: pick((d) => d.groupsCreated) }] }),
  );
  const byType = new Map<string, number>();
  for (const day of stats.days) for (const [type, n] of Object.entries(day.messagesByContentType ?? {})) byType.set(type, (byType.get(type) ?? 0) + n);
  const types = [...byType].sort((a, b) => b[1] - a[1]);
  const typeTable = el(
    'section',
    { class: 'by-type', 'aria-labelledby': 'by-type-title' },
    el('h2', { id: 'by-type-title' }, 'Messages by content type'),
    types.length === 0
      ? el('p', { class: 'empty' }, 'No messages in this range.')
      : el(
          'table',
          { class: 'data' },
          el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Content type'), el('th', { scope: 'col' }, 'Messages'))),
          el('tbody', {}, ...types.map(([type, n]) => el('tr', { 'data-content-type': type }, el('th', { scope: 'row' }, contentTypeLabel(type)), el('td', {}, formatNumber(n))))),
        ),
  );
  return [cards, charts, typeTable];
}
