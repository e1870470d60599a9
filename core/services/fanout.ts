/**
 * What follows an accepted message's write, in the function that accepted it (the seed's
 * msg_transfer, without a queue between): the sender's own read position moves past their
 * message, and its recipients' live connections get
 * the push — posted here when there are at most INLINE_PUSH_MAX recipients (1:1 and
 * notification messages always), otherwise through asynchronous invocations of the push
 * function, one per slice of `PUSH_JOB_USERS` recipients (`PUSH_JOB_CONNECTIONS` connections
 * when a group's online index gives them). The ack follows all of it.
 *
 * Push is best effort: a post that fails or is throttled, or a push invocation Lambda
 * refuses, never fails the send (the message is stored and sync is the truth); a
 * connection found gone (410) is still cleaned up. The position is not best effort: if it
 * fails the send fails, and the client's retry (same clientMsgId, acknowledged once) does it
 * again and pushes again. The archive needs nothing from here: the message's write is its
 * record in the Messages stream, which the archive function consumes.
 */
import { invokeAsync } from '../aws/lambda';
import { config } from '../config';
import { parseConversationId, SYSTEM_SENDER } from '../domain/ids';
import { correlationId, log } from '../log';
import { SessionType, type Message } from '../protocol/schema';
import { conversations } from '../store/conversations';
import { chunk } from '../store/dynamo';
import { groups } from '../store/groups';
import type { MessageItem } from '../store/messages';
import { resumeIndex } from './online-index';
import { pushRecipientsOf, type NotifyTarget } from '../offline-push/rules';
import { decideTargets, invokeNotify } from '../offline-push/targets';
import { groupRecipientsOrState, packKnown, pushToUsers, type KnownRecipients, type PushJob } from './push';

/**
 * Recipients (or, from a group's online index, connections) per asynchronous push invocation: with at most a few devices each, a slice
 * is a few hundred posts, well inside the push function's timeout at its post concurrency,
 * and its payload (ids and one message of at most 16 KB of content) far below Lambda's 1 MB.
 */
export const PUSH_JOB_USERS = 100;

/**
 * Connections per asynchronous push invocation when they are known (a group's online index):
 * nothing to read, only posts, so a slice is as large as the post concurrency keeps short
 * (~100 ms at 80 in flight in AWS), with far fewer invocations; ~100 bytes each in the payload
 * (50 KB, with one message of at most 16 KB of content).
 */
export const PUSH_JOB_CONNECTIONS = 500;

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

export interface FanOutOptions {
  /** The connection the message came from: it gets the ack, not a push. */
  originConnectionId?: string;
  /** Besides a user sender, this user has read the message (the actor behind a notification). */
  readBy?: string;
  /** The recipients, already read by the caller: the push reads nothing (see `KnownRecipients`). */
  known?: KnownRecipients;
  /** The sender's own position was recorded on the counter by the send itself (a windowed 1:1 send): not recorded again. */
  ownOnCounter?: boolean;
  /** The seq of `readBy`'s latest own message, as the counter recorded it (1:1 conversations). */
  readByOwnSeq?: number;
  /** The message was just written (not a resend, which notifies nobody again): its away recipients get an offline push. */
  notify?: boolean;
  /** Takes the offline-push targets instead of invoking the notify function (a batch page gathers its page's). */
  offline?: OfflineCollector;
}

/** Receives a message's offline-push targets (see core/offline-push/targets.ts). */
export type OfflineCollector = (message: Message, targets: NotifyTarget[]) => void;

/** The accepted message's follow-up; returns once the push was posted (or handed to push invocations). */
export async function fanOut(item: MessageItem, options: FanOutOptions = {}): Promise<void> {
  const { expiresAt: _ttl, limited: _limited, ...message } = item;
  const correlation = correlationId();
  await Promise.all([
    // Sending implies having read the conversation; causing a notification does not.
    message.senderId !== SYSTEM_SENDER
      ? options.ownOnCounter
        ? undefined
        : conversations.advanceOwn(message.senderId, message.conversationId, message.seq)
      : options.readBy
        ? conversations.advanceRead(options.readBy, message.conversationId, message.seq, { onlyIfCaughtUp: true, ownSeq: options.readByOwnSeq })
        : undefined,
    push(message, options, correlation),
  ]);
}

