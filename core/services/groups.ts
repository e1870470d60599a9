/**
 * Creating groups and changing their members. A member's view of the group's
 * conversation starts at their join (minSeq) and ends at their removal (leftSeq).
 */
import { groupConversationId, newId } from '../domain/ids';
import { CirrusError } from '../errors';
import { SessionType } from '../protocol/schema';
import { conversations } from '../store/conversations';
import { groups, type GroupItem, type MemberItem } from '../store/groups';
import { users } from '../store/users';
import { itemError, requireUsers, type ItemResult } from './users';

export interface CreateGroupInput {
  groupId?: string;
  name: string;
  ownerUserId: string;
  memberUserIds?: string[];
  faceUrl?: string;
  introduction?: string;
  ex?: string;
}

export async function createGroup(input: CreateGroupInput): Promise<GroupItem> {
  const memberIds = [...new Set([input.ownerUserId, ...(input.memberUserIds ?? [])])];
  await requireUsers(memberIds);
  const now = Date.now();
  const { memberUserIds: _m, ...profile } = input;
  const group: GroupItem = { ...profile, groupId: input.groupId ?? newId(), memberCount: memberIds.length, createdAt: now };
  await groups.create(group);
  const conversationId = groupConversationId(group.groupId);
  await conversations.createLinked(conversationId, SessionType.group);
  await groups.putMembers(memberIds.map((userId): MemberItem => ({ groupId: group.groupId, userId, role: userId === input.ownerUserId ? 'owner' : 'member', joinedAt: now })));
  await Promise.all(memberIds.map((userId) => conversations.join(userId, conversationId, 0, false)));
  return group;
}

async function requireGroup(groupId: string): Promise<GroupItem> {
  const group = await groups.get(groupId);
  if (!group) throw new CirrusError('GROUP_NOT_FOUND', `Group ${groupId} does not exist`);
  return group;
}

export async function addMembers(groupId: string, userIds: readonly string[]): Promise<{ results: ItemResult[]; memberCount: number }> {
  const group = await requireGroup(groupId);
  const [registered, current] = await Promise.all([users.existing(userIds), groups.memberIds(groupId)]);
  const members = new Set(current);
  const results: ItemResult[] = [];
  const joining: string[] = [];
  for (const userId of new Set(userIds)) {
    if (!registered.has(userId)) results.push(itemError(userId, 'USER_NOT_FOUND', `User ${userId} is not registered`));
    else if (members.has(userId)) results.push(itemError(userId, 'ALREADY_EXISTS', `${userId} is a member already`));
    else {
      joining.push(userId);
      results.push({ userId, ok: true });
    }
  }
  if (joining.length === 0) return { results, memberCount: group.memberCount };
  const conversationId = groupConversationId(groupId);
  const counter = await conversations.counter(conversationId);
  const now = Date.now();
  // Rows first, then membership: a new member can send only once their sync state exists.
  await Promise.all(joining.map((userId) => conversations.join(userId, conversationId, counter?.maxSeq ?? 0, true)));
  await groups.putMembers(joining.map((userId) => ({ groupId, userId, role: 'member', joinedAt: now })));
  const memberCount = await groups.adjustMemberCount(groupId, joining.length);
  return { results, memberCount };
}

export async function removeMembers(groupId: string, userIds: readonly string[]): Promise<{ results: ItemResult[]; memberCount: number }> {
  const group = await requireGroup(groupId);
  const members = new Set(await groups.memberIds(groupId));
  const results: ItemResult[] = [];
  const leaving: string[] = [];
  for (const userId of new Set(userIds)) {
    if (!members.has(userId)) results.push(itemError(userId, 'NOT_GROUP_MEMBER', `${userId} is not a member`));
    else if (userId === group.ownerUserId) results.push(itemError(userId, 'FORBIDDEN', 'The owner cannot be removed'));
    else {
      leaving.push(userId);
      results.push({ userId, ok: true });
    }
  }
  if (leaving.length === 0) return { results, memberCount: group.memberCount };
  await groups.deleteMembers(groupId, leaving);
  const conversationId = groupConversationId(groupId);
  const counter = await conversations.counter(conversationId);
  await Promise.all(leaving.map((userId) => conversations.leave(userId, conversationId, counter?.maxSeq ?? 0)));
  const memberCount = await groups.adjustMemberCount(groupId, -leaving.length);
  return { results, memberCount };
}
