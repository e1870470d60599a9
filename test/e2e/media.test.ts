/**
 * Media end to end: a user asks the HTTP API for an upload, posts the file to the S3
 * stand-in like a browser (fetch + FormData), sends a message that references the object,
 * and the recipient gets a download URL and the same bytes. Every refusal is checked
 * where it happens: at the route (what the client declares) and at S3 (what it sends).
 */
import { describe, expect, it } from 'vitest';
import { awsRequests } from '../../core/aws/accounting';
import { singleConversationId } from '../../core/domain/ids';
import { admin, as, cirrus, device, useCirrus } from '../support/harness';

const MAX_BYTES = 4096;
useCirrus({ settings: { mediaMaxBytes: MAX_BYTES, mediaAllowedTypes: ['image/png', 'image/jpeg', 'application/pdf', 'audio/*'] } });

interface Upload {
  url: string;
  fields: Record<string, string>;
  objectKey: string;
  expiresAt: number;
}

const png = (n: number) => {
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) bytes[i] = (i * 31 + 7) % 256;
  return bytes;
};

/** POSTs the presigned form with the file last, as a browser does; returns S3's status and error code. */
async function postForm(upload: { url: string; fields: Record<string, string> }, bytes: Uint8Array, fields: Record<string, string> = {}) {
  const form = new FormData();
  for (const [name, value] of Object.entries({ ...upload.fields, ...fields })) form.append(name, value);
  form.append('file', new Blob([new Uint8Array(bytes)]), 'upload.bin');
  const res = await fetch(upload.url, { method: 'POST', body: form });
  const text = await res.text();
  return { status: res.status, code: /<Code>([^<]+)<\/Code>/.exec(text)?.[1] };
}

let registered = false;
async function users() {
  if (registered) return;
  await admin.register('md-alice', 'md-bob', 'md-carol', 'md.dave@example');
  registered = true;
}

const outcome = (res: { status: number; body: any }) => `${res.status} ${res.body?.error?.reason ?? ''}`.trim();

describe('a picture message by reference', () => {
  it('goes from upload to the recipient, who downloads the same bytes', async () => {
    // Prepare
    await users();
    const bob = await device('md-bob');
    const alice = await device('md-alice');
    const bytes = png(1500);

    // Act: upload.
    const upload = await as<Upload>('md-alice', 'POST', '/media/uploads', { fileName: 'Holiday photo (1).png', contentType: 'image/png', size: bytes.length });
    expect(outcome(upload)).toBe('200');
    const stored = await postForm(upload.body, bytes);

    // Act: send the message that references the object, over WebSocket.
    const source = { objectKey: upload.body.objectKey, mimeType: 'image/png', size: bytes.length, width: 30, height: 50 };
    const ack = await alice.ok('sendMsg', { clientMsgId: 'pic-1', recvId: 'md-bob', contentType: 102, content: { source } });
    const [pushed] = await bob.waitForPushes(1);

    // Act: the recipient reads it.
    const download = await as('md-bob', 'GET', `/media/download-url?objectKey=${encodeURIComponent((pushed.content as { source: { objectKey: string } }).source.objectKey)}`);
    const fetched = await fetch(download.body.url);
    const received = new Uint8Array(await fetched.arrayBuffer());

    // Assess
    expect(stored).toEqual({ status: 204, code: undefined });
    expect(upload.body.objectKey).toMatch(/^media\/md-alice\/[A-Za-z0-9_-]{22}\/Holiday_photo_1_.png$/);
    expect(upload.body.expiresAt).toBeGreaterThan(Date.now() / 1000);
    expect(ack.conversationId).toBe(singleConversationId('md-alice', 'md-bob'));
    expect(pushed.content).toEqual({ source });
    expect(outcome(download)).toBe('200');
    expect(download.body).toMatchObject({ objectKey: upload.body.objectKey, contentType: 'image/png', size: bytes.length });
    expect(download.body.expiresAt).toBeGreaterThan(Date.now() / 1000 + 14 * 60);
    expect(download.body.expiresAt).toBeLessThanOrEqual(Date.now() / 1000 + 15 * 60 + 1);
    expect(fetched.status).toBe(200);
    expect(fetched.headers.get('content-type')).toBe('image/png');
    expect(received).toEqual(bytes);
  });

  it('works for a file sent by an app backend on behalf of a user whose id holds @', async () => {
    // Prepare
    await users();
    const bytes = png(700);

    // Act: an admin token uploads for the user, then sends as them over HTTP.
    const upload = await admin.call<Upload>('POST', '/media/uploads', { userId: 'md.dave@example', fileName: 'report.pdf', contentType: 'application/pdf', size: bytes.length });
    const stored = await postForm(upload.body, bytes);
    const file = { objectKey: upload.body.objectKey, mimeType: 'application/pdf', size: bytes.length };
    const sent = await admin.call('POST', '/messages', { sendId: 'md.dave@example', recvId: 'md-carol', contentType: 105, content: { file, fileName: 'report.pdf' } });
    const download = await as('md-carol', 'GET', `/media/download-url?objectKey=${encodeURIComponent(upload.body.objectKey)}`);
    const received = new Uint8Array(await (await fetch(download.body.url)).arrayBuffer());

    // Assess: `@` maps to `!`, which object keys (and MediaRef) allow.
    expect(upload.body.objectKey).toMatch(/^media\/md\.dave!example\/[A-Za-z0-9_-]{22}\/report\.pdf$/);
    expect(stored.status).toBe(204);
    expect(outcome(sent)).toBe('200');
    expect(received).toEqual(bytes);
  });

  it('costs one HeadObject per download URL, and nothing at S3 per upload URL (presigning sends no request)', async () => {
    await users();
    const upload = await as<Upload>('md-alice', 'POST', '/media/uploads', { fileName: 'a.png', contentType: 'image/png', size: 3 });
    await postForm(upload.body, png(3));

    const beforeUpload = awsRequests.snapshot();
    await as('md-alice', 'POST', '/media/uploads', { fileName: 'b.png', contentType: 'image/png', size: 3 });
    const uploadCost = awsRequests.since(beforeUpload).S3;
    const beforeDownload = awsRequests.snapshot();
    await as('md-bob', 'GET', `/media/download-url?objectKey=${encodeURIComponent(upload.body.objectKey)}`);
    const downloadCost = awsRequests.since(beforeDownload).S3;

    expect(uploadCost).toBeUndefined();
    expect(downloadCost).toEqual({ HeadObject: 1 });
  });
});

