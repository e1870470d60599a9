/**
 * The notify function's work (functions/notify.ts): one message, the recipients the send
 * path decided to notify (or a large group's roster to decide from), their devices and
 * prefs, a notification per recipient (rules.ts), the app's `beforeOfflinePush`, the
 * provider calls, pruning of invalid tokens, retries, and the DeadLetters queue for what
 * keeps failing.
 *
 * Never throws after its first provider call: Lambda retries an invocation that throws, and a
 * retry must not notify a device twice. What fails before that call (a read) throws, and
 * Lambda's retry starts over having sent nothing.
 */
import { sendMessage, sqsBody } from '../aws/sqs';
import { config } from '../config';
import { forEachLimit } from '../domain/concurrency';
import { log } from '../log';
import { queueEnvVar } from '../env-names';
import { batchGet, chunk } from '../store/dynamo';
import { devices } from '../store/devices';
import { groupOnline } from '../store/group-online';
import { beforeOfflinePush } from '../webhooks/before-offline-push';
import { buildNotification, isMentioned, pushRecipientsOf, excludedFrom, type NotifyTarget, type PushMessage, type PushPrefs, type RuleSettings } from './rules';
import { invokeNotify, isAway, NOTIFY_JOB_TARGETS, type NotifyJob } from './targets';
import { pushSettings } from './credentials';
import type { Device, Notification, ProviderClient, PushProvider, PushSettings, SendOutcome } from './types';

/** Provider calls in flight per invocation. */
export const SEND_CONCURRENCY = 16;
/** Attempts per device for throttled or unavailable answers (429, 5xx, network), within the time left. */
export const MAX_ATTEMPTS = 4;
/** Time kept back from the function's timeout for the dead letters and the log. */
const RESERVE_MS = 3_000;

