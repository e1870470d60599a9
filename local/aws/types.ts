/**
 * The shape every local AWS stand-in exposes to the local server, which mounts them all
 * on one port. A stand-in answers the requests that are its own and returns undefined
 * for the others.
 */
export interface StandInRequest {
  readonly method: string;
  /** Path without the query string, e.g. `/` or `/Execute`. */
  readonly path: string;
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
  /** The request target as sent, path and query still percent-encoded (what a SigV4 signature covers). */
  readonly target?: string;
  /** The body's bytes, for stand-ins that take binary uploads (S3). */
  readonly bytes?: Buffer;
}

export interface StandInResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body: string;
  /** A binary body, sent instead of `body` when present (S3 objects). */
  readonly bytes?: Uint8Array;
}

export interface StandIn {
  handle(req: StandInRequest): Promise<StandInResponse | undefined>;
  /** Persist state (if any) and release resources. */
  close(): Promise<void>;
}
