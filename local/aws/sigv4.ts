/**
 * Verification of AWS Signature Version 4 as S3 applies it, for the local S3 stand-in (and
 * the Lambda stand-in, whose paths need no encoding, so S3's rules give the same result):
 * header-signed requests (the SDK's HeadObject, GetObject), presigned URLs (query
 * authentication) and browser POST policies. The stand-in recomputes each signature from
 * the request as received and the local credentials, as S3 does, so a URL or form that
 * was tampered with, signed with other credentials or used too late is refused here as it
 * would be by AWS.
 *
 * S3's canonical request differs from other services' in two ways that matter here: the
 * path is used as sent (not normalized, not encoded a second time) and the payload hash
 * is the `x-amz-content-sha256` header (or `UNSIGNED-PAYLOAD` for presigned URLs).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
/** S3 accepts a header-signed request up to 15 minutes off its own clock. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;
/** A presigned URL may be valid for at most 7 days. */
export const MAX_PRESIGN_SECONDS = 604_800;

/** An S3 error code with the message S3 gives; the stand-in turns it into an XML error. */
export class SigV4Error extends Error {
  constructor(
    readonly code: 'AccessDenied' | 'SignatureDoesNotMatch' | 'InvalidAccessKeyId' | 'AuthorizationHeaderMalformed' | 'AuthorizationQueryParametersError' | 'RequestTimeTooSkewed',
    message: string,
  ) {
    super(message);
    this.name = 'SigV4Error';
  }
}

const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();
export const sha256Hex = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

export function signingKey(secretAccessKey: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, date), region), service), 'aws4_request');
}

/** RFC 3986 encoding, as SigV4 wants: everything but unreserved characters, in upper-case hex. */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const equalHex = (a: string, b: string): boolean => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/** `20260102T030405Z` → epoch ms; undefined when malformed. */
export function parseAmzDate(value: string | undefined): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value ?? '');
  if (!m) return undefined;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

/** Query parameters as sent, percent-decoded but in order; `+` is a literal plus, as SigV4 reads it. */
export function parseQuery(query: string): [string, string][] {
  if (query === '') return [];
  return query.split('&').map((pair) => {
    const eq = pair.indexOf('=');
    const decode = (s: string) => decodeURIComponent(s);
    return eq < 0 ? [decode(pair), ''] : [decode(pair.slice(0, eq)), decode(pair.slice(eq + 1))];
  });
}

