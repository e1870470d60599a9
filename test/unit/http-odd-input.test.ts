import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { handler } from '../../functions/http-api';

/** An event as API Gateway's HTTP API hands it to the function (payload format 2.0). */
const event = (over: Partial<APIGatewayProxyEventV2>): APIGatewayProxyEventV2 =>
  ({
    version: '2.0',
    routeKey: 'POST /auth/admin-token',
    rawPath: '/auth/admin-token',
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    requestContext: { requestId: 'r1', http: { method: 'POST', path: '/auth/admin-token', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' } },
    isBase64Encoded: false,
    ...over,
  }) as APIGatewayProxyEventV2;

const errorOf = async (e: APIGatewayProxyEventV2) => {
  const res = await handler(e);
  return { status: res.statusCode, error: JSON.parse(res.body ?? '{}').error };
};

describe('the HTTP function refuses odd input before it runs anything', () => {
  it('a base64 body that is not valid UTF-8 (not replaced by U+FFFD)', async () => {
    const bytes = Buffer.concat([Buffer.from('{"secret":"a'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]);
    const res = await errorOf(event({ body: bytes.toString('base64'), isBase64Encoded: true }));
    expect(res).toMatchObject({ status: 400, error: { reason: 'MALFORMED_FRAME', message: 'The body is not valid UTF-8' } });
  });

  it('a lone surrogate or NUL in a body string, naming the field', async () => {
    for (const secret of ['a\ud800', 'a\u0000']) {
      const res = await errorOf(event({ body: JSON.stringify({ secret }) }));
      expect(res).toMatchObject({ status: 400, error: { reason: 'INVALID_ARGUMENT' } });
      expect(res.error.message).toMatch(/^Invalid body: secret: /);
    }
  });

  it('a raw query string that is not valid percent-encoded UTF-8', async () => {
    const res = await errorOf(event({ rawQueryString: 'x=%ED%A0%80', queryStringParameters: { x: '\ufffd\ufffd\ufffd' }, body: '{"secret":"s"}' }));
    expect(res).toMatchObject({ status: 400, error: { reason: 'INVALID_ARGUMENT', message: 'Invalid query: not valid percent-encoded UTF-8' } });
  });
});
