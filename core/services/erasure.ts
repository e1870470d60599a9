/**
 * Erasing a user (the right to be forgotten), as docs/operations.md "Compliance" describes:
 *
 * - the user item stays as a tombstone (`erased`, with a ban so no token is issued again, and
 *   no nickname, face, ex, receive option or push preferences), so the id is never registered
 *   again and the conversation ids built from it (`si_a_b`, `n_<id>`) keep working for the
 *   others; the directory mirror (admin user search) loses the nickname;
 * - every session is revoked, every live connection kicked (reason `forcedLogout`) and every
 *   offline push device removed, and their end-to-end encryption devices with their key packages;
 * - friendships (both sides), friend requests (both directions), the blocks they made and
 *   their group applications go; they leave every group: a group they own passes to its
 *   oldest admin, else its oldest member, and is dismissed when they are its only member;
 * - every message they sent, their own notification conversation and the notifications of the
 *   friend requests they exchanged are deleted for everyone (content null, `deleted` by `admin`,
 *   reactions gone) in the offline store, conversation by conversation, and in the history
 *   (with the contents its edits replaced; the archive function, from an Outbox item), so
 *   nothing of it is found by search.
 *
 * Each step is idempotent, and the tombstone is written first: a call cut short (a crash, the
 * time budget) is finished by the next one. The messages come before the relations and groups
 * (a retry finds the conversations through them); when they take longer than the time budget the
 * answer says `done: false`, the rest is left, and the caller calls again.
 */
