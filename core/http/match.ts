/** Matching a request path to a route of the whole HTTP API, as API Gateway does. */
import { httpRoutes, type HttpRoute } from './routes';
import { routeMatcher, type RouteMatch as AnyRouteMatch } from './matcher';

export { isPercentDecodable } from './matcher';

export type RouteMatch = AnyRouteMatch<HttpRoute>;

const api = routeMatcher<HttpRoute>(httpRoutes);

/** The route for a method and path among every route of the API; `undefined` when none (API Gateway would answer 404). */
export function matchRoute(method: string, path: string): RouteMatch | undefined {
  return api.match(method, path);
}

export function routeByKey(routeKey: string): HttpRoute | undefined {
  return api.byKey(routeKey);
}
