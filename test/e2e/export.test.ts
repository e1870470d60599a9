/**
 * A user's data export (an access request), end to end against the local runtime: an admin
 * starts it (POST /admin/users/{userId}/exports), the userData function builds it
 * asynchronously into exports/ of the media bucket, and GET answers its status and a short
 * presigned URL of one gzip-compressed JSON Lines archive holding the profile, friends,
 * friend requests, blocks, groups, every message the user sent (from the history) and their
 * media keys. Only admins may; both calls are audited. Erasing the user deletes their media
 * objects.
 */
import { gunzipSync } from 'node:zlib';
import { describe, expect, it, beforeAll } from 'vitest';
import { exportStatusKey } from '../../core/domain/media';
import { eventually } from '../support/cirrus';
import { admin, as, cirrus, useCirrus } from '../support/harness';
import { faults } from '../../core/faults';
import { awsRequests } from '../../core/aws/accounting';
import { PART_BYTES } from '../../core/aws/s3-upload';

// Lambda's retries of a failed asynchronous invocation, after a second rather than minutes.
useCirrus({ asyncInvoke: { retryDelaysMs: [300, 300] } });

const X = 'ex-x';
let mediaKey: string;

async function upload(userId: string, bytes: Uint8Array): Promise<string> {
  const res = await as(userId, 'POST', '/media/uploads', { fileName: 'photo.png', contentType: 'image/png', size: bytes.length });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const form = new FormData();
  for (const [name, value] of Object.entries(res.body.fields as Record<string, string>)) form.append(name, value);
  form.append('file', new Blob([new Uint8Array(bytes)]), 'photo.png');
  expect((await fetch(res.body.url, { method: 'POST', body: form })).status).toBe(204);
  return res.body.objectKey;
}

beforeAll(async () => {
  const reg = await admin.call('POST', '/users/register', { users: [{ userId: X, nickname: 'Xena Export' }, { userId: 'ex-a' }, { userId: 'ex-b' }, { userId: 'ex-c' }] });
  expect(reg.status).toBe(200);
  expect((await admin.call('POST', '/friends/import', { userId: X, friendUserIds: ['ex-a'] })).status).toBe(200);
  expect((await as(X, 'POST', `/users/${X}/friend-requests`, { toUserId: 'ex-b', message: 'hi b' })).status).toBe(200);
  expect((await as(X, 'POST', `/users/${X}/blacklist`, { blockedUserId: 'ex-c' })).status).toBe(200);
  await admin.createGroup('ex-g1', 'ex-a', [X]);
  for (const [body, text] of [
    [{ sendId: X, recvId: 'ex-a' }, 'export one'],
    [{ sendId: X, groupId: 'ex-g1' }, 'export two'],
    [{ sendId: 'ex-a', recvId: X }, 'not theirs'],
  ] as const) {
    const res = await admin.call('POST', '/messages', { contentType: 101, content: { text }, ...body });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }
  mediaKey = await upload(X, new Uint8Array([1, 2, 3, 4, 5]));
  // The history has them (the archive function, from the Messages stream).
  await eventually(async () => (await cirrus.dataApi.query(`SELECT seq FROM messages WHERE sender_id = $1`, [X])).length === 2, 30_000);
}, 120_000);

describe('refused', () => {
  it('to users, for users never registered, and for exports that do not exist', async () => {
    expect((await as(X, 'POST', `/admin/users/${X}/exports`)).status).toBe(403);
    const missing = await admin.call('POST', '/admin/users/ex-nobody/exports');
    expect(missing.status).toBe(404);
    expect(missing.body.error.reason).toBe('USER_NOT_FOUND');
    const none = await admin.call('GET', `/admin/users/${X}/exports/${'0'.repeat(32)}`);
    expect(none.status).toBe(404);
    expect(none.body.error.reason).toBe('EXPORT_NOT_FOUND');
    expect((await admin.call('GET', `/admin/users/${X}/exports/not-an-id`)).status).toBe(400);
  });
});

