/**
 * Contract tests of the local S3 stand-in, driven by the real `@aws-sdk/client-s3`, its
 * presigners and `fetch` with FormData, the way a browser uploads: what S3 accepts, and
 * each refusal the media store relies on.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, NotFound, PutObjectCommand, S3Client, S3ServiceException, UploadPartCommand } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { createPresignedPost, type PresignedPostOptions } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { LocalS3 } from '../../local/aws/s3';
import { clientConfig, mount, type Mounted } from './mount';

const BUCKET = 'media-test';
let dir: string;
let s3: LocalS3;
let server: Mounted;
let client: S3Client;

const newClient = (secretAccessKey = 'local') =>
  new S3Client({ ...clientConfig(server.url), credentials: { accessKeyId: 'local', secretAccessKey }, forcePathStyle: true });

/** A presigned POST for `size` bytes of `contentType`, as the media service signs it. */
async function presignPost(key: string, size: number, contentType = 'image/png', options: Partial<PresignedPostOptions> = {}, signer = client) {
  return createPresignedPost(signer, {
    Bucket: BUCKET,
    Key: key,
    Fields: { 'Content-Type': contentType },
    Conditions: [['content-length-range', size, size]],
    Expires: 60,
    ...options,
  });
}

/** POSTs the form like a browser: the fields, then the file last. */
async function upload(post: { url: string; fields: Record<string, string> }, bytes: Uint8Array, fileType = 'image/png', extra: Record<string, string> = {}) {
  const form = new FormData();
  for (const [name, value] of Object.entries({ ...post.fields, ...extra })) form.append(name, value);
  form.append('file', new Blob([new Uint8Array(bytes)], { type: fileType }), 'picture.png');
  const res = await fetch(post.url, { method: 'POST', body: form });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

const codeOf = (xml: string) => /<Code>([^<]+)<\/Code>/.exec(xml)?.[1];
const bytes = (n: number, fill = 7) => new Uint8Array(n).fill(fill);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cirrus-s3-'));
  s3 = new LocalS3({ buckets: [BUCKET], credentials: { local: 'local' }, dir });
  server = await mount([s3]);
  client = newClient();
});

