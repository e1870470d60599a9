/** The HTTP API: every route but the media and history ones (see httpRouteFunctions in core/manifest.ts). */
import { httpRoutes } from '../core/http/routes';
import { operations } from '../core/http/operations';
import { httpHandler } from '../core/runtime/http';

export const handler = httpHandler('http', httpRoutes, operations);
