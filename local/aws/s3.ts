/**
 * A local S3 for the media store, spoken to by the real `@aws-sdk/client-s3` and its
 * presigners, and by browsers: path-style URLs (`<endpoint>/<bucket>/<key>`) on the local
 * runtime's port.
 *
 * What it emulates, because Cirrus's media security rests on it: browser POST uploads
 * with their signed policy (signature, expiration, `eq` and `starts-with` conditions,
 * `content-length-range`, no fields beyond the policy's), GET and HEAD with SigV4 in the
 * header or presigned in the query (signature and expiry), a private bucket (anonymous
 * requests are refused), the bucket's CORS rule including preflight, and S3's XML errors.
 * Objects are files under the data folder, so they survive restarts.
 *
 * A GET or HEAD of a missing key answers 404 NoSuchKey only to a signer who may list the
 * bucket (`canListBucket`), and 403 AccessDenied to anyone else, as S3 does: without
 * s3:ListBucket, a missing key is not told apart from one the caller may not read.
 *
 * What it does not: PutObject, multipart uploads, listing, deletes, ranges, versioning,
 * ACLs, bucket policies, and virtual-hosted addressing. Cirrus only presigns POST uploads
 * and GETs and asks HeadObject.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SigV4Error, verifyPostPolicy, verifyRequest, type Credentials } from './sigv4';
import type { StandIn, StandInRequest, StandInResponse } from './types';

/** S3 refuses a single POST upload above 5 GB. */
const MAX_POST_BYTES = 5 * 1024 ** 3;

export interface LocalS3Options {
  /** Buckets served; requests for any other path are not this stand-in's. */
  readonly buckets: readonly string[];
  /** Secret access key by access key id; requests signed with anything else are refused. */
  readonly credentials: Credentials;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** Folder holding the objects across restarts; in memory only when absent. */
  readonly dir?: string;
  /** Origins the buckets' CORS rule allows (`*` for any). @default ['*'] */
  readonly corsAllowedOrigins?: readonly string[];
  /**
   * Whether the signer holds s3:ListBucket on the bucket for a GET or HEAD, which decides
   * whether a missing key answers 404 NoSuchKey (true) or 403 AccessDenied (false).
   * @default never: Cirrus's functions hold ListBucket only under an `s3:prefix`
   * condition, which a GET or HEAD of an object does not carry
   */
  readonly canListBucket?: (accessKeyId: string, bucket: string) => boolean;
}

export interface StoredObject {
  readonly contentType: string;
  readonly size: number;
  /** Quoted MD5 hex of the content, as S3 gives for single-part uploads. */
  readonly etag: string;
  readonly lastModified: number;
}

/** S3's status for each error code the stand-in answers. */
const errorStatus = {
  AccessDenied: 403,
  SignatureDoesNotMatch: 403,
  InvalidAccessKeyId: 403,
  RequestTimeTooSkewed: 403,
  AuthorizationHeaderMalformed: 400,
  AuthorizationQueryParametersError: 400,
  InvalidArgument: 400,
  InvalidPolicyDocument: 400,
  MalformedPOSTRequest: 400,
  EntityTooLarge: 400,
  EntityTooSmall: 400,
  InvalidRequest: 400,
  NoSuchKey: 404,
  NoSuchBucket: 404,
  MethodNotAllowed: 405,
  NotImplemented: 501,
} as const;

export type S3ErrorCode = keyof typeof errorStatus;

export class S3Error extends Error {
  constructor(
    readonly code: S3ErrorCode,
    message: string,
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'S3Error';
  }
}

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const md5Hex = (data: Uint8Array) => createHash('md5').update(data).digest('hex');

/**
 * Objects in memory, or as two files each under `dir/<bucket>/`: the bytes and their
 * metadata, named by the SHA-256 of the key (keys may be 1,024 bytes; file names may not).
 * Each file is written to a temporary name and renamed, so a crash never leaves half an
 * object.
 */