afterAll(async () => {
  client.destroy();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('POST uploads with a presigned policy', () => {
  it('stores the file under the signed key with the signed content type', async () => {
    // Prepare
    const post = await presignPost('media/u1/a/picture.png', 10);

    // Act
    const res = await upload(post, bytes(10));

    // Assess
    expect(res.status).toBe(204);
    expect(res.headers.get('etag')).toMatch(/^"[0-9a-f]{32}"$/);
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'media/u1/a/picture.png' }));
    expect(head.ContentLength).toBe(10);
    expect(head.ContentType).toBe('image/png');
  });

  it('refuses a file larger than content-length-range allows with EntityTooLarge', async () => {
    const post = await presignPost('media/u1/b/big.png', 10);
    const res = await upload(post, bytes(11));
    expect([res.status, codeOf(res.text)]).toEqual([400, 'EntityTooLarge']);
    expect(s3.headObject(BUCKET, 'media/u1/b/big.png')).toBeUndefined();
  });

  it('refuses a file smaller than content-length-range allows with EntityTooSmall', async () => {
    const post = await presignPost('media/u1/c/small.png', 10);
    const res = await upload(post, bytes(9));
    expect([res.status, codeOf(res.text)]).toEqual([400, 'EntityTooSmall']);
  });

  it('refuses another content type than the signed one', async () => {
    // Prepare: the client swaps the signed Content-Type field for its own.
    const post = await presignPost('media/u1/d/x.png', 4);
    const forged = { ...post, fields: { ...post.fields, 'Content-Type': 'text/html' } };

    // Act
    const res = await upload(forged, bytes(4), 'text/html');

    // Assess
    expect([res.status, codeOf(res.text)]).toEqual([403, 'AccessDenied']);
    expect(res.text).toContain('Policy Condition failed');
  });

  it('refuses another key than the signed one', async () => {
    const post = await presignPost('media/u1/e/x.png', 4);
    const res = await upload({ ...post, fields: { ...post.fields, key: 'media/u2/e/x.png' } }, bytes(4));
    expect([res.status, codeOf(res.text)]).toEqual([403, 'AccessDenied']);
    expect(s3.headObject(BUCKET, 'media/u2/e/x.png')).toBeUndefined();
  });

  it('honours starts-with conditions on the key', async () => {
    // Prepare
    const post = await presignPost('media/u1/f/${filename}', 3);

    // Act: the ${filename} placeholder takes the file's name, which starts with the prefix.
    const ok = await upload(post, bytes(3));
    const outside = await upload({ ...post, fields: { ...post.fields, key: 'other/${filename}' } }, bytes(3));

    // Assess
    expect(ok.status).toBe(204);
    expect(s3.headObject(BUCKET, 'media/u1/f/picture.png')?.size).toBe(3);
    expect([outside.status, codeOf(outside.text)]).toEqual([403, 'AccessDenied']);
  });

  it('refuses form fields the policy does not name', async () => {
    const post = await presignPost('media/u1/g/x.png', 2);
    const res = await upload(post, bytes(2), 'image/png', { 'x-amz-meta-owner': 'someone' });
    expect([res.status, codeOf(res.text)]).toEqual([403, 'AccessDenied']);
    expect(res.text).toContain('Extra input fields: x-amz-meta-owner');
  });

  it('refuses an expired policy', async () => {
    // Prepare: signed a minute ago for 30 seconds.
    vi.useFakeTimers({ now: Date.now() - 60_000, toFake: ['Date'] });
    const post = await presignPost('media/u1/h/x.png', 2, 'image/png', { Expires: 30 });
    vi.useRealTimers();

    // Act
    const res = await upload(post, bytes(2));

    // Assess
    expect([res.status, codeOf(res.text)]).toEqual([403, 'AccessDenied']);
    expect(res.text).toContain('Policy expired');
  });

  it('refuses a policy signed with other credentials, or changed after signing', async () => {
    // Prepare
    const stranger = newClient('not-the-secret');
    const foreign = await presignPost('media/u1/i/x.png', 2, 'image/png', {}, stranger);
    stranger.destroy();
    const post = await presignPost('media/u1/j/x.png', 2);
    const policy = JSON.parse(Buffer.from(post.fields.Policy, 'base64').toString());
    policy.conditions = policy.conditions.map((c: unknown) => (Array.isArray(c) && c[0] === 'content-length-range' ? ['content-length-range', 1, 1e9] : c));
    const widened = { ...post, fields: { ...post.fields, Policy: Buffer.from(JSON.stringify(policy)).toString('base64') } };

    // Act
    const a = await upload(foreign, bytes(2));
    const b = await upload(widened, bytes(2000));

    // Assess
    expect([a.status, codeOf(a.text)]).toEqual([403, 'SignatureDoesNotMatch']);
    expect([b.status, codeOf(b.text)]).toEqual([403, 'SignatureDoesNotMatch']);
  });

  it('refuses a form without a policy (the bucket is private) and one without a file', async () => {
    const post = await presignPost('media/u1/k/x.png', 2);
    const { Policy: _policy, ...unsigned } = post.fields;
    const a = await upload({ ...post, fields: unsigned }, bytes(2));
    const form = new FormData();
    for (const [name, value] of Object.entries(post.fields)) form.append(name, value);
    const b = await fetch(post.url, { method: 'POST', body: form });
    expect([a.status, codeOf(a.text)]).toEqual([403, 'AccessDenied']);
    expect([b.status, codeOf(await b.text())]).toEqual([400, 'InvalidArgument']);
  });
});

