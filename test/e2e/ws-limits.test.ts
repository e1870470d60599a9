/**
 * The local API Gateway enforces API Gateway's WebSocket quotas: 32 KB frames, 128 KB
 * messages (1009), no binary frames (1003), the idle and maximum connection durations
 * (1001, then `$disconnect`), and 128 KB posts to `@connections` (413) — which push
 * counts as undeliverable rather than retrying.
 */
import { describe, expect, it } from 'vitest';
import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { admin, cirrus, device, useCirrus } from '../support/harness';
import { eventually, sleep, type Device } from '../support/cirrus';
import { connections } from '../../core/store/connections';
import { pushEventTo } from '../../core/services/push';

const IDLE_MS = 3_000;
const MAX_MS = 7_000;

useCirrus({ websocket: { idleTimeoutMs: IDLE_MS, maxConnectionMs: MAX_MS } });

const KB = 1024;

/** A request frame of exactly `bytes` bytes: a getNewestSeq padded with an unknown field (answered MALFORMED_FRAME). */
function paddedFrame(id: string, bytes: number): string {
  const head = `{"id":"${id}","action":"getNewestSeq","pad":"`;
  const tail = '"}';
  return head + 'x'.repeat(bytes - head.length - tail.length) + tail;
}

/** Sends `text` as one message in fragments of `fragment` bytes. */
function sendFragmented(d: Device, text: string, fragment: number): void {
  for (let at = 0; at < text.length; at += fragment) d.socket.send(text.slice(at, at + fragment), { fin: at + fragment >= text.length });
}

const closeOf = (d: Device, timeoutMs = 10_000) => d.until(() => d.closed, timeoutMs, 'close');
const replyTo = (d: Device, id: string, timeoutMs = 10_000) => d.until(() => d.frames.find((f) => (f as { id?: string }).id === id), timeoutMs, `reply ${id}`);

describe('frames and messages', () => {
  it('routes a message of exactly 32 KB in one frame', async () => {
    await admin.register('fa');
    const d = await device('fa');
    d.socket.send(paddedFrame('f32', 32 * KB));
    expect(await replyTo(d, 'f32')).toMatchObject({ id: 'f32', error: { reason: 'MALFORMED_FRAME' } });
    expect(d.closed).toBeUndefined();
  });

  it('closes with 1009 on a 40 KB frame and does not route it', async () => {
    await admin.register('fb');
    const d = await device('fb');
    d.socket.send(paddedFrame('f40', 40 * KB));
    expect(await closeOf(d)).toMatchObject({ code: 1009 });
    expect(d.frames).toEqual([]);
  });

  it('routes a 100 KB message sent as 4 fragments of 25 KB', async () => {
    await admin.register('fc');
    const d = await device('fc');
    sendFragmented(d, paddedFrame('f100', 100 * KB), 25 * KB);
    expect(await replyTo(d, 'f100')).toMatchObject({ id: 'f100', error: { reason: 'MALFORMED_FRAME' } });
    expect(d.closed).toBeUndefined();
  });

  it('closes with 1009 on a 130 KB message in frames of 26 KB, without routing it', async () => {
    await admin.register('fd');
    const d = await device('fd');
    sendFragmented(d, paddedFrame('f130', 130 * KB), 26 * KB);
    expect(await closeOf(d)).toMatchObject({ code: 1009 });
    expect(d.frames).toEqual([]);
  });

  it('closes with 1003 on a binary frame, which never reaches $default', async () => {
    await admin.register('fe');
    const d = await device('fe');
    d.socket.send(Buffer.from('{"id":"b1","action":"heartbeat"}'), { binary: true });
    expect(await closeOf(d)).toMatchObject({ code: 1003 });
    expect(d.frames).toEqual([]);
  });
});