class ObjectStore {
  private readonly memory = new Map<string, { meta: StoredObject; data: Buffer }>();

  constructor(private readonly dir: string | undefined) {}

  private fileOf(bucket: string, key: string): string {
    return join(this.dir!, bucket, createHash('sha256').update(key).digest('hex'));
  }

  put(bucket: string, key: string, data: Buffer, meta: StoredObject): void {
    if (!this.dir) {
      this.memory.set(`${bucket}/${key}`, { meta, data });
      return;
    }
    const file = this.fileOf(bucket, key);
    mkdirSync(join(this.dir, bucket), { recursive: true });
    const tmp = `${file}.${process.pid}.${randomUUID()}.tmp`;
    writeFileSync(tmp, data);
    renameSync(tmp, file);
    writeFileSync(`${tmp}.json`, JSON.stringify({ key, ...meta }));
    renameSync(`${tmp}.json`, `${file}.json`);
  }

  head(bucket: string, key: string): StoredObject | undefined {
    if (!this.dir) return this.memory.get(`${bucket}/${key}`)?.meta;
    try {
      const { key: storedKey, ...meta } = JSON.parse(readFileSync(`${this.fileOf(bucket, key)}.json`, 'utf8')) as StoredObject & { key: string };
      return storedKey === key ? meta : undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** Every object's bytes in a bucket. */
  all(bucket: string): Buffer[] {
    if (!this.dir) return [...this.memory.entries()].filter(([k]) => k.startsWith(`${bucket}/`)).map(([, v]) => v.data);
    const folder = join(this.dir, bucket);
    if (!existsSync(folder)) return [];
    return readdirSync(folder)
      .filter((f) => !f.endsWith('.json') && !f.endsWith('.tmp'))
      .map((f) => readFileSync(join(folder, f)));
  }

  get(bucket: string, key: string): { meta: StoredObject; data: Buffer } | undefined {
    if (!this.dir) return this.memory.get(`${bucket}/${key}`);
    const meta = this.head(bucket, key);
    if (!meta) return undefined;
    return { meta, data: readFileSync(this.fileOf(bucket, key)) };
  }
}

/** A POST policy condition, normalized: field names lower-case without `$`. */
type Condition = { op: 'eq' | 'starts-with'; field: string; value: string } | { op: 'content-length-range'; min: number; max: number };

function parsePolicy(policyBase64: string): { expiration: number; conditions: Condition[] } {
  const invalid = (why: string) => new S3Error('InvalidPolicyDocument', `Invalid Policy: ${why}`);
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(policyBase64, 'base64').toString('utf8'));
  } catch {
    throw invalid('Invalid JSON.');
  }
  const { expiration, conditions } = (doc ?? {}) as { expiration?: unknown; conditions?: unknown };
  const expiresAt = typeof expiration === 'string' ? Date.parse(expiration) : NaN;
  if (!Number.isFinite(expiresAt)) throw invalid('Policy missing expiration.');
  if (!Array.isArray(conditions)) throw invalid('Policy missing conditions.');
  const out: Condition[] = conditions.map((c): Condition => {
    if (Array.isArray(c)) {
      const [op, a, b] = c as unknown[];
      if (op === 'content-length-range') {
        if (!Number.isInteger(Number(a)) || !Number.isInteger(Number(b))) throw invalid('Invalid content-length-range.');
        return { op, min: Number(a), max: Number(b) };
      }
      if ((op === 'eq' || op === 'starts-with') && typeof a === 'string' && a.startsWith('$') && typeof b === 'string') {
        return { op, field: a.slice(1).toLowerCase(), value: b };
      }
      throw invalid(`Invalid condition ${JSON.stringify(c)}.`);
    }
    if (c && typeof c === 'object') {
      const entries = Object.entries(c as Record<string, unknown>);
      if (entries.length === 1 && typeof entries[0][1] === 'string') return { op: 'eq', field: entries[0][0].toLowerCase(), value: entries[0][1] };
    }
    throw invalid(`Invalid condition ${JSON.stringify(c)}.`);
  });
  return { expiration: expiresAt, conditions: out };
}

