/**
 * Media by reference: the HTTP function presigns a browser-style POST upload into the
 * private media bucket and GET URLs to read objects back. Objects never pass through
 * Lambda or API Gateway (whose payload limits are 6 MB and 10 MB), and S3 itself
 * enforces what the server decided: the exact size declared, the content type and the
 * key, all signed into the upload's policy.
 */
import { HeadObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { checkRequest } from '../aws/accounting';
import { s3, s3Presigner } from '../aws/s3';
import { config } from '../config';
import { isAllowedMediaType, isMediaKey, MLS_MEDIA_TYPE, newMediaKey } from '../domain/media';
import { CirrusError } from '../errors';

/** Time to start an upload; S3 checks the policy when the POST begins, so a slow upload of a large file still completes. */
export const UPLOAD_URL_SECONDS = 15 * 60;
/** Short: a download URL is a bearer capability that anyone holding it may use until it expires. */
export const DOWNLOAD_URL_SECONDS = 15 * 60;

export interface UploadRequest {
  /** Who uploads: the key goes under their prefix. */
  userId: string;
  fileName: string;
  contentType: string;
  /** Exact size in bytes; the upload is refused by S3 when the file is any other size. */
  size: number;
}

export interface PresignedUpload {
  /** Where to POST the multipart/form-data form. */
  url: string;
  /** Form fields to send, in this order, before the `file` field (which must come last). */
  fields: Record<string, string>;
  objectKey: string;
  /** Seconds since the epoch after which S3 refuses to start the upload. */
  expiresAt: number;
}

export interface PresignedDownload {
  url: string;
  objectKey: string;
  contentType: string;
  size: number;
  expiresAt: number;
}

/**
 * Checks what the caller declares against the deployment's limits and signs a POST
 * policy that holds S3 to it: `content-length-range` [size, size] (so the bytes sent must
 * be the bytes declared, and the message's MediaRef can trust its size), an exact
 * `Content-Type` (stored as the object's type, so downloads are served with it) and the
 * exact key.
 */
export async function presignUpload(req: UploadRequest): Promise<PresignedUpload> {
  const maxBytes = config.mediaMaxBytes();
  // MLS messages too large to travel inline (encrypted conversations of large groups) are accepted whatever the list says.
  if (req.contentType.toLowerCase() !== MLS_MEDIA_TYPE && !isAllowedMediaType(req.contentType, config.mediaAllowedTypes())) {
    throw new CirrusError('MEDIA_TYPE_NOT_ALLOWED', `Content type ${req.contentType} is not accepted for media`);
  }
  if (req.size > maxBytes) throw new CirrusError('MEDIA_TOO_LARGE', `${req.size} bytes is above the media size limit of ${maxBytes} bytes`);
  const objectKey = newMediaKey(req.userId, req.fileName);
  const issuedAt = Date.now();
  // Signed without a command: checked as the PutObject the upload is. (On AWS a URL signed
  // without the permission is issued and S3 refuses the upload; locally the check refuses it
  // here, since the S3 stand-in cannot tell which function signed a URL.)
  checkRequest('S3', 'PutObject', { Bucket: config.mediaBucket(), Key: objectKey });
  const { url, fields } = await createPresignedPost(s3Presigner(), {
    Bucket: config.mediaBucket(),
    Key: objectKey,
    Fields: { 'Content-Type': req.contentType },
    // Every field (here Content-Type, besides the key and the signing fields) becomes an exact condition.
    Conditions: [['content-length-range', req.size, req.size]],
    Expires: UPLOAD_URL_SECONDS,
  });
  return { url, fields, objectKey, expiresAt: Math.floor(issuedAt / 1000) + UPLOAD_URL_SECONDS };
}

/**
 * A short-lived GET URL for an existing object. Keys are capabilities: 128 random bits,
 * learnt only from messages a user can see, so any authenticated caller holding one may
 * read the object. One HeadObject tells a missing object (404, or 403 as S3 answers
 * callers without an unconditioned s3:ListBucket) from a present one, and gives the type
 * and size the client needs before fetching.
 */
export async function presignDownload(objectKey: string): Promise<PresignedDownload> {
  if (!isMediaKey(objectKey)) throw new CirrusError('INVALID_ARGUMENT', 'objectKey is not a media key this API issued');
  const Bucket = config.mediaBucket();
  let head;
  try {
    head = await s3().send(new HeadObjectCommand({ Bucket, Key: objectKey }));
  } catch (err) {
    // A missing key is 404 only to a caller that may list the bucket; the functions may list
    // it only under the media/ prefix, a condition a HEAD does not meet, so S3 answers them
    // 403. The key is a media key and GetObject on media/ is granted: 403 means missing.
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if ((err as Error).name === 'NotFound' || (err as Error).name === 'NoSuchKey' || status === 404 || status === 403) {
      throw new CirrusError('MEDIA_NOT_FOUND', `No media object ${objectKey}`);
    }
    throw err;
  }
  const issuedAt = Date.now();
  const url = await getSignedUrl(s3Presigner(), new GetObjectCommand({ Bucket, Key: objectKey }), { expiresIn: DOWNLOAD_URL_SECONDS });
  return {
    url,
    objectKey,
    contentType: head.ContentType ?? 'application/octet-stream',
    size: head.ContentLength ?? 0,
    expiresAt: Math.floor(issuedAt / 1000) + DOWNLOAD_URL_SECONDS,
  };
}
