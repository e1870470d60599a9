/**
 * Metrics (local runtime only): the figures the stack's CloudWatch dashboard shows, as the local
 * runtime counted them since it started (`GET /local/metrics` on the runtime's origin, which
 * deployed stacks do not have; there, open the dashboard). Per function invocations, errors,
 * throttles and durations; API Gateway messages, connects and errors; DynamoDB requests per
 * table; queue depth and age; dead letters; the archive's lag (stream iterator age); and the
 * custom metrics the functions print in CloudWatch's embedded metric format.
 */
import { busy, el, fetchLocal, formatNumber, formatTime, notice, setNotice } from './dom';
import type { ViewContext } from './main';

interface Figures {
  since: number;
  functions: Record<string, { invocations: number; errors: number; throttles: number; durationAvg: number; durationP99: number; durationMax: number }>;
  webSocket: { messages: number; messagesIn: number; messagesOut: number; connects: number; integrationErrors: number; executionErrors: number; clientErrors: number };
  http: { requests: number; status4xx: number; status5xx: number };
  tables: Record<string, { reads: number; writes: number; throttles: number }>;
  streams: Record<string, { batches: number; lastAgeMs: number; maxAgeMs: number }>;
  queues: { name: string; visible: number; inFlight: number; delayed: number; oldestAgeSeconds: number }[];
  deadLetters: { name: string; visible: number; inFlight: number; delayed: number; oldestAgeSeconds: number }[];
  asyncEventsPending: number;
  custom: { namespace: string; name: string; unit: string; dimensions: Record<string, string>; function: string; count: number; sum: number; min: number; max: number }[];
  notShownLocally: string[];
}

const ms = (n: number) => `${n < 10 ? n.toFixed(1) : formatNumber(Math.round(n))} ms`;

function table(name: string, caption: string, head: string[], rows: (string | number)[][], empty: string): HTMLElement {
  if (rows.length === 0) return el('section', { class: 'metrics-block', 'data-block': name }, el('h2', {}, caption), el('p', { class: 'empty' }, empty));
  return el(
    'section',
    { class: 'metrics-block', 'data-block': name },
    el('h2', {}, caption),
    el(
      'div',
      { class: 'table-wrap' },
      el(
        'table',
        { class: 'data' },
        el('thead', {}, el('tr', {}, ...head.map((h) => el('th', { scope: 'col' }, h)))),
        el('tbody', {}, ...rows.map(([first, ...rest]) => el('tr', { 'data-row': String(first) }, el('th', { scope: 'row' }, String(first)), ...rest.map((v) => el('td', {}, typeof v === 'number' ? formatNumber(v) : v))))),
      ),
    ),
  );
}

export function metricsView({ api }: ViewContext): HTMLElement {
  const status = notice();
  const body = el('div', { class: 'metrics', 'aria-live': 'polite' });
  const refresh = el('button', { type: 'button', class: 'secondary' }, 'Refresh');
  const load = async () => {
    const f = await fetchLocal<Figures>(
      api.session.apiUrl,
      '/local/metrics',
      body,
      "These figures come from the local runtime only. A deployed stack's are on its CloudWatch dashboard (docs/operations.md, Monitoring).",
    );
    setNotice(status, '');
    if (!f) return;
    body.replaceChildren(
      el('p', { class: 'hint' }, `Since the runtime started, ${formatTime(f.since)} UTC. Not shown locally: ${f.notShownLocally.join('; ')}.`),
      table(
        'functions',
        'Functions (Lambda)',
        ['Function', 'Invocations', 'Errors', 'Throttles', 'Duration avg', 'Duration p99', 'Duration max'],
        Object.entries(f.functions).map(([fn, v]) => [fn, v.invocations, v.errors, v.throttles, ms(v.durationAvg), ms(v.durationP99), ms(v.durationMax)]),
        'No invocation yet.',
      ),
      table(
        'api',
        'API Gateway',
        ['API', 'Messages / requests', 'Connects', 'Integration errors', 'Execution errors', 'Client errors (4xx)', '5xx'],
        [
          ['WebSocket', f.webSocket.messages, f.webSocket.connects, f.webSocket.integrationErrors, f.webSocket.executionErrors, f.webSocket.clientErrors, '—'],
          ['HTTP', f.http.requests, '—', '—', '—', f.http.status4xx, f.http.status5xx],
        ],
        '',
      ),
      table(
        'tables',
        'DynamoDB requests',
        ['Table', 'Read requests', 'Write requests', 'Throttle events'],
        Object.entries(f.tables).map(([t, v]) => [t, v.reads, v.writes, v.throttles]),
        'No request yet.',
      ),
      table(
        'queues',
        'Queues and dead letters',
        ['Queue', 'Visible', 'In flight', 'Delayed', 'Oldest (s)'],
        [...f.queues, ...f.deadLetters].map((q) => [q.name, q.visible, q.inFlight, q.delayed, q.oldestAgeSeconds]),
        '',
      ),
      table(
        'streams',
        'Archive lag (stream iterator age)',
        ['Stream consumer', 'Batches', 'Last age', 'Max age'],
        Object.entries(f.streams).map(([s, v]) => [s, v.batches, ms(v.lastAgeMs), ms(v.maxAgeMs)]),
        'No stream batch yet.',
      ),
      el('p', { class: 'hint' }, `Asynchronous invocations queued or waiting for a retry: ${formatNumber(f.asyncEventsPending)}.`),
      table(
        'custom',
        'Custom metrics (embedded metric format)',
        ['Metric', 'Namespace', 'Dimensions', 'Function', 'Unit', 'Samples', 'Sum', 'Min', 'Max'],
        f.custom.map((c) => [c.name, c.namespace, Object.entries(c.dimensions).map(([k, v]) => `${k}=${v}`).join(', '), c.function, c.unit, c.count, c.sum, c.min, c.max]),
        'None printed yet.',
      ),
    );
    setNotice(status, '');
  };
  refresh.addEventListener('click', () => void busy(refresh, () => load()));
  void load();
  return el('section', { class: 'view-metrics', 'aria-labelledby': 'metrics-title' }, el('h1', { id: 'metrics-title' }, 'Metrics'), el('div', { class: 'toolbar' }, refresh), status, body);
}
