/**
 * A user's data, off the HTTP path (the userData function, invoked asynchronously):
 *
 * - an export: one gzip-compressed JSON Lines archive under `exports/<userId>/<exportId>/`:
 *   a first line `{"type":"export", …}` saying what it is, then one line per record:
 *   `profile`, `friend`, `friendRequest` (both ways), `block`, `group` (their membership and
 *   the group's name), `message` (every message they sent, from the Aurora history, in send
 *   order; a deleted or revoked one with its mark), `media` (each object under
 *   `media/<userId>/`: key, type, size, time); the status object is written `done` with the
 *   counts once the archive is stored, or `failed` with the reason.
 * - an erased user's media objects: every object under `media/<userId>/` deleted, 1,000 per
 *   DeleteObjects request; idempotent (a retry deletes what is left).
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { DeleteObjectsCommand, ListObjectsV2Command, type ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';
import { GetCommand, QueryCommand, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import { ddb } from '../aws/dynamodb';
import { s3 } from '../aws/s3';
import { S3ObjectWriter } from '../aws/s3-upload';
import { config } from '../config';
import { exportArchiveKey, userMediaPrefix } from '../domain/media';
import { byteCutPage, cutPage, execute, MESSAGE_COLUMNS, MESSAGE_RESPONSE_BYTES, PAGE_RESPONSE_BYTES, type Row } from '../history/history';
import { long, str, timestamp } from '../history/params';
import { faultPoint } from '../faults';
import { log } from '../log';
import { groups } from '../store/groups';
import { expiresAtOf, putExportStatus, type ExportCounts, type ExportEvent } from './exports';

/** Messages per history page (each page also cut at the Data API's 1 MiB response). */
const MESSAGE_PAGE = 1000;

/** Every item of a Query (a table or an index), a page (at most 1 MB) at a time. */
async function* queryPages(table: Parameters<typeof config.tableName>[0], key: string, value: string, index?: string): AsyncGenerator<Record<string, unknown>[]> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const page: QueryCommandOutput = await ddb().send(
      new QueryCommand({
        TableName: config.tableName(table),
        IndexName: index,
        KeyConditionExpression: '#k = :v',
        ExpressionAttributeNames: { '#k': key },
        ExpressionAttributeValues: { ':v': value },
        ExclusiveStartKey: startKey,
      }),
    );
    yield page.Items ?? [];
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}

/** Every item of a Query, one at a time. */
async function* queryAll(table: Parameters<typeof config.tableName>[0], key: string, value: string, index?: string): AsyncGenerator<Record<string, unknown>> {
  for await (const page of queryPages(table, key, value, index)) yield* page;
}

