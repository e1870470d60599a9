/**
 * Archive: copy messages into the Aurora history, and users and groups into its
 * directory mirrors (statistics, admin user search), idempotently. Fed by the streams of
 * the Messages table (every message written or changed: the outbox of the send path) and
 * of the Outbox table (directory rows), so a write that is acknowledged reaches the
 * history even when the function that made it crashed right after.
 *
 * Failures: Aurora resuming from auto-pause (or any other transient error) fails the
 * record for a retry from it, as Lambda retries a stream batch; a record that can never
 * be archived (unreadable, or refused by the database on its own) is sent whole to the
 * shared dead-letter queue and counted as done, so it never holds back its shard.
 */
import type { AttributeValue as LambdaAttributeValue, DynamoDBRecord } from 'aws-lambda';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { sendMessage, sqsBody } from '../aws/sqs';
import { directory } from '../history/directory';
import { auditLog, type AuditEntry } from '../store/audit';
import { history } from '../history/history';
import { historyErasure } from '../history/erasure';
import { log } from '../log';
import { queueEnvVar } from '../env-names';
import type { DirectoryGroup, DirectoryUser, ReplacedContent, WebhookJob } from '../protocol/jobs';
import * as z from 'zod/mini';
import { DirectoryGroupSchema, DirectoryUserSchema } from '../protocol/jobs';
import type { Message } from '../protocol/schema';
import { toMessage, type MessageItem } from '../store/messages';
import { afterSendMessageJob } from '../webhooks/after';
import { sendBatch } from './queues';
import '../protocol/zod-locale';

export interface MessageArchiveItem {
  id: string;
  message: Message;
  /** An edit: the content it replaced (kept in `message_edits`). */
  replaced?: ReplacedContent;
  /** A new message (an INSERT): its afterSendMessage callback is queued once archived. */
  inserted?: boolean;
  /** A user's own send, counted in their sending window (the item's `limited`). */
  limited?: boolean;
}

export type ArchiveItem = MessageArchiveItem | { id: string; user: DirectoryUser } | { id: string; users: DirectoryUser[] } | { id: string; group: DirectoryGroup } | { id: string; audit: AuditEntry } | { id: string; erase: { userId: string; at: number; notificationConversations: string[] } };

/** An Outbox item: one directory row to mirror. */
export type OutboxItem = { id: string; kind: 'user'; user: DirectoryUser; expiresAt: number } | { id: string; kind: 'users'; users: DirectoryUser[]; expiresAt: number } | { id: string; kind: 'group'; group: DirectoryGroup; expiresAt: number };

const isMessage = (i: ArchiveItem): i is MessageArchiveItem => 'message' in i;

const editsOf = (items: readonly MessageArchiveItem[]) =>
  items.flatMap((i) => (i.replaced ? [{ conversationId: i.message.conversationId, seq: i.message.seq, ...i.replaced }] : []));

async function write(items: readonly ArchiveItem[]): Promise<void> {
  const messages = items.filter(isMessage);
  await history.recordEdits(editsOf(messages));
  await history.insertMessages(messages.map((i) => i.message));
  await directory.upsertUsers(items.flatMap((i) => ('user' in i ? [i.user] : 'users' in i ? i.users : [])));
  await directory.upsertGroups(items.flatMap((i) => ('group' in i ? [i.group] : [])));
  await auditLog.putMany(items.flatMap((i) => ('audit' in i ? [i.audit] : [])));
  // After the messages of the same batch: an erasure also covers what was just archived.
  for (const i of items) if ('erase' in i) await historyErasure.eraseUser(i.erase.userId, i.erase.notificationConversations, i.erase.at);
}

function describe(item: ArchiveItem): Record<string, unknown> {
  if (isMessage(item)) return { conversationId: item.message.conversationId, seq: item.message.seq };
  if ('users' in item) return { users: item.users.length, firstUserId: item.users[0]?.userId };
  if ('audit' in item) return { audit: item.audit.id, action: item.audit.action };
  if ('erase' in item) return { erase: item.erase.userId };
  return 'user' in item ? { userId: item.user.userId } : { groupId: item.group.groupId };
}

