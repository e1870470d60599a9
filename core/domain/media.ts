/**
 * The media store's rules as pure functions: which content types and sizes an upload may
 * declare, and the shape of the object keys the server hands out. Keys are the only
 * capability a download needs, so they carry 128 random bits and nothing a caller chose
 * except a cleaned-up file name.
 */
import { randomBytes } from 'node:crypto';

/** Every object of the media store lives under this prefix; the functions' grants stop there. */
export const MEDIA_PREFIX = 'media/';

/** Users' data exports live under this prefix of the media bucket, apart from the media. */
export const EXPORT_PREFIX = 'exports/';
/** Days an export (its archive and status) is kept: a lifecycle rule deletes it after them. */
export const EXPORT_EXPIRATION_DAYS = 7;

/** The prefix of a user's own media objects (`media/<userId>/`): their uploads. */
export const userMediaPrefix = (userId: string): string => `${MEDIA_PREFIX}${userId}/`;
/** Where an export's status object lives. */
export const exportStatusKey = (userId: string, exportId: string): string => `${EXPORT_PREFIX}${userId}/${exportId}/status.json`;
/** Where an export's archive lives: one gzip-compressed JSON Lines file. */
export const exportArchiveKey = (userId: string, exportId: string): string => `${EXPORT_PREFIX}${userId}/${exportId}/${userId}-export.jsonl.gz`;

/** 100 MiB: a phone video of a few minutes, far below S3's 5 GB limit for one POST upload. */
export const DEFAULT_MEDIA_MAX_BYTES = 100 * 1024 * 1024;

/**
 * Pictures, voice, video and common documents. Deliberately absent: `image/svg+xml` and
 * `text/html` (a browser opening them from a download URL would run their scripts) and
 * executables.
 */
export const DEFAULT_MEDIA_TYPES: readonly string[] = [
  'image/jpeg',
  'image/png',
  'image/gif',
  'image/webp',
  'image/heic',
  'image/heif',
  'image/avif',
  'audio/mpeg',
  'audio/mp4',
  'audio/aac',
  'audio/ogg',
  'audio/webm',
  'audio/wav',
  'audio/amr',
  'video/mp4',
  'video/quicktime',
  'video/webm',
  'video/3gpp',
  'application/pdf',
  'text/plain',
  'text/csv',
  'application/zip',
  'application/msword',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.ms-excel',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.ms-powerpoint',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
];

/**
 * The media type of MLS messages (RFC 9420 §17.10): an encrypted conversation's MLS message too large to travel inline
 * (the Welcome or a commit of a large group) is uploaded as a media object of this type, accepted whatever the list says.
 */
export const MLS_MEDIA_TYPE = 'message/mls';

/** `type/subtype` or `type/*`, as the allowed-types setting may list them. */
export const MEDIA_TYPE_PATTERN = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/(\*|[a-z0-9][a-z0-9!#$&^_.+-]{0,127})$/;

/** Parses the comma-separated allowed-types setting; throws on an entry that is not a type or `type/*`. */
export function parseMediaTypes(setting: string): string[] {
  const types = setting
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t !== '');
  for (const t of types) if (!MEDIA_TYPE_PATTERN.test(t)) throw new Error(`"${t}" is not a media type such as image/png or image/*`);
  return types;
}

/** Whether a content type (compared case-insensitively, as MIME types are) is on the list, exactly or by a `type/*` entry. */
export function isAllowedMediaType(contentType: string, allowed: readonly string[]): boolean {
  const type = contentType.toLowerCase();
  const major = type.split('/')[0];
  return allowed.some((entry) => entry === type || entry === `${major}/*`);
}

/**
 * The key segment of a user: user ids may hold `@`, which object keys of a message's
 * MediaRef may not; `!` never occurs in a user id, so the mapping is one-to-one.
 */
export const userKeySegment = (userId: string): string => userId.replace(/@/g, '!');

const MAX_NAME = 100;

/**
 * A file name reduced to letters, digits, `.`, `_` and `-`: accents dropped, other
 * characters `_`, runs of dots one dot, and a leading dot, dash or underscore gone, so the
 * name can never be a path segment like `..`, a hidden file or look like an option. The
 * extension survives, and a cut to 100 characters, so the object still opens with the
 * right application; a name with nothing left becomes `file`.
 */
export function sanitizeFileName(fileName: string): string {
  const base = fileName.split(/[\\/]/).pop() ?? '';
  const cleaned = base
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/\.{2,}/g, '.');
  const [, rawStem, ext = ''] = /^(.*?)(\.[A-Za-z0-9]{1,15})?$/.exec(cleaned)!;
  const stem = rawStem.replace(/^[._-]+/, '').slice(0, MAX_NAME - ext.length);
  return `${stem === '' ? 'file' : stem}${ext}`;
}

/** `media/<user>/<22 random base64url characters>/<file name>`: unguessable, and the uploader is readable off it. */
export function newMediaKey(userId: string, fileName: string): string {
  return `${MEDIA_PREFIX}${userKeySegment(userId)}/${randomBytes(16).toString('base64url')}/${sanitizeFileName(fileName)}`;
}

/**
 * Exactly the shape of the keys {@link newMediaKey} produces; anything else (other
 * prefixes, empty or `.`/`..` segments: every segment starts with a letter, digit or `_`)
 * is refused before S3 is asked.
 */
export const MEDIA_KEY_PATTERN = /^media\/[A-Za-z0-9][A-Za-z0-9.!-]{0,63}\/[A-Za-z0-9_-]{22}\/[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$/;

export const isMediaKey = (key: string): boolean => MEDIA_KEY_PATTERN.test(key);
