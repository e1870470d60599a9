/**
 * The HTTP API from an app: one generic caller driven by the generated route table, so every
 * route is a typed method without a hand-written line per route.
 */
import { CirrusSdkError } from '../errors';
import type { TokenStatus } from '../connection';
import type { WireError } from '../protocol';
import { routes, type ApiOperationId, type UserApi } from './routes.gen';

export type FetchLike = (url: string, init: { method: string; headers: Record<string, string>; body?: unknown }) => Promise<{
  ok: boolean;
  status: number;
  text(): Promise<string>;
}>;

export interface HttpOptions {
  /** The HTTP API URL, e.g. `http://localhost:8080/api` or the stack's `HttpApiUrl`. */
  apiUrl: string;
  /** The current user token (read at each call, so a refreshed token is used at once). */
  token: () => string;
  /** @default globalThis.fetch */
  fetch?: FetchLike;
}

export interface HttpRequest {
  query?: Record<string, unknown>;
  body?: unknown;
  /** Send without the token (e.g. to a presigned URL host). */
  anonymous?: boolean;
}

export class HttpClient {
  private readonly fetchImpl: FetchLike;
  private readonly base: string;

  constructor(private readonly options: HttpOptions) {
    this.base = options.apiUrl.replace(/\/$/, '');
    const impl = options.fetch ?? (globalThis.fetch as unknown as FetchLike | undefined);
    if (!impl) throw new CirrusSdkError('USAGE', 'No fetch implementation: pass options.fetch');
    // Called as a plain function: browsers refuse a fetch called on another object ("Illegal invocation").
    this.fetchImpl = (url, init) => impl(url, init);
  }

  /**
   * Calls `path` of the HTTP API; resolves with the JSON body, rejects with the Cirrus error it carries.
   *
   * @example
   * const http = new HttpClient({ apiUrl: 'http://localhost:8080/api', token: () => token });
   * const health = await http.request('GET', '/health');
   */
  async request<T>(method: string, path: string, request: HttpRequest = {}): Promise<T> {
    const query = Object.entries(request.query ?? {}).filter(([, v]) => v !== undefined);
    const qs = query.length ? `?${query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join('&')}` : '';
    const headers: Record<string, string> = request.anonymous ? {} : { authorization: `Bearer ${this.options.token()}` };
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    let res: Awaited<ReturnType<FetchLike>>;
    try {
      res = await this.fetchImpl(`${this.base}${path}${qs}`, { method, headers, ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}) });
    } catch (err) {
      throw new CirrusSdkError('HTTP_FAILED', `${method} ${path} failed: ${(err as Error).message}`, { cause: err });
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (res.ok) return json as T;
    const error = (json as { error?: WireError } | undefined)?.error;
    if (error && typeof error.reason === 'string') throw CirrusSdkError.fromWire(error, res.status);
    throw new CirrusSdkError('HTTP_FAILED', `${method} ${path} answered ${res.status}`, { status: res.status, retryable: res.status >= 500 || res.status === 429 });
  }

  /**
   * Calls a route of the table by operationId (`client.api` wraps this with types).
   *
   * @example
   * await http.call('listFriends', { query: { limit: 20 } }, 'alice');
   */
  call(operationId: ApiOperationId, input: { params?: Record<string, unknown>; query?: Record<string, unknown>; body?: unknown } = {}, selfUserId?: string): Promise<unknown> {
    const route = routes[operationId];
    const params: Record<string, unknown> = { ...(route.auth === 'self' && selfUserId !== undefined ? { userId: selfUserId } : {}), ...input.params };
    const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
      if (params[name] === undefined) throw new CirrusSdkError('USAGE', `${operationId}: params.${name} is required`);
      return encodeURIComponent(String(params[name]));
    });
    return this.request(route.method, path, { query: input.query, body: input.body });
  }

  /**
   * What the server thinks of a token: a cheap call of the user's own route.
   *
   * @example
   * if ((await http.tokenStatus(token, 'alice')) === 'revoked') signIn();
   */
  async tokenStatus(token: string, userId: string): Promise<TokenStatus> {
    try {
      await new HttpClient({ ...this.options, token: () => token }).request('GET', `/users/${encodeURIComponent(userId)}/unread`);
      return 'valid';
    } catch (err) {
      const reason = (err as CirrusSdkError).reason;
      if (reason === 'TOKEN_EXPIRED') return 'expired';
      if (reason === 'TOKEN_REVOKED') return 'revoked';
      if (reason === 'TOKEN_INVALID' || reason === 'TOKEN_MISSING') return 'invalid';
      return 'unknown';
    }
  }
}

/** The typed methods of `UserApi`, one per route of the table. */
export function createUserApi(http: HttpClient, selfUserId: () => string): UserApi {
  const api: Record<string, (input?: object) => Promise<unknown>> = {};
  for (const operationId of Object.keys(routes) as ApiOperationId[]) {
    api[operationId] = (input = {}) => http.call(operationId, input as Parameters<HttpClient['call']>[1], selfUserId());
  }
  return api as unknown as UserApi;
}
