/**
 * Batch sends (`POST /messages/batch`, OpenIM's batch_send_msg): one message to up to
 * 10,000 users, each in their own conversation (1:1 with the sender, or `n_<userId>` from
 * `system`). The request is checked whole, recorded as one `Batches` item, and split into
 * pages, each an asynchronous invocation of the batch pages function (`kind: 'batchPage'`,
 * see `batch-pages.ts`), which Lambda queues durably and retries. Nothing is always on: no
 * queue, poller or alarm of its own, and a deployment that never sends a batch pays nothing for it.
 */
import { createHash, randomUUID } from 'node:crypto';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ddb } from '../aws/dynamodb';
import { config } from '../config';
import { forEachLimit } from '../domain/concurrency';
import { SYSTEM_SENDER } from '../domain/ids';
import { CirrusError } from '../errors';
import { correlationId, log } from '../log';
import type { BatchPageJob } from '../protocol/jobs';
import { ContentType, SessionType } from '../protocol/schema';
import { batchGet, chunk, isConditionFailure, nowSeconds } from '../store/dynamo';
import { invokeAsync } from '../aws/lambda';
import { validateChatContent } from './send';
import type { OfflinePushInfo } from '../offline-push/rules';
import { requireUsers } from './users';

/** Recipients in one batch request, at most. */
export const MAX_BATCH_RECIPIENTS = 10_000;
/**
 * Recipients per page (one asynchronous invocation). 100 keeps a page small (ids plus at
 * most 16 KB of content, far below Lambda's 1 MB for an asynchronous payload), makes 100
 * pages of a full batch, and lets an invocation finish its page well inside its timeout at
 * `PAGE_SEND_CONCURRENCY` sends in flight.
 */
export const BATCH_PAGE_SIZE = 100;
/** Days a batch's item (its progress) is kept. */
const BATCH_TTL_DAYS = 30;

export interface BatchItem {
  batchId: string;
  status: 'running' | 'done';
  senderId: string;
  contentType: number;
  recipients: number;
  pages: number;
  sent: number;
  failed: number;
  pagesDone: number;
  /** Pages already counted (a redelivered page is not counted twice). */
  donePages?: Set<number>;
  /** The request's digest: the same batchId with another request is refused. */
  fingerprint: string;
  /** Set once every page is queued (accepted by Lambda); until then a resubmission queues them again. */
  queuedAt?: number;
  createdAt: number;
  doneAt?: number;
  expiresAt: number;
}

export interface BatchRequest {
  sendId?: string;
  asSystem?: boolean;
  recvIds: readonly string[];
  contentType: number;
  content: unknown;
  batchId?: string;
  /** The batch's own offline push (schema `OfflinePush`), carried by every page. */
  offlinePush?: OfflinePushInfo;
}

export interface BatchProgress {
  batchId: string;
  status: 'running' | 'done';
  recipients: number;
  sent: number;
  failed: number;
  pages: number;
  pagesDone: number;
  createdAt: number;
}

const table = () => config.tableName('batches');

/** The deterministic clientMsgId of a batch's message to one recipient: a redelivered page stores nothing new. */
export function batchClientMsgId(batchId: string, recvId: string): string {
  return `b-${createHash('sha256').update(`${batchId}\n${recvId}`).digest('base64url').slice(0, 40)}`;
}

/** The registered users among `userIds`: BatchGetItem of 100 keys, eight requests in flight. */
async function unknownUsers(userIds: readonly string[]): Promise<string[]> {
  const usersTable = config.tableName('users');
  const found = new Set<string>();
  await forEachLimit(chunk(userIds, 100), 8, async (part) => {
    const res = await batchGet({ [usersTable]: { Keys: part.map((userId) => ({ userId })), ProjectionExpression: 'userId' } });
    for (const item of res[usersTable] ?? []) found.add(item.userId as string);
  });
  return userIds.filter((u) => !found.has(u));
}