/** Errors that pass by themselves: the same write succeeds later. */
const TRANSIENT = new Set([
  'DatabaseResumingException',
  'DatabaseUnavailableException',
  'DatabaseNotFoundException',
  'ServiceUnavailableError',
  'InternalServerErrorException',
  'ThrottlingException',
  'TooManyRequestsException',
  'StatementTimeoutException',
  'HttpTimeoutException',
  'TimeoutError',
  'AbortError',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
]);

export function isTransient(err: unknown): boolean {
  const e = err as { name?: string; code?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } } | undefined;
  if (!e) return false;
  if (TRANSIENT.has(e.name ?? '') || TRANSIENT.has(e.code ?? '')) return true;
  if (e.$retryable) return true;
  const status = e.$metadata?.httpStatusCode;
  return status !== undefined && status >= 500;
}

export interface ArchiveOutcome {
  /** Archived (or archived before: the writes are idempotent). */
  done: Set<string>;
  /** To retry: a transient failure. */
  retry: Set<string>;
  /** Never archivable, with the reason: the caller sends them to the dead-letter queue. */
  poison: Map<string, string>;
}

/** Archives a batch. */
export async function archive(items: readonly ArchiveItem[]): Promise<ArchiveOutcome> {
  const outcome: ArchiveOutcome = { done: new Set(), retry: new Set(), poison: new Map() };
  if (items.length === 0) return outcome;
  try {
    await write(items);
    for (const item of items) outcome.done.add(item.id);
    log.debug('batch archived', { size: items.length });
    return outcome;
  } catch (err) {
    if (isTransient(err)) {
      // Aurora waking from auto-pause: the whole batch is retried.
      log.info('history database unavailable; batch will be retried', { size: items.length, err: (err as Error).name });
      for (const item of items) outcome.retry.add(item.id);
      return outcome;
    }
    // Find the rows at fault so one bad record cannot hold back the rest.
    log.warn('batch insert failed; retrying rows one by one', { err });
  }
  for (const item of items) {
    try {
      await write([item]);
      outcome.done.add(item.id);
    } catch (rowErr) {
      if (isTransient(rowErr)) {
        outcome.retry.add(item.id);
      } else {
        log.error('archive failed', { ...describe(item), err: rowErr });
        outcome.poison.set(item.id, (rowErr as Error).message ?? String(rowErr));
      }
    }
  }
  return outcome;
}

/**
 * An attribute value with no type at all: DynamoDB Local writes an empty map (`{"M": {}}`, e.g.
 * the `reactions` a revoke clears) into its stream images that way. Read as the empty map it is.
 */
const typed = (value: LambdaAttributeValue): AttributeValue => {
  const v = value as Record<string, unknown>;
  if (Object.keys(v).length === 0) return { M: {} };
  if (v.M) return { M: Object.fromEntries(Object.entries(v.M as Record<string, LambdaAttributeValue>).map(([k, x]) => [k, typed(x)])) };
  if (v.L) return { L: (v.L as LambdaAttributeValue[]).map(typed) };
  return value as AttributeValue;
};

const image = (img: Record<string, LambdaAttributeValue> | undefined) =>
  img ? unmarshall(Object.fromEntries(Object.entries(img).map(([k, v]) => [k, typed(v)])) as Record<string, AttributeValue>) : undefined;

function messageOf(item: Record<string, unknown>): Message {
  const m = toMessage(item as unknown as MessageItem);
  if (typeof m.conversationId !== 'string' || typeof m.seq !== 'number' || typeof m.serverMsgId !== 'string' || typeof m.senderId !== 'string' || typeof m.sendTime !== 'number') {
    throw new Error('not a message item');
  }
  return m;
}

/** An audit log entry written to the Outbox by the http function (core/services/audit.ts). */
function auditEntryOf(value: unknown): AuditEntry {
  const e = value as Partial<AuditEntry> | undefined;
  if (!e || typeof e.id !== 'string' || typeof e.at !== 'number' || typeof e.actor !== 'string' || typeof e.action !== 'string' || typeof e.outcome !== 'string' || typeof e.correlationId !== 'string') {
    throw new Error('not an audit entry');
  }
  return e as AuditEntry;
}

