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
 * What the functions send with their role's credentials, for users' data exports and
 * erasure: PutObject (S3's 5 GB limit for one PUT, its 1,024-byte keys, Content-MD5 and
 * `x-amz-checksum-crc32` checked: BadDigest), ListObjectsV2 (prefix, delimiter, start-after,
 * continuation tokens, at most 1,000 keys a page, keys in UTF-8 byte order), DeleteObject and
 * DeleteObjects (at most 1,000 keys, with a Content-MD5 or checksum header as S3 requires).
 *
 * Multipart uploads, as users' data exports are stored: CreateMultipartUpload, UploadPart
 * (part numbers 1 to 10,000, at most 5 GiB a part, Content-MD5 and CRC32 checked),
 * CompleteMultipartUpload (the parts listed in ascending order, each with the ETag its upload
 * answered, every part but the last at least 5 MiB: InvalidPartOrder, InvalidPart,
 * EntityTooSmall; the object's ETag is S3's `"<MD5 of the parts' MD5s>-<parts>"`) and
 * AbortMultipartUpload; an upload completed or aborted is NoSuchUpload. Uploads in progress are
 * kept in memory: a restart of the stand-in drops them, as S3's lifecycle rule would.
 *
 * What it does not: ListParts, ListMultipartUploads, UploadPartCopy, ranges, versioning, ACLs,
 * bucket policies, and virtual-hosted addressing.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { join } from 'node:path';
import { SigV4Error, verifyPostPolicy, verifyRequest, type Credentials } from './sigv4';
import type { StandIn, StandInRequest, StandInResponse } from './types';

