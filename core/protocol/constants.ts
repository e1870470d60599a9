/** Protocol constants needed by code that does not validate frames (kept free of zod). */
export const SessionType = { single: 1, group: 3, notification: 4 } as const;

/** API Gateway's limit on one WebSocket message, both directions (frames are at most 32 KB). */
export const MAX_WS_MESSAGE_BYTES = 128 * 1024;

/**
 * The size a paged reply's `data` is cut at (UTF-8 JSON bytes): well under the message
 * limit, leaving room for the envelope and for one item that starts below it.
 */
export const REPLY_PAGE_BYTES = 64 * 1024;