describe('GET and HEAD', () => {
  const key = 'media/u1/get/photo.jpg';
  const content = new Uint8Array([1, 2, 3, 4, 5, 250, 0, 128]);

  beforeAll(async () => {
    const res = await upload(await presignPost(key, content.length, 'image/jpeg'), content, 'image/jpeg');
    expect(res.status).toBe(204);
  });

  it('serves the same bytes and type through a presigned GET URL', async () => {
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: BUCKET, Key: key }), { expiresIn: 60 });
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(content);
  });

  it('serves header-signed GetObject to the SDK', async () => {
    const out = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(await out.Body!.transformToByteArray()).toEqual(content);
  });

  it('refuses an expired presigned URL', async () => {
    vi.useFakeTimers({ now: Date.now() - 120_000, toFake: ['Date'] });
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: BUCKET, Key: key }), { expiresIn: 60 });
    vi.useRealTimers();
    const res = await fetch(url);
    const text = await res.text();
    expect([res.status, codeOf(text)]).toEqual([403, 'AccessDenied']);
    expect(text).toContain('Request has expired');
  });

  it('refuses a presigned URL pointed at another key, or with a forged signature', async () => {
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: BUCKET, Key: key }), { expiresIn: 60 });
    const otherKey = url.replace('photo.jpg', 'other.jpg');
    const forged = url.replace(/X-Amz-Signature=([0-9a-f])/, (_, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`);
    for (const target of [otherKey, forged]) {
      const res = await fetch(target);
      expect([res.status, codeOf(await res.text())]).toEqual([403, 'SignatureDoesNotMatch']);
    }
  });

  it('refuses anonymous reads: the bucket is private', async () => {
    const res = await fetch(`${server.url}/${BUCKET}/${key}`);
    expect([res.status, codeOf(await res.text())]).toEqual([403, 'AccessDenied']);
  });

  it('answers AccessDenied (403) for a missing object to a signer without s3:ListBucket, as S3 does', async () => {
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: BUCKET, Key: 'media/u1/none/x.png' }), { expiresIn: 60 });
    const res = await fetch(url);
    expect([res.status, codeOf(await res.text())]).toEqual([403, 'AccessDenied']);
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'media/u1/none/x.png' })).catch((e: unknown) => e);
    expect(head).toBeInstanceOf(S3ServiceException);
    expect((head as S3ServiceException).$metadata.httpStatusCode).toBe(403);
  });

  it('answers NoSuchKey for a missing object, and HeadObject NotFound, to a signer that may list the bucket', async () => {
    const listing = new LocalS3({ buckets: [BUCKET], credentials: { local: 'local' }, canListBucket: (id, bucket) => id === 'local' && bucket === BUCKET });
    const listingServer = await mount([listing]);
    const listingClient = new S3Client({ ...clientConfig(listingServer.url), forcePathStyle: true });
    const url = await getSignedUrl(listingClient, new GetObjectCommand({ Bucket: BUCKET, Key: 'media/u1/none/x.png' }), { expiresIn: 60 });
    const res = await fetch(url);
    const head = await listingClient.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'media/u1/none/x.png' })).catch((e: unknown) => e);
    listingClient.destroy();
    await listingServer.close();
    expect([res.status, codeOf(await res.text())]).toEqual([404, 'NoSuchKey']);
    expect(head).toBeInstanceOf(NotFound);
  });

  it('refuses HeadObject signed with a wrong secret', async () => {
    const stranger = newClient('wrong');
    const err = await stranger.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })).catch((e: unknown) => e);
    stranger.destroy();
    expect(err).toBeInstanceOf(S3ServiceException);
    expect((err as S3ServiceException).$metadata.httpStatusCode).toBe(403);
  });
});

describe('PutObject, ListObjectsV2, DeleteObject(s): what the functions send with their credentials', () => {
  const errorOf = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (err) {
      return { name: (err as S3ServiceException).name, status: (err as S3ServiceException).$metadata?.httpStatusCode };
    }
    return undefined;
  };

  it('stores a PUT with its type, and GETs it back', async () => {
    const put = await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'exports/u1/a/status.json', Body: '{"status":"running"}', ContentType: 'application/json' }));
    expect(put.ETag).toMatch(/^"[0-9a-f]{32}"$/);
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'exports/u1/a/status.json' }));
    expect(got.ContentType).toBe('application/json');
    expect(await got.Body!.transformToString()).toBe('{"status":"running"}');
  });

  it('refuses a PUT whose body does not match its Content-MD5 or CRC32, or with a key over 1,024 bytes, or signed with another secret', async () => {
    expect(await errorOf(client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'x/md5', Body: 'abc', ContentMD5: Buffer.alloc(16).toString('base64') })))).toEqual({ name: 'BadDigest', status: 400 });
    expect(await errorOf(client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'x/crc', Body: 'abc', ChecksumCRC32: 'AAAAAA==' })))).toEqual({ name: 'BadDigest', status: 400 });
    expect(await errorOf(client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `x/${'k'.repeat(1023)}`, Body: 'abc' })))).toEqual({ name: 'KeyTooLongError', status: 400 });
    const forged = newClient('wrong');
    expect((await errorOf(forged.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'x/forged', Body: 'abc' }))))?.name).toBe('SignatureDoesNotMatch');
    forged.destroy();
    expect(s3.headObject(BUCKET, 'x/md5')).toBeUndefined();
    expect(s3.headObject(BUCKET, 'x/forged')).toBeUndefined();
  });

  it('lists under a prefix in key order, 1,000 at most a page, with continuation tokens, start-after and a delimiter', async () => {
    const keys = Array.from({ length: 1005 }, (_, i) => `list/p/${String(i).padStart(4, '0')}`);
    for (const Key of keys) s3['store'].put(BUCKET, Key, Buffer.from('x'), { contentType: 'text/plain', size: 1, etag: '"x"', lastModified: Date.now() });
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'list/q/other', Body: 'y' }));
    const first = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'list/p/', MaxKeys: 5000 }));
    expect(first.MaxKeys).toBe(1000);
    expect(first.KeyCount).toBe(1000);
    expect(first.IsTruncated).toBe(true);
    expect(first.Contents!.map((o) => o.Key)).toEqual(keys.slice(0, 1000));
    const second = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'list/p/', ContinuationToken: first.NextContinuationToken }));
    expect(second.Contents!.map((o) => o.Key)).toEqual(keys.slice(1000));
    expect(second.IsTruncated).toBe(false);
    const after = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'list/', StartAfter: 'list/p/1003' }));
    expect(after.Contents!.map((o) => o.Key)).toEqual(['list/p/1004', 'list/q/other']);
    const grouped = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'list/', Delimiter: '/' }));
    expect(grouped.CommonPrefixes!.map((p) => p.Prefix)).toEqual(['list/p/', 'list/q/']);
    expect(grouped.Contents ?? []).toEqual([]);
    expect(await errorOf(client.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: 'bogus!' })))).toEqual({ name: 'InvalidArgument', status: 400 });
  });

  it('deletes one object, and up to 1,000 in one DeleteObjects (more is MalformedXML)', async () => {
    await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'list/q/other' }));
    expect(s3.headObject(BUCKET, 'list/q/other')).toBeUndefined();
    // Deleting what is absent succeeds too, as on S3.
    await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'list/q/other' }));
    const page = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'list/p/' }));
    const tooMany = [...page.Contents!.map((o) => ({ Key: o.Key! })), { Key: 'list/p/1000' }];
    expect(await errorOf(client.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: tooMany } })))).toEqual({ name: 'MalformedXML', status: 400 });
    const res = await client.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: [{ Key: 'list/p/0000' }, { Key: 'list/p/<&>' }] } }));
    expect(res.Deleted!.map((d) => d.Key)).toEqual(['list/p/0000', 'list/p/<&>']);
    const quiet = await client.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: page.Contents!.slice(1).map((o) => ({ Key: o.Key! })), Quiet: true } }));
    expect(quiet.Deleted ?? []).toEqual([]);
    const left = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'list/p/' }));
    expect(left.Contents!.map((o) => o.Key)).toEqual(['list/p/1000', 'list/p/1001', 'list/p/1002', 'list/p/1003', 'list/p/1004']);
  });

  it('refuses a DeleteObjects without Content-MD5 or a checksum, as S3 does', async () => {
    const bare = newClient();
    // The SDK adds a checksum; take it (and any Content-MD5) off before signing, as an older client would send it.
    bare.middlewareStack.addRelativeTo(
      ((next: (args: unknown) => Promise<unknown>) => async (args: { request: { headers: Record<string, string> } }) => {
        for (const h of Object.keys(args.request.headers)) if (/^(content-md5|x-amz-checksum-|x-amz-sdk-checksum)/i.test(h)) delete args.request.headers[h];
        return next(args);
      }) as never,
      { relation: 'before', toMiddleware: 'httpSigningMiddleware', name: 'dropChecksums' },
    );
    expect(await errorOf(bare.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: [{ Key: 'list/p/1000' }] } })))).toEqual({ name: 'InvalidRequest', status: 400 });
    bare.destroy();
    expect(s3.headObject(BUCKET, 'list/p/1000')).toBeDefined();
  });
});

describe('multipart uploads (users\' data exports)', () => {
  const MiB = 1024 * 1024;
  const start = async (key: string) => (await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key, ContentType: 'application/gzip' }))).UploadId!;
  const part = async (key: string, uploadId: string, PartNumber: number, Body: Uint8Array) =>
    (await client.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber, Body }))).ETag!;
  const complete = (key: string, uploadId: string, Parts: { PartNumber: number; ETag: string }[]) =>
    client.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, MultipartUpload: { Parts } }));
  const refusal = (p: Promise<unknown>) => p.then(() => 'accepted', (err: S3ServiceException) => `${err.$metadata.httpStatusCode} ${err.name}`);
  const md5 = (b: Uint8Array) => createHash('md5').update(b).digest();

  it('assembles the parts in order into one object, with the type given at the start and S3\'s multipart ETag', async () => {
    const key = 'exports/u1/e1/archive.jsonl.gz';
    const first = randomBytes(5 * MiB);
    const last = randomBytes(1000);
    const uploadId = await start(key);
    const etags = [await part(key, uploadId, 1, first), await part(key, uploadId, 2, last)];
    expect(etags).toEqual([`"${md5(first).toString('hex')}"`, `"${md5(last).toString('hex')}"`]);
    // Nothing readable before completion.
    expect(s3.headObject(BUCKET, key)).toBeUndefined();
    const done = await complete(key, uploadId, [{ PartNumber: 1, ETag: etags[0] }, { PartNumber: 2, ETag: etags[1] }]);
    const etag = `"${createHash('md5').update(Buffer.concat([md5(first), md5(last)])).digest('hex')}-2"`;
    expect(done.ETag).toBe(etag);
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(got.ContentType).toBe('application/gzip');
    expect(got.ETag).toBe(etag);
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.concat([first, last]))).toBe(true);
    // Completed: gone from the uploads in progress; its id no longer takes parts.
    expect(s3.multipartUploads(BUCKET).map((u) => u.uploadId)).not.toContain(uploadId);
    expect(await refusal(part(key, uploadId, 3, last))).toBe('404 NoSuchUpload');
  });

  it('refuses to complete with a part but the last under 5 MiB (EntityTooSmall), out of order (InvalidPartOrder), or with a part or ETag it did not take (InvalidPart); the upload stays until aborted', async () => {
    const key = 'exports/u1/e2/archive.jsonl.gz';
    const uploadId = await start(key);
    const small = await part(key, uploadId, 1, bytes(5 * MiB - 1));
    const big = await part(key, uploadId, 2, bytes(5 * MiB, 3));
    const tail = await part(key, uploadId, 3, bytes(10, 4));
    expect(await refusal(complete(key, uploadId, [{ PartNumber: 1, ETag: small }, { PartNumber: 3, ETag: tail }]))).toBe('400 EntityTooSmall');
    expect(await refusal(complete(key, uploadId, [{ PartNumber: 2, ETag: big }, { PartNumber: 1, ETag: small }]))).toBe('400 InvalidPartOrder');
    expect(await refusal(complete(key, uploadId, [{ PartNumber: 2, ETag: tail }, { PartNumber: 3, ETag: tail }]))).toBe('400 InvalidPart');
    expect(await refusal(complete(key, uploadId, [{ PartNumber: 2, ETag: big }, { PartNumber: 4, ETag: tail }]))).toBe('400 InvalidPart');
    expect(s3.headObject(BUCKET, key)).toBeUndefined();
    expect(s3.multipartUploads(BUCKET)).toContainEqual({ key, uploadId, parts: 3 });
    // The last part may be small; parts need not be consecutive.
    await complete(key, uploadId, [{ PartNumber: 2, ETag: big }, { PartNumber: 3, ETag: tail }]);
    expect(s3.headObject(BUCKET, key)?.size).toBe(5 * MiB + 10);
  });

  it('takes part numbers 1 to 10,000 only, checks a part\'s Content-MD5, and aborts: the parts are gone and the id is NoSuchUpload', async () => {
    const key = 'exports/u1/e3/archive.jsonl.gz';
    const uploadId = await start(key);
    expect(await refusal(part(key, uploadId, 0, bytes(1)))).toBe('400 InvalidArgument');
    expect(await refusal(part(key, uploadId, 10_001, bytes(1)))).toBe('400 InvalidArgument');
    expect(await refusal(part(key, uploadId, 10_000, bytes(1)))).toBe('accepted');
    expect(await refusal(client.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: 1, Body: bytes(3), ContentMD5: md5(bytes(4)).toString('base64') })))).toBe('400 BadDigest');
    // Another key with this id, or an id never given.
    expect(await refusal(part('exports/u1/other', uploadId, 1, bytes(1)))).toBe('404 NoSuchUpload');
    expect(await refusal(part(key, 'not-an-upload', 1, bytes(1)))).toBe('404 NoSuchUpload');
    await client.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
    expect(s3.multipartUploads(BUCKET).map((u) => u.uploadId)).not.toContain(uploadId);
    expect(await refusal(complete(key, uploadId, [{ PartNumber: 10_000, ETag: `"${md5(bytes(1)).toString('hex')}"` }]))).toBe('404 NoSuchUpload');
    expect(await refusal(client.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId })))).toBe('404 NoSuchUpload');
    // Signed with another secret: refused like any request.
    expect(await refusal(newClient('wrong').send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key })))).toBe('403 SignatureDoesNotMatch');
  });
});

describe('CORS', () => {
  it('answers a browser preflight for a POST upload from any origin', async () => {
    const res = await fetch(`${server.url}/${BUCKET}`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    expect(res.headers.get('access-control-allow-headers')).toBe('content-type');
  });

  it('refuses a preflight for a method the rule does not allow, and from an origin a restricted rule does not list', async () => {
    const restricted = new LocalS3({ buckets: [BUCKET], credentials: { local: 'local' }, corsAllowedOrigins: ['https://app.example'] });
    const restrictedServer = await mount([restricted]);
    const preflight = (base: string, origin: string, method: string) =>
      fetch(`${base}/${BUCKET}`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method } });

    const del = await preflight(server.url, 'https://app.example', 'DELETE');
    const stranger = await preflight(restrictedServer.url, 'https://evil.example', 'POST');
    const listed = await preflight(restrictedServer.url, 'https://app.example', 'POST');
    await restrictedServer.close();

    expect(del.status).toBe(403);
    expect(stranger.status).toBe(403);
    expect(listed.status).toBe(200);
    expect(listed.headers.get('access-control-allow-origin')).toBe('https://app.example');
  });

  it('lets a browser read upload answers (the CORS headers are on the POST response too)', async () => {
    const post = await presignPost('media/u1/cors/x.png', 1);
    const form = new FormData();
    for (const [name, value] of Object.entries(post.fields)) form.append(name, value);
    form.append('file', new Blob([bytes(1)]), 'x.png');
    const res = await fetch(post.url, { method: 'POST', body: form, headers: { origin: 'https://app.example' } });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-expose-headers')).toContain('ETag');
  });
});

describe('persistence', () => {
  it('keeps objects across a restart of the stand-in', async () => {
    // Prepare
    const post = await presignPost('media/u1/keep/x.png', 5);
    expect((await upload(post, bytes(5, 42))).status).toBe(204);

    // Act: a new stand-in on the same folder.
    const again = new LocalS3({ buckets: [BUCKET], credentials: { local: 'local' }, dir });
    const againServer = await mount([again]);
    const againClient = new S3Client({ ...clientConfig(againServer.url), forcePathStyle: true });
    const out = await againClient.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'media/u1/keep/x.png' }));
    const body = await out.Body!.transformToByteArray();
    againClient.destroy();
    await againServer.close();

    // Assess
    expect(out.ContentType).toBe('image/png');
    expect(body).toEqual(bytes(5, 42));
  });

  it('does not answer for buckets it does not serve', async () => {
    expect(await s3.handle({ method: 'GET', path: '/other/key', headers: {}, body: '' })).toBeUndefined();
  });
});
