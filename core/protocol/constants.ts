/** Protocol constants needed by code that does not validate frames (kept free of zod). */
export const SessionType = { single: 1, group: 3, notification: 4 } as const;