describe('uploads the route refuses (what the client declares)', () => {
  it.each([
    ['a content type not on the list', { fileName: 'x.exe', contentType: 'application/x-msdownload', size: 10 }, '415 MEDIA_TYPE_NOT_ALLOWED'],
    ['svg, which a browser would run scripts of', { fileName: 'x.svg', contentType: 'image/svg+xml', size: 10 }, '415 MEDIA_TYPE_NOT_ALLOWED'],
    ['a size above the limit', { fileName: 'x.png', contentType: 'image/png', size: MAX_BYTES + 1 }, '413 MEDIA_TOO_LARGE'],
    ['a size of 0', { fileName: 'x.png', contentType: 'image/png', size: 0 }, '400 INVALID_ARGUMENT'],
    ['a fractional size', { fileName: 'x.png', contentType: 'image/png', size: 1.5 }, '400 INVALID_ARGUMENT'],
    ['a missing file name', { contentType: 'image/png', size: 10 }, '400 INVALID_ARGUMENT'],
    ['a missing content type', { fileName: 'x.png', size: 10 }, '400 INVALID_ARGUMENT'],
    ['a missing size', { fileName: 'x.png', contentType: 'image/png' }, '400 INVALID_ARGUMENT'],
    ['a content type with parameters', { fileName: 'x.txt', contentType: 'image/png; charset=utf-8', size: 10 }, '400 INVALID_ARGUMENT'],
    ['an unknown field', { fileName: 'x.png', contentType: 'image/png', size: 10, key: 'media/mine' }, '400 INVALID_ARGUMENT'],
  ])('%s', async (_, body, expected) => {
    await users();
    expect(outcome(await as('md-alice', 'POST', '/media/uploads', body))).toBe(expected);
  });

  it('accepts a whole family listed as type/* and types in any case', async () => {
    await users();
    expect(outcome(await as('md-alice', 'POST', '/media/uploads', { fileName: 'v.ogg', contentType: 'audio/ogg', size: 10 }))).toBe('200');
    expect(outcome(await as('md-alice', 'POST', '/media/uploads', { fileName: 'x.png', contentType: 'IMAGE/PNG', size: 10 }))).toBe('200');
  });

  it('keeps a path in the file name out of the key', async () => {
    await users();
    const res = await as<Upload>('md-alice', 'POST', '/media/uploads', { fileName: '../../etc/passwd', contentType: 'image/png', size: 10 });
    const dots = await as<Upload>('md-alice', 'POST', '/media/uploads', { fileName: '..', contentType: 'image/png', size: 10 });
    expect(res.body.objectKey).toMatch(/^media\/md-alice\/[A-Za-z0-9_-]{22}\/passwd$/);
    expect(dots.body.objectKey).toMatch(/^media\/md-alice\/[A-Za-z0-9_-]{22}\/file$/);
  });

  it('lets a user token upload only as its user, and an admin token only as a registered user it names', async () => {
    await users();
    const asOther = await as('md-alice', 'POST', '/media/uploads', { userId: 'md-bob', fileName: 'x.png', contentType: 'image/png', size: 10 });
    const asSelf = await as('md-alice', 'POST', '/media/uploads', { userId: 'md-alice', fileName: 'x.png', contentType: 'image/png', size: 10 });
    const adminUnnamed = await admin.call('POST', '/media/uploads', { fileName: 'x.png', contentType: 'image/png', size: 10 });
    const adminUnknown = await admin.call('POST', '/media/uploads', { userId: 'md-nobody', fileName: 'x.png', contentType: 'image/png', size: 10 });
    const anonymous = await admin.call('POST', '/media/uploads', { fileName: 'x.png', contentType: 'image/png', size: 10 }, null);

    expect(outcome(asOther)).toBe('403 FORBIDDEN');
    expect(outcome(asSelf)).toBe('200');
    expect(outcome(adminUnnamed)).toBe('400 INVALID_ARGUMENT');
    expect(outcome(adminUnknown)).toBe('404 USER_NOT_FOUND');
    expect(outcome(anonymous)).toBe('401 TOKEN_MISSING');
  });
});

