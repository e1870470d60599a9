/** One page of a batch send (or the rest of one), invoked asynchronously: see core/services/batch-pages.ts. */
import { asyncHandler } from '../core/runtime/async';
import { runBatchPage } from '../core/services/batch-pages';
import { BatchPageJobSchema } from '../core/protocol/jobs';
import '../core/protocol/zod-locale';

export const handler = asyncHandler('batchPages', (event) => BatchPageJobSchema.parse(event), (job) => runBatchPage(job));
