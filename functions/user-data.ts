/**
 * A user's data off the HTTP path, invoked asynchronously: builds a data export requested by
 * an admin (startUserExport), or deletes an erased user's media objects (eraseUser). See
 * core/services/export-build.ts. A failure is retried twice by Lambda, then the event goes to
 * the shared dead-letter queue.
 */
import * as z from 'zod/mini';
import { asyncHandler } from '../core/runtime/async';
import { buildExport, eraseUserMedia } from '../core/services/export-build';
import type { UserDataEvent } from '../core/services/exports';
import { UserId } from '../core/protocol/schema';
import '../core/protocol/zod-locale';

const Event = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('export'), exportId: z.string().check(z.regex(/^[0-9a-f]{32}$/)), userId: UserId, requestedAt: z.int(), correlationId: z.optional(z.string()) }),
  z.strictObject({ kind: z.literal('eraseMedia'), userId: UserId, correlationId: z.optional(z.string()) }),
]);

export const handler = asyncHandler<UserDataEvent & { correlationId?: string }>(
  'userData',
  (event) => Event.parse(event),
  async (job) => {
    if (job.kind === 'export') await buildExport(job);
    else await eraseUserMedia(job.userId);
  },
);
