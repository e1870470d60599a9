/** The HTTP API (every route; see core/http/routes.ts). */
export { httpHandler as handler } from '../core/runtime/http';
