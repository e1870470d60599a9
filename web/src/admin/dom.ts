/** DOM helpers of the admin console: an element builder and formatting. */

type Child = Node | string | number | null | undefined | false;

/** `el('p', {class: 'x'}, 'text', child)`: attributes (false/undefined left out) and children. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | number | boolean | undefined> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    node.setAttribute(key, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** The same for SVG elements (charts). */
export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number | undefined> = {}, ...children: Child[]): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) if (value !== undefined) node.setAttribute(key, String(value));
  append(node, children);
  return node;
}

function append(node: Element, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === 'number' ? String(child) : child);
  }
}

/** A form field: a label wrapping its control, with an optional hint. */
export function field(label: string, control: HTMLElement, hint?: string): HTMLLabelElement {
  return el('label', { class: 'field' }, el('span', {}, label), control, hint ? el('small', { class: 'hint' }, hint) : null);
}

/** A status line that announces changes to screen readers. */
export function notice(): HTMLParagraphElement {
  return el('p', { class: 'notice', role: 'status', 'aria-live': 'polite' });
}

export function setNotice(node: HTMLElement, text: string, kind: 'ok' | 'error' = 'ok'): void {
  node.textContent = text;
  node.classList.toggle('error', kind === 'error');
}

/** `2026-11-23 14:05:09` (UTC) for ms since the epoch. */
export function formatTime(ms: number | undefined): string {
  if (ms === undefined) return '';
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

export const formatNumber = (n: number): string => n.toLocaleString('en-US');

/** `YYYY-MM-DD` of a date in UTC. */
export const isoDay = (date: Date): string => date.toISOString().slice(0, 10);

/** Runs `action` with `button` disabled meanwhile. */
export async function busy<T>(button: HTMLButtonElement, action: () => Promise<T>): Promise<T> {
  button.disabled = true;
  try {
    return await action();
  } finally {
    button.disabled = false;
  }
}

/** A modal confirmation (`<dialog>`): resolves true when confirmed. Escape and Cancel resolve false. */
export function confirmDialog(title: string, text: string, confirmLabel: string): Promise<boolean> {
  return new Promise((resolve) => {
    const ok = el('button', { type: 'submit', value: 'ok', class: 'danger' }, confirmLabel);
    const cancel = el('button', { type: 'submit', value: 'cancel', class: 'secondary' }, 'Cancel');
    const dialog = el(
      'dialog',
      { class: 'confirm', 'aria-labelledby': 'confirm-title' },
      el('form', { method: 'dialog' }, el('h2', { id: 'confirm-title' }, title), el('p', {}, text), el('div', { class: 'actions' }, cancel, ok)),
    );
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'ok');
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

/**
 * The JSON of a `/local/…` route of the local runtime (on the origin of `apiUrl`), or
 * undefined when there is none to answer (a deployed stack): `body` then shows `notLocal`.
 */
export async function fetchLocal<T>(apiUrl: string, path: string, body: HTMLElement, notLocal: string): Promise<T | undefined> {
  let res: Response;
  try {
    res = await fetch(`${new URL(apiUrl).origin}${path}`);
  } catch {
    res = new Response(null, { status: 404 });
  }
  if (!res.ok) {
    body.dataset.state = 'not-local';
    body.replaceChildren(el('p', { class: 'empty' }, notLocal));
    return undefined;
  }
  body.dataset.state = 'local';
  return (await res.json()) as T;
}
