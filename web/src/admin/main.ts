/**
 * The Cirrus admin console (`/admin/`): sign in with the deployment's admin secret, then a
 * dashboard of statistics, users (search, profile, ban, force logout), groups, moderation
 * (message search, history, revoke, delete, purge), webhook dead letters, batch sends, the limits against abuse and the audit log, all
 * through the HTTP API with the admin token (kept in sessionStorage, for this tab only); locally,
 * also the notifications the push stand-ins received and the figures the CloudWatch dashboard would show (Metrics).
 */
import '../style.css';
import './admin.css';
import { AdminApi, describeError, discoverApiUrl, signIn, type AdminSession } from './api';
import { el } from './dom';
import { dashboardView } from './dashboard';
import { usersView } from './users';
import { groupsView } from './groups';
import { moderationView } from './moderation';
import { webhooksView } from './webhooks';
import { batchView } from './batch';
import { pushView } from './push';
import { metricsView } from './metrics';
import { auditView } from './audit';
import { limitsView } from './limits';

export interface ViewContext {
  api: AdminApi;
  /** The route's arguments: `#/users/alice` → `['alice']`. */
  args: string[];
  /** A view that handles a change of its arguments itself (keeping its state) registers here. */
  onArgs: (update: (args: string[]) => void) => void;
}

interface View {
  path: string;
  label: string;
  render: (ctx: ViewContext) => HTMLElement;
}

const VIEWS: View[] = [
  { path: 'dashboard', label: 'Dashboard', render: dashboardView },
  { path: 'users', label: 'Users', render: usersView },
  { path: 'groups', label: 'Groups', render: groupsView },
  { path: 'moderation', label: 'Moderation', render: moderationView },
  { path: 'webhooks', label: 'Webhooks', render: webhooksView },
  { path: 'batch', label: 'Batch send', render: batchView },
  { path: 'push', label: 'Push', render: pushView },
  { path: 'metrics', label: 'Metrics', render: metricsView },
  { path: 'limits', label: 'Limits', render: limitsView },
  { path: 'audit', label: 'Audit log', render: auditView },
];

const SESSION_KEY = 'cirrus-admin.session';
const root = document.getElementById('console')!;
let apiUrl = '';
let expiryTimer: ReturnType<typeof setTimeout> | undefined;

function loadSession(): AdminSession | undefined {
  try {
    const raw = sessionStorage.getItem(SESSION_KEY);
    const session = raw ? (JSON.parse(raw) as AdminSession) : undefined;
    return session && typeof session.token === 'string' && typeof session.expiresAt === 'number' ? session : undefined;
  } catch {
    return undefined;
  }
}

function signOut(message?: string): void {
  sessionStorage.removeItem(SESSION_KEY);
  current = undefined;
  clearTimeout(expiryTimer);
  window.removeEventListener('hashchange', route);
  showSignIn(message);
}

function showSignIn(message?: string): void {
  const secret = el('input', { type: 'password', name: 'secret', autocomplete: 'current-password', required: true, 'aria-label': 'Admin secret' });
  const operator = el('input', { name: 'name', autocomplete: 'username', spellcheck: 'false', placeholder: 'alice@example.com', pattern: '[A-Za-z0-9][A-Za-z0-9._@+\\-]{0,127}' });
  const button = el('button', { type: 'submit' }, 'Sign in');
  const error = el('p', { class: 'error', role: 'alert' }, message ?? '');
  const form = el(
    'form',
    { class: 'sign-in admin-sign-in' },
    el('h1', {}, 'Cirrus admin'),
    el('p', { class: 'hint' }, "Sign in with the deployment's admin secret (", el('code', {}, 'npm start'), ' prints it; deployed: the SecureString parameter of the stack output AdminSecretParameter). The admin token stays in this tab.'),
    el('label', {}, 'Admin secret', secret),
    el('label', {}, 'Your name (for the audit log, optional)', operator),
    button,
    error,
    el('p', { class: 'hint' }, 'API: ', el('code', {}, apiUrl)),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    button.disabled = true;
    error.textContent = '';
    signIn(apiUrl, secret.value, operator.value.trim() || undefined)
      .then((session) => {
        sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
        openConsole(session);
      })
      .catch((err: unknown) => {
        error.textContent = describeError(err);
        button.disabled = false;
        secret.select();
      });
  });
  root.replaceChildren(form);
  secret.focus();
}

let api: AdminApi;
let main: HTMLElement;
let nav: HTMLElement;
/** The view shown, and how it takes new arguments (if it does). */
let current: { path: string; update?: (args: string[]) => void } | undefined;

function openConsole(session: AdminSession): void {
  const remaining = session.expiresAt * 1000 - Date.now();
  if (remaining <= 0) return signOut('Your admin session expired. Sign in again.');
  clearTimeout(expiryTimer);
  expiryTimer = setTimeout(() => signOut('Your admin session expired. Sign in again.'), Math.min(remaining, 2 ** 31 - 1));
  api = new AdminApi(session, (message) => signOut(message));

  const signOutButton = el('button', { type: 'button', class: 'secondary' }, 'Sign out');
  signOutButton.addEventListener('click', () => signOut('Signed out.'));
  nav = el('nav', { 'aria-label': 'Console sections' }, el('ul', {}, ...VIEWS.map((v) => el('li', {}, el('a', { href: `#/${v.path}`, 'data-view': v.path }, v.label)))));
  main = el('main', { id: 'view', tabindex: '-1' });
  const skip = el('a', { class: 'skip', href: '#view' }, 'Skip to content');
  skip.addEventListener('click', (event) => {
    event.preventDefault();
    main.focus();
  });
  root.replaceChildren(
    skip,
    el('header', { class: 'console-bar' }, el('strong', { class: 'brand' }, 'Cirrus admin'), nav, el('span', { class: 'expires', title: 'When the admin token expires' }, `until ${new Date(session.expiresAt * 1000).toLocaleTimeString()}`), signOutButton),
    main,
  );
  window.addEventListener('hashchange', route);
  route();
}

/** `#/users/alice` → the users view with `['alice']`. Unknown hashes go to the dashboard. */
function route(): void {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const view = VIEWS.find((v) => v.path === parts[0]) ?? VIEWS[0]!;
  for (const link of nav.querySelectorAll('a')) {
    if (link.dataset.view === view.path) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.title = `${view.label} · Cirrus admin`;
  const args = parts.slice(1);
  if (current?.path === view.path && current.update) return current.update(args);
  const shown: { path: string; update?: (args: string[]) => void } = { path: view.path };
  current = shown;
  main.replaceChildren(view.render({ api, args, onArgs: (update) => void (shown.update = update) }));
}

apiUrl = await discoverApiUrl();
const session = loadSession();
if (session && session.apiUrl === apiUrl) openConsole(session);
else showSignIn();
