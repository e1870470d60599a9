/**
 * Errors are data: one table of codes shared by the WebSocket protocol, the HTTP API,
 * the docs and the SDK. Ranges:
 *
 * - 1000–1099 request shape (the frame or body is wrong; fix the request, do not retry)
 * - 1100–1199 authentication and authorization
 * - 1200–1299 resources (users, groups, conversations)
 * - 1300–1399 messaging
 * - 1400–1499 media (uploads and downloads of the media store)
 * - 1500–1599 server side (retry with backoff)
 * - 1600–1699 offline push (devices and their providers)
 */
export const errorCodes = {
  MALFORMED_FRAME: { code: 1001, status: 400, retryable: false, summary: 'The frame or body is not a JSON object of the expected envelope.' },
  UNKNOWN_ACTION: { code: 1002, status: 400, retryable: false, summary: 'The frame names an action that does not exist.' },
  INVALID_ARGUMENT: { code: 1003, status: 400, retryable: false, summary: 'A field is missing, has the wrong type or is out of range; or a string is not well-formed Unicode or holds U+0000; or an HTTP path or query string is not valid percent-encoded UTF-8.' },
  CONTENT_TOO_LARGE: { code: 1004, status: 413, retryable: false, summary: 'The message content exceeds the size limit.' },
  NOT_FOUND: { code: 1005, status: 404, retryable: false, summary: 'No such route.' },
  REPLY_TOO_LARGE: { code: 1006, status: 413, retryable: false, summary: 'The reply would be over the 128 KB API Gateway allows for one WebSocket message; ask for less (a smaller range).' },
  TOKEN_MISSING: { code: 1101, status: 401, retryable: false, summary: 'No token was presented.' },
  TOKEN_INVALID: { code: 1102, status: 401, retryable: false, summary: 'The token is malformed or its signature does not verify.' },
  TOKEN_EXPIRED: { code: 1103, status: 401, retryable: false, summary: 'The token has expired; ask the app backend for a new one.' },
  TOKEN_REVOKED: { code: 1104, status: 401, retryable: false, summary: 'The session was ended (force logout, or its connection was kicked by the multi-login policy).' },
  FORBIDDEN: { code: 1105, status: 403, retryable: false, summary: 'The caller may not act on this resource.' },
  ADMIN_REQUIRED: { code: 1106, status: 403, retryable: false, summary: 'Only an admin token may call this route.' },
  ADMIN_SECRET_INVALID: { code: 1107, status: 401, retryable: false, summary: 'The admin secret is wrong.' },
  USER_BANNED: { code: 1109, status: 403, retryable: false, summary: 'The user is banned: no token is issued to them until an admin lifts the ban or it expires.' },
  JOIN_NOT_ALLOWED: { code: 1108, status: 403, retryable: false, summary: "The group's join policy does not allow this way of joining." },
  USER_NOT_FOUND: { code: 1201, status: 404, retryable: false, summary: 'The user is not registered.' },
  GROUP_NOT_FOUND: { code: 1202, status: 404, retryable: false, summary: 'The group does not exist.' },
  NOT_GROUP_MEMBER: { code: 1203, status: 403, retryable: false, summary: 'The user is not a member of the group.' },
  CONVERSATION_NOT_FOUND: { code: 1204, status: 404, retryable: false, summary: 'The conversation does not exist or the user is not in it.' },
  ALREADY_EXISTS: { code: 1205, status: 409, retryable: false, summary: 'The resource exists already.' },
  REQUEST_NOT_FOUND: { code: 1206, status: 404, retryable: false, summary: 'No pending friend request or group application matches.' },
  GROUP_DISMISSED: { code: 1207, status: 410, retryable: false, summary: 'The group was dismissed.' },
  MESSAGE_NOT_FOUND: { code: 1211, status: 404, retryable: false, summary: 'No message at that seq the caller may see (never sent, a settled hole, or past the offline store).' },
  BATCH_NOT_FOUND: { code: 1212, status: 404, retryable: false, summary: 'No batch send has that batchId (never submitted, or older than 30 days).' },
  RELATION_NOT_FOUND: { code: 1210, status: 404, retryable: false, summary: 'The named user is not in the friend list or blacklist (nothing to change or remove).' },
  SEND_IN_PROGRESS: { code: 1301, status: 409, retryable: true, summary: 'The same clientMsgId is being sent right now; retry shortly for its ack.' },
  BLOCKED: { code: 1302, status: 403, retryable: false, summary: 'The recipient has blocked the sender.' },
  NOT_FRIENDS: { code: 1303, status: 403, retryable: false, summary: 'This deployment requires friendship for one-to-one messages.' },
  MEMBER_MUTED: { code: 1304, status: 403, retryable: false, summary: 'The sender is muted in this group until the time given in the message.' },
  GROUP_MUTED: { code: 1305, status: 403, retryable: false, summary: 'The whole group is muted; only its owner and admins may send.' },
  REVOKE_WINDOW_PASSED: { code: 1306, status: 403, retryable: false, summary: "The sender's revoke window (revokeWindowSeconds after sending) has passed; the group's owner or admins, or an admin token, may still revoke." },
  MESSAGE_NOT_EDITABLE: { code: 1307, status: 409, retryable: false, summary: 'The message was revoked or deleted, or is a notification: it cannot be edited or reacted to.' },
  TOO_MANY_REACTIONS: { code: 1308, status: 409, retryable: false, summary: 'The message has the maximum number of different emoji already.' },
  REFUSED_BY_APP: { code: 1310, status: 403, retryable: false, summary: "The app backend's before-callback webhook (beforeSendMessage, beforeCreateGroup, …) refused the action; `appCode` and the message are the app's own." },
  ENCRYPTED_CONVERSATION: { code: 1311, status: 400, retryable: false, summary: 'The conversation (a group, or a 1:1 conversation since its first MLS message) is end-to-end encrypted: its members send only MLS messages (content types 150, 151, 152).' },
  TOO_MANY_DELETED: { code: 1309, status: 409, retryable: false, summary: 'The conversation has the maximum number of messages deleted for this user; clear the conversation instead.' },
  MEDIA_TYPE_NOT_ALLOWED: { code: 1401, status: 415, retryable: false, summary: "The content type is not one this deployment accepts for media (see the deployment's allowed media types)." },
  MEDIA_TOO_LARGE: { code: 1402, status: 413, retryable: false, summary: "The declared size is above this deployment's media size limit." },
  MEDIA_NOT_FOUND: { code: 1403, status: 404, retryable: false, summary: 'No media object has that key (never uploaded, the upload failed, or it expired).' },
  EXPORT_NOT_FOUND: { code: 1404, status: 404, retryable: false, summary: "No data export of that user has that exportId (never requested, or older than the 7 days exports are kept)." },
  PUSH_PROVIDER_DISABLED: { code: 1601, status: 400, retryable: false, summary: 'The device names a push provider (apns, fcm, webpush) this deployment does not send through; GET /push/config lists those it does.' },
  INTERNAL: { code: 1500, status: 500, retryable: true, summary: 'Unexpected server error; retry with backoff.' },
  UNAVAILABLE: { code: 1501, status: 503, retryable: true, summary: 'A backing service is temporarily unavailable (e.g. the history database is resuming).' },
  THROTTLED: { code: 1502, status: 429, retryable: true, summary: 'Too many requests or messages (a limit of the deployment, a group\'s slow mode, or AWS throttling); retry after `retryAfterMs` when given (HTTP: the Retry-After header), else with backoff.' },
  APP_UNAVAILABLE: { code: 1503, status: 503, retryable: true, summary: "The app backend's before-callback webhook did not answer usably (timeout, network error, non-2xx, malformed answer) and its failure policy is closed; retry with backoff." },
} as const;

