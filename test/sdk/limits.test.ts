/**
 * The SDK against the local runtime when a send is THROTTLED (here by a group's slow mode):
 * the error carries retryAfterMs; the outbox sends the message again by itself after it,
 * reporting it still `sending` with `retryAt`, or, when the wait is longer than the client
 * allows, marks it failed with the error, and resendMessage succeeds after the wait.
 */
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CirrusClient, CirrusSdkError, type CirrusClientOptions, type MessageStatusEvent } from '../../sdk/src/index';
import { admin, cirrus, useCirrus } from '../support/harness';

useCirrus();

const clients: CirrusClient[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
});

async function client(userId: string, options: Partial<CirrusClientOptions> = {}): Promise<CirrusClient> {
  const c = await CirrusClient.create({
    wsUrl: cirrus.wsUrl,
    apiUrl: cirrus.apiUrl,
    token: await admin.userToken(userId, 5),
    store: 'memory',
    WebSocket: WebSocket as unknown as CirrusClientOptions['WebSocket'],
    backoff: { minDelayMs: 50, maxDelayMs: 200 },
    ...options,
  });
  clients.push(c);
  await c.connect();
  return c;
}

describe("sends refused by a group's slow mode", () => {
  it('are sent again after retryAfterMs, in order, each once', async () => {
    await admin.register('sl-owner', 'sl-amy');
    await admin.createGroup('sl-wait', 'sl-owner', ['sl-amy']);
    expect((await admin.call('PUT', '/groups/sl-wait', { slowModeSeconds: 3 })).status).toBe(200);
    const amy = await client('sl-amy');
    const events: MessageStatusEvent[] = [];
    amy.on('messageStatusChanged', (e) => events.push(e));

    const sent = await Promise.all(['one', 'two'].map((t) => amy.sendText({ groupId: 'sl-wait' }, t)));

    expect(sent.map((m) => (m.content as { text: string }).text)).toEqual(['one', 'two']);
    expect(sent[1].seq).toBe(sent[0].seq + 1);
    // The second was refused once, reported still sending with when it goes again, then sent.
    const held = events.filter((e) => e.error);
    expect(held).toHaveLength(1);
    expect(held[0]).toMatchObject({ status: 'sending', error: { reason: 'THROTTLED' } });
    expect(held[0].error!.retryAfterMs).toBeGreaterThan(0);
    expect(held[0].error!.retryAfterMs).toBeLessThanOrEqual(3000);
    expect(held[0].retryAt).toBeGreaterThan(0);
    // The interval runs from the first send's slow-mode claim, a moment before its sendTime.
    expect(sent[1].sendTime - sent[0].sendTime).toBeGreaterThanOrEqual(2500);
  });

  it('fail with THROTTLED and retryAfterMs when the wait is longer than the client allows, and resendMessage succeeds after it', async () => {
    await admin.register('sl-owner2', 'sl-bea');
    await admin.createGroup('sl-fail', 'sl-owner2', ['sl-bea']);
    expect((await admin.call('PUT', '/groups/sl-fail', { slowModeSeconds: 5 })).status).toBe(200);
    const bea = await client('sl-bea', { maxThrottleWaitMs: 500 });
    const first = await bea.sendText({ groupId: 'sl-fail' }, 'first');
    const failed = await bea.sendText({ groupId: 'sl-fail' }, 'too soon').catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(CirrusSdkError);
    const error = failed as CirrusSdkError;
    expect(error.reason).toBe('THROTTLED');
    expect(error.retryAfterMs).toBeGreaterThan(500);
    expect(error.retryAfterMs).toBeLessThanOrEqual(5000);
    const outgoing = (await bea.store.listOutgoing()).find((o) => o.status === 'failed')!;
    expect(outgoing.error?.reason).toBe('THROTTLED');
    await new Promise((r) => setTimeout(r, error.retryAfterMs! + 50));
    const later = await bea.resendMessage(outgoing.clientMsgId);
    expect(later.seq).toBe(first.seq + 1);
  });
});