/** Every object under a user's media prefix: key, size, time (ListObjectsV2, 1,000 a page). */
async function* userMediaObjects(userId: string): AsyncGenerator<{ key: string; size: number; lastModified?: number }> {
  let token: string | undefined;
  do {
    const page: ListObjectsV2CommandOutput = await s3().send(new ListObjectsV2Command({ Bucket: config.mediaBucket(), Prefix: userMediaPrefix(userId), ContinuationToken: token }));
    for (const o of page.Contents ?? []) yield { key: o.Key!, size: Number(o.Size ?? 0), lastModified: o.LastModified?.getTime() };
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

/** The user's sent messages from the history, in (send time, conversation, seq) order, a page at a time. */
async function* sentMessages(userId: string): AsyncGenerator<ReturnType<typeof cutPage>['messages'][number]> {
  let after: { sendTime: number; conversationId: string; seq: number } | undefined;
  for (;;) {
    const rows = (await execute(
      byteCutPage(
        `SELECT ${MESSAGE_COLUMNS}, ${MESSAGE_RESPONSE_BYTES} AS response_bytes, send_time AS sort_time
           FROM messages
          WHERE sender_id = :userId
            ${after ? 'AND (send_time, conversation_id, seq) > (:afterTime, :afterConversation, :afterSeq)' : ''}
          ORDER BY send_time, conversation_id, seq
          LIMIT :limit`,
        'sort_time, conversation_id, seq',
      ),
      [
        str('userId', userId),
        long('limit', MESSAGE_PAGE + 1),
        long('pageBytes', PAGE_RESPONSE_BYTES),
        ...(after ? [timestamp('afterTime', after.sendTime), str('afterConversation', after.conversationId), long('afterSeq', after.seq)] : []),
      ],
    )) as unknown as Row[];
    const { messages, more } = cutPage(rows, MESSAGE_PAGE);
    for (const m of messages) yield m;
    if (!more || messages.length === 0) return;
    const last = messages[messages.length - 1];
    after = { sendTime: last.sendTime, conversationId: last.conversationId, seq: last.seq };
  }
}

/** The archive's lines, read a page at a time, counting what they hold. */
async function* exportLines(event: ExportEvent, counts: ExportCounts): AsyncGenerator<string> {
  const { userId, exportId, requestedAt } = event;
  const line = (record: Record<string, unknown>) => `${JSON.stringify(record)}\n`;
  yield line({ type: 'export', format: 'cirrus-user-export', version: 1, userId, exportId, requestedAt, createdAt: Date.now() });
  const user = (await ddb().send(new GetCommand({ TableName: config.tableName('users'), Key: { userId } }))).Item;
  if (user) {
    // Internal bookkeeping (the index key, live connection ids, group index shards, device flags) is not the user's data.
    const { listKey: _k, conns: _c, bigGroups: _g, devs: _d, ...profile } = user;
    yield line({ type: 'profile', ...profile });
  }
  for await (const f of queryAll('friends', 'userId', userId)) {
    yield line({ type: 'friend', ...f });
    counts.friends++;
  }
  for await (const r of queryAll('friendRequests', 'toUserId', userId)) {
    yield line({ type: 'friendRequest', direction: 'incoming', ...r });
    counts.friendRequests++;
  }
  for await (const r of queryAll('friendRequests', 'fromUserId', userId, 'byFrom')) {
    yield line({ type: 'friendRequest', direction: r.toUserId === userId ? 'incoming' : 'outgoing', ...r });
    counts.friendRequests++;
  }
  for await (const b of queryAll('blacklist', 'userId', userId)) {
    yield line({ type: 'block', ...b });
    counts.blocks++;
  }
  for await (const memberships of queryPages('groupMembers', 'userId', userId, 'byUser')) {
    const groupItems = memberships.length > 0 ? await groups.getMany(memberships.map((m) => String(m.groupId))) : new Map();
    for (const m of memberships) {
      const g = groupItems.get(String(m.groupId));
      yield line({ type: 'group', ...m, group: g ? { groupId: g.groupId, name: g.name, status: g.status } : null });
      counts.groups++;
    }
  }
  for await (const message of sentMessages(userId)) {
    yield line({ type: 'message', ...message });
    counts.messages++;
  }
  for await (const o of userMediaObjects(userId)) {
    yield line({ type: 'media', objectKey: o.key, size: o.size, lastModified: o.lastModified });
    counts.media++;
  }
  faultPoint('export.beforeStore', { userId, exportId });
}

/**
 * Builds the archive as a stream (JSON Lines, gzip, S3 parts of 5 MiB) and stores it with its
 * status. Memory holds one S3 part, one page of what is being read (a DynamoDB page of 1 MB,
 * a history page of at most 1 MiB) and gzip's window, whatever the size of the user's data.
 */
export async function buildExport(event: ExportEvent): Promise<ExportCounts> {
  const { userId, exportId, requestedAt } = event;
  const counts: ExportCounts = { friends: 0, friendRequests: 0, blocks: 0, groups: 0, messages: 0, media: 0 };
  const archive = new S3ObjectWriter({ Bucket: config.mediaBucket(), Key: exportArchiveKey(userId, exportId), ContentType: 'application/gzip' });
  try {
    await pipeline(Readable.from(exportLines(event, counts)), createGzip(), archive.sink());
    await archive.finish();
    await putExportStatus({ exportId, userId, status: 'done', requestedAt, completedAt: Date.now(), expiresAt: expiresAtOf(requestedAt), counts, bytes: archive.bytes });
    log.info('user export built', { userId, exportId, ...counts, bytes: archive.bytes, parts: archive.partCount });
    return counts;
  } catch (err) {
    // No parts left behind.
    await archive.abort();
    // Said in the status (a retry by Lambda may still succeed and overwrite it), then failed for the retry.
    await putExportStatus({ exportId, userId, status: 'failed', requestedAt, completedAt: Date.now(), expiresAt: expiresAtOf(requestedAt), error: (err as Error).message.slice(0, 500) }).catch(() => undefined);
    throw err;
  }
}

/** Deletes every media object an erased user uploaded; answers how many. */
export async function eraseUserMedia(userId: string): Promise<number> {
  let deleted = 0;
  for (;;) {
    // Always the first page: what was deleted is gone from the listing.
    const page: ListObjectsV2CommandOutput = await s3().send(new ListObjectsV2Command({ Bucket: config.mediaBucket(), Prefix: userMediaPrefix(userId), MaxKeys: 1000 }));
    const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
    if (keys.length === 0) break;
    const res = await s3().send(new DeleteObjectsCommand({ Bucket: config.mediaBucket(), Delete: { Objects: keys, Quiet: true } }));
    if (res.Errors && res.Errors.length > 0) throw new Error(`DeleteObjects refused ${res.Errors.length} keys: ${res.Errors[0].Code} ${res.Errors[0].Message}`);
    deleted += keys.length;
    if (!page.IsTruncated) break;
  }
  log.info('erased user media deleted', { userId, deleted });
  return deleted;
}
