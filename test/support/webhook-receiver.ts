/**
 * A real HTTP server standing in for the app backend's webhook endpoint: it records every
 * callback (raw body and headers, for signature checks) and answers as the test says.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import { verifyWebhook } from '../../core/webhooks/signature';

export interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
  body: { schemaVersion: number; callback: string; id: string; timestamp: number; data: any };
}

export type Answer = { status?: number; json?: unknown; delayMs?: number };

export interface WebhookReceiver {
  url: string;
  received: Received[];
  /** Answers by callback name; unset: `allow` for before-callbacks, 204 for after-callbacks. */
  answers: Partial<Record<string, (r: Received) => Answer>>;
  /** The callbacks of one name whose data matches. */
  calls(callback: string, match?: (data: any) => boolean): Received[];
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: Received[] = [];
  const answers: WebhookReceiver['answers'] = {};
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const r: Received = { headers: req.headers, raw, body: JSON.parse(raw) };
      received.push(r);
      const answer = answers[r.body.callback]?.(r) ?? (r.body.callback.startsWith('before') ? { json: { action: 'allow' } } : { status: 204 });
      setTimeout(() => {
        res.writeHead(answer.status ?? 200, { 'content-type': 'application/json' });
        res.end(answer.json === undefined ? '' : JSON.stringify(answer.json));
      }, answer.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    received,
    answers,
    calls: (callback, match = () => true) => received.filter((r) => r.body.callback === callback && match(r.body.data)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Checks a callback's envelope, headers and signature (and that another secret or a changed body fails). */
export function expectSigned(r: Received, secret: string): void {
  expect(verifyWebhook(r.raw, r.headers, secret, 60)).toBe(true);
  expect(verifyWebhook(r.raw, r.headers, 'another secret', 60)).toBe(false);
  expect(verifyWebhook(r.raw.replace('}', ' }'), r.headers, secret, 60)).toBe(false);
  expect(r.headers['content-type']).toBe('application/json');
  expect(r.headers['x-cirrus-signature']).toMatch(/^v1=[0-9a-f]{64}$/);
  expect(r.headers['x-cirrus-callback']).toBe(r.body.callback);
  expect(r.headers['x-cirrus-delivery-id']).toBe(r.body.id);
  expect(r.headers['x-cirrus-timestamp']).toBe(String(r.body.timestamp));
  expect(r.body.id.startsWith(`${r.body.callback}-`)).toBe(true);
  expect(r.body.schemaVersion).toBe(1);
}
