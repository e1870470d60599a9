/**
 * The admin console's HTTP client: plain `fetch` with the admin token, against the API base URL
 * (the local runtime's `/api` on the same origin, or `apiUrl` of a deployed site's `/config.json`).
 * Errors carry the API's code, reason and message.
 */

/** What a deployed demo site serves at `/config.json` (see `lib/demo-site.ts`); the console reads `apiUrl`. */
interface SiteConfig {
  apiUrl?: unknown;
}

/** The API base URL: `apiUrl` from `/config.json` when the site has one, else the local runtime's `/api`. */
export async function discoverApiUrl(): Promise<string> {
  const res = await fetch('/config.json', { cache: 'no-store' }).catch(() => undefined);
  if (res?.ok) {
    const body = (await res.json().catch(() => undefined)) as SiteConfig | undefined;
    if (typeof body?.apiUrl === 'string' && body.apiUrl) return body.apiUrl.replace(/\/+$/, '');
  }
  return `${location.origin}/api`;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number | undefined,
    readonly reason: string | undefined,
    message: string,
  ) {
    super(message);
  }

  /** `ADMIN_SECRET_INVALID (1107): The admin secret is wrong.` */
  describe(): string {
    return this.reason ? `${this.reason} (${this.code}): ${this.message}` : this.message;
  }
}

/** The error text to show for anything thrown by a call. */
export const describeError = (err: unknown): string => (err instanceof ApiError ? err.describe() : err instanceof Error ? err.message : String(err));

/** Reasons that mean the admin token no longer works: the console signs out. */
const SESSION_OVER = new Set(['TOKEN_MISSING', 'TOKEN_INVALID', 'TOKEN_EXPIRED', 'TOKEN_REVOKED']);

export type Query = Record<string, string | number | undefined>;

async function request<T>(apiUrl: string, method: string, path: string, options: { query?: Query; body?: unknown; token?: string }): Promise<T> {
  const url = new URL(apiUrl + path);
  for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: { ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}), ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch {
    throw new ApiError(0, undefined, undefined, `Could not reach the API at ${apiUrl}.`);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const error = (body as { error?: { code?: number; reason?: string; message?: string } } | undefined)?.error;
    const fallback = (body as { message?: string } | undefined)?.message;
    throw new ApiError(res.status, error?.code, error?.reason, error?.message ?? `HTTP ${res.status}${fallback ? `: ${fallback}` : ''}`);
  }
  return body as T;
}

export interface AdminSession {
  token: string;
  /** Seconds since the epoch. */
  expiresAt: number;
  apiUrl: string;
}

/** Exchanges the admin secret for an admin token, naming the operator (`name`) for the audit log. */
export async function signIn(apiUrl: string, secret: string, name?: string): Promise<AdminSession> {
  const { token, expiresAt } = await request<{ token: string; expiresAt: number }>(apiUrl, 'POST', '/auth/admin-token', { body: { secret, ...(name ? { name } : {}) } });
  return { token, expiresAt, apiUrl };
}

/** Calls with the session's admin token; a token the API no longer accepts ends the session. */
export class AdminApi {
  constructor(
    readonly session: AdminSession,
    private readonly onSessionOver: (message: string) => void,
  ) {}

  async call<T>(method: string, path: string, options: { query?: Query; body?: unknown } = {}): Promise<T> {
    try {
      return await request<T>(this.session.apiUrl, method, path, { ...options, token: this.session.token });
    } catch (err) {
      if (err instanceof ApiError && err.status === 401 && err.reason && SESSION_OVER.has(err.reason)) {
        this.onSessionOver(err.reason === 'TOKEN_EXPIRED' ? 'Your admin session expired. Sign in again.' : `Your admin session ended (${err.describe()}). Sign in again.`);
      }
      throw err;
    }
  }

  get = <T>(path: string, query?: Query) => this.call<T>('GET', path, { query });
  post = <T>(path: string, body?: unknown) => this.call<T>('POST', path, { body: body ?? {} });
  del = <T>(path: string) => this.call<T>('DELETE', path);
}

/** Path segments are encoded: ids may hold `@` and `.`. */
export const seg = (value: string | number): string => encodeURIComponent(String(value));

// The shapes the console reads (docs/openapi.json has the full ones).

export interface Profile {
  userId: string;
  nickname?: string;
  faceUrl?: string;
  banned?: { at: number; until?: number; reason?: string };
  erased?: { at: number };
  createdAt: number;
}

export interface Message {
  serverMsgId: string;
  conversationId: string;
  seq: number;
  sessionType: number;
  senderId: string;
  recvId?: string;
  groupId?: string;
  contentType: number;
  content: unknown;
  sendTime: number;
  revoked?: { at: number; by?: string };
  deleted?: { at: number; by?: string };
  edited?: { at: number };
}

export interface DayStats {
  date: string;
  newUsers: number;
  activeUsers: number;
  messages: { total: number; single: number; group: number; notification: number };
  messagesByContentType: Record<string, number>;
  groupsCreated: number;
  activeGroups: number;
}

export interface Statistics {
  from: string;
  to: string;
  totals: { newUsers: number; activeUsers: number; messages: number; groupsCreated: number; activeGroups: number };
  days: DayStats[];
  online: { connections: number; users: number };
  generatedAt: number;
}