/** An Outbox item (`id`, `kind`), as opposed to a message (keyed by conversation and seq). */
const isOutboxItem = (item: Record<string, unknown>) => item.conversationId === undefined && typeof item.id === 'string' && item.kind !== undefined;

/**
 * The archive item of one stream record of Messages or Outbox (told apart by their keys:
 * the function needs no table name), or undefined when there is nothing to archive (a
 * kind the mapping's filter should have dropped). Throws when the record is unreadable.
 */
export function itemOfRecord(record: DynamoDBRecord): ArchiveItem | undefined {
  const id = record.dynamodb?.SequenceNumber ?? '';
  if (record.eventName !== 'INSERT' && record.eventName !== 'MODIFY') return undefined;
  const next = image(record.dynamodb?.NewImage);
  if (!next) throw new Error('the record has no new image');
  if (isOutboxItem(next)) {
    if (record.eventName !== 'INSERT') return undefined;
    if (next.kind === 'user') return { id, user: DirectoryUserSchema.parse(next.user) };
    if (next.kind === 'users') return { id, users: z.array(DirectoryUserSchema).parse(next.users) };
    if (next.kind === 'group') return { id, group: DirectoryGroupSchema.parse(next.group) };
    if (next.kind === 'audit') return { id, audit: auditEntryOf(next.entry) };
    if (next.kind === 'erase' && typeof next.userId === 'string' && typeof next.at === 'number') {
      const notificationConversations = Array.isArray(next.notificationConversations) ? next.notificationConversations.map(String) : [];
      return { id, erase: { userId: next.userId, at: next.at, notificationConversations } };
    }
    throw new Error(`unknown outbox kind ${String(next.kind)}`);
  }
  const message = messageOf(next);
  if (record.eventName === 'INSERT') return { id, message, inserted: true, ...(next.limited === true ? { limited: true } : {}) };
  // An edit (this change set `edited` to its new version) keeps the content it replaced.
  const previous = image(record.dynamodb?.OldImage);
  const edited = message.edited as { at: number; version: number } | undefined;
  if (previous && edited && edited.version === (message.version ?? 0)) {
    const before = previous as unknown as MessageItem;
    return { id, message, replaced: { version: before.version ?? 0, contentType: before.contentType, content: before.content, replacedAt: edited.at } };
  }
  return { id, message };
}

/** A record given up on, whole, with why: an operator can fix and replay it (docs/operations.md). */
export async function sendToDeadLetters(source: string, record: unknown, reason: string): Promise<void> {
  const url = process.env[queueEnvVar('deadLetters')];
  if (!url) throw new Error(`${queueEnvVar('deadLetters')} is not set`);
  const body = { source, reason, at: new Date().toISOString(), record };
  let text = sqsBody(body);
  // SQS takes at most 256 KiB: a record too large keeps its keys (the item is still in its table for 24 hours at least).
  if (Buffer.byteLength(text) > 250_000) {
    const r = record as DynamoDBRecord;
    text = sqsBody({ ...body, record: { eventID: r.eventID, eventName: r.eventName, eventSourceARN: r.eventSourceARN, dynamodb: { Keys: r.dynamodb?.Keys, SequenceNumber: r.dynamodb?.SequenceNumber } }, truncated: true });
  }
  await sendMessage(url, text);
}

/** Queues the afterSendMessage callbacks of newly archived messages; returns the ids whose job could not be queued. */
export async function queueAfterSend(items: readonly MessageArchiveItem[]): Promise<Set<string>> {
  const jobs: { owner: string; body: WebhookJob }[] = [];
  for (const item of items) {
    const job = item.inserted ? afterSendMessageJob(item.message) : undefined;
    if (job) jobs.push({ owner: item.id, body: job });
  }
  if (jobs.length === 0) return new Set();
  return sendBatch('webhook', jobs);
}

export { isMessage };
