/** The HTTP API's media routes: presigned uploads and downloads (core/http/routes/media.ts). */
import { mediaRoutes } from '../core/http/routes/media';
import { mediaOperations } from '../core/http/operations/media';
import { httpHandler } from '../core/runtime/http';

export const handler = httpHandler('httpMedia', mediaRoutes, mediaOperations);
