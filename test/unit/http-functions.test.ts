/**
 * The HTTP API is served by several functions (httpRouteFunctions in core/manifest.ts), each
 * bundling only its own routes' code: every route has exactly one function with its
 * operation, the one API Gateway and the local gateway send it to.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { httpRoutes } from '../../core/http/routes';
import { operations } from '../../core/http/operations';
import { mediaOperations } from '../../core/http/operations/media';
import { historyOperations } from '../../core/http/operations/history';
import { e2eeOperations } from '../../core/http/operations/e2ee';
import { httpFunctionOf, httpFunctions, httpRouteFunctions, type HttpFunctionKey } from '../../core/manifest';
import { handler as httpApi } from '../../functions/http-api';
import { handler as httpMedia } from '../../functions/http-media';
import { handler as httpHistory } from '../../functions/http-history';
import { handler as httpE2ee } from '../../functions/http-e2ee';

const served: Record<HttpFunctionKey, Record<string, unknown>> = { http: operations, httpMedia: mediaOperations, httpHistory: historyOperations, httpE2ee: e2eeOperations };
const handlers = { http: httpApi, httpMedia, httpHistory, httpE2ee };

const event = (method: string, path: string): APIGatewayProxyEventV2 =>
  ({
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers: {},
    requestContext: { requestId: 'r1', http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' } },
    isBase64Encoded: false,
  }) as APIGatewayProxyEventV2;

describe('The HTTP functions', () => {
  it('should each have an operation for exactly the routes the manifest gives them', () => {
    for (const route of httpRoutes) {
      const owners = httpFunctions.filter((key) => Object.hasOwn(served[key], route.operationId));
      expect(owners, route.operationId).toEqual([httpFunctionOf(route.operationId)]);
    }
    for (const key of httpFunctions) expect(Object.keys(served[key]).length, key).toBe(httpRoutes.filter((r) => httpFunctionOf(r.operationId) === key).length);
  });

  it('should name only operations of the API in the manifest', () => {
    const ids = new Set(httpRoutes.map((route) => route.operationId));
    for (const list of Object.values(httpRouteFunctions)) for (const id of list) expect(ids, id).toContain(id);
  });

  it.each([
    ['httpMedia', 'GET', '/health'],
    ['httpHistory', 'POST', '/media/uploads'],
    ['http', 'GET', '/conversations/c1/messages'],
    ['http', 'GET', '/media/download-url'],
    ['httpE2ee', 'GET', '/health'],
    ['http', 'POST', '/users/u1/e2ee/key-packages/claim'],
  ] as const)("should answer NOT_FOUND from %s for %s %s, another function's route", async (key, method, path) => {
    const res = await handlers[key](event(method, path));
    expect(res.statusCode).toBe(404);
    expect(JSON.parse(res.body ?? '{}').error).toMatchObject({ reason: 'NOT_FOUND' });
  });

  it('should serve its own routes', async () => {
    const res = await httpApi(event('GET', '/health'));
    expect(res.statusCode).toBe(200);
  });
});
