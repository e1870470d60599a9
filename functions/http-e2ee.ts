/** The HTTP API's key-package directory of end-to-end encrypted conversations (core/http/routes/e2ee.ts). */
import { e2eeRoutes } from '../core/http/routes/e2ee';
import { e2eeOperations } from '../core/http/operations/e2ee';
import { httpHandler } from '../core/runtime/http';

export const handler = httpHandler('httpE2ee', e2eeRoutes, e2eeOperations);
