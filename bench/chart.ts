/** Small SVG charts rendered to PNG (resvg, with the system's fonts), for docs/performance.md. */
import { writeFileSync } from 'node:fs';
import { Resvg } from '@resvg/resvg-js';

export interface Series {
  name: string;
  points: { x: number; y: number }[];
}

const COLORS = ['#2563eb', '#f59e0b', '#dc2626', '#16a34a', '#7c3aed'];
const W = 720;
const H = 400;
const M = { left: 70, right: 160, top: 40, bottom: 55 };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 2.5, 5, 10].map((m) => m * p).find((m) => m >= v)!;
}

export function lineChart(file: string, title: string, xLabel: string, yLabel: string, series: Series[], hline?: { y: number; label: string }): void {
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const ys = series.flatMap((s) => s.points.map((p) => p.y)).concat(hline ? [hline.y] : []);
  const xMax = niceMax(Math.max(...xs));
  const yMax = niceMax(Math.max(...ys) * 1.05);
  const px = (x: number) => M.left + (x / xMax) * (W - M.left - M.right);
  const py = (y: number) => H - M.bottom - (y / yMax) * (H - M.top - M.bottom);
  const parts: string[] = [`<rect width="${W}" height="${H}" fill="white"/>`, `<text x="${W / 2 - 60}" y="24" font-size="16" font-family="DejaVu Sans" font-weight="bold">${esc(title)}</text>`];
  for (let i = 0; i <= 5; i++) {
    const y = (yMax / 5) * i;
    parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${py(y)}" y2="${py(y)}" stroke="#e5e7eb"/>`);
    parts.push(`<text x="${M.left - 8}" y="${py(y) + 4}" font-size="11" text-anchor="end" font-family="DejaVu Sans">${+y.toFixed(1)}</text>`);
    const x = (xMax / 5) * i;
    parts.push(`<text x="${px(x)}" y="${H - M.bottom + 18}" font-size="11" text-anchor="middle" font-family="DejaVu Sans">${+x.toFixed(1)}</text>`);
  }
  parts.push(`<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}" stroke="#111"/>`);
  parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" stroke="#111"/>`);
  parts.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - 12}" font-size="13" text-anchor="middle" font-family="DejaVu Sans">${esc(xLabel)}</text>`);
  parts.push(`<text x="18" y="${(M.top + H - M.bottom) / 2}" font-size="13" text-anchor="middle" font-family="DejaVu Sans" transform="rotate(-90 18 ${(M.top + H - M.bottom) / 2})">${esc(yLabel)}</text>`);
  if (hline) {
    parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${py(hline.y)}" y2="${py(hline.y)}" stroke="#6b7280" stroke-dasharray="6 4"/>`);
    parts.push(`<text x="${W - M.right + 6}" y="${py(hline.y) + 4}" font-size="11" font-family="DejaVu Sans" fill="#6b7280">${esc(hline.label)}</text>`);
  }
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2.5" points="${s.points.map((p) => `${px(p.x)},${py(p.y)}`).join(' ')}"/>`);
    for (const p of s.points) parts.push(`<circle cx="${px(p.x)}" cy="${py(p.y)}" r="3.5" fill="${color}"/>`);
    parts.push(`<rect x="${W - M.right + 10}" y="${M.top + 10 + i * 22}" width="14" height="4" fill="${color}"/>`);
    parts.push(`<text x="${W - M.right + 30}" y="${M.top + 16 + i * 22}" font-size="12" font-family="DejaVu Sans">${esc(s.name)}</text>`);
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">${parts.join('')}</svg>`;
  writeFileSync(file, new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } }).render().asPng());
}

export function barChart(file: string, title: string, yLabel: string, bars: { label: string; value: number }[], limit?: { y: number; label: string }): void {
  const yMax = niceMax(Math.max(...bars.map((b) => b.value), limit?.y ?? 0) * 1.1);
  const w = W - M.left - M.right;
  const bw = w / bars.length;
  const py = (y: number) => H - M.bottom - (y / yMax) * (H - M.top - M.bottom);
  const parts: string[] = [`<rect width="${W}" height="${H}" fill="white"/>`, `<text x="${M.left}" y="24" font-size="16" font-family="DejaVu Sans" font-weight="bold">${esc(title)}</text>`];
  for (let i = 0; i <= 5; i++) {
    const y = (yMax / 5) * i;
    parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${py(y)}" y2="${py(y)}" stroke="#e5e7eb"/>`);
    parts.push(`<text x="${M.left - 8}" y="${py(y) + 4}" font-size="11" text-anchor="end" font-family="DejaVu Sans">${+y.toFixed(2)}</text>`);
  }
  bars.forEach((b, i) => {
    const x = M.left + i * bw + bw * 0.15;
    parts.push(`<rect x="${x}" y="${py(b.value)}" width="${bw * 0.7}" height="${H - M.bottom - py(b.value)}" fill="${COLORS[0]}"/>`);
    parts.push(`<text x="${x + bw * 0.35}" y="${py(b.value) - 5}" font-size="11" text-anchor="middle" font-family="DejaVu Sans">${b.value.toFixed(2)}</text>`);
    parts.push(`<text x="${x + bw * 0.35}" y="${H - M.bottom + 16}" font-size="10" text-anchor="middle" font-family="DejaVu Sans">${esc(b.label)}</text>`);
  });
  if (limit) {
    parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${py(limit.y)}" y2="${py(limit.y)}" stroke="#dc2626" stroke-dasharray="6 4"/>`);
    parts.push(`<text x="${W - M.right + 6}" y="${py(limit.y) + 4}" font-size="11" font-family="DejaVu Sans" fill="#dc2626">${esc(limit.label)}</text>`);
  }
  parts.push(`<text x="18" y="${(M.top + H - M.bottom) / 2}" font-size="13" text-anchor="middle" font-family="DejaVu Sans" transform="rotate(-90 18 ${(M.top + H - M.bottom) / 2})">${esc(yLabel)}</text>`);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">${parts.join('')}</svg>`;
  writeFileSync(file, new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } }).render().asPng());
}
