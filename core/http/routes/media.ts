/** HTTP routes: presigned uploads to and downloads from the media store. */
import * as z from 'zod/mini';
import { MimeType, UserId } from '../../protocol/schema';
import type { HttpRouteSpec } from './types';

const UserPath = z.strictObject({ userId: UserId });
const ExportId = z.string().check(z.regex(/^[0-9a-f]{32}$/, '32 lower-case hex digits'), z.describe('An export, as startUserExport answered'));

const ExportStatus = z.strictObject({
  exportId: ExportId,
  userId: UserId,
  status: z.enum(['running', 'done', 'failed']).check(z.describe('running: being built; done: downloadUrl fetches it; failed: see error, and request a new one')),
  requestedAt: z.int().check(z.describe('ms since the epoch')),
  completedAt: z.optional(z.int()).check(z.describe('ms since the epoch, once done or failed')),
  expiresAt: z.int().check(z.describe('ms since the epoch after which the export (archive and status) is deleted')),
  counts: z.optional(z.strictObject({
      friends: z.int(),
      friendRequests: z.int(),
      blocks: z.int(),
      groups: z.int(),
      messages: z.int().check(z.describe('Messages they sent, from the history (deleted and revoked ones with their marks and no content)')),
      media: z.int().check(z.describe('Their media objects (keys, types and sizes; fetch each with getMediaDownloadUrl)')),
    })).check(z.describe('What the archive holds, once done')),
  bytes: z.optional(z.int()).check(z.describe("The archive's size, once done")),
  error: z.optional(z.string()).check(z.describe('Why it failed')),
  downloadUrl: z.optional(z.string()).check(z.describe('Once done: a presigned GET of the archive (gzip-compressed JSON Lines), valid until downloadExpiresAt')),
  downloadExpiresAt: z.optional(z.int()).check(z.describe('Seconds since the epoch after which downloadUrl is refused')),
});

const ObjectKey = z.string().check(
  z.minLength(1),
  z.maxLength(1024),
  z.describe('Key of a media object, as returned by createMediaUpload and carried in MediaRef.objectKey'),
);

export const mediaRoutes = [
  {
    operationId: 'createMediaUpload',
    method: 'POST',
    path: '/media/uploads',
    summary:
      'Presign an upload into the media store. Send a multipart/form-data POST to `url` with every entry of `fields`, then the file last as field ' +
      '`file`; S3 refuses a file of any size other than the declared one (EntityTooLarge, EntityTooSmall), another content type, or a start after ' +
      '`expiresAt`. Then reference `objectKey` from a message (MediaRef), never the bytes. Content types and the size limit are the deployment\'s ' +
      '(MEDIA_TYPE_NOT_ALLOWED, MEDIA_TOO_LARGE).',
    auth: 'user',
    permissions: 'A user token uploads as its user (userId, if given, must be the caller); an admin token names the uploader in userId.',
    body: z.strictObject({
      userId: z.optional(UserId).check(z.describe('The uploader; defaults to the calling user, required with an admin token')),
      fileName: z.string().check(z.minLength(1), z.maxLength(255), z.describe('The file\'s name; kept, cleaned up, as the last segment of the key')),
      contentType: MimeType.check(z.describe('MIME type of the file, e.g. `image/jpeg`; S3 stores it and serves downloads with it')),
      size: z.int().check(z.gte(1), z.lte(Number.MAX_SAFE_INTEGER), z.describe('Exact size of the file in bytes')),
    }),
    response: z.strictObject({
      url: z.string().check(z.describe('Where to POST the form')),
      fields: z.record(z.string(), z.string()).check(z.describe('Form fields to send as they are, before the file')),
      objectKey: z.string().check(z.describe('The key the object will have: reference it from messages as MediaRef.objectKey')),
      expiresAt: z.int().check(z.describe('Seconds since the epoch after which the upload can no longer start')),
    }),
  },
  {
    operationId: 'getMediaDownloadUrl',
    method: 'GET',
    path: '/media/download-url',
    summary:
      'A presigned GET URL (valid 15 minutes) for a media object, with its content type and size. Object keys are unguessable and learnt ' +
      'from messages, so any user holding one may read the object; MEDIA_NOT_FOUND when it does not exist (not uploaded, or expired).',
    auth: 'user',
    auditReads: true,
    permissions: 'Any user or admin holding the object key.',
    query: z.strictObject({ objectKey: ObjectKey }),
    response: z.strictObject({
      url: z.string().check(z.describe('GET it (no headers needed) before expiresAt')),
      objectKey: z.string(),
      contentType: z.string().check(z.describe('The type the object was uploaded with')),
      size: z.int().check(z.describe('Bytes')),
      expiresAt: z.int().check(z.describe('Seconds since the epoch after which the URL is refused')),
    }),
  },
  {
    operationId: 'startUserExport',
    method: 'POST',
    path: '/admin/users/{userId}/exports',
    summary:
      "Start a data export of a user (an access request): their profile, friends, friend requests, blocks, groups, every message they sent (from the history) and their media objects' keys, " +
      'as one gzip-compressed JSON Lines archive, built in the background (see docs/operations.md "Compliance"). Follow it with getUserExport. Exports are kept 7 days.',
    auth: 'admin',
    params: UserPath,
    response: ExportStatus,
  },
  {
    operationId: 'getUserExport',
    method: 'GET',
    path: '/admin/users/{userId}/exports/{exportId}',
    summary: "A data export's status and, once done, a presigned download URL of its archive valid 5 minutes (EXPORT_NOT_FOUND when never requested or expired).",
    auth: 'admin',
    auditReads: true,
    params: z.strictObject({ userId: UserId, exportId: ExportId }),
    response: ExportStatus,
  },
] as const satisfies readonly HttpRouteSpec[];
