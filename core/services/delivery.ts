/**
 * Delivery (the seed's msg_transfer): for each accepted message, resolve recipients,
 * push small fan-outs inline and split large ones into push jobs, move the sender's read
 * position past their own message. The history and the afterSendMessage callback are fed
 * by the Messages table's stream (core/services/archive.ts), not from here.
 * Everything here is idempotent, so SQS redelivery is safe.
 */
import { config } from '../config';
import { parseConversationId, SYSTEM_SENDER } from '../domain/ids';
import { faultPoint } from '../faults';
import { log, withLogContext } from '../log';
import { SessionType, type Message } from '../protocol/schema';
import { conversations } from '../store/conversations';
import { chunk } from '../store/dynamo';
import { groups } from '../store/groups';
import { pushToUsers, type PushJob } from './push';
import { sendBatch } from './queues';
import type { DeliveryJob } from './send';

/** Recipients per push job: one Lambda invocation posts to at most this many users' devices. */
export const PUSH_JOB_USERS = 100;

export async function recipientsOf(message: Message): Promise<string[]> {
  switch (message.sessionType) {
    case SessionType.group:
      return groups.memberIds(message.groupId!);
    case SessionType.notification:
      return [message.recvId!];
    default: {
      // The two users of `si_<a>_<b>` (also right for system notifications into it, which have no recvId).
      const parsed = parseConversationId(message.conversationId);
      return parsed?.sessionType === SessionType.single ? [...new Set(parsed.members)] : [...new Set([message.senderId, message.recvId!])];
    }
  }
}

export interface DeliveryItem {
  /** SQS messageId of the record carrying the job. */
  id: string;
  job: DeliveryJob;
}

/** Delivers a batch; returns the ids of the items to retry. */
export async function deliver(items: readonly DeliveryItem[]): Promise<Set<string>> {
  const failed = new Set<string>();
  const pushJobs: { owner: string; body: PushJob }[] = [];

  await Promise.all(
    items.map(({ id, job }) =>
      withLogContext({ correlationId: job.correlationId }, async () => {
        const { message } = job;
        try {
          const recipients = await recipientsOf(message);
          // Sending implies having read the conversation; causing a notification does not.
          if (message.senderId !== SYSTEM_SENDER) await conversations.advanceOwn(message.senderId, message.conversationId, message.seq);
          else if (job.readBy) await conversations.advanceRead(job.readBy, message.conversationId, message.seq, { onlyIfCaughtUp: true });
          if (recipients.length <= config.inlinePushMax()) {
            const outcome = await pushToUsers({ userIds: recipients, message, excludeConnectionId: job.originConnectionId });
            log.debug('message pushed', { conversationId: message.conversationId, seq: message.seq, ...outcome });
            if (outcome.failed > 0) failed.add(id);
          } else {
            for (const userIds of chunk(recipients, PUSH_JOB_USERS)) {
              pushJobs.push({ owner: id, body: { userIds, message, excludeConnectionId: job.originConnectionId, correlationId: job.correlationId } });
            }
          }
          log.debug('message delivered', { conversationId: message.conversationId, seq: message.seq, recipients: recipients.length });
        } catch (err) {
          log.error('delivery failed', { conversationId: message.conversationId, seq: message.seq, err });
          failed.add(id);
        }
      }),
    ),
  );

  for (const owner of await sendBatch('push', pushJobs.filter((j) => !failed.has(j.owner)))) failed.add(owner);
  faultPoint('delivery.afterFanout', { size: items.length });
  return failed;
}