describe('uploads S3 refuses (what the client sends differs from what it declared)', () => {
  it('refuses more or fewer bytes than declared, and the object never appears', async () => {
    await users();
    const upload = await as<Upload>('md-alice', 'POST', '/media/uploads', { fileName: 'x.png', contentType: 'image/png', size: 100 });

    const bigger = await postForm(upload.body, png(101));
    const smaller = await postForm(upload.body, png(99));
    const download = await as('md-alice', 'GET', `/media/download-url?objectKey=${encodeURIComponent(upload.body.objectKey)}`);

    expect(bigger).toEqual({ status: 400, code: 'EntityTooLarge' });
    expect(smaller).toEqual({ status: 400, code: 'EntityTooSmall' });
    expect(outcome(download)).toBe('404 MEDIA_NOT_FOUND');
  });

  it('refuses another content type, another key, or an upload signed for someone else reused elsewhere', async () => {
    await users();
    const upload = await as<Upload>('md-alice', 'POST', '/media/uploads', { fileName: 'x.png', contentType: 'image/png', size: 10 });

    const html = await postForm(upload.body, png(10), { 'Content-Type': 'text/html' });
    const otherKey = await postForm(upload.body, png(10), { key: 'media/md-bob/AAAAAAAAAAAAAAAAAAAAAA/x.png' });

    expect(html).toEqual({ status: 403, code: 'AccessDenied' });
    expect(otherKey).toEqual({ status: 403, code: 'AccessDenied' });
    expect(cirrus.s3.headObject(cirrus.mediaBucket, 'media/md-bob/AAAAAAAAAAAAAAAAAAAAAA/x.png')).toBeUndefined();
    expect(cirrus.s3.headObject(cirrus.mediaBucket, upload.body.objectKey)).toBeUndefined();
  });

  it('refuses reading the bucket without a presigned URL', async () => {
    await users();
    const upload = await as<Upload>('md-alice', 'POST', '/media/uploads', { fileName: 'x.png', contentType: 'image/png', size: 4 });
    await postForm(upload.body, png(4));
    const res = await fetch(`${cirrus.url}/${cirrus.mediaBucket}/${upload.body.objectKey}`);
    expect(res.status).toBe(403);
  });
});

describe('download URLs', () => {
  it('are given to any authenticated holder of a key, and to nobody without a token', async () => {
    await users();
    const upload = await as<Upload>('md-alice', 'POST', '/media/uploads', { fileName: 'x.png', contentType: 'image/png', size: 4 });
    await postForm(upload.body, png(4));
    const path = `/media/download-url?objectKey=${encodeURIComponent(upload.body.objectKey)}`;

    expect(outcome(await as('md-carol', 'GET', path))).toBe('200');
    expect(outcome(await admin.call('GET', path))).toBe('200');
    expect(outcome(await admin.call('GET', path, undefined, null))).toBe('401 TOKEN_MISSING');
  });

  it.each([
    ['a path traversal', 'media/md-alice/../../secret'],
    ['a dot segment in place of the random part', 'media/md-alice/../x.png'],
    ['another prefix', 'private/md-alice/AAAAAAAAAAAAAAAAAAAAAA/x.png'],
    ['a short random part', 'media/md-alice/AAAA/x.png'],
    ['a file name that is ..', 'media/md-alice/AAAAAAAAAAAAAAAAAAAAAA/..'],
    ['a nested path', 'media/md-alice/AAAAAAAAAAAAAAAAAAAAAA/a/b.png'],
    ['an empty key', ''],
  ])('refuse %s with INVALID_ARGUMENT', async (_, key) => {
    await users();
    expect(outcome(await as('md-alice', 'GET', `/media/download-url?objectKey=${encodeURIComponent(key)}`))).toBe('400 INVALID_ARGUMENT');
  });

  it('refuse a missing objectKey and answer MEDIA_NOT_FOUND for a well-formed key nobody uploaded', async () => {
    await users();
    expect(outcome(await as('md-alice', 'GET', '/media/download-url'))).toBe('400 INVALID_ARGUMENT');
    expect(outcome(await as('md-alice', 'GET', '/media/download-url?objectKey=media%2Fmd-alice%2FAAAAAAAAAAAAAAAAAAAAAA%2Fx.png'))).toBe('404 MEDIA_NOT_FOUND');
  });
});
