/** Small helpers shared by the DynamoDB repositories. */
import { BatchGetCommand, BatchWriteCommand, type BatchGetCommandInput, type BatchGetCommandOutput } from '@aws-sdk/lib-dynamodb';
import { ddb } from '../aws/dynamodb';
import { forEachLimit } from '../domain/concurrency';

export function isConditionFailure(err: unknown): boolean {
  const name = (err as { name?: string } | undefined)?.name;
  return name === 'ConditionalCheckFailedException';
}

/** Full-jitter exponential backoff for retried batch items. */
const backoff = (attempt: number) => new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** attempt) * Math.random()));

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/**
 * BatchGetItem for keys across tables (at most 100), retrying unprocessed keys, which
 * DynamoDB returns under load instead of failing the call.
 */
export async function batchGet(request: NonNullable<BatchGetCommandInput['RequestItems']>): Promise<Record<string, Record<string, unknown>[]>> {
  const out: Record<string, Record<string, unknown>[]> = {};
  let pending: BatchGetCommandInput['RequestItems'] | undefined = request;
  for (let attempt = 0; pending && Object.keys(pending).length > 0; attempt++) {
    if (attempt > 0) await backoff(attempt);
    const res: BatchGetCommandOutput = await ddb().send(new BatchGetCommand({ RequestItems: pending }));
    for (const [table, items] of Object.entries(res.Responses ?? {})) (out[table] ??= []).push(...(items as Record<string, unknown>[]));
    pending = res.UnprocessedKeys && Object.keys(res.UnprocessedKeys).length > 0 ? res.UnprocessedKeys : undefined;
    if (attempt > 8 && pending) throw new Error('BatchGetItem left keys unprocessed after retries');
  }
  return out;
}

/** Batches of 25 in flight at once for one large write (a 1,000-member group: 40 batches). */
const BATCH_WRITES_IN_FLIGHT = 4;

/**
 * BatchWriteItem in requests of 25, a few at a time, retrying the items DynamoDB leaves
 * unprocessed. The requests must not name one key twice (DynamoDB refuses that within a
 * batch; across batches their order would not be kept).
 */
export async function batchWrite(table: string, requests: readonly Record<string, unknown>[]): Promise<void> {
  await forEachLimit(chunk(requests, 25), BATCH_WRITES_IN_FLIGHT, async (part) => {
    let pending = part;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) await backoff(attempt);
      const res = await ddb().send(new BatchWriteCommand({ RequestItems: { [table]: pending as never } }));
      pending = (res.UnprocessedItems?.[table] ?? []) as Record<string, unknown>[];
      if (attempt > 8 && pending.length > 0) throw new Error('BatchWriteItem left items unprocessed after retries');
    }
  });
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
