/**
 * Users' data exports, the HTTP side (the httpMedia function): an admin requests one, the
 * request's status object is written under `exports/` of the media bucket and the userData
 * function is invoked asynchronously to build the archive (core/services/export-build.ts),
 * so a user with millions of messages is never bound by the HTTP API's 30 s; the admin then
 * reads the status, which carries a short presigned download URL once the archive is there.
 * A lifecycle rule deletes exports after EXPORT_EXPIRATION_DAYS (docs/operations.md
 * "Compliance"). No table: the status object is the export's record.
 */
import { randomBytes } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { invokeAsync } from '../aws/lambda';
import { s3, s3Presigner } from '../aws/s3';
import { config } from '../config';
import { EXPORT_EXPIRATION_DAYS, exportArchiveKey, exportStatusKey } from '../domain/media';
import { CirrusError } from '../errors';
import type { AdminActor } from '../http/actor';
import { requireUsers } from './users';

/** A download URL of an archive is a bearer capability to everything about a user: short. */
export const EXPORT_DOWNLOAD_SECONDS = 5 * 60;

export interface ExportCounts {
  friends: number;
  friendRequests: number;
  blocks: number;
  groups: number;
  messages: number;
  media: number;
}

/** The status object of an export (`exports/<userId>/<exportId>/status.json`). */
export interface ExportStatus {
  exportId: string;
  userId: string;
  status: 'running' | 'done' | 'failed';
  requestedAt: number;
  completedAt?: number;
  expiresAt: number;
  counts?: ExportCounts;
  bytes?: number;
  error?: string;
}

/** The event the userData function builds an export from. */
export interface ExportEvent {
  kind: 'export';
  exportId: string;
  userId: string;
  requestedAt: number;
}

/** The event the userData function deletes an erased user's media objects from. */
export interface EraseMediaEvent {
  kind: 'eraseMedia';
  userId: string;
}

export type UserDataEvent = ExportEvent | EraseMediaEvent;

export const expiresAtOf = (requestedAt: number): number => requestedAt + EXPORT_EXPIRATION_DAYS * 86_400_000;

export async function putExportStatus(status: ExportStatus): Promise<void> {
  await s3().send(
    new PutObjectCommand({
      Bucket: config.mediaBucket(),
      Key: exportStatusKey(status.userId, status.exportId),
      Body: JSON.stringify(status),
      ContentType: 'application/json',
    }),
  );
}

export async function startUserExport(userId: string, _admin: AdminActor): Promise<ExportStatus> {
  await requireUsers([userId]);
  const requestedAt = Date.now();
  const status: ExportStatus = { exportId: randomBytes(16).toString('hex'), userId, status: 'running', requestedAt, expiresAt: expiresAtOf(requestedAt) };
  // The status first: the builder overwrites it, never the other way round.
  await putExportStatus(status);
  const event: ExportEvent = { kind: 'export', exportId: status.exportId, userId, requestedAt };
  await invokeAsync('userData', event);
  return status;
}

export async function getUserExport(userId: string, exportId: string): Promise<ExportStatus & { downloadUrl?: string; downloadExpiresAt?: number }> {
  const Bucket = config.mediaBucket();
  let status: ExportStatus;
  try {
    const res = await s3().send(new GetObjectCommand({ Bucket, Key: exportStatusKey(userId, exportId) }));
    status = JSON.parse(await res.Body!.transformToString()) as ExportStatus;
  } catch (err) {
    // Missing: 404 to a caller that may list exports/, 403 to the others (as S3 answers); either way, none.
    const code = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if ((err as Error).name === 'NoSuchKey' || code === 404 || code === 403) throw new CirrusError('EXPORT_NOT_FOUND', `No export ${exportId} of user ${userId}`);
    throw err;
  }
  if (status.status !== 'done') return status;
  const issuedAt = Date.now();
  const downloadUrl = await getSignedUrl(
    s3Presigner(),
    new GetObjectCommand({ Bucket, Key: exportArchiveKey(userId, exportId), ResponseContentDisposition: `attachment; filename="${userId}-export.jsonl.gz"` }),
    { expiresIn: EXPORT_DOWNLOAD_SECONDS },
  );
  return { ...status, downloadUrl, downloadExpiresAt: Math.floor(issuedAt / 1000) + EXPORT_DOWNLOAD_SECONDS };
}
