/**
 * An S3 object written as a stream, holding at most one part in memory: the bytes are
 * gathered into parts of `PART_BYTES` and each is sent as it fills (UploadPart of a multipart
 * upload, created with the first part). An object smaller than one part is one PutObject.
 * S3's rules: every part but the last at least 5 MiB, at most 10,000 parts (so objects up to
 * about 48 GiB here), the parts listed with their ETags in ascending order to complete. A
 * failed write aborts the upload, so no parts are left behind (the bucket's lifecycle rule
 * aborts what a crashed function leaves, after a day).
 */
import { Writable } from 'node:stream';
import { AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, PutObjectCommand, UploadPartCommand, type CompletedPart } from '@aws-sdk/client-s3';
import { s3 } from './s3';
import { log } from '../log';

/** The size of each part but the last: S3's minimum (5 MiB), so memory stays as small as S3 allows. */
export const PART_BYTES = 5 * 1024 * 1024;
/** The most parts S3 takes in one upload. */
export const MAX_PARTS = 10_000;

export class S3ObjectWriter {
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private uploadId: string | undefined;
  private readonly parts: CompletedPart[] = [];
  /** Bytes written so far. */
  bytes = 0;

  constructor(
    private readonly target: { Bucket: string; Key: string; ContentType: string },
    private readonly partBytes = PART_BYTES,
  ) {}

  /** Parts sent so far (0 while the object still fits in one PutObject). */
  get partCount(): number {
    return this.parts.length;
  }

  async write(chunk: Buffer): Promise<void> {
    this.buffered.push(chunk);
    this.bufferedBytes += chunk.length;
    this.bytes += chunk.length;
    if (this.bufferedBytes >= this.partBytes) await this.sendPart(this.take());
  }

  /** Stores what is left: the last part and the completion, or one PutObject for a small object. */
  async finish(): Promise<void> {
    const rest = this.take();
    if (this.uploadId === undefined) {
      await s3().send(new PutObjectCommand({ ...this.target, Body: rest }));
      return;
    }
    if (rest.length > 0) await this.sendPart(rest);
    await s3().send(new CompleteMultipartUploadCommand({ Bucket: this.target.Bucket, Key: this.target.Key, UploadId: this.uploadId, MultipartUpload: { Parts: this.parts } }));
    this.uploadId = undefined;
  }

  /** Aborts the multipart upload, if one was started and not completed; never throws (the lifecycle rule is the fallback). */
  async abort(): Promise<void> {
    this.buffered = [];
    this.bufferedBytes = 0;
    if (this.uploadId === undefined) return;
    const uploadId = this.uploadId;
    this.uploadId = undefined;
    await s3()
      .send(new AbortMultipartUploadCommand({ Bucket: this.target.Bucket, Key: this.target.Key, UploadId: uploadId }))
      .catch((err) => log.warn('aborting a multipart upload failed; the bucket lifecycle rule removes it', { key: this.target.Key, err }));
  }

  /** A Writable for `pipeline`: each chunk is written (and a full part sent) before the next is taken. */
  sink(): Writable {
    return new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        this.write(chunk).then(() => done(), done);
      },
    });
  }

  private take(): Buffer {
    const out = Buffer.concat(this.buffered);
    this.buffered = [];
    this.bufferedBytes = 0;
    return out;
  }

  private async sendPart(body: Buffer): Promise<void> {
    if (this.parts.length >= MAX_PARTS) throw new Error(`The object is larger than ${MAX_PARTS} parts of ${this.partBytes} bytes`);
    this.uploadId ??= (await s3().send(new CreateMultipartUploadCommand(this.target))).UploadId;
    const PartNumber = this.parts.length + 1;
    const res = await s3().send(new UploadPartCommand({ Bucket: this.target.Bucket, Key: this.target.Key, UploadId: this.uploadId, PartNumber, Body: body }));
    this.parts.push({ PartNumber, ETag: res.ETag });
  }
}