/** The condition as S3 quotes it in "Policy Condition failed". */
const describeCondition = (c: Condition) =>
  c.op === 'content-length-range' ? `["content-length-range", ${c.min}, ${c.max}]` : `["${c.op}", "$${c.field}", "${c.value}"]`;

/** Fields a POST may carry without a condition naming them. */
const UNCONDITIONED_FIELDS = new Set(['policy', 'x-amz-signature', 'file']);

export class LocalS3 implements StandIn {
  readonly region: string;
  private readonly buckets: Set<string>;
  private readonly store: ObjectStore;
  private readonly corsOrigins: readonly string[];

  constructor(private readonly options: LocalS3Options) {
    this.region = options.region ?? 'us-east-1';
    this.buckets = new Set(options.buckets);
    this.store = new ObjectStore(options.dir);
    this.corsOrigins = options.corsAllowedOrigins ?? ['*'];
  }

  /** The bytes of every object of a bucket, for tests and tools (what a bucket holds, e.g. to look for plaintext). */
  objectBodies(bucket: string): Buffer[] {
    return this.store.all(bucket);
  }

  /** An object's metadata, for tests and tools; undefined when absent. */
  headObject(bucket: string, key: string): StoredObject | undefined {
    return this.store.head(bucket, key);
  }

  async handle(req: StandInRequest): Promise<StandInResponse | undefined> {
    const target = req.target ?? req.path;
    const path = target.split('?')[0];
    const m = /^\/([^/?]+)(?:\/(.*))?$/.exec(path);
    if (!m || !this.buckets.has(m[1])) return undefined;
    const bucket = m[1];
    let key: string;
    try {
      key = decodeURIComponent(m[2] ?? '');
    } catch {
      return this.withCors(req, this.error(new S3Error('InvalidArgument', 'The key is not valid percent-encoding.'), req.method));
    }
    let res: StandInResponse;
    try {
      if (req.method === 'OPTIONS') return this.preflight(req);
      if (req.method === 'POST' && key === '' && !target.includes('?')) res = await this.postObject(req, bucket);
      else if ((req.method === 'GET' || req.method === 'HEAD') && key !== '') res = this.getObject(req, target, bucket, key);
      else if (['GET', 'HEAD', 'POST', 'PUT', 'DELETE'].includes(req.method)) throw new S3Error('NotImplemented', `The local S3 does not implement ${req.method} ${key === '' ? 'on a bucket' : 'on an object'}; Cirrus uses POST uploads, GET and HEAD.`);
      else throw new S3Error('MethodNotAllowed', `The specified method ${req.method} is not allowed against this resource.`);
    } catch (err) {
      if (err instanceof SigV4Error) res = this.error(new S3Error(err.code, err.message), req.method);
      else if (err instanceof S3Error) res = this.error(err, req.method);
      else throw err;
    }
    return this.withCors(req, res);
  }

  async close(): Promise<void> {}

  // -------------------------------------------------------------------------------
  // Operations
  // -------------------------------------------------------------------------------

