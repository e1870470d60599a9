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
import { createGzip } from 'node:zlib';
import { DeleteObjectsCommand, ListObjectsV2Command, PutObjectCommand, type ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';
import { GetCommand, QueryCommand, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import { ddb } from '../aws/dynamodb';
import { s3 } from '../aws/s3';
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

/** Every item of a Query (a table or an index), page by page. */
async function queryAll(table: Parameters<typeof config.tableName>[0], key: string, value: string, index?: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
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
    out.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return out;
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

/** Builds the archive in memory (gzip of JSON Lines) and stores it with its status. */
export async function buildExport(event: ExportEvent): Promise<ExportCounts> {
  const { userId, exportId, requestedAt } = event;
  const gzip = createGzip();
  const chunks: Buffer[] = [];
  gzip.on('data', (c: Buffer) => chunks.push(c));
  const finished = new Promise<void>((resolve, reject) => {
    gzip.on('end', resolve);
    gzip.on('error', reject);
  });
  const line = (record: Record<string, unknown>) => {
    gzip.write(`${JSON.stringify(record)}\n`);
  };
  const counts: ExportCounts = { friends: 0, friendRequests: 0, blocks: 0, groups: 0, messages: 0, media: 0 };
  try {
    line({ type: 'export', format: 'cirrus-user-export', version: 1, userId, exportId, requestedAt, createdAt: Date.now() });
    const user = (await ddb().send(new GetCommand({ TableName: config.tableName('users'), Key: { userId } }))).Item;
    if (user) {
      // Internal bookkeeping (the index key, live connection ids, group index shards, device flags) is not the user's data.
      const { listKey: _k, conns: _c, bigGroups: _g, devs: _d, ...profile } = user;
      line({ type: 'profile', ...profile });
    }
    for (const f of await queryAll('friends', 'userId', userId)) {
      line({ type: 'friend', ...f });
      counts.friends++;
    }
    const incoming = await queryAll('friendRequests', 'toUserId', userId);
    const outgoing = await queryAll('friendRequests', 'fromUserId', userId, 'byFrom');
    for (const r of [...incoming, ...outgoing]) {
      line({ type: 'friendRequest', direction: r.toUserId === userId ? 'incoming' : 'outgoing', ...r });
      counts.friendRequests++;
    }
    for (const b of await queryAll('blacklist', 'userId', userId)) {
      line({ type: 'block', ...b });
      counts.blocks++;
    }
    const memberships = await queryAll('groupMembers', 'userId', userId, 'byUser');
    const groupItems = memberships.length > 0 ? await groups.getMany(memberships.map((m) => String(m.groupId))) : new Map();
    for (const m of memberships) {
      const g = groupItems.get(String(m.groupId));
      line({ type: 'group', ...m, group: g ? { groupId: g.groupId, name: g.name, status: g.status } : null });
      counts.groups++;
    }
    for await (const message of sentMessages(userId)) {
      line({ type: 'message', ...message });
      counts.messages++;
    }
    for await (const o of userMediaObjects(userId)) {
      line({ type: 'media', objectKey: o.key, size: o.size, lastModified: o.lastModified });
      counts.media++;
    }
    faultPoint('export.beforeStore', { userId, exportId });
    gzip.end();
    await finished;
    const body = Buffer.concat(chunks);
    await s3().send(
      new PutObjectCommand({ Bucket: config.mediaBucket(), Key: exportArchiveKey(userId, exportId), Body: body, ContentType: 'application/gzip' }),
    );
    await putExportStatus({ exportId, userId, status: 'done', requestedAt, completedAt: Date.now(), expiresAt: expiresAtOf(requestedAt), counts, bytes: body.length });
    log.info('user export built', { userId, exportId, ...counts, bytes: body.length });
    return counts;
  } catch (err) {
    gzip.destroy();
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
