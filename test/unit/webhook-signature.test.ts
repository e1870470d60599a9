import { describe, expect, it } from 'vitest';
import { signatureHeader, verifyWebhook } from '../../core/webhooks/signature';

const secret = 'shh';
const body = JSON.stringify({ schemaVersion: 1, callback: 'afterSendMessage', id: 'x', timestamp: 1_700_000_000, data: {} });
const now = 1_700_000_000;
const headers = (over: Record<string, string> = {}) => ({ 'x-cirrus-timestamp': String(now), 'x-cirrus-signature': signatureHeader(body, now, secret), ...over });

describe('verifyWebhook', () => {
  it('accepts a signature of the body and timestamp under the secret, from a record or Headers', () => {
    expect(verifyWebhook(body, headers(), secret, 300, now)).toBe(true);
    expect(verifyWebhook(body, new Headers(headers()), secret, 300, now + 299)).toBe(true);
    expect(verifyWebhook(body, { 'X-Cirrus-Timestamp': String(now), 'X-Cirrus-Signature': signatureHeader(body, now, secret) }, secret, 300, now)).toBe(true);
  });

  it('rejects another secret, a changed body, a moved timestamp and a stale or future one', () => {
    expect(verifyWebhook(body, headers(), 'other', 300, now)).toBe(false);
    expect(verifyWebhook(`${body} `, headers(), secret, 300, now)).toBe(false);
    expect(verifyWebhook(body, headers({ 'x-cirrus-timestamp': String(now + 1) }), secret, 300, now)).toBe(false);
    expect(verifyWebhook(body, headers(), secret, 300, now + 301)).toBe(false);
    expect(verifyWebhook(body, headers(), secret, 300, now - 301)).toBe(false);
  });

  it('rejects missing or malformed headers, and accepts any matching v1 entry of a list', () => {
    expect(verifyWebhook(body, {}, secret, 300, now)).toBe(false);
    expect(verifyWebhook(body, headers({ 'x-cirrus-timestamp': 'soon' }), secret, 300, now)).toBe(false);
    expect(verifyWebhook(body, headers({ 'x-cirrus-signature': 'v1=zz' }), secret, 300, now)).toBe(false);
    expect(verifyWebhook(body, headers({ 'x-cirrus-signature': `v1=${'0'.repeat(64)}, ${signatureHeader(body, now, secret)}` }), secret, 300, now)).toBe(true);
    expect(verifyWebhook(body, headers({ 'x-cirrus-signature': signatureHeader(body, now, secret).replace('v1=', 'v2=') }), secret, 300, now)).toBe(false);
  });
});