function canonicalQuery(params: readonly [string, string][]): string {
  return params
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

function canonicalHeaders(signedHeaders: readonly string[], headers: Readonly<Record<string, string | undefined>>): string {
  return signedHeaders.map((name) => `${name}:${(headers[name] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
}

export interface Credentials {
  /** Secret access key by access key id. */
  readonly [accessKeyId: string]: string;
}

interface Scope {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
}

function parseCredential(credential: string, where: 'header' | 'query', service = 's3'): Scope {
  const parts = credential.split('/');
  const code = where === 'header' ? 'AuthorizationHeaderMalformed' : 'AuthorizationQueryParametersError';
  if (parts.length !== 5 || parts[4] !== 'aws4_request') throw new SigV4Error(code, `The credential ${credential} is malformed; expecting "<access key>/<YYYYMMDD>/<region>/${service}/aws4_request".`);
  return { accessKeyId: parts[0], date: parts[1], region: parts[2], service: parts[3] };
}

/** Checks the scope against the stand-in's region and the request's date, and finds the secret. */
function secretFor(scope: Scope, amzDate: string, credentials: Credentials, region: string, where: 'header' | 'query', service = 's3'): string {
  const code = where === 'header' ? 'AuthorizationHeaderMalformed' : 'AuthorizationQueryParametersError';
  if (scope.region !== region) throw new SigV4Error(code, `The authorization header is malformed; the region '${scope.region}' is wrong; expecting '${region}'`);
  if (scope.service !== service) throw new SigV4Error(code, `The authorization header is malformed; incorrect service "${scope.service}". This endpoint belongs to "${service}".`);
  if (scope.date !== amzDate.slice(0, 8)) throw new SigV4Error(code, `The authorization header is malformed; Invalid credential date "${scope.date}". This date is not the same as X-Amz-Date: "${amzDate.slice(0, 8)}".`);
  const secret = Object.hasOwn(credentials, scope.accessKeyId) ? credentials[scope.accessKeyId] : undefined;
  if (secret === undefined) throw new SigV4Error('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
  return secret;
}

export interface SignedRequest {
  readonly method: string;
  /** The request target as sent: `/bucket/key?query`. */
  readonly target: string;
  /** Lower-cased names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body?: Uint8Array;
}

/** Whether the request carries query authentication (a presigned URL). */
export const isPresigned = (req: SignedRequest): boolean => /[?&]X-Amz-Signature=/.test(req.target);

function stringToSign(amzDate: string, scope: Scope, canonicalRequest: string): string {
  return [ALGORITHM, amzDate, `${scope.date}/${scope.region}/${scope.service}/aws4_request`, sha256Hex(canonicalRequest)].join('\n');
}

/**
 * Verifies a request signed in its `Authorization` header or by its query (presigned),
 * including expiry; returns the access key id, or throws the error S3 would answer.
 */
export function verifyRequest(req: SignedRequest, credentials: Credentials, region: string, now = Date.now(), service = 's3'): string {
  const q = req.target.indexOf('?');
  const path = q < 0 ? req.target : req.target.slice(0, q);
  const params = parseQuery(q < 0 ? '' : req.target.slice(q + 1));
  const param = (name: string) => params.find(([k]) => k === name)?.[1];

  let scope: Scope;
  let amzDate: string;
  let signedHeaders: string[];
  let signature: string;
  let payloadHash: string;
  let unsignedParams: [string, string][];
  if (isPresigned(req)) {
    if (param('X-Amz-Algorithm') !== ALGORITHM) throw new SigV4Error('AuthorizationQueryParametersError', `X-Amz-Algorithm only supports "${ALGORITHM}"`);
    amzDate = param('X-Amz-Date') ?? '';
    const signedAt = parseAmzDate(amzDate);
    const expires = Number(param('X-Amz-Expires'));
    if (signedAt === undefined || !param('X-Amz-Credential') || !param('X-Amz-SignedHeaders')) {
      throw new SigV4Error('AuthorizationQueryParametersError', 'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.');
    }
    if (!Number.isInteger(expires) || expires < 1 || expires > MAX_PRESIGN_SECONDS) {
      throw new SigV4Error('AuthorizationQueryParametersError', 'X-Amz-Expires must be between 1 and 604800 seconds');
    }
    if (now > signedAt + expires * 1000) throw new SigV4Error('AccessDenied', 'Request has expired');
    if (signedAt > now + MAX_CLOCK_SKEW_MS) throw new SigV4Error('AccessDenied', 'Request is not valid yet');
    scope = parseCredential(param('X-Amz-Credential')!, 'query');
    signedHeaders = param('X-Amz-SignedHeaders')!.split(';');
    signature = param('X-Amz-Signature')!;
    payloadHash = param('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD';
    unsignedParams = params.filter(([k]) => k !== 'X-Amz-Signature');
  } else {
    const auth = req.headers.authorization;
    if (!auth) throw new SigV4Error('AccessDenied', 'Access Denied');
    const m = /^AWS4-HMAC-SHA256\s+Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]+)$/.exec(auth.trim());
    if (!m) throw new SigV4Error('AuthorizationHeaderMalformed', 'The authorization header is malformed; only AWS4-HMAC-SHA256 with Credential, SignedHeaders and Signature is supported.');
    amzDate = req.headers['x-amz-date'] ?? '';
    const signedAt = parseAmzDate(amzDate);
    if (signedAt === undefined) throw new SigV4Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
    if (Math.abs(now - signedAt) > MAX_CLOCK_SKEW_MS) throw new SigV4Error('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.');
    scope = parseCredential(m[1], 'header');
    signedHeaders = m[2].split(';');
    signature = m[3];
    payloadHash = req.headers['x-amz-content-sha256'] ?? '';
    if (payloadHash === '') throw new SigV4Error('AccessDenied', 'Missing required header for this request: x-amz-content-sha256');
    if (payloadHash !== 'UNSIGNED-PAYLOAD' && payloadHash !== sha256Hex(req.body ?? new Uint8Array())) {
      throw new SigV4Error('SignatureDoesNotMatch', "The provided 'x-amz-content-sha256' header does not match what was computed.");
    }
    unsignedParams = params;
  }
  if (!signedHeaders.includes('host')) throw new SigV4Error('AccessDenied', 'The host header must be signed');
  const secret = secretFor(scope, amzDate, credentials, region, isPresigned(req) ? 'query' : 'header', service);
  const canonicalRequest = [req.method, path, canonicalQuery(unsignedParams), canonicalHeaders(signedHeaders, req.headers), signedHeaders.join(';'), payloadHash].join('\n');
  const expected = hmac(signingKey(secret, scope.date, scope.region, scope.service), stringToSign(amzDate, scope, canonicalRequest)).toString('hex');
  if (!equalHex(expected, signature)) {
    throw new SigV4Error('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
  }
  return scope.accessKeyId;
}

/**
 * Verifies a header-signed request to a service other than S3 (SSM, Lambda, API Gateway's
 * `@connections`): the payload hash is the body's own (an `x-amz-content-sha256` header, when
 * sent, must match it), the path's segments encoded twice. Returns the access key id, or throws a {@link SigV4Error} the stand-in maps to the
 * service's own error.
 */
export function verifyServiceRequest(req: SignedRequest, credentials: Credentials, region: string, service: string, now = Date.now()): string {
  const auth = req.headers.authorization;
  if (!auth) throw new SigV4Error('AccessDenied', 'Missing Authentication Token');
  const m = /^AWS4-HMAC-SHA256\s+Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]+)$/.exec(auth.trim());
  if (!m) throw new SigV4Error('AuthorizationHeaderMalformed', 'Authorization header requires Credential, SignedHeaders and Signature parameters.');
  const amzDate = req.headers['x-amz-date'] ?? '';
  const signedAt = parseAmzDate(amzDate);
  if (signedAt === undefined) throw new SigV4Error('AuthorizationHeaderMalformed', 'Authorization header requires existence of either a X-Amz-Date or a Date header.');
  if (Math.abs(now - signedAt) > MAX_CLOCK_SKEW_MS) throw new SigV4Error('RequestTimeTooSkewed', `Signature expired: ${amzDate} is now earlier or later than the allowed 15 minutes.`);
  const scope = parseCredential(m[1], 'header', service);
  const signedHeaders = m[2].split(';');
  if (!signedHeaders.includes('host')) throw new SigV4Error('AuthorizationHeaderMalformed', "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  const payloadHash = sha256Hex(req.body ?? new Uint8Array());
  const sent = req.headers['x-amz-content-sha256'];
  if (sent !== undefined && sent !== payloadHash) throw new SigV4Error('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
  const secret = secretFor(scope, amzDate, credentials, region, 'header', service);
  const q = req.target.indexOf('?');
  // Every service but S3 encodes each segment of the path as sent once more: `/@connections/a%3D` → `/%40connections/a%253D`.
  const path = (q < 0 ? req.target : req.target.slice(0, q)).split('/').map(uriEncode).join('/');
  const canonicalRequest = [req.method, path, canonicalQuery(parseQuery(q < 0 ? '' : req.target.slice(q + 1))), canonicalHeaders(signedHeaders, req.headers), signedHeaders.join(';'), payloadHash].join('\n');
  const expected = hmac(signingKey(secret, scope.date, scope.region, scope.service), stringToSign(amzDate, scope, canonicalRequest)).toString('hex');
  if (!equalHex(expected, m[3])) {
    throw new SigV4Error('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.');
  }
  return scope.accessKeyId;
}

/**
 * Verifies the signature of a browser POST's policy: an HMAC of the base64 policy itself
 * with the signing key of the credential's scope. Returns the access key id.
 */
export function verifyPostPolicy(
  form: { policy: string; credential: string; amzDate: string; signature: string; algorithm: string },
  credentials: Credentials,
  region: string,
): string {
  if (form.algorithm !== ALGORITHM) throw new SigV4Error('AccessDenied', `Invalid according to Policy: x-amz-algorithm must be ${ALGORITHM}`);
  if (parseAmzDate(form.amzDate) === undefined) throw new SigV4Error('AccessDenied', 'Invalid according to Policy: x-amz-date is not a date like 20260102T030405Z');
  const scope = parseCredential(form.credential, 'query');
  const secret = secretFor(scope, form.amzDate, credentials, region, 'query');
  const expected = hmac(signingKey(secret, scope.date, scope.region, scope.service), form.policy).toString('hex');
  if (!equalHex(expected, form.signature)) {
    throw new SigV4Error('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
  }
  return scope.accessKeyId;
}