export const batches = {
  async get(batchId: string): Promise<BatchItem | undefined> {
    const res = await ddb().send(new GetCommand({ TableName: table(), Key: { batchId }, ConsistentRead: true }));
    return res.Item as BatchItem | undefined;
  },

  /**
   * Counts a finished page once: its counters are added only if the page is not among
   * `donePages` yet. Returns the item after the update, or undefined if the page was counted already.
   */
  async countPage(batchId: string, page: number, sent: number, failed: number): Promise<BatchItem | undefined> {
    try {
      const res = await ddb().send(
        new UpdateCommand({
          TableName: table(),
          Key: { batchId },
          UpdateExpression: 'ADD sent :sent, failed :failed, pagesDone :one, donePages :pageSet',
          ConditionExpression: 'attribute_exists(batchId) AND NOT contains(donePages, :page)',
          ExpressionAttributeValues: { ':sent': sent, ':failed': failed, ':one': 1, ':pageSet': new Set([page]), ':page': page },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return res.Attributes as BatchItem;
    } catch (err) {
      if (isConditionFailure(err)) return undefined;
      throw err;
    }
  },

  async markDone(batchId: string): Promise<void> {
    try {
      await ddb().send(
        new UpdateCommand({
          TableName: table(),
          Key: { batchId },
          UpdateExpression: 'SET #status = :done, doneAt = :now',
          ConditionExpression: '#status = :running AND pagesDone >= pages',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':done': 'done', ':running': 'running', ':now': Date.now() },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  },
};

export function progressOf(item: BatchItem): BatchProgress {
  return {
    batchId: item.batchId,
    // pagesDone reaching pages is what counts; `status` follows it (a crash between the two updates is healed here).
    status: item.status === 'done' || item.pagesDone >= item.pages ? 'done' : 'running',
    recipients: item.recipients,
    sent: item.sent,
    failed: item.failed,
    pages: item.pages,
    pagesDone: item.pagesDone,
    createdAt: item.createdAt,
  };
}

/**
 * Checks the whole request (sender, content, every recipient registered), records the
 * batch and queues its pages. The same batchId again with the same request is a no-op
 * answering the same (and queues the pages again if the first attempt stopped before
 * all were queued: pages are idempotent); with another request it is refused.
 */
export async function createBatch(req: BatchRequest): Promise<{ batchId: string; recipients: number; pages: number }> {
  if (req.asSystem && req.sendId) throw new CirrusError('INVALID_ARGUMENT', 'Give either sendId or asSystem, not both');
  if (!req.asSystem && !req.sendId) throw new CirrusError('INVALID_ARGUMENT', 'sendId is required unless asSystem is true');
  const senderId = req.asSystem ? SYSTEM_SENDER : req.sendId!;
  const recvIds = [...new Set(req.recvIds)];
  if (recvIds.length === 0) throw new CirrusError('INVALID_ARGUMENT', 'recvIds must name at least one user');
  if (recvIds.length > MAX_BATCH_RECIPIENTS) throw new CirrusError('INVALID_ARGUMENT', `At most ${MAX_BATCH_RECIPIENTS} recipients per batch`);
  if (req.contentType === ContentType.quote) throw new CirrusError('INVALID_ARGUMENT', 'A quote belongs to one conversation; it cannot be sent as a batch');
  // As a send validates it (schema, size, rules of a 1:1 or notification conversation).
  const body = validateChatContent(req.contentType, req.content, {
    conversationId: 'batch',
    sessionType: senderId === SYSTEM_SENDER ? SessionType.notification : SessionType.single,
  });
  if (senderId !== SYSTEM_SENDER) await requireUsers([senderId]);
  const unknown = await unknownUsers(recvIds);
  if (unknown.length > 0) {
    throw new CirrusError('USER_NOT_FOUND', `${unknown.length} recipient(s) not registered: ${unknown.slice(0, 20).join(', ')}${unknown.length > 20 ? ', …' : ''}`);
  }

  // A UUID fits the id pattern batch ids share with user ids (letters, digits, '-').
  const batchId = req.batchId ?? randomUUID();
  // Pages of the sorted recipients: a resubmission (equal when its recipients are, in any
  // order) makes the same pages, and a page is counted once by its number.
  const sorted = [...recvIds].sort();
  const pages = chunk(sorted, BATCH_PAGE_SIZE);
  const fingerprint = createHash('sha256')
    .update(JSON.stringify([senderId, sorted, body.contentType, body.content]))
    .digest('base64url');
  const now = Date.now();
  const item: BatchItem = {
    batchId,
    status: 'running',
    senderId,
    contentType: body.contentType,
    recipients: recvIds.length,
    pages: pages.length,
    sent: 0,
    failed: 0,
    pagesDone: 0,
    fingerprint,
    createdAt: now,
    expiresAt: nowSeconds() + BATCH_TTL_DAYS * 86400,
  };
  const answer = { batchId, recipients: recvIds.length, pages: pages.length };
  try {
    await ddb().send(new PutCommand({ TableName: table(), Item: item, ConditionExpression: 'attribute_not_exists(batchId)' }));
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
    const existing = await batches.get(batchId);
    if (!existing || existing.fingerprint !== fingerprint) {
      throw new CirrusError('ALREADY_EXISTS', `Batch ${batchId} exists with another sender, recipients or content`);
    }
    if (existing.queuedAt !== undefined) return answer;
  }

  const correlation = correlationId();
  let refused = 0;
  // Ten invocations in flight: a full batch is queued in about a second.
  await forEachLimit(
    pages.map((recipients, page) => ({ recipients, page })),
    10,
    async ({ recipients, page }) => {
      const job: BatchPageJob = { kind: 'batchPage', batchId, page, senderId, recvIds: recipients, contentType: body.contentType, content: body.content, ...(req.offlinePush ? { offlinePush: req.offlinePush } : {}), sent: 0, failed: 0, correlationId: correlation };
      await invokeAsync('batchPages', job).catch((err: unknown) => {
        refused++;
        log.warn('batch page not queued', { batchId, page, err });
      });
    },
  );
  if (refused > 0) throw new CirrusError('INTERNAL', `${refused} page(s) of batch ${batchId} could not be queued; submit the same request again`);
  await ddb().send(new UpdateCommand({ TableName: table(), Key: { batchId }, UpdateExpression: 'SET queuedAt = :now', ExpressionAttributeValues: { ':now': Date.now() } }));
  log.info('batch queued', { batchId, recipients: recvIds.length, pages: pages.length });
  return answer;
}

export async function getBatch(batchId: string): Promise<BatchProgress> {
  const item = await batches.get(batchId);
  if (!item) throw new CirrusError('BATCH_NOT_FOUND', `No batch ${batchId}`);
  return progressOf(item);
}
