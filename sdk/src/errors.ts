/**
 * SDK errors are data, as on the server: a `reason` from the server's code table
 * (`core/errors.ts`, the same codes as `docs/protocol.md`) or one of the SDK's own
 * client-side reasons, with a `retryable` flag the SDK itself acts on.
 */
import type { ErrorReason, WireError } from '../../core/errors';

/** Failures that happen on the client, never sent by the server. */
export type ClientErrorReason =
  /** The socket closed before the reply arrived; the request may or may not have run. */
  | 'CONNECTION_CLOSED'
  /** No reply within the request timeout. */
  | 'TIMEOUT'
  /** The client is disconnected for good (kicked, token refused, `disconnect()` called). */
  | 'DISCONNECTED'
  /** An HTTP call failed without a Cirrus error body (network, proxy, unexpected status). */
  | 'HTTP_FAILED'
  /** The SDK was used wrongly (e.g. a method that needs the HTTP API without `apiUrl`). */
  | 'USAGE';

export type SdkErrorReason = ErrorReason | ClientErrorReason;

const clientRetryable: Record<ClientErrorReason, boolean> = {
  CONNECTION_CLOSED: true,
  TIMEOUT: true,
  DISCONNECTED: false,
  HTTP_FAILED: true,
  USAGE: false,
};

/** What every SDK method rejects with. `code` is the server's numeric code, 0 for client-side reasons. */
export class CirrusSdkError extends Error {
  readonly reason: SdkErrorReason;
  readonly code: number;
  readonly retryable: boolean;
  /** HTTP status, for errors of HTTP calls. */
  readonly status?: number;
  /** REFUSED_BY_APP: the app backend's own refusal code (10000–19999). */
  readonly appCode?: number;
  /** THROTTLED by a limit of the deployment or a group's slow mode: milliseconds until the same request can succeed. */
  readonly retryAfterMs?: number;

  constructor(reason: SdkErrorReason, message: string, options: { code?: number; retryable?: boolean; status?: number; appCode?: number; retryAfterMs?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CirrusSdkError';
    this.reason = reason;
    this.code = options.code ?? 0;
    this.retryable = options.retryable ?? (reason in clientRetryable ? clientRetryable[reason as ClientErrorReason] : false);
    if (options.status !== undefined) this.status = options.status;
    if (options.appCode !== undefined) this.appCode = options.appCode;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }

  /** An error as the server sent it in a reply frame or an HTTP error body. */
  static fromWire(error: WireError, status?: number): CirrusSdkError {
    return new CirrusSdkError(error.reason, error.message, { code: error.code, retryable: error.retryable, status, appCode: error.appCode, retryAfterMs: error.retryAfterMs });
  }
}
