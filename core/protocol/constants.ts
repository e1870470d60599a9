/** Protocol constants needed by code that does not validate frames (kept free of zod). */
export const SessionType = { single: 1, group: 3, notification: 4 } as const;

/** API Gateway's limit on one WebSocket message, both directions (frames are at most 32 KB). */
export const MAX_WS_MESSAGE_BYTES = 128 * 1024;

/**
 * The size the items of a paged reply (`pullMsgs` messages, `getNewestSeq` conversations)
 * are cut at, as UTF-8 JSON: under the message limit with room for the envelope and the
 * rest of the reply (holes and pending seqs of 100 seqs are under 2 KB).
 */
export const REPLY_PAGE_BYTES = 96 * 1024;
