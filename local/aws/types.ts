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
}

export interface StandInResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface StandIn {
  handle(req: StandInRequest): Promise<StandInResponse | undefined>;
  /** Persist state (if any) and release resources. */
  close(): Promise<void>;
}