describe('an export', () => {
  it('is built in the background into one archive of everything the user has', async () => {
    const started = await admin.call('POST', `/admin/users/${X}/exports`);
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    expect(started.body).toMatchObject({ userId: X, status: 'running' });
    expect(started.body.expiresAt - started.body.requestedAt).toBe(7 * 86_400_000);
    const exportId: string = started.body.exportId;

    const done = await eventually(async () => {
      const res = await admin.call('GET', `/admin/users/${X}/exports/${exportId}`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.status === 'done' && res.body;
    }, 30_000);
    expect(done.counts).toEqual({ friends: 1, friendRequests: 1, blocks: 1, groups: 1, messages: 2, media: 1 });
    expect(done.downloadExpiresAt - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(300);

    // The archive, from its presigned URL (no credentials), as an admin's browser fetches it.
    const res = await fetch(done.downloadUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toContain(`${X}-export.jsonl.gz`);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.length).toBe(done.bytes);
    const lines = gunzipSync(bytes).toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
    const of = (type: string) => lines.filter((l) => l.type === type);
    expect(lines[0]).toMatchObject({ type: 'export', userId: X, exportId });
    expect(of('profile')).toEqual([expect.objectContaining({ userId: X, nickname: 'Xena Export' })]);
    expect(of('profile')[0].conns).toBeUndefined();
    expect(of('friend').map((f) => f.friendUserId)).toEqual(['ex-a']);
    expect(of('friendRequest')).toEqual([expect.objectContaining({ direction: 'outgoing', toUserId: 'ex-b', message: 'hi b' })]);
    expect(of('block').map((b) => b.blockedUserId)).toEqual(['ex-c']);
    expect(of('group')).toEqual([expect.objectContaining({ groupId: 'ex-g1', group: expect.objectContaining({ groupId: 'ex-g1' }) })]);
    expect(of('message').map((m) => m.content.text)).toEqual(['export one', 'export two']);
    expect(of('message').every((m) => m.senderId === X)).toBe(true);
    expect(of('media')).toEqual([expect.objectContaining({ objectKey: mediaKey, size: 5 })]);

    // Audited: the request, and the read that hands out the archive.
    await eventually(async () => {
      const audit = await admin.call('GET', `/admin/audit?target=${encodeURIComponent(`user:${X}`)}`);
      const actions = new Set(audit.body.entries.map((e: { action: string }) => e.action));
      return actions.has('startUserExport') && actions.has('getUserExport');
    }, 30_000);
    // Stored under exports/, where the lifecycle rule expires it.
    expect(cirrus.s3.headObject(cirrus.mediaBucket, exportStatusKey(X, exportId))).toBeDefined();
  });
});

describe('an export that keeps failing', () => {
  it('says failed, with the reason, and its event lands in DeadLetters after Lambda\'s two retries; the next export succeeds', async () => {
    const runs: string[] = [];
    faults.arm('export.beforeStore', (details) => {
      runs.push(String(details.exportId));
      throw new Error('Injected fault at export.beforeStore');
    });
    let exportId: string;
    try {
      const started = await admin.call('POST', `/admin/users/ex-a/exports`);
      expect(started.status).toBe(200);
      exportId = started.body.exportId;
      await eventually(async () => runs.length === 3 && cirrus.sqs.peek('DeadLetters').some((m) => m.body.includes(exportId)), 30_000);
    } finally {
      faults.clear();
    }
    const failed = await admin.call('GET', `/admin/users/ex-a/exports/${exportId}`);
    expect(failed.body).toMatchObject({ status: 'failed', error: 'Injected fault at export.beforeStore' });
    expect(failed.body.downloadUrl).toBeUndefined();
    const again = await admin.call('POST', `/admin/users/ex-a/exports`);
    await eventually(async () => (await admin.call('GET', `/admin/users/ex-a/exports/${again.body.exportId}`)).body.status === 'done', 30_000);
  });
});

describe('a user with more messages than one history page', () => {
  it('exports every one of them, once, in send order', async () => {
    await admin.register('ex-many');
    // 2,500 messages in the history (the offline store let them go), 1,000 per page: three pages, some at the same millisecond.
    await cirrus.dataApi.query(
      `INSERT INTO messages (conversation_id, seq, server_msg_id, client_msg_id, session_type, sender_id, recv_id, content_type, content, send_time)
         SELECT 'si_ex-a_ex-many', n, 'ex-many-' || n, 'ex-many-' || n, 1, 'ex-many', 'ex-a', 101, jsonb_build_object('text', 'm' || n),
                timestamptz '2025-01-01 00:00:00+00' + (n / 3) * interval '1 millisecond'
           FROM generate_series(1, 2500) AS n`,
      [],
    );
    const started = await admin.call('POST', '/admin/users/ex-many/exports');
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    const done = await eventually(async () => {
      const res = await admin.call('GET', `/admin/users/ex-many/exports/${started.body.exportId}`);
      return res.body.status === 'done' && res.body;
    }, 60_000);
    expect(done.counts.messages).toBe(2500);
    const bytes = Buffer.from(await (await fetch(done.downloadUrl)).arrayBuffer());
    const seqs = gunzipSync(bytes)
      .toString('utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((l) => l.type === 'message')
      .map((m) => m.seq);
    expect(seqs).toEqual(Array.from({ length: 2500 }, (_, i) => i + 1));
  });
});

describe('an archive larger than one S3 part', () => {
  it('is streamed in a multipart upload of 5 MiB parts, never built whole in memory; a build that fails leaves no upload behind, and the retry stores it', async () => {
    await admin.register('ex-big');
    // 2,400 messages of 6 KB of hex digits (gzip keeps about half): an archive of about 7 MB. In
    // short statements: the in-process database holds the event loop while it runs one.
    for (let from = 1; from <= 2400; from += 200) {
      await cirrus.dataApi.query(
        `INSERT INTO messages (conversation_id, seq, server_msg_id, client_msg_id, session_type, sender_id, recv_id, content_type, content, send_time)
           SELECT 'si_ex-a_ex-big', n, 'ex-big-' || n, 'ex-big-' || n, 1, 'ex-big', 'ex-a', 101,
                  jsonb_build_object('text', (SELECT string_agg(md5(n || '-' || i), '') FROM generate_series(1, 190) AS i)),
                  timestamptz '2025-02-01 00:00:00+00' + n * interval '1 millisecond'
             FROM generate_series($1::int, $1::int + 199) AS n`,
        [from],
      );
    }
    // The first run fails once its parts are sent: its upload is aborted.
    let failures = 0;
    faults.arm('export.beforeStore', (details) => {
      if (details.userId !== 'ex-big' || failures > 0) return;
      failures += 1;
      throw new Error('Injected fault at export.beforeStore');
    });
    const before = awsRequests.snapshot();
    let done;
    try {
      const started = await admin.call('POST', '/admin/users/ex-big/exports');
      expect(started.status, JSON.stringify(started.body)).toBe(200);
      done = await eventually(async () => {
        // The build runs in this process and holds its event loop for seconds at a time, long enough for
        // a kept-alive connection to the local API to be closed under a request (ECONNRESET): asked again.
        const res = await admin.call('GET', `/admin/users/ex-big/exports/${started.body.exportId}`).catch(() => undefined);
        return res?.body.status === 'done' && res.body;
      }, 120_000);
    } finally {
      faults.clear();
    }
    expect(failures).toBe(1);
    expect(done.counts.messages).toBe(2400);
    expect(done.bytes).toBeGreaterThan(PART_BYTES);
    const s3 = awsRequests.since(before).S3 ?? {};
    // Two runs: the first sent its full parts (at least one) and was aborted, the second sent two or more and completed; the archive is never PUT whole.
    expect(s3.CreateMultipartUpload).toBe(2);
    expect(s3.UploadPart).toBeGreaterThanOrEqual(3);
    expect(s3.AbortMultipartUpload).toBe(1);
    expect(s3.CompleteMultipartUpload).toBe(1);
    expect(cirrus.s3.multipartUploads(cirrus.mediaBucket)).toEqual([]);
    const lines = gunzipSync(Buffer.from(await (await fetch(done.downloadUrl)).arrayBuffer()))
      .toString('utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const messages = lines.filter((l) => l.type === 'message');
    expect(messages.map((m) => m.seq)).toEqual(Array.from({ length: 2400 }, (_, i) => i + 1));
    expect(messages[0].content.text).toHaveLength(190 * 32);
  });
});

describe('erasing the user', () => {
  it('deletes their media objects, and only theirs', async () => {
    const othersKey = await upload('ex-a', new Uint8Array([9, 9]));
    expect(cirrus.s3.headObject(cirrus.mediaBucket, mediaKey)).toBeDefined();
    const erased = await admin.call('POST', `/admin/users/${X}/erase`, { confirmUserId: X });
    expect(erased.status, JSON.stringify(erased.body)).toBe(200);
    expect(erased.body.done).toBe(true);
    await eventually(async () => cirrus.s3.headObject(cirrus.mediaBucket, mediaKey) === undefined, 30_000);
    expect(cirrus.s3.headObject(cirrus.mediaBucket, othersKey)).toBeDefined();
    const url = await admin.call('GET', `/media/download-url?objectKey=${encodeURIComponent(mediaKey)}`);
    expect(url.body.error.reason).toBe('MEDIA_NOT_FOUND');
  });
});
