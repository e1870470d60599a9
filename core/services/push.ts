/**
 * Push: post a message to its recipients' live connections. An optimisation on top of
 * sync — at-least-once, deduplicated by the client on (conversationId, seq) — so a failed
 * push only costs latency, never a message.
 */
import { DeleteConnectionCommand, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { management } from '../aws/management';
import { config } from '../config';
import { log } from '../log';
import type { Message, PushFrame } from '../protocol/schema';
import { connections, type ConnectionItem } from '../store/connections';

/** Concurrent PostToConnection calls per invocation (the account throttle is shared). */
const POST_CONCURRENCY = 16;
const MAX_THROTTLE_RETRIES = 3;

export interface PushJob {
  userIds: string[];
  message: Message;
  /** The sender's connection, which got the ack instead. */
  excludeConnectionId?: string;
  correlationId?: string;
}

export interface PushOutcome {
  delivered: number;
  /** Connections found gone (410) and deleted. */
  gone: number;
  /** Connections that could not be reached for another reason; the job should be retried. */
  failed: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function mapLimit<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]);
  });
  await Promise.all(workers);
}

async function postOne(endpoint: string, conn: ConnectionItem, data: Uint8Array, outcome: PushOutcome): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await management(endpoint).send(new PostToConnectionCommand({ ConnectionId: conn.connectionId, Data: data }));
      outcome.delivered++;
      return;
    } catch (err) {
      const name = (err as { name?: string }).name;
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (name === 'GoneException' || status === 410) {
        // The recipient's connection is gone: delete that one, never anyone else's.
        await connections.delete(conn.userId, conn.connectionId);
        outcome.gone++;
        return;
      }
      if ((name === 'LimitExceededException' || status === 429) && attempt < MAX_THROTTLE_RETRIES) {
        await sleep(Math.random() * 100 * 2 ** attempt);
        continue;
      }
      log.warn('push failed', { connectionId: conn.connectionId, userId: conn.userId, err });
      outcome.failed++;
      return;
    }
  }
}

export async function pushToUsers(job: PushJob): Promise<PushOutcome> {
  const endpoint = config.connectionsEndpoint();
  const outcome: PushOutcome = { delivered: 0, gone: 0, failed: 0 };
  const frame: PushFrame = { push: 'newMsg', data: job.message };
  const data = Buffer.from(JSON.stringify(frame));
  const targets: ConnectionItem[] = [];
  await mapLimit(job.userIds, POST_CONCURRENCY, async (userId) => {
    for (const conn of await connections.ofUser(userId)) if (conn.connectionId !== job.excludeConnectionId) targets.push(conn);
  });
  await mapLimit(targets, POST_CONCURRENCY, (conn) => postOne(endpoint, conn, data, outcome));
  return outcome;
}

/** Closes a connection from the server side (used when its session is revoked). */
export async function disconnect(connectionId: string): Promise<void> {
  await management(config.connectionsEndpoint()).send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
}