describe('replies', () => {
  it('answers REPLY_TOO_LARGE where the reply to a 100 KB message would pass 128 KB, inside the limit', async () => {
    await admin.register('ra');
    const d = await device('ra');
    const sizes: number[] = [];
    d.socket.on('message', (data: Buffer) => sizes.push(data.length));
    // UNKNOWN_ACTION echoes the action twice (field and message): about 200 KB.
    sendFragmented(d, JSON.stringify({ id: 'big-action', action: 'x'.repeat(100 * KB) }), 25 * KB);
    expect(await replyTo(d, 'big-action')).toMatchObject({ id: 'big-action', error: { reason: 'REPLY_TOO_LARGE' } });
    expect(Math.max(...sizes)).toBeLessThanOrEqual(128 * KB);
    expect(d.closed).toBeUndefined();
  });
});

describe('connection durations', () => {
  it('closes an idle connection with 1001 after the idle timeout and runs $disconnect', async () => {
    await admin.register('ia');
    const d = await device('ia');
    const opened = Date.now();
    await eventually(async () => (await connections.ofUser('ia')).length === 1);
    expect(await closeOf(d, IDLE_MS + 10_000)).toMatchObject({ code: 1001 });
    expect(Date.now() - opened).toBeGreaterThanOrEqual(IDLE_MS - 500);
    await eventually(async () => (await connections.ofUser('ia')).length === 0);
  });

  it('keeps a connection that sends messages past the idle timeout, and closes it at the maximum duration', async () => {
    await admin.register('ib');
    const d = await device('ib');
    const opened = Date.now();
    let beats = 0;
    while (!d.closed && Date.now() - opened < MAX_MS + 10_000) {
      if (Date.now() - opened < MAX_MS - 1_000) {
        d.socket.send(JSON.stringify({ id: `h${++beats}`, action: 'heartbeat' }));
      }
      await sleep(500);
    }
    expect(d.closed).toMatchObject({ code: 1001 });
    const lived = Date.now() - opened;
    expect(lived).toBeGreaterThanOrEqual(MAX_MS - 500);
    expect(lived).toBeGreaterThan(IDLE_MS * 2);
    expect(d.frames.filter((f) => (f as { action?: string }).action === 'heartbeat').length).toBeGreaterThan(1);
    await eventually(async () => (await connections.ofUser('ib')).length === 0);
  });
});

describe('@connections posts', () => {
  it('refuses a post over 128 KB with PayloadTooLargeException (413) and delivers one under it', async () => {
    await admin.register('pa');
    const d = await device('pa');
    const [conn] = await eventually(async () => {
      const c = await connections.ofUser('pa');
      return c.length === 1 && c;
    });
    const client = new ApiGatewayManagementApiClient({ endpoint: cirrus.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
    const big = Buffer.from(JSON.stringify({ push: 'x', pad: 'y'.repeat(129 * KB) }));
    const err = await client.send(new PostToConnectionCommand({ ConnectionId: conn.connectionId, Data: big })).catch((e) => e);
    expect(err).toMatchObject({ name: 'PayloadTooLargeException', $metadata: { httpStatusCode: 413 } });
    await client.send(new PostToConnectionCommand({ ConnectionId: conn.connectionId, Data: Buffer.from(JSON.stringify({ push: 'x', pad: 'y'.repeat(100 * KB) })) }));
    await d.until(() => d.frames.some((f) => (f as { push?: string }).push === 'x'), 10_000, 'the 100 KB post');
  });

  it('counts an event over 128 KB as too large, not as a failure to retry', async () => {
    await admin.register('pb');
    const d = await device('pb');
    const [conn] = await eventually(async () => {
      const c = await connections.ofUser('pb');
      return c.length === 1 && c;
    });
    const outcome = await pushEventTo(conn, { push: 'businessNotification', data: { key: 'big', data: 'z'.repeat(130 * KB), sendTime: Date.now() } });
    expect(outcome).toMatchObject({ delivered: 0, failed: 0, tooLarge: 1 });
    expect(d.closed).toBeUndefined();
  });
});
