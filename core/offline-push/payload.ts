/**
 * What the provider clients share: fitting a notification into a service's payload limit by
 * shortening its text, reading a Retry-After header, and the request timeout.
 */
import { createHash } from 'node:crypto';

/** APNs, FCM and (encrypted) Web Push all take at most 4 KiB of payload. */
export const MAX_PAYLOAD_BYTES = 4096;
/** How long one request to a provider may take before it counts as unreachable (retried). */
export const PROVIDER_TIMEOUT_MS = 10_000;
const ELLIPSIS = '…';

export const byteLength = (text: string) => Buffer.byteLength(text, 'utf8');

/**
 * The longest prefix of `text` (whole code points, ending with an ellipsis when shortened)
 * for which `fits` holds, or undefined when even the empty text does not fit.
 */
export function shortenToFit(text: string, fits: (candidate: string) => boolean): string | undefined {
  if (fits(text)) return text;
  const points = Array.from(text);
  const candidate = (n: number) => (n === 0 ? '' : points.slice(0, n).join('').trimEnd() + ELLIPSIS);
  if (!fits('')) return undefined;
  // The longest n with candidate(n) fitting: fitting is monotone in n.
  let lo = 0;
  let hi = points.length - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(candidate(mid))) lo = mid;
    else hi = mid - 1;
  }
  return candidate(lo);
}

/**
 * Builds a payload from the notification's title and body, shortening the body first and then
 * the title until its UTF-8 encoding is at most `limit` bytes; undefined when even without
 * them it is too large (the data alone is too big).
 */
export function fitText(
  title: string | undefined,
  body: string | undefined,
  build: (title: string | undefined, body: string | undefined) => string,
  limit: number,
): string | undefined {
  const size = (t: string | undefined, b: string | undefined) => byteLength(build(t, b));
  if (size(title, body) <= limit) return build(title, body);
  let b = body;
  if (body !== undefined) {
    b = shortenToFit(body, (candidate) => size(title, candidate) <= limit) ?? '';
    if (size(title, b) <= limit) return build(title, b);
  }
  if (title === undefined) return undefined;
  const t = shortenToFit(title, (candidate) => size(candidate, b) <= limit);
  return t === undefined ? undefined : build(t, b);
}

/** A Retry-After header (seconds or an HTTP date) in milliseconds from now; undefined when absent or unreadable. */
export function retryAfterMs(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** A stable short digest of an id (base64url SHA-256, cut to `length` characters). */
export function digest(id: string, length: number): string {
  return createHash('sha256').update(id).digest('base64url').slice(0, length);
}