export type ErrorReason = keyof typeof errorCodes;

/** The wire shape of an error, in WebSocket replies and HTTP error bodies. */
export interface WireError {
  code: number;
  reason: ErrorReason;
  message: string;
  retryable: boolean;
  /** REFUSED_BY_APP: the app backend's own code (10000–19999). */
  appCode?: number;
  /** THROTTLED by a limit of Cirrus's: milliseconds until a retry can succeed. */
  retryAfterMs?: number;
}

/** A failure a client can act on; anything else thrown becomes INTERNAL. */
export class CirrusError extends Error {
  readonly reason: ErrorReason;
  /** Set by REFUSED_BY_APP: the code the app backend refused with. */
  readonly appCode?: number;
  /** Set by THROTTLED from a limit: milliseconds until a retry can succeed. */
  readonly retryAfterMs?: number;

  constructor(reason: ErrorReason, message?: string, options?: { cause?: unknown; appCode?: number; retryAfterMs?: number }) {
    super(message ?? errorCodes[reason].summary, options);
    this.name = 'CirrusError';
    this.reason = reason;
    if (options?.appCode !== undefined) this.appCode = options.appCode;
    if (options?.retryAfterMs !== undefined) this.retryAfterMs = Math.max(1, Math.ceil(options.retryAfterMs));
  }

