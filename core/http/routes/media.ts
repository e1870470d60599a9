/** HTTP routes: presigned uploads to and downloads from the media store. */
import * as z from 'zod';
import { MimeType, UserId } from '../../protocol/schema';
import type { HttpRouteSpec } from './types';

const ObjectKey = z.string().min(1).max(1024).describe('Key of a media object, as returned by createMediaUpload and carried in MediaRef.objectKey');

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
      userId: UserId.optional().describe('The uploader; defaults to the calling user, required with an admin token'),
      fileName: z.string().min(1).max(255).describe('The file\'s name; kept, cleaned up, as the last segment of the key'),
      contentType: MimeType.describe('MIME type of the file, e.g. `image/jpeg`; S3 stores it and serves downloads with it'),
      size: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).describe('Exact size of the file in bytes'),
    }),
    response: z.strictObject({
      url: z.string().describe('Where to POST the form'),
      fields: z.record(z.string(), z.string()).describe('Form fields to send as they are, before the file'),
      objectKey: z.string().describe('The key the object will have: reference it from messages as MediaRef.objectKey'),
      expiresAt: z.number().int().describe('Seconds since the epoch after which the upload can no longer start'),
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
      url: z.string().describe('GET it (no headers needed) before expiresAt'),
      objectKey: z.string(),
      contentType: z.string().describe('The type the object was uploaded with'),
      size: z.number().int().describe('Bytes'),
      expiresAt: z.number().int().describe('Seconds since the epoch after which the URL is refused'),
    }),
  },
] as const satisfies readonly HttpRouteSpec[];
