/** Matching a request path to a route template, as API Gateway does. */
import { httpRoutes, type HttpRoute } from './routes';

export interface RouteMatch {
  route: HttpRoute;
  /** API Gateway's route key: `POST /groups/{groupId}/members`. */
  routeKey: string;
  pathParameters: Record<string, string>;
}

const compiled = httpRoutes.map((route) => {
  const names: string[] = [];
  const pattern = route.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { route, names, regex: new RegExp(`^${pattern}$`) };
});

/** The route for a method and path; `undefined` when none (API Gateway would answer 404). */
export function matchRoute(method: string, path: string): RouteMatch | undefined {
  for (const { route, names, regex } of compiled) {
    if (route.method !== method.toUpperCase()) continue;
    const m = regex.exec(path);
    if (!m) continue;
    const pathParameters: Record<string, string> = {};
    names.forEach((name, i) => (pathParameters[name] = decodeURIComponent(m[i + 1])));
    return { route, routeKey: `${route.method} ${route.path}`, pathParameters };
  }
  return undefined;
}

export function routeByKey(routeKey: string): HttpRoute | undefined {
  return httpRoutes.find((r) => `${r.method} ${r.path}` === routeKey);
}