/** S3 refuses a single POST upload above 5 GB. */
const MAX_POST_BYTES = 5 * 1024 ** 3;
/** And a single PUT (larger objects take a multipart upload). */
const MAX_PUT_BYTES = 5 * 1024 ** 3;
/** Keys are at most 1,024 bytes of UTF-8. */
const MAX_KEY_BYTES = 1024;
/** ListObjectsV2 answers at most 1,000 keys, whatever max-keys asks; DeleteObjects takes at most 1,000. */
const MAX_KEYS = 1000;
/** A multipart upload's parts: numbered 1 to 10,000, each at most 5 GiB, all but the last at least 5 MiB. */
export const MAX_PARTS = 10_000;
export const MIN_PART_BYTES = 5 * 1024 ** 2;
const MAX_PART_BYTES = 5 * 1024 ** 3;
/** The largest object, multipart. */
const MAX_OBJECT_BYTES = 5 * 1024 ** 4;

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
  InvalidDigest: 400,
  BadDigest: 400,
  KeyTooLongError: 400,
  MalformedXML: 400,
  InvalidPart: 400,
  InvalidPartOrder: 400,
  NoSuchKey: 404,
  NoSuchBucket: 404,
  NoSuchUpload: 404,
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

  /** Removes an object; nothing happens when it is absent (S3 answers the same). */
  delete(bucket: string, key: string): void {
    if (!this.dir) {
      this.memory.delete(`${bucket}/${key}`);
      return;
    }
    // The metadata first: an object without it does not exist.
    rmSync(`${this.fileOf(bucket, key)}.json`, { force: true });
    rmSync(this.fileOf(bucket, key), { force: true });
  }

  /** Every object of a bucket with its key, in UTF-8 byte order of the keys (S3's listing order). */
  list(bucket: string): (StoredObject & { key: string })[] {
    let all: (StoredObject & { key: string })[];
    if (!this.dir) {
      all = [...this.memory.entries()].filter(([k]) => k.startsWith(`${bucket}/`)).map(([k, v]) => ({ key: k.slice(bucket.length + 1), ...v.meta }));
    } else {
      let names: string[];
      try {
        names = readdirSync(join(this.dir, bucket));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw err;
      }
      all = [];
      for (const name of names) {
        if (!/^[0-9a-f]{64}\.json$/.test(name)) continue;
        try {
          all.push(JSON.parse(readFileSync(join(this.dir, bucket, name), 'utf8')) as StoredObject & { key: string });
        } catch (err) {
          // Deleted since the directory was read.
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }
    }
    return all.sort((a, b) => Buffer.compare(Buffer.from(a.key, 'utf8'), Buffer.from(b.key, 'utf8')));
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
  /** Multipart uploads in progress, by upload id. */
  private readonly uploads = new Map<string, { bucket: string; key: string; contentType: string; parts: Map<number, { data: Buffer; etag: string }> }>();

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

  /** The multipart uploads in progress in a bucket (neither completed nor aborted), for tests and tools. */
  multipartUploads(bucket: string): { key: string; uploadId: string; parts: number }[] {
    return [...this.uploads.entries()].filter(([, u]) => u.bucket === bucket).map(([uploadId, u]) => ({ key: u.key, uploadId, parts: u.parts.size }));
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
      const query = new URLSearchParams(target.split('?')[1] ?? '');
      if (req.method === 'POST' && key === '' && !target.includes('?')) res = await this.postObject(req, bucket);
      else if ((req.method === 'GET' || req.method === 'HEAD') && key !== '') res = this.getObject(req, target, bucket, key);
      else if (req.method === 'PUT' && key !== '' && !query.has('uploadId') && !query.has('partNumber') && !query.has('acl') && !query.has('tagging')) res = this.putObject(req, target, bucket, key);
      else if (req.method === 'DELETE' && key !== '' && !query.has('uploadId') && !query.has('tagging')) res = this.deleteObject(req, target, bucket, key);
      else if (req.method === 'POST' && key !== '' && query.has('uploads')) res = this.createMultipartUpload(req, target, bucket, key);
      else if (req.method === 'PUT' && key !== '' && query.has('uploadId') && query.has('partNumber') && !req.headers['x-amz-copy-source']) res = this.uploadPart(req, target, bucket, key, query);
      else if (req.method === 'POST' && key !== '' && query.has('uploadId')) res = this.completeMultipartUpload(req, target, bucket, key, query);
      else if (req.method === 'DELETE' && key !== '' && query.has('uploadId')) res = this.abortMultipartUpload(req, target, bucket, key, query);
      else if (req.method === 'GET' && key === '' && query.get('list-type') === '2') res = this.listObjectsV2(req, target, bucket, query);
      else if (req.method === 'POST' && key === '' && query.has('delete')) res = this.deleteObjects(req, target, bucket);
      else if (['GET', 'HEAD', 'POST', 'PUT', 'DELETE'].includes(req.method)) throw new S3Error('NotImplemented', `The local S3 does not implement ${req.method} ${key === '' ? 'on a bucket' : 'on an object'} with ${query.toString() || 'no query'}; Cirrus uses POST uploads, GET, HEAD, PutObject, multipart uploads, ListObjectsV2, DeleteObject and DeleteObjects.`);
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

  private signed(req: StandInRequest, target: string): string {
    return verifyRequest({ method: req.method, target, headers: req.headers, body: req.bytes ?? Buffer.from(req.body ?? '', 'utf8') }, this.options.credentials, this.region);
  }

  /** The body against the integrity headers S3 checks: Content-MD5 and a CRC32 checksum. */
  private checkDigests(req: StandInRequest, data: Buffer): void {
    const md5 = req.headers['content-md5'];
    if (md5 !== undefined) {
      if (Buffer.from(md5, 'base64').length !== 16) throw new S3Error('InvalidDigest', 'The Content-MD5 you specified was invalid.');
      if (createHash('md5').update(data).digest('base64') !== md5) throw new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.');
    }
    const crc = req.headers['x-amz-checksum-crc32'];
    if (crc !== undefined) {
      const expected = Buffer.alloc(4);
      expected.writeUInt32BE(crc32(data));
      if (expected.toString('base64') !== crc) throw new S3Error('BadDigest', 'The CRC32 you specified did not match the calculated checksum.');
    }
    for (const name of Object.keys(req.headers)) {
      if (name.startsWith('x-amz-checksum-') && name !== 'x-amz-checksum-crc32' && name !== 'x-amz-checksum-algorithm') {
        throw new S3Error('NotImplemented', `The local S3 checks CRC32 and Content-MD5 only, not ${name}.`);
      }
    }
  }

  private checkKey(key: string): void {
    if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) throw new S3Error('KeyTooLongError', 'Your key is too long');
  }

  private putObject(req: StandInRequest, target: string, bucket: string, key: string): StandInResponse {
    this.signed(req, target);
    this.checkKey(key);
    if (req.headers['content-encoding']?.includes('aws-chunked')) throw new S3Error('NotImplemented', 'The local S3 does not take aws-chunked bodies.');
    const data = req.bytes ?? Buffer.from(req.body ?? '', 'utf8');
    if (data.length > MAX_PUT_BYTES) throw new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', { ProposedSize: String(data.length), MaxSizeAllowed: String(MAX_PUT_BYTES) });
    this.checkDigests(req, data);
    const etag = `"${md5Hex(data)}"`;
    this.store.put(bucket, key, data, { contentType: req.headers['content-type'] || 'binary/octet-stream', size: data.length, etag, lastModified: Date.now() });
    return { status: 200, headers: { etag, 'x-amz-request-id': randomUUID() }, body: '' };
  }

  private createMultipartUpload(req: StandInRequest, target: string, bucket: string, key: string): StandInResponse {
    this.signed(req, target);
    this.checkKey(key);
    const uploadId = randomUUID().replace(/-/g, '');
    this.uploads.set(uploadId, { bucket, key, contentType: req.headers['content-type'] || 'binary/octet-stream', parts: new Map() });
    const body =
      `<?xml version="1.0" encoding="UTF-8"?>\n<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
      `<Bucket>${xmlEscape(bucket)}</Bucket><Key>${xmlEscape(key)}</Key><UploadId>${uploadId}</UploadId></InitiateMultipartUploadResult>`;
    return { status: 200, headers: { 'content-type': 'application/xml', 'x-amz-request-id': randomUUID() }, body };
  }

  /** The upload `uploadId` names, for this bucket and key. */
  private upload(bucket: string, key: string, query: URLSearchParams) {
    const upload = this.uploads.get(query.get('uploadId') ?? '');
    if (!upload || upload.bucket !== bucket || upload.key !== key) {
      throw new S3Error('NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', { UploadId: query.get('uploadId') ?? '' });
    }
    return upload;
  }

  private uploadPart(req: StandInRequest, target: string, bucket: string, key: string, query: URLSearchParams): StandInResponse {
    this.signed(req, target);
    const raw = query.get('partNumber') ?? '';
    const partNumber = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!(partNumber >= 1 && partNumber <= MAX_PARTS)) {
      throw new S3Error('InvalidArgument', `Part number must be an integer between 1 and ${MAX_PARTS}, inclusive`, { ArgumentName: 'partNumber', ArgumentValue: raw });
    }
    const upload = this.upload(bucket, key, query);
    if (req.headers['content-encoding']?.includes('aws-chunked')) throw new S3Error('NotImplemented', 'The local S3 does not take aws-chunked bodies.');
    const data = req.bytes ?? Buffer.from(req.body ?? '', 'utf8');
    if (data.length > MAX_PART_BYTES) throw new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', { ProposedSize: String(data.length), MaxSizeAllowed: String(MAX_PART_BYTES) });
    this.checkDigests(req, data);
    const etag = `"${md5Hex(data)}"`;
    // A part uploaded again under the same number replaces the earlier one.
    upload.parts.set(partNumber, { data, etag });
    return { status: 200, headers: { etag, 'x-amz-request-id': randomUUID() }, body: '' };
  }

  private completeMultipartUpload(req: StandInRequest, target: string, bucket: string, key: string, query: URLSearchParams): StandInResponse {
    this.signed(req, target);
    const upload = this.upload(bucket, key, query);
    const data = req.bytes ?? Buffer.from(req.body ?? '', 'utf8');
    this.checkDigests(req, data);
    const xml = data.toString('utf8');
    const malformed = () => new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
    if (!/^\s*(<\?xml[^>]*\?>\s*)?<CompleteMultipartUpload(\s[^>]*)?>[\s\S]*<\/CompleteMultipartUpload>\s*$/.test(xml)) throw malformed();
    const listed = [...xml.matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map((m) => ({
      partNumber: /<PartNumber>\s*(\d+)\s*<\/PartNumber>/.exec(m[1])?.[1],
      etag: /<ETag>([\s\S]*?)<\/ETag>/.exec(m[1])?.[1]?.replace(/&quot;/g, '"').trim(),
    }));
    if (listed.length === 0 || listed.some((p) => p.partNumber === undefined || p.etag === undefined)) throw malformed();
    const parts = listed.map((p) => ({ partNumber: Number(p.partNumber), etag: p.etag! }));
    for (let i = 1; i < parts.length; i += 1) {
      if (parts[i].partNumber <= parts[i - 1].partNumber) throw new S3Error('InvalidPartOrder', 'The list of parts was not in ascending order. Parts must be ordered by part number.', { UploadId: query.get('uploadId')! });
    }
    const unquoted = (etag: string) => etag.replace(/^"|"$/g, '');
    const chosen = parts.map((p) => {
      const stored = upload.parts.get(p.partNumber);
      if (!stored || unquoted(stored.etag) !== unquoted(p.etag)) {
        throw new S3Error('InvalidPart', "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.", { UploadId: query.get('uploadId')!, PartNumber: String(p.partNumber), ETag: p.etag });
      }
      return { ...p, ...stored };
    });
    chosen.forEach((p, i) => {
      if (i < chosen.length - 1 && p.data.length < MIN_PART_BYTES) {
        throw new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.', { ProposedSize: String(p.data.length), MinSizeAllowed: String(MIN_PART_BYTES), PartNumber: String(p.partNumber), ETag: p.etag });
      }
    });
    const size = chosen.reduce((n, p) => n + p.data.length, 0);
    if (size > MAX_OBJECT_BYTES) throw new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', { ProposedSize: String(size), MaxSizeAllowed: String(MAX_OBJECT_BYTES) });
    // S3's multipart ETag: the MD5 of the parts' binary MD5s, and how many parts.
    const etag = `"${createHash('md5').update(Buffer.concat(chosen.map((p) => Buffer.from(unquoted(p.etag), 'hex')))).digest('hex')}-${chosen.length}"`;
    this.store.put(bucket, key, Buffer.concat(chosen.map((p) => p.data)), { contentType: upload.contentType, size, etag, lastModified: Date.now() });
    this.uploads.delete(query.get('uploadId')!);
    const location = `/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
    const body =
      `<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
      `<Location>${xmlEscape(location)}</Location><Bucket>${xmlEscape(bucket)}</Bucket><Key>${xmlEscape(key)}</Key><ETag>${xmlEscape(etag)}</ETag></CompleteMultipartUploadResult>`;
    return { status: 200, headers: { 'content-type': 'application/xml', 'x-amz-request-id': randomUUID() }, body };
  }

  private abortMultipartUpload(req: StandInRequest, target: string, bucket: string, key: string, query: URLSearchParams): StandInResponse {
    this.signed(req, target);
    this.upload(bucket, key, query);
    this.uploads.delete(query.get('uploadId')!);
    return { status: 204, headers: { 'x-amz-request-id': randomUUID() }, body: '' };
  }

  private deleteObject(req: StandInRequest, target: string, bucket: string, key: string): StandInResponse {
    this.signed(req, target);
    this.store.delete(bucket, key);
    return { status: 204, headers: { 'x-amz-request-id': randomUUID() }, body: '' };
  }

  private listObjectsV2(req: StandInRequest, target: string, bucket: string, query: URLSearchParams): StandInResponse {
    this.signed(req, target);
    const prefix = query.get('prefix') ?? '';
    const delimiter = query.get('delimiter') ?? '';
    const encode = query.get('encoding-type');
    if (encode !== null && encode !== 'url') throw new S3Error('InvalidArgument', 'Invalid Encoding Method specified in Request', { ArgumentName: 'encoding-type', ArgumentValue: encode });
    const maxKeysRaw = query.get('max-keys');
    let maxKeys = MAX_KEYS;
    if (maxKeysRaw !== null) {
      if (!/^\d+$/.test(maxKeysRaw)) throw new S3Error('InvalidArgument', 'Provided max-keys not an integer or within integer range', { ArgumentName: 'max-keys', ArgumentValue: maxKeysRaw });
      maxKeys = Math.min(Number(maxKeysRaw), MAX_KEYS);
    }
    const tokenRaw = query.get('continuation-token');
    let after = query.get('start-after') ?? '';
    if (tokenRaw !== null) {
      const decoded = /^[A-Za-z0-9+/=]+$/.test(tokenRaw) ? Buffer.from(tokenRaw, 'base64').toString('utf8') : '';
      if (!decoded.startsWith('k:')) throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token' });
      after = decoded.slice(2);
    }
    const afterBytes = Buffer.from(after, 'utf8');
    const contents: (StoredObject & { key: string })[] = [];
    const prefixes: string[] = [];
    let truncated = false;
    let lastReturned = '';
    for (const o of this.store.list(bucket)) {
      if (!o.key.startsWith(prefix) || Buffer.compare(Buffer.from(o.key, 'utf8'), afterBytes) <= 0) continue;
      let common: string | undefined;
      if (delimiter) {
        const at = o.key.indexOf(delimiter, prefix.length);
        if (at >= 0) common = o.key.slice(0, at + delimiter.length);
      }
      // A common prefix counts once, as one key, and the listing goes on past all its keys.
      if (common !== undefined && prefixes[prefixes.length - 1] === common) continue;
      if (contents.length + prefixes.length >= maxKeys) {
        truncated = true;
        break;
      }
      if (common !== undefined) {
        prefixes.push(common);
        lastReturned = `${common}\u{10FFFF}`;
      } else {
        contents.push(o);
        lastReturned = o.key;
      }
    }
    const enc = (v: string) => xmlEscape(encode === 'url' ? encodeURIComponent(v).replace(/%2F/g, '/') : v);
    const body =
      `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
      `<Name>${xmlEscape(bucket)}</Name><Prefix>${enc(prefix)}</Prefix>` +
      (delimiter ? `<Delimiter>${enc(delimiter)}</Delimiter>` : '') +
      `<KeyCount>${contents.length + prefixes.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys>` +
      (encode ? `<EncodingType>url</EncodingType>` : '') +
      `<IsTruncated>${truncated}</IsTruncated>` +
      (tokenRaw !== null ? `<ContinuationToken>${xmlEscape(tokenRaw)}</ContinuationToken>` : '') +
      (truncated ? `<NextContinuationToken>${Buffer.from(`k:${lastReturned}`, 'utf8').toString('base64')}</NextContinuationToken>` : '') +
      (query.has('start-after') ? `<StartAfter>${enc(query.get('start-after')!)}</StartAfter>` : '') +
      contents
        .map((o) => `<Contents><Key>${enc(o.key)}</Key><LastModified>${new Date(o.lastModified).toISOString()}</LastModified><ETag>${xmlEscape(o.etag)}</ETag><Size>${o.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`)
        .join('') +
      prefixes.map((p) => `<CommonPrefixes><Prefix>${enc(p)}</Prefix></CommonPrefixes>`).join('') +
      `</ListBucketResult>`;
    return { status: 200, headers: { 'content-type': 'application/xml', 'x-amz-request-id': randomUUID() }, body };
  }

  private deleteObjects(req: StandInRequest, target: string, bucket: string): StandInResponse {
    this.signed(req, target);
    const data = req.bytes ?? Buffer.from(req.body ?? '', 'utf8');
    const hasChecksum = req.headers['content-md5'] !== undefined || Object.keys(req.headers).some((h) => h.startsWith('x-amz-checksum-') && h !== 'x-amz-checksum-algorithm');
    if (!hasChecksum) throw new S3Error('InvalidRequest', 'Missing required header for this request: Content-MD5 OR x-amz-checksum-*');
    this.checkDigests(req, data);
    const xml = data.toString('utf8');
    if (!/^\s*(<\?xml[^>]*\?>\s*)?<Delete(\s[^>]*)?>[\s\S]*<\/Delete>\s*$/.test(xml)) throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
    const unescape = (v: string) =>
      v.replace(/&(lt|gt|quot|apos|amp|#x[0-9a-fA-F]+|#\d+);/g, (_, e: string) =>
        e === 'lt' ? '<' : e === 'gt' ? '>' : e === 'quot' ? '"' : e === 'apos' ? "'" : e === 'amp' ? '&' : String.fromCodePoint(e.startsWith('#x') ? parseInt(e.slice(2), 16) : Number(e.slice(1))),
      );
    const objects = [...xml.matchAll(/<Object>([\s\S]*?)<\/Object>/g)].map((m) => /<Key>([\s\S]*?)<\/Key>/.exec(m[1]));
    if (objects.length === 0 || objects.length > MAX_KEYS || objects.some((k) => !k)) {
      throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
    }
    const quiet = /<Quiet>\s*true\s*<\/Quiet>/i.test(xml);
    const deleted: string[] = [];
    for (const m of objects) {
      const key = unescape(m![1]);
      this.store.delete(bucket, key);
      deleted.push(key);
    }
    const body =
      `<?xml version="1.0" encoding="UTF-8"?>\n<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
      (quiet ? '' : deleted.map((k) => `<Deleted><Key>${xmlEscape(k)}</Key></Deleted>`).join('')) +
      `</DeleteResult>`;
    return { status: 200, headers: { 'content-type': 'application/xml', 'x-amz-request-id': randomUUID() }, body };
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
