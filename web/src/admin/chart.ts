/**
 * Per-day bar charts as inline SVG (no chart library): one or more series stacked per day,
 * a y axis with round ticks, date labels on the x axis, a legend, and the same numbers as a
 * table for screen readers and copying.
 */
import { el, formatNumber, svg } from './dom';

export interface Series {
  /** Legend and table header. */
  name: string;
  /** CSS class of its bars (colour), e.g. `s1`. */
  cls: string;
  values: number[];
}

const WIDTH = 640;
const HEIGHT = 220;
const PAD = { top: 12, right: 10, bottom: 30, left: 50 };

/** A round step (1, 2 or 5 × 10^k, at least 1) so that about four steps cover `max`. */
export function niceStep(max: number): number {
  const raw = Math.max(max / 4, 1);
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}

/** `11-23` of `2026-11-23`. */
const shortDate = (day: string) => day.slice(5);

export function barChart(options: { id: string; title: string; dates: string[]; series: Series[] }): HTMLElement {
  const { id, title, dates, series } = options;
  const totals = dates.map((_, i) => series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0));
  const max = Math.max(0, ...totals);
  const step = niceStep(max);
  const top = Math.max(step, Math.ceil(max / step) * step);
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const y = (v: number) => PAD.top + plotH - (v / top) * plotH;
  const slot = plotW / Math.max(dates.length, 1);
  const barW = Math.max(1, slot * 0.7);

  const titleId = `${id}-title`;
  const descId = `${id}-desc`;
  const chart = svg(
    'svg',
    { class: 'chart-svg', viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-labelledby': `${titleId} ${descId}` },
    svg('title', { id: titleId }, title),
    svg('desc', { id: descId }, `${dates.length} days from ${dates[0] ?? ''} to ${dates.at(-1) ?? ''}; at most ${formatNumber(max)} a day. The table below has every value.`),
  );

  // Y axis: gridlines and tick labels.
  const axis = svg('g', { class: 'axis y' });
  for (let v = 0; v <= top; v += step) {
    axis.append(
      svg('line', { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(v), y2: y(v), class: v === 0 ? 'baseline' : 'grid' }),
      svg('text', { x: PAD.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, formatNumber(v)),
    );
  }
  chart.append(axis);

  // Bars: one group per day, its series stacked bottom up.
  const bars = svg('g', { class: 'bars' });
  dates.forEach((date, i) => {
    const x = PAD.left + i * slot + (slot - barW) / 2;
    const day = svg('g', { 'data-date': date, 'data-total': totals[i] });
    let base = 0;
    for (const s of series) {
      const value = s.values[i] ?? 0;
      if (value > 0) {
        day.append(
          svg(
            'rect',
            { class: `bar ${s.cls}`, x: x.toFixed(2), y: y(base + value).toFixed(2), width: barW.toFixed(2), height: ((value / top) * plotH).toFixed(2), 'data-series': s.name, 'data-value': value },
            svg('title', {}, `${date} · ${s.name}: ${formatNumber(value)}`),
          ),
        );
      }
      base += value;
    }
    bars.append(day);
  });
  chart.append(bars);

  // X axis: dates, thinned to at most eight labels.
  const every = Math.max(1, Math.ceil(dates.length / 8));
  const xAxis = svg('g', { class: 'axis x' });
  dates.forEach((date, i) => {
    if (i % every !== 0) return;
    xAxis.append(svg('text', { x: (PAD.left + i * slot + slot / 2).toFixed(2), y: HEIGHT - 8, 'text-anchor': 'middle' }, shortDate(date)));
  });
  chart.append(xAxis);

  const legend =
    series.length > 1
      ? el('ul', { class: 'legend' }, ...series.map((s) => el('li', {}, el('span', { class: `swatch ${s.cls}`, 'aria-hidden': 'true' }), s.name)))
      : null;

  const table = el(
    'table',
    { class: 'data' },
    el('caption', { class: 'visually-hidden' }, `${title} per day`),
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Date'), ...series.map((s) => el('th', { scope: 'col' }, s.name)), series.length > 1 ? el('th', { scope: 'col' }, 'Total') : null)),
    el(
      'tbody',
      {},
      ...dates.map((date, i) =>
        el(
          'tr',
          { 'data-date': date },
          el('th', { scope: 'row' }, date),
          ...series.map((s) => el('td', { 'data-series': s.name }, formatNumber(s.values[i] ?? 0))),
          series.length > 1 ? el('td', { 'data-series': 'Total' }, formatNumber(totals[i] ?? 0)) : null,
        ),
      ),
    ),
  );

  return el(
    'figure',
    { class: 'chart', 'data-chart': id },
    el('figcaption', {}, title),
    chart,
    legend,
    el('details', {}, el('summary', {}, 'Table'), table),
  );
}