  private getObject(req: StandInRequest, target: string, bucket: string, key: string): StandInResponse {
    const accessKeyId = verifyRequest({ method: req.method, target, headers: req.headers, body: req.bytes }, this.options.credentials, this.region);
    const found = this.store.get(bucket, key);
    if (!found) {
      if (this.options.canListBucket?.(accessKeyId, bucket)) throw new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: key });
      throw new S3Error('AccessDenied', 'Access Denied');
    }
    const { meta, data } = found;
    const headers: Record<string, string> = {
      'content-type': meta.contentType,
      'content-length': String(meta.size),
      etag: meta.etag,
      'last-modified': new Date(meta.lastModified).toUTCString(),
      'x-amz-request-id': randomUUID(),
    };
    // Signed response overrides, as the presigners' ResponseContentType and ResponseContentDisposition set them.
    const query = new URLSearchParams(target.split('?')[1] ?? '');
    const overrideType = query.get('response-content-type');
    const disposition = query.get('response-content-disposition');
    if (overrideType) headers['content-type'] = overrideType;
    if (disposition) headers['content-disposition'] = disposition;
    return { status: 200, headers, body: '', bytes: req.method === 'HEAD' ? undefined : data };
  }

  /**
   * A browser POST upload: every check S3 makes of the form, in S3's order, then the
   * object is stored under the key the policy allowed, with the form's Content-Type.
   */
  private async postObject(req: StandInRequest, bucket: string): Promise<StandInResponse> {
    const contentType = req.headers['content-type'] ?? '';
    if (!/^multipart\/form-data;/i.test(contentType)) {
      throw new S3Error('InvalidRequest', 'Bucket POST must be of the enclosure-type multipart/form-data');
    }
    const bytes = req.bytes ?? Buffer.from(req.body, 'utf8');
    if (bytes.length > MAX_POST_BYTES + 1024 * 1024) throw new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size');
    let form: FormData;
    try {
      form = await new Response(new Uint8Array(bytes), { headers: { 'content-type': contentType } }).formData();
    } catch {
      throw new S3Error('MalformedPOSTRequest', 'The body of your POST request is not well-formed multipart/form-data.');
    }
    // S3 reads the fields up to the file and ignores any after it; names are case-insensitive.
    const fields = new Map<string, string>();
    let file: File | undefined;
    for (const [name, value] of form.entries()) {
      if (name.toLowerCase() === 'file') {
        if (typeof value === 'string') throw new S3Error('InvalidArgument', 'POST requires exactly one file upload per request.');
        file = value;
        break;
      }
      if (typeof value !== 'string') throw new S3Error('InvalidArgument', `Field ${name} must be a value, not a file.`);
      fields.set(name.toLowerCase(), value);
    }
    if (!file) throw new S3Error('InvalidArgument', 'POST requires exactly one file upload per request.', { ArgumentName: 'file' });
    const rawKey = fields.get('key');
    if (rawKey === undefined || rawKey === '') throw new S3Error('InvalidArgument', "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.", { ArgumentName: 'key' });
    const key = rawKey.replace(/\$\{filename\}/g, file.name);
    fields.set('key', key);
    fields.set('bucket', bucket);

    const policy = fields.get('policy');
    if (!policy) throw new S3Error('AccessDenied', 'Access Denied');
    for (const name of ['x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'x-amz-signature']) {
      if (!fields.has(name)) throw new S3Error('InvalidArgument', `Bucket POST must contain a field named '${name}'.  If it is specified, please check the order of the fields.`, { ArgumentName: name });
    }
    verifyPostPolicy(
      { policy, credential: fields.get('x-amz-credential')!, amzDate: fields.get('x-amz-date')!, signature: fields.get('x-amz-signature')!, algorithm: fields.get('x-amz-algorithm')! },
      this.options.credentials,
      this.region,
    );

    const { expiration, conditions } = parsePolicy(policy);
    if (Date.now() > expiration) throw new S3Error('AccessDenied', 'Invalid according to Policy: Policy expired.');
    const data = Buffer.from(await file.arrayBuffer());
    const conditioned = new Set<string>();
    for (const c of conditions) {
      if (c.op === 'content-length-range') {
        if (data.length > c.max) throw new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', { ProposedSize: String(data.length), MaxSizeAllowed: String(c.max) });
        if (data.length < c.min) throw new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size', { ProposedSize: String(data.length), MinSizeAllowed: String(c.min) });
        continue;
      }
      conditioned.add(c.field);
      const value = fields.get(c.field) ?? '';
      const ok = c.op === 'eq' ? value === c.value : value.startsWith(c.value);
      if (!ok) throw new S3Error('AccessDenied', `Invalid according to Policy: Policy Condition failed: ${describeCondition(c)}`);
    }
    const extra = [...fields.keys()].filter((name) => !conditioned.has(name) && !UNCONDITIONED_FIELDS.has(name) && !name.startsWith('x-ignore-') && name !== 'bucket');
    if (extra.length > 0) throw new S3Error('AccessDenied', `Invalid according to Policy: Extra input fields: ${extra.join(', ')}`);

    const etag = `"${md5Hex(data)}"`;
    this.store.put(bucket, key, data, { contentType: fields.get('content-type') || 'binary/octet-stream', size: data.length, etag, lastModified: Date.now() });
    const location = `/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
    const headers = { etag, location, 'x-amz-request-id': randomUUID() };
    const status = fields.get('success_action_status');
    if (status === '201') {
      const body = `<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse><Location>${xmlEscape(location)}</Location><Bucket>${xmlEscape(bucket)}</Bucket><Key>${xmlEscape(key)}</Key><ETag>${xmlEscape(etag)}</ETag></PostResponse>`;
      return { status: 201, headers: { ...headers, 'content-type': 'application/xml' }, body };
    }
    return { status: status === '200' ? 200 : 204, headers, body: '' };
  }

  // -------------------------------------------------------------------------------
  // CORS and errors
  // -------------------------------------------------------------------------------

  private originAllowed(origin: string): boolean {
    return this.corsOrigins.includes('*') || this.corsOrigins.includes(origin);
  }

  /** The bucket's CORS rule on an actual request: browsers may read the answer and its ETag. */
  private withCors(req: StandInRequest, res: StandInResponse): StandInResponse {
    const origin = req.headers.origin;
    if (!origin || !this.originAllowed(origin)) return res;
    return {
      ...res,
      headers: {
        ...res.headers,
        'access-control-allow-origin': this.corsOrigins.includes('*') ? '*' : origin,
        'access-control-allow-methods': 'GET, HEAD, POST',
        'access-control-expose-headers': 'ETag, Location',
        vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
      },
    };
  }

  private preflight(req: StandInRequest): StandInResponse {
    const origin = req.headers.origin;
    const method = req.headers['access-control-request-method'];
    if (!origin || !method) {
      return this.error(new S3Error('InvalidRequest', 'Insufficient information. Origin request header needed.'), 'OPTIONS');
    }
    if (!this.originAllowed(origin) || !['GET', 'HEAD', 'POST'].includes(method)) {
      return this.error(new S3Error('AccessDenied', 'CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource\'s CORS spec.'), 'OPTIONS');
    }
    const headers: Record<string, string> = {
      'access-control-allow-origin': this.corsOrigins.includes('*') ? '*' : origin,
      'access-control-allow-methods': 'GET, HEAD, POST',
      'access-control-expose-headers': 'ETag, Location',
      'access-control-max-age': '3600',
      vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
    };
    const requested = req.headers['access-control-request-headers'];
    if (requested) headers['access-control-allow-headers'] = requested;
    return { status: 200, headers, body: '' };
  }

  /** S3's XML error; a HEAD answer carries only the status, as S3's does. */
  private error(err: S3Error, method: string): StandInResponse {
    const requestId = randomUUID();
    const status = errorStatus[err.code];
    if (method === 'HEAD') return { status, headers: { 'x-amz-request-id': requestId }, body: '' };
    const extra = Object.entries(err.extra)
      .map(([k, v]) => `<${k}>${xmlEscape(v)}</${k}>`)
      .join('');
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${err.code}</Code><Message>${xmlEscape(err.message)}</Message>${extra}<RequestId>${requestId}</RequestId></Error>`;
    return { status, headers: { 'content-type': 'application/xml', 'x-amz-request-id': requestId }, body };
  }
}
