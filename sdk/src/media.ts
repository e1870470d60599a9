/**
 * Media upload and download through presigned URLs. The media routes of the HTTP API are
 * young, so everything that knows their shape is in this one file:
 *
 * - `POST /media/uploads` `{fileName, contentType, size}` → `{url, fields, objectKey, expiresAt}`:
 *   a presigned POST; the upload is a form with every field first and the file last.
 * - `GET /media/download-url?objectKey=` → `{url, expiresAt}`.
 */
import { CirrusSdkError } from './errors';
import type { FetchLike, HttpClient } from './http/client';

export interface PresignedUpload {
  url: string;
  fields: Record<string, string>;
  objectKey: string;
  /** When the URL stops working. */
  expiresAt: number;
}

/** A media reference for message content (`MediaRef` of the protocol). */
export interface UploadedMedia {
  objectKey: string;
  mimeType: string;
  size: number;
}

export interface UploadOptions {
  /** The name the object is stored under (and shown, for files). @default 'file' */
  fileName?: string;
  /** @default the Blob's type, else application/octet-stream */
  contentType?: string;
}

type FormFetch = (url: string, init: { method: string; body: FormData }) => Promise<{ ok: boolean; status: number; text(): Promise<string> }>;

export class Media {
  constructor(
    private readonly http: HttpClient,
    private readonly fetchImpl: FetchLike | FormFetch = globalThis.fetch as unknown as FormFetch,
  ) {}

  /**
   * Uploads a file (a `Blob` or `File`) to the deployment's media store and returns the
   * reference to put in a picture, voice, video or file message.
   *
   * @example
   * const source = await client.media.upload(file, { fileName: file.name });
   * await client.sendMessage({ recvId: 'bob', contentType: 102, content: { source } });
   */
  async upload(file: Blob, options: UploadOptions = {}): Promise<UploadedMedia> {
    const fileName = options.fileName ?? ((file as { name?: string }).name || 'file');
    const contentType = options.contentType ?? (file.type || 'application/octet-stream');
    const presigned = await this.http.request<PresignedUpload>('POST', '/media/uploads', { body: { fileName, contentType, size: file.size } });
    const form = new FormData();
    // The storage service reads the policy fields before the file: the file goes last.
    for (const [name, value] of Object.entries(presigned.fields)) form.append(name, value);
    form.append('file', file, fileName);
    // A plain call: browsers refuse a fetch called on another object ("Illegal invocation").
    const post = this.fetchImpl as FormFetch;
    const res = await post(presigned.url, { method: 'POST', body: form });
    if (!res.ok) throw new CirrusSdkError('HTTP_FAILED', `Upload of ${fileName} answered ${res.status}: ${(await res.text()).slice(0, 200)}`, { status: res.status });
    return { objectKey: presigned.objectKey, mimeType: contentType, size: file.size };
  }

  /**
   * A short-lived URL to fetch a media object by its key.
   *
   * @example
   * const { url } = await client.media.downloadUrl(message.content.source.objectKey);
   * img.src = url;
   */
  downloadUrl(objectKey: string): Promise<{ url: string; expiresAt: number }> {
    return this.http.request('GET', '/media/download-url', { query: { objectKey } });
  }
}