import { PutCommand, QueryCommand, UpdateCommand, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import { ddb } from '../aws/dynamodb';
import { invokeAsync } from '../aws/lambda';
import type { EraseMediaEvent } from './exports';
import { config } from '../config';
import { CirrusError } from '../errors';
import { faultPoint } from '../faults';
import { log } from '../log';
import type { AdminActor } from '../http/actor';
import type { WebhookJob } from '../protocol/jobs';
import { connections } from '../store/connections';
import { conversations } from '../store/conversations';
import { batchWrite, isConditionFailure, nowSeconds } from '../store/dynamo';
import { blacklist, friendRequests, friends } from '../store/friends';
import { groups, type MemberItem } from '../store/groups';
import { messages } from '../store/messages';
import { keyPackageItems } from '../store/key-packages';
import { sessions } from '../store/sessions';
import { queueAfter } from '../webhooks/after';
import { removeAllDevices } from './device-removal';
import { directoryUserOf, enqueueDirectory, OUTBOX_TTL_SECONDS } from './directory-jobs';
import { dismissGroup, transferGroup } from './groups';
import { quitGroup } from './groups-members';
import { kickConnection } from './login';
import { notificationConversationId } from '../domain/ids';

/**
 * Time the message part may take before it answers `done: false` (the http function has 15 s
 * in all). Each call erases at least one message or finishes, so calls always progress.
 * Mutable for tests only, which set a shorter budget to see an erasure take several calls.
 */
export const eraseBudget = { ms: 9_000 };

export interface ErasureResult {
  userId: string;
  /** False when the message part stopped at its time budget: call again to finish. */
  done: boolean;
  revoked: number;
  kicked: number;
  devices: number;
  friends: number;
  requests: number;
  blocks: number;
  groups: number;
  messages: number;
}

/** Writes the tombstone: the profile fields go, `erased` and a ban stay. Undefined when not registered. */
async function tombstone(userId: string, now: number): Promise<{ createdAt: number } | undefined> {
  try {
    const res = await ddb().send(
      new UpdateCommand({
        TableName: config.tableName('users'),
        Key: { userId },
        UpdateExpression: 'SET erased = if_not_exists(erased, :e), banned = :b, updatedAt = :now REMOVE nickname, faceUrl, ex, globalRecvOpt, pushPrefs',
        ConditionExpression: 'attribute_exists(userId)',
        ExpressionAttributeValues: { ':e': { at: now }, ':b': { at: now, reason: 'erased' }, ':now': now },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return { createdAt: Number(res.Attributes?.createdAt ?? now) };
  } catch (err) {
    if (isConditionFailure(err)) return undefined;
    throw err;
  }
}

async function eraseRelations(userId: string): Promise<{ friends: number; requests: number; blocks: number }> {
  let friendCount = 0;
  for (let page = await friends.page(userId, 100); ; page = await friends.page(userId, 100, page.lastKey)) {
    for (const f of page.items) {
      await friends.deleteBoth(userId, f.friendUserId);
      friendCount++;
    }
    if (!page.lastKey) break;
  }
  // Deleting while paging: each page starts again from the first key left.
  const requestKeys: { toUserId: string; fromUserId: string }[] = [];
  for (const list of [friendRequests.incoming.bind(friendRequests), friendRequests.outgoing.bind(friendRequests)]) {
    let cursor: Record<string, unknown> | undefined;
    do {
      const page = await list(userId, 100, cursor);
      requestKeys.push(...page.items.map((r) => ({ toUserId: r.toUserId, fromUserId: r.fromUserId })));
      cursor = page.lastKey;
    } while (cursor);
  }
  await batchWrite(config.tableName('friendRequests'), requestKeys.map((Key) => ({ DeleteRequest: { Key } })));
  let blocks = 0;
  for (let page = await blacklist.page(userId, 100); ; page = await blacklist.page(userId, 100, page.lastKey)) {
    for (const b of page.items) if (await blacklist.remove(userId, b.blockedUserId)) blocks++;
    if (!page.lastKey) break;
  }
  // Applications to join groups.
  let applications: { groupId: string }[] = [];
  let cursor: Record<string, unknown> | undefined;
  do {
    const page = await groups.userApplicationPage(userId, 100, cursor);
    applications = applications.concat(page.items);
    cursor = page.lastKey;
  } while (cursor);
  for (const a of applications) await groups.deleteApplications(a.groupId, [userId]);
  return { friends: friendCount, requests: requestKeys.length, blocks };
}

/** Who takes over a group the user owns: its oldest admin, else its oldest member; undefined when they are alone. */
async function successor(groupId: string, userId: string): Promise<string | undefined> {
  let best: MemberItem | undefined;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await groups.memberPage(groupId, 100, startKey, true);
    for (const m of page.items) {
      if (m.userId === userId) continue;
      const rank = (x: MemberItem) => (x.role === 'admin' ? 0 : 1);
      if (!best || rank(m) < rank(best) || (rank(m) === rank(best) && m.joinedAt < best.joinedAt)) best = m;
    }
    startKey = page.lastKey;
  } while (startKey);
  return best?.userId;
}

async function leaveGroups(userId: string, admin: AdminActor): Promise<number> {
  const memberships: MemberItem[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await groups.membershipPage(userId, 100, startKey);
    memberships.push(...page.items);
    startKey = page.lastKey;
  } while (startKey);
  let left = 0;
  for (const m of memberships) {
    const group = await groups.get(m.groupId);
    if (!group) continue;
    if (group.status === 'dismissed') {
      // A dismissed group takes no changes: the membership row alone goes.
      await groups.deleteMembers(m.groupId, [userId]);
      left++;
      continue;
    }
    if (m.role === 'owner') {
      const next = await successor(m.groupId, userId);
      if (!next) {
        await dismissGroup(admin, m.groupId);
        await groups.deleteMembers(m.groupId, [userId]);
        left++;
        continue;
      }
      await transferGroup(admin, m.groupId, next);
    }
    await quitGroup(userId, m.groupId);
    left++;
  }
  return left;
}

/** The users the user exchanged friend requests with (either way): their notifications carry the user's words. */
async function requestCounterparts(userId: string): Promise<string[]> {
  const out = new Set<string>();
  for (const [list, other] of [
    [friendRequests.incoming.bind(friendRequests), 'fromUserId'],
    [friendRequests.outgoing.bind(friendRequests), 'toUserId'],
  ] as const) {
    let cursor: Record<string, unknown> | undefined;
    do {
      const page = await list(userId, 100, cursor);
      for (const r of page.items) out.add(r[other]);
      cursor = page.lastKey;
    } while (cursor);
  }
  return [...out].sort();
}

/** Where the user's words are in the offline store: a conversation, and which of its messages. */
interface Scope {
  conversationId: string;
  filter: string;
}

const notDeleted = 'attribute_not_exists(deleted) AND attribute_not_exists(revoked)';

/**
 * The conversations holding what the user wrote: every one they are in (their messages), their
 * own notification conversation (all of it), and those of the users they exchanged friend
 * requests with (the notifications of requests from them, which carry their message).
 */
async function scopes(userId: string, counterparts: readonly string[]): Promise<Scope[]> {
  const own = notificationConversationId(userId);
  const out: Scope[] = [{ conversationId: own, filter: notDeleted }];
  for (const state of await conversations.ofUser(userId)) {
    if (state.conversationId !== own) out.push({ conversationId: state.conversationId, filter: `senderId = :u AND ${notDeleted}` });
  }
  for (const other of counterparts) out.push({ conversationId: notificationConversationId(other), filter: `content.fromUserId = :u AND ${notDeleted}` });
  return out;
}

/**
 * Deletes for everyone what the user wrote still in the offline store, conversation by
 * conversation (the Messages stream carries each change to the history); stops at `deadline`.
 */
async function eraseOfflineMessages(userId: string, counterparts: readonly string[], deadline: number): Promise<{ erased: number; done: boolean }> {
  let erased = 0;
  for (const scope of await scopes(userId, counterparts)) {
    let startKey: Record<string, unknown> | undefined;
    do {
      if (erased > 0 && Date.now() > deadline) return { erased, done: false };
      const page: QueryCommandOutput = await ddb().send(
        new QueryCommand({
          TableName: config.tableName('messages'),
          KeyConditionExpression: 'conversationId = :c',
          FilterExpression: scope.filter,
          ExpressionAttributeValues: { ':c': scope.conversationId, ...(scope.filter.includes(':u') ? { ':u': userId } : {}) },
          ProjectionExpression: 'conversationId, seq, version',
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        // Checked per message too: a page may hold hundreds, each one write.
        if (erased > 0 && Date.now() > deadline) return { erased, done: false };
        const seq = Number(item.seq);
        let version = Number(item.version ?? 0);
        for (let attempt = 0; attempt < 5; attempt++) {
          if (await messages.change(scope.conversationId, seq, version, { content: null, reactions: {}, deleted: { by: 'admin', at: Date.now() } })) {
            erased++;
            faultPoint('erase.afterMessage', { conversationId: scope.conversationId, seq });
            break;
          }
          const again = await messages.get(scope.conversationId, seq);
          if (!again || again.deleted || again.revoked) break;
          version = again.version ?? 0;
        }
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }
  return { erased, done: true };
}

/**
 * The history's part, through the Outbox: the archive function erases what the user sent from
 * the history (core/history/erasure.ts), after the stream records already written. A new item
 * per call, so a second call runs it again.
 */
async function queueHistoryErasure(userId: string, counterparts: readonly string[], at: number): Promise<void> {
  const item = { id: `erase#${userId}#${at}`, kind: 'erase', userId, at, notificationConversations: counterparts.map(notificationConversationId), expiresAt: nowSeconds() + OUTBOX_TTL_SECONDS };
  await ddb().send(new PutCommand({ TableName: config.tableName('outbox'), Item: item }));
}

/** Their end-to-end encryption devices: public signature keys and key packages, in KeyPackages. */

export async function eraseUser(userId: string, admin: AdminActor): Promise<ErasureResult> {
  const started = Date.now();
  const user = await tombstone(userId, started);
  if (!user) throw new CirrusError('USER_NOT_FOUND', `User ${userId} is not registered`);
  await enqueueDirectory([{ kind: 'user', user: directoryUserOf({ userId, createdAt: user.createdAt, updatedAt: started }) }]);

  const revoked = await sessions.revoke(userId);
  const devices = await removeAllDevices(userId);
  // Their end-to-end encryption devices and key packages.
  await keyPackageItems.remove(userId);
  const live = await connections.ofUser(userId);
  const webhookJobs: (WebhookJob | undefined)[] = [];
  for (const conn of live) await kickConnection(conn, 'forcedLogout', { revokeSession: false, webhookJobs });
  await queueAfter(...webhookJobs);

  // The messages before the relations and groups, which a retry needs to find them again.
  const counterparts = await requestCounterparts(userId);
  const offline = await eraseOfflineMessages(userId, counterparts, started + eraseBudget.ms);
  if (!offline.done) {
    log.info('user erasure continues on the next call', { userId, revoked, kicked: live.length, devices, messages: offline.erased });
    return { userId, done: false, revoked, kicked: live.length, devices, friends: 0, requests: 0, blocks: 0, groups: 0, messages: offline.erased };
  }
  await queueHistoryErasure(userId, counterparts, started);
  // Their media objects, by the userData function (this one holds no S3 client): every object under media/<userId>/.
  await invokeAsync('userData', { kind: 'eraseMedia', userId } satisfies EraseMediaEvent);
  const relations = await eraseRelations(userId);
  const left = await leaveGroups(userId, admin);
  log.info('user erased', { userId, done: true, revoked, kicked: live.length, devices, ...relations, groups: left, messages: offline.erased });
  return { userId, done: true, revoked, kicked: live.length, devices, ...relations, groups: left, messages: offline.erased };
}
