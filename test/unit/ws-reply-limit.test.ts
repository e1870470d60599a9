/**
 * A route response is a WebSocket message: API Gateway does not deliver one over 128 KB.
 * The message route answers REPLY_TOO_LARGE instead of a reply the client would never get.
 */
import { describe, expect, it } from 'vitest';
import { wsMessageHandler, type ActionHandlers } from '../../core/runtime/ws';
import { actions } from '../../core/protocol/schema';
import { MAX_WS_MESSAGE_BYTES } from '../../core/protocol/constants';

let answer: unknown = {};
const handlers = Object.fromEntries(Object.keys(actions).map((a) => [a, async () => answer])) as unknown as ActionHandlers;
const handler = wsMessageHandler(handlers);
const event = (body: string) => ({ body, requestContext: { routeKey: 'heartbeat', connectionId: 'c1', requestId: 'q1', authorizer: { userId: 'alice', platformId: 5, sessionId: 's1' } } });

describe('the reply size limit', () => {
  it('answers REPLY_TOO_LARGE when the reply would be over 128 KB', async () => {
    answer = { serverTime: 1, pad: 'x'.repeat(MAX_WS_MESSAGE_BYTES) };
    const res = await handler(event('{"id":"r1","action":"heartbeat"}'));
    expect(Buffer.byteLength(res.body)).toBeLessThan(1024);
    expect(JSON.parse(res.body)).toMatchObject({ id: 'r1', action: 'heartbeat', error: { reason: 'REPLY_TOO_LARGE', retryable: false } });
  });

  it('answers an unknown action whose echo would pass 128 KB, without the echo when it alone is too large', async () => {
    const action = 'a'.repeat(MAX_WS_MESSAGE_BYTES - 100);
    const res = await handler(event(JSON.stringify({ id: 'r3', action })));
    expect(Buffer.byteLength(res.body)).toBeLessThanOrEqual(MAX_WS_MESSAGE_BYTES);
    expect(JSON.parse(res.body)).toMatchObject({ id: null, error: { reason: 'REPLY_TOO_LARGE' } });
    const shorter = 'b'.repeat(70 * 1024);
    const res2 = await handler(event(JSON.stringify({ id: 'r4', action: shorter })));
    expect(JSON.parse(res2.body)).toMatchObject({ id: 'r4', action: shorter, error: { reason: 'REPLY_TOO_LARGE' } });
  });

  it('delivers a reply of exactly 128 KB', async () => {
    const envelope = JSON.stringify({ id: 'r2', action: 'heartbeat', data: { pad: '' } }).length;
    answer = { pad: 'y'.repeat(MAX_WS_MESSAGE_BYTES - envelope) };
    const res = await handler(event('{"id":"r2","action":"heartbeat"}'));
    expect(Buffer.byteLength(res.body)).toBe(MAX_WS_MESSAGE_BYTES);
    expect(JSON.parse(res.body).data).toEqual(answer);
  });
});