async function push(message: Message, options: FanOutOptions, correlation: string | undefined): Promise<void> {
  const started = performance.now();
  try {
    // A large group's online members come from its online index: offline members cost nothing.
    const indexed = !options.known && message.sessionType === SessionType.group ? await groupRecipientsOrState(message.groupId!) : undefined;
    // A large group whose index is still being built: this message reads the members, and moves the build on.
    // Its failure must not fail the message: the next message or join resumes it again.
    if (indexed?.state && !indexed.state.ready) {
      await resumeIndex(message.groupId!, indexed.state).catch((err) => log.warn('group online index build step failed', { groupId: message.groupId, err }));
    }
    const known = options.known ?? indexed?.known;
    const recipients = known ? [] : await recipientsOf(message);
    const notify = options.notify === true && pushRecipientsOf(message) !== 'none';
    // A large group's offline members with devices are on its roster, which the notify function reads: one invocation per
    // message, none while the roster is known empty (`rosterV` 0: no member has a device).
    const roster =
      notify && indexed?.known && indexed.state && indexed.rosterV !== 0
        ? invokeNotify({ message, roster: { groupId: message.groupId!, shards: indexed.state.s, ...(indexed.rosterV !== undefined ? { v: indexed.rosterV } : {}) }, correlationId: correlation })
        : undefined;
    const job: PushJob = { userIds: recipients, message, excludeConnectionId: options.originConnectionId, correlationId: correlation, ...(notify && !indexed?.known ? { notify: true } : {}) };
    const inline = known ? known.live.length <= Math.max(2, config.inlinePushMax()) : recipients.length <= Math.max(2, config.inlinePushMax());
    if (inline) {
      const [outcome] = await Promise.all([pushToUsers(job, known), roster]);
      if (outcome.targets?.length) {
        if (options.offline) options.offline(message, outcome.targets);
        else await invokeNotify({ message, targets: outcome.targets, correlationId: correlation });
      }
      if (outcome.failed > 0) log.warn('push incomplete; the recipients get the message by sync', { conversationId: message.conversationId, seq: message.seq, ...outcome });
      else log.debug('message pushed', { conversationId: message.conversationId, seq: message.seq, ms: Math.round(performance.now() - started), ...outcome });
      return;
    }
    // Known recipients read as away (a 1:1 send's precheck): decided here; the push function's slices decide for the recipients they read.
    const away = notify && known?.away?.length ? decideTargets(message, known.away, known.options) : [];
    if (away.length > 0) {
      if (options.offline) options.offline(message, away);
      else await invokeNotify({ message, targets: away, correlationId: correlation });
    }
    // Slices of recipients (read by the push function), or of known connections (nothing read).
    const jobs: PushJob[] = known
      ? chunk(packKnown(known), PUSH_JOB_CONNECTIONS).map((part) => ({ ...job, userIds: [], known: part }))
      : chunk(recipients, PUSH_JOB_USERS).map((userIds) => ({ ...job, userIds }));
    const [results] = await Promise.all([Promise.allSettled(jobs.map((slice) => invokeAsync('push', slice satisfies PushJob))), roster]);
    const refused = results.filter((r) => r.status === 'rejected');
    if (refused.length > 0) {
      log.warn('push invocations refused; their recipients get the message by sync', { conversationId: message.conversationId, seq: message.seq, refused: refused.length, of: jobs.length, err: (refused[0] as PromiseRejectedResult).reason });
    } else log.debug('push invocations queued', { conversationId: message.conversationId, seq: message.seq, recipients: recipients.length, online: known?.live.length, slices: jobs.length });
  } catch (err) {
    log.warn('push failed; the recipients get the message by sync', { conversationId: message.conversationId, seq: message.seq, err });
  }
}