export interface NotifyDeps {
  /** The client of a configured provider; undefined for a provider that is off (its devices are not sent to). */
  client: (provider: PushProvider) => ProviderClient | undefined;
  settings: RuleSettings;
  /** The recipient's badge, their total unread (core/services/conversations.ts); undefined: no badge. */
  badge?: (userId: string, globalRecvOpt: 0 | 1 | 2) => Promise<number | undefined>;
  remainingMs?: () => number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export interface NotifyOutcome {
  recipients: number;
  sent: number;
  pruned: number;
  retried: number;
  failed: number;
  suppressed: number;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The deployment's rules: `showPreview` and `mentionsBreakThrough` of its offline push settings (PUSH_SETTINGS; both default true). */
export function ruleSettings(settings: PushSettings | undefined = pushSettings()): RuleSettings {
  return { showPreview: settings?.showPreview !== false, mentionsBreakThrough: settings?.mentionsBreakThrough !== false };
}

interface UserView {
  userId: string;
  nickname?: string;
  pushPrefs?: PushPrefs;
  globalRecvOpt?: 0 | 1 | 2;
  conns?: unknown;
  devs?: unknown;
}

/** Users whose names a message's text needs: the sender, or a system notification's actors. */
function namedUsers(message: PushMessage): string[] {
  if (message.senderId !== 'system') return [message.senderId];
  const p = (message.content ?? {}) as Record<string, unknown>;
  return [p.fromUserId, p.toUserId, p.opUserId, p.ownerUserId, p.userId, p.inviterUserId].filter((u): u is string => typeof u === 'string');
}

/** A large group's roster, decided like the send path decides (type, option, mention); the foreground state is read later. */
async function fromRoster(message: PushMessage, roster: NonNullable<NotifyJob['roster']>): Promise<NotifyTarget[]> {
  const who = pushRecipientsOf(message);
  if (who === 'none') return [];
  const excluded = excludedFrom(message);
  const members = await groupOnline.roster(roster.groupId, roster.shards);
  // No member has a device: the next messages skip this invocation, until a roster write.
  if (members.length === 0) await groupOnline.rosterFoundEmpty(roster.groupId, roster.v);
  return members
    .filter((m) => m.userId !== message.senderId && m.userId !== excluded && m.o !== 1 && (who === 'all' || who.includes(m.userId)))
    .map((m) => ({ userId: m.userId, recvOpt: m.o === 2 ? 2 : 0, ...(isMentioned(message, m.userId) ? { mentioned: true } : {}) }));
}

/** Users, nicknames, prefs and (for candidates) connections and devices; the group's name; who of a group's recipients blocked the sender. */
async function readContext(message: PushMessage, userIds: string[]): Promise<{ users: Map<string, UserView>; groupName?: string; blocked: Set<string> }> {
  const usersTable = config.tableName('users');
  const groupsTable = config.tableName('groups');
  const blacklistTable = config.tableName('blacklist');
  const users = new Map<string, UserView>();
  const blocked = new Set<string>();
  let groupName: string | undefined;
  const ids = [...new Set([...userIds, ...namedUsers(message)])];
  const group = message.groupId !== undefined;
  const fromUser = message.senderId !== 'system';
  // 100 keys per BatchGetItem: users, and for a group message from a user each recipient's block of the sender.
  const keys = [...ids.map((userId) => ({ t: usersTable, k: { userId } })), ...(group && fromUser ? userIds.map((userId) => ({ t: blacklistTable, k: { userId, blockedUserId: message.senderId } })) : [])];
  if (group) keys.push({ t: groupsTable, k: { groupId: message.groupId! } as never });
  for (const part of chunk(keys, 100)) {
    const request: Parameters<typeof batchGet>[0] = {};
    for (const { t, k } of part) {
      request[t] ??= {
        Keys: [],
        ...(t === usersTable ? { ProjectionExpression: 'userId, nickname, pushPrefs, globalRecvOpt, conns, devs' } : t === groupsTable ? { ProjectionExpression: 'groupId, #n', ExpressionAttributeNames: { '#n': 'name' } } : {}),
        // A block made a moment ago counts.
        ...(t === blacklistTable ? { ConsistentRead: true } : {}),
      };
      (request[t].Keys as Record<string, unknown>[]).push(k);
    }
    const res = await batchGet(request);
    for (const u of res[usersTable] ?? []) users.set(u.userId as string, u as unknown as UserView);
    for (const b of res[blacklistTable] ?? []) blocked.add(b.userId as string);
    const g = res[groupsTable]?.[0];
    if (g && typeof g.name === 'string') groupName = g.name;
  }
  return { users, groupName, blocked };
}

interface Failure {
  userId: string;
  deviceId: string;
  provider: string;
  reason: string;
  status?: number;
}

/** What the providers kept refusing goes to DeadLetters with the reason and what an operator needs to replay it. */
async function toDeadLetters(message: PushMessage, failures: Failure[], notifications: Map<string, Notification>): Promise<void> {
  const url = process.env[queueEnvVar('deadLetters')];
  if (!url) throw new Error(`${queueEnvVar('deadLetters')} is not set`);
  // SQS takes at most 256 KiB a message: 50 devices each (a notification is at most a few KB).
  for (const part of chunk(failures, 50)) {
    const record = {
      message: { conversationId: message.conversationId, seq: message.seq, serverMsgId: message.serverMsgId, senderId: message.senderId },
      devices: part.map((f) => ({ ...f, notification: notifications.get(f.userId) })),
    };
    await sendMessage(url, sqsBody({ source: 'notify', reason: part[0].reason, at: new Date().toISOString(), record }));
  }
}

/** A target's own message (a batch page's target carries its conversation, seq and ids). */
const messageOf = (template: PushMessage, target: NotifyTarget): PushMessage => (target.m ? { ...template, ...target.m } : template);

/** Runs one notify job; see the module comment. */
export async function runNotify(job: NotifyJob, deps: NotifyDeps): Promise<NotifyOutcome> {
  const outcome: NotifyOutcome = { recipients: 0, sent: 0, pruned: 0, retried: 0, failed: 0, suppressed: 0 };
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? defaultSleep;
  const remaining = deps.remainingMs ?? (() => 30_000);
  const message = job.message;

  let candidates = job.candidates ?? [];
  if (job.roster) {
    candidates = await fromRoster(message, job.roster);
    if (candidates.length > NOTIFY_JOB_TARGETS) {
      // More members with devices than one invocation serves: slices to further invocations of this function.
      await invokeNotify({ message, candidates, correlationId: job.correlationId }, { self: true });
      return outcome;
    }
  }
  const decided = new Map((job.targets ?? []).map((t) => [t.userId, t]));
  const { users, groupName, blocked } = await readContext(message, [...decided.keys(), ...candidates.map((c) => c.userId)]);
  // Candidates (a roster) are notified only when away: devices, and no foreground connection.
  for (const c of candidates) if (isAway(users.get(c.userId))) decided.set(c.userId, c);
  const targets = [...decided.values()].filter((t) => !blocked.has(t.userId) && t.userId !== message.senderId);
  outcome.recipients = targets.length;
  if (targets.length === 0) return outcome;

  const owned = await devices.ofUsers(targets.map((t) => t.userId));
  const names = { user: (id: string) => users.get(id)?.nickname || id, group: groupName };
  // Build every notification first (reads and the app's say): nothing is sent until all are ready.
  const notifications = new Map<string, Notification>();
  const sends: { device: Device; notification: Notification; client: ProviderClient }[] = [];
  await forEachLimit(targets, 8, async (target) => {
    const list = (owned.get(target.userId) ?? []).filter((d) => deps.client(d.provider));
    if (list.length === 0) return;
    const own = messageOf(message, target);
    const badge = deps.badge ? await deps.badge(target.userId, Number(users.get(target.userId)?.globalRecvOpt ?? 0) as 0 | 1 | 2).catch(() => undefined) : undefined;
    const built = buildNotification(own, { target, prefs: users.get(target.userId)?.pushPrefs, names, settings: deps.settings, badge, now: now() });
    const final = await beforeOfflinePush(
      {
        userId: target.userId,
        conversationId: own.conversationId,
        seq: own.seq,
        serverMsgId: own.serverMsgId,
        senderId: own.senderId,
        sessionType: own.sessionType,
        ...(own.groupId !== undefined ? { groupId: own.groupId } : {}),
        contentType: own.contentType,
        notification: { title: built.title, body: built.body, ex: built.data.ex, silent: built.silent, badge: built.badge },
      },
      built,
      own.contentType,
    );
    if (!final) {
      outcome.suppressed++;
      return;
    }
    notifications.set(target.userId, final);
    for (const device of list) sends.push({ device, notification: final, client: deps.client(device.provider)! });
  });

  // From here on nothing throws: a retried invocation would notify these devices again.
  const failures: Failure[] = [];
  try {
    await forEachLimit(sends, SEND_CONCURRENCY, async ({ device, notification, client }) => {
      for (let attempt = 1; ; attempt++) {
        let answer: SendOutcome;
        try {
          answer = await client.send(device, notification);
        } catch (err) {
          answer = { kind: 'retry', reason: `request failed: ${(err as Error).message}` };
        }
        if (answer.kind === 'sent') {
          outcome.sent++;
          return;
        }
        if (answer.kind === 'invalid') {
          // Only if it still holds this token: a device registered again meanwhile keeps its new one.
          await devices.removeIfToken(device.userId, device.deviceId, device.token).catch((err) => log.warn('invalid push token not pruned', { userId: device.userId, deviceId: device.deviceId, err }));
          outcome.pruned++;
          log.info('push token invalid, device removed', { userId: device.userId, deviceId: device.deviceId, provider: device.provider, reason: answer.reason, status: answer.status });
          return;
        }
        if (answer.kind === 'retry') {
          const wait = Math.max(answer.retryAfterMs ?? 0, 200 * 2 ** (attempt - 1) * (0.5 + Math.random() / 2));
          if (attempt < MAX_ATTEMPTS && remaining() - wait > RESERVE_MS) {
            outcome.retried++;
            await sleep(wait);
            continue;
          }
        }
        outcome.failed++;
        failures.push({ userId: device.userId, deviceId: device.deviceId, provider: device.provider, reason: answer.reason, ...(answer.status !== undefined ? { status: answer.status } : {}) });
        return;
      }
    });
    if (failures.length > 0) {
      log.warn('offline push failed for some devices; sent to DeadLetters', { conversationId: message.conversationId, seq: message.seq, failed: failures.length, reason: failures[0].reason });
      await toDeadLetters(message, failures, notifications);
    }
  } catch (err) {
    log.error('offline push: error after the first provider call, not retried', { conversationId: message.conversationId, seq: message.seq, err });
  }
  return outcome;
}
