/**
 * The offline-push decision, made where the recipients are already read (the send's
 * precheck, the push's BatchGetItem of the recipients, a batch page): a recipient other than
 * the sender is a target when their user item names devices (`devs`) and none of their live
 * connections is in the foreground (an entry without `bg: 1`), their effective receive
 * option is not 1 (do not receive), and the message is one users expect to be told about
 * (rules.ts `pushRecipientsOf`). The targets go to the notify function, one asynchronous
 * invocation per `NOTIFY_JOB_TARGETS` of them, only when there is at least one.
 */
import { invokeAsync } from '../aws/lambda';
import { chunk } from '../store/dynamo';
import { log } from '../log';
import { hasForegroundConnection } from '../store/connections';
import { hasDevices } from '../store/devices';
import { excludedFrom, isMentioned, pushRecipientsOf, type NotifyTarget, type PushMessage, type RecvOpt } from './rules';

/** Targets per notify invocation: with at most a few devices each, a few hundred provider calls, well inside its timeout. */
export const NOTIFY_JOB_TARGETS = 100;

/** The attributes of a user item the decision reads (added to the projections of the reads the send path makes anyway). */
export const PUSH_STATE_ATTRIBUTES = 'devs';

/** An asynchronous invocation of the notify function. */
export interface NotifyJob {
  kind: 'notify';
  /** The stored message (a batch page's: the template of every target's own message, see `NotifyTarget.m`). */
  message: PushMessage;
  /** Recipients decided to be away: notified. */
  targets?: NotifyTarget[];
  /** Recipients with devices whose foreground state the notify function checks itself (a large group's roster). */
  candidates?: NotifyTarget[];
  /** A large indexed group: the notify function reads its roster of members with devices (store/group-online.ts). */
  roster?: {
    groupId: string;
    shards: number;
    /** The group's `rosterV` as the send read it (absent: unset), for marking the roster empty if it is (store/group-online.ts). */
    v?: number;
  };
  correlationId?: string;
}

export { hasForegroundConnection };

/** Whether a user, as their item was read, needs an offline push: devices, and no foreground connection. */
export function isAway(item: { devs?: unknown; conns?: unknown } | undefined, nowSeconds?: number): boolean {
  return item !== undefined && hasDevices(item.devs) && !hasForegroundConnection(item.conns, nowSeconds);
}

/**
 * The targets among `away` (users read as away with devices), by the message's rules and
 * each one's effective receive option (`options`, absent: 0).
 */
export function decideTargets(message: PushMessage, away: Iterable<string>, options: ReadonlyMap<string, RecvOpt>): NotifyTarget[] {
  const who = pushRecipientsOf(message);
  if (who === 'none') return [];
  const excluded = excludedFrom(message);
  const out: NotifyTarget[] = [];
  for (const userId of new Set(away)) {
    if (userId === message.senderId || userId === excluded) continue;
    if (who !== 'all' && !who.includes(userId)) continue;
    const opt = options.get(userId) ?? 0;
    if (opt === 1) continue;
    out.push({ userId, recvOpt: opt, ...(isMentioned(message, userId) ? { mentioned: true } : {}) });
  }
  return out;
}

/** The message as a notify job carries it (what its rules and the notification read). */
export function pushMessageOf(message: PushMessage): PushMessage {
  const { conversationId, seq, serverMsgId, sessionType, senderId, recvId, groupId, contentType, content, sendTime, offlinePush } = message;
  return { conversationId, seq, serverMsgId, sessionType, senderId, ...(recvId !== undefined ? { recvId } : {}), ...(groupId !== undefined ? { groupId } : {}), contentType, content, sendTime, ...(offlinePush ? { offlinePush } : {}) };
}

/**
 * Hands targets to the notify function: one asynchronous invocation per NOTIFY_JOB_TARGETS,
 * none without a target. Best effort like the WebSocket push: a refused invocation is
 * logged, never fails the send (the message is stored; the app shows it at its next sync).
 */
export async function invokeNotify(job: Omit<NotifyJob, 'kind'>, options: { self?: boolean } = {}): Promise<number> {
  const slices: NotifyJob[] = [];
  if (job.roster) slices.push({ kind: 'notify', message: pushMessageOf(job.message), roster: job.roster, correlationId: job.correlationId });
  for (const part of chunk(job.targets ?? [], NOTIFY_JOB_TARGETS)) slices.push({ kind: 'notify', message: pushMessageOf(job.message), targets: part, correlationId: job.correlationId });
  for (const part of chunk(job.candidates ?? [], NOTIFY_JOB_TARGETS)) slices.push({ kind: 'notify', message: pushMessageOf(job.message), candidates: part, correlationId: job.correlationId });
  if (slices.length === 0) return 0;
  const results = await Promise.allSettled(slices.map((slice) => invokeAsync('notify', slice, options)));
  const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (refused.length > 0) log.warn('notify invocations refused; their recipients get no offline push', { conversationId: job.message.conversationId, seq: job.message.seq, refused: refused.length, of: slices.length, err: refused[0].reason });
  return slices.length - refused.length;
}
