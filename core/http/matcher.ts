/** Matching a request path to a route template, as API Gateway does, among a list of routes. */
import type { HttpRouteSpec } from './routes/types';

export interface RouteMatch<R extends HttpRouteSpec = HttpRouteSpec> {
  route: R;
  /** API Gateway's route key: `POST /groups/{groupId}/members`. */
  routeKey: string;
  pathParameters: Record<string, string>;
}

/**
 * Whether `text` is valid percent-encoded UTF-8 (`decodeURIComponent` would not throw): a
 * `%` starts two hex digits, and the bytes decode to Unicode (no overlong forms, no
 * encoded surrogates such as `%ED%A0%80`).
 */
export function isPercentDecodable(text: string): boolean {
  try {
    decodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
}

export interface RouteMatcher<R extends HttpRouteSpec> {
  /**
   * The route for a method and path; `undefined` when none (API Gateway would answer 404).
   * Path parameters are decoded; one that is not valid percent-encoded UTF-8 is left as it
   * is, for the function to refuse (INVALID_ARGUMENT) instead of the match throwing.
   */
  match(method: string, path: string): RouteMatch<R> | undefined;
  /** The route of an API Gateway route key (`GET /users/{userId}`). */
  byKey(routeKey: string): R | undefined;
}

export function routeMatcher<R extends HttpRouteSpec>(routes: readonly R[]): RouteMatcher<R> {
  const compiled = routes.map((route) => {
    const names: string[] = [];
    const pattern = route.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
      names.push(name);
      return '([^/]+)';
    });
    return { route, names, regex: new RegExp(`^${pattern}$`) };
  });
  const byKey = new Map(routes.map((route) => [`${route.method} ${route.path}`, route]));
  return {
    match(method, path) {
      for (const { route, names, regex } of compiled) {
        if (route.method !== method.toUpperCase()) continue;
        const m = regex.exec(path);
        if (!m) continue;
        const pathParameters: Record<string, string> = {};
        names.forEach((name, i) => (pathParameters[name] = isPercentDecodable(m[i + 1]) ? decodeURIComponent(m[i + 1]) : m[i + 1]));
        return { route, routeKey: `${route.method} ${route.path}`, pathParameters };
      }
      return undefined;
    },
    byKey: (routeKey) => byKey.get(routeKey),
  };
}