  get code(): number {
    return errorCodes[this.reason].code;
  }

  get status(): number {
    return errorCodes[this.reason].status;
  }

  get retryable(): boolean {
    return errorCodes[this.reason].retryable;
  }

  toWire(): WireError {
    return { code: this.code, reason: this.reason, message: this.message, retryable: this.retryable, ...(this.appCode !== undefined ? { appCode: this.appCode } : {}), ...(this.retryAfterMs !== undefined ? { retryAfterMs: this.retryAfterMs } : {}) };
  }
}

/** Maps anything thrown to the wire; unknown errors never leak their message. */
export function toWireError(err: unknown): WireError {
  if (err instanceof CirrusError) return err.toWire();
  const name = (err as { name?: string } | undefined)?.name;
  if (name === 'ThrottlingException' || name === 'ProvisionedThroughputExceededException' || name === 'RequestLimitExceeded') {
    return new CirrusError('THROTTLED').toWire();
  }
  if (name === 'DatabaseResumingException' || name === 'ServiceUnavailableError' || name === 'ServiceUnavailableException') {
    return new CirrusError('UNAVAILABLE').toWire();
  }
  return new CirrusError('INTERNAL').toWire();
}

/**
 * WebSocket close codes a client may see (the standard ones API Gateway uses). A forced
 * logout or a kick by the multi-login policy sends a `kicked` event, closes with 1000, and
 * the next connect with that token is refused with 401.
 */
export const closeCodes = {
  1000: { name: 'NORMAL', reconnect: false, summary: 'Closed by the client or by a server-side delete of the connection. After a `kicked` event (logged in elsewhere under the multi-login policy, or forced logout) the token is revoked: do not reconnect with it.' },
  1001: { name: 'GOING_AWAY', reconnect: true, summary: 'The connection reached its maximum duration (2 hours on API Gateway), was idle for 10 minutes, or the server is shutting down. `$disconnect` runs as for any close. The local runtime counts only messages from the client as activity (API Gateway may also count the messages it sends), so a client that keeps a quiet connection open must send `heartbeat` frames, as the SDK does.' },
  1003: { name: 'UNSUPPORTED_DATA', reconnect: true, summary: 'The client sent a binary frame: frames must be text (JSON); do not resend it.' },
  1009: { name: 'MESSAGE_TOO_BIG', reconnect: true, summary: 'A frame was over 32 KB or a message over 128 KB; do not resend it.' },
  1011: { name: 'SERVER_ERROR', reconnect: true, summary: 'Unexpected server condition.' },
} as const;
