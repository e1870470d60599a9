/**
 * `beforeSendMessage`: the app backend's say on a message before Cirrus accepts it. Called
 * synchronously in the send path, after validation and the send-time rules and before a
 * seq is allocated, so a refusal stores nothing and leaves no hole.
 */
import * as z from 'zod';
import { config } from '../config';
import { CirrusError } from '../errors';
import { log } from '../log';
import type { MessageBody } from '../protocol/schema';
import { deliveryId, postCallback } from './client';

/** What the app backend is told about the message. */
export interface BeforeSendMessageData {
  senderId: string;
  senderPlatformId?: number;
  clientMsgId: string;
  conversationId: string;
  sessionType: number;
  recvId?: string;
  groupId?: string;
  contentType: number;
  content: unknown;
}

/** The app backend's answer. */
const Answer = z.discriminatedUnion('action', [
  z.object({ action: z.literal('allow') }),
  z.object({ action: z.literal('refuse'), code: z.number().int().min(10000).max(19999), message: z.string().max(1000).optional() }),
  z.object({ action: z.literal('modify'), content: z.unknown() }),
]);

/**
 * Returns the body to send: unchanged (allowed, not enabled, skipped content type, or a
 * failure under the `open` policy) or the app's modification, validated by `validate`
 * exactly as a client's content is. Throws REFUSED_BY_APP on a refusal, and
 * APP_UNAVAILABLE on a failure under the `closed` policy. An invalid modification counts
 * as a failure of the backend: it is never stored.
 */
export async function beforeSendMessage(data: BeforeSendMessageData, body: MessageBody, validate: (contentType: number, content: unknown) => MessageBody): Promise<MessageBody> {
  const callback = config.webhookCallback('beforeSendMessage');
  if (!callback || callback.skipContentTypes?.includes(body.contentType)) return body;
  // Stable across the sender's retries of the same clientMsgId.
  const id = deliveryId('beforeSendMessage', data.senderId, data.clientMsgId);
  let failure: string;
  try {
    const answer = await postCallback('beforeSendMessage', id, data, callback);
    if (answer.status >= 200 && answer.status < 300) {
      const parsed = Answer.safeParse(safeJson(answer.body));
      if (!parsed.success) failure = 'malformed answer';
      else if (parsed.data.action === 'allow') return body;
      else if (parsed.data.action === 'refuse') {
        throw new CirrusError('REFUSED_BY_APP', parsed.data.message ?? 'The app refused the message', { appCode: parsed.data.code });
      } else {
        try {
          return validate(body.contentType, parsed.data.content);
        } catch (err) {
          failure = `invalid modification: ${(err as Error).message}`;
        }
      }
    } else failure = `HTTP ${answer.status}`;
  } catch (err) {
    if (err instanceof CirrusError) throw err;
    const name = (err as Error).name;
    failure = name === 'TimeoutError' || name === 'AbortError' ? `no answer within ${callback.timeoutMs} ms` : `request failed: ${(err as Error).message}`;
  }
  const policy = callback.failurePolicy ?? 'open';
  log.warn('beforeSendMessage webhook failed', { failure, policy, conversationId: data.conversationId });
  if (policy === 'closed') throw new CirrusError('APP_UNAVAILABLE', `The app backend did not answer beforeSendMessage usably (${failure}); retry later`);
  return body;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
