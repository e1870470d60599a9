/**
 * The key-package directory of end-to-end encrypted conversations (MLS, RFC 9420). One
 * KeyPackages item per device (`d#<deviceId>`: its signature key and last-resort key package)
 * and one per one-time key package (`k#<deviceId>#<id>`). Claiming deletes a one-time key
 * package with a condition that it still exists, so two claimers never get the same one; when
 * a device has none left its last-resort one is handed out. Cirrus reads only what a key
 * package shows anyone (its public keys and credential), never a message.
 */
import { createHash } from 'node:crypto';
import { BatchGetCommand, DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { decodeMlsMessage } from 'ts-mls/message.js';
import { ddb } from '../aws/dynamodb';
import { config } from '../config';
import { CirrusError } from '../errors';
import { MAX_E2EE_DEVICES, MAX_KEY_PACKAGES_PER_DEVICE, MLS_CIPHERSUITE, mlsIdentity } from '../protocol/e2ee';
import { batchWrite, isConditionFailure } from '../store/dynamo';
import { keyPackageItems } from '../store/key-packages';
import type { Actor } from '../http/actor';
import { isBanned, type Ban } from '../store/users';

const table = () => config.tableName('keyPackages');
const deviceKey = (deviceId: string) => `d#${deviceId}`;
const packagePrefix = (deviceId: string) => `k#${deviceId}#`;

interface DeviceItem {
  userId: string;
  sk: string;
  deviceId: string;
  signatureKey: string;
  lastResort: string;
  publishedAt: number;
}

/** What the directory checks of a key package: its wire format, suite, credential identity and signature key. */
interface CheckedKeyPackage {
  b64: string;
  id: string;
  signatureKey: string;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The fingerprint users compare: SHA-256 of the signature public key, hex in groups of four. */
export function fingerprintOf(signatureKeyHex: string): string {
  return createHash('sha256').update(Buffer.from(signatureKeyHex, 'hex')).digest('hex').match(/.{4}/g)!.join(' ');
}

function checkKeyPackage(b64: string, userId: string, deviceId: string, index: number | 'lastResort'): CheckedKeyPackage {
  const where = index === 'lastResort' ? 'lastResort' : `keyPackages.${index}`;
  const bytes = new Uint8Array(Buffer.from(b64, 'base64'));
  let decoded: ReturnType<typeof decodeMlsMessage>;
  try {
    decoded = decodeMlsMessage(bytes, 0);
  } catch {
    decoded = undefined;
  }
  if (!decoded || decoded[1] !== bytes.length) throw new CirrusError('INVALID_ARGUMENT', `${where}: not an MLS message`);
  const message = decoded[0];
  if (message.wireformat !== 'mls_key_package') throw new CirrusError('INVALID_ARGUMENT', `${where}: an MLS ${message.wireformat}, not a key package`);
  const kp = message.keyPackage;
  if (kp.cipherSuite !== MLS_CIPHERSUITE) throw new CirrusError('INVALID_ARGUMENT', `${where}: ciphersuite ${kp.cipherSuite}; this deployment uses ${MLS_CIPHERSUITE}`);
  const credential = kp.leafNode.credential;
  const expected = mlsIdentity(userId, deviceId);
  if (credential.credentialType !== 'basic' || new TextDecoder().decode(credential.identity) !== expected) {
    throw new CirrusError('INVALID_ARGUMENT', `${where}: the credential must be a basic credential with identity ${expected}`);
  }
  return { b64, id: createHash('sha256').update(bytes).digest('hex').slice(0, 32), signatureKey: hex(kp.leafNode.signaturePublicKey) };
}

async function getDevice(userId: string, deviceId: string): Promise<DeviceItem | undefined> {
  const res = await ddb().send(new GetCommand({ TableName: table(), Key: { userId, sk: deviceKey(deviceId) }, ConsistentRead: true }));
  return res.Item as DeviceItem | undefined;
}

async function listDeviceItems(userId: string): Promise<DeviceItem[]> {
  const res = await ddb().send(
    new QueryCommand({ TableName: table(), KeyConditionExpression: 'userId = :u AND begins_with(sk, :d)', ExpressionAttributeValues: { ':u': userId, ':d': 'd#' }, ConsistentRead: true }),
  );
  return (res.Items ?? []) as DeviceItem[];
}

/**
 * The devices others may add: none while the user is banned or after they were erased, so that
 * the members' next reconcile removes them from every encrypted conversation.
 */
async function reachableDevices(userId: string): Promise<DeviceItem[]> {
  const res = await ddb().send(
    new BatchGetCommand({ RequestItems: { [config.tableName('users')]: { Keys: [{ userId }], ProjectionExpression: 'userId, banned, erased', ConsistentRead: true } } }),
  );
  const user = (res.Responses?.[config.tableName('users')] ?? [])[0] as { banned?: Ban; erased?: unknown } | undefined;
  if (!user || isBanned(user.banned) || user.erased) return [];
  return listDeviceItems(userId);
}

function countPackages(userId: string, deviceId: string): Promise<number> {
  return keyPackageItems.count(userId, packagePrefix(deviceId));
}

/** Key packages are published by the user's own device: an admin token cannot add a device to anyone's conversations. */
function requireOwnToken(actor: Actor, userId: string): void {
  if (actor.kind !== 'user') throw new CirrusError('FORBIDDEN', "Key packages are published and removed with the user's own token, not an admin token");
  if (actor.userId !== userId) throw new CirrusError('FORBIDDEN', `A token of ${actor.userId} cannot act for ${userId}`);
}

export async function publishKeyPackages(actor: Actor, userId: string, deviceId: string, body: { keyPackages: string[]; lastResort?: string }) {
  requireOwnToken(actor, userId);
  const packages = body.keyPackages.map((b64, i) => checkKeyPackage(b64, userId, deviceId, i));
  const lastResort = body.lastResort === undefined ? undefined : checkKeyPackage(body.lastResort, userId, deviceId, 'lastResort');
  const existing = await getDevice(userId, deviceId);
  const signatureKey = existing?.signatureKey ?? lastResort?.signatureKey;
  if (!signatureKey) throw new CirrusError('INVALID_ARGUMENT', 'lastResort: required on the first publish of a device');
  const mismatch = [...packages, ...(lastResort ? [lastResort] : [])].find((p) => p.signatureKey !== signatureKey);
  if (mismatch) {
    throw new CirrusError(
      existing ? 'ALREADY_EXISTS' : 'INVALID_ARGUMENT',
      existing ? `Device ${deviceId} is in the directory with another signature key: remove it first` : 'Every key package of a device must carry the same signature key',
    );
  }
  if (!existing && (await listDeviceItems(userId)).length >= MAX_E2EE_DEVICES) {
    throw new CirrusError('INVALID_ARGUMENT', `${userId} has ${MAX_E2EE_DEVICES} devices in the directory already: remove one first`);
  }
  const held = await countPackages(userId, deviceId);
  const fresh = [...new Map(packages.map((p) => [p.id, p])).values()];
  let added = 0;
  if (fresh.length > 0) {
    const res = await ddb().send(
      new BatchGetCommand({ RequestItems: { [table()]: { Keys: fresh.map((p) => ({ userId, sk: packagePrefix(deviceId) + p.id })), ProjectionExpression: 'sk', ConsistentRead: true } } }),
    );
    const known = new Set(((res.Responses?.[table()] ?? []) as { sk: string }[]).map((i) => i.sk));
    const toAdd = fresh.filter((p) => !known.has(packagePrefix(deviceId) + p.id));
    if (held + toAdd.length > MAX_KEY_PACKAGES_PER_DEVICE) {
      throw new CirrusError('INVALID_ARGUMENT', `keyPackages: the device holds ${held} and may hold ${MAX_KEY_PACKAGES_PER_DEVICE}; publish at most ${MAX_KEY_PACKAGES_PER_DEVICE - held}`);
    }
    await batchWrite(
      table(),
      toAdd.map((p) => ({ PutRequest: { Item: { userId, sk: packagePrefix(deviceId) + p.id, kp: p.b64 } } })),
    );
    added = toAdd.length;
  }
  const now = Date.now();
  if (!existing) {
    try {
      await ddb().send(
        new PutCommand({
          TableName: table(),
          Item: { userId, sk: deviceKey(deviceId), deviceId, signatureKey, lastResort: lastResort!.b64, publishedAt: now } satisfies DeviceItem,
          ConditionExpression: 'attribute_not_exists(sk) OR signatureKey = :s',
          ExpressionAttributeValues: { ':s': signatureKey },
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) throw new CirrusError('ALREADY_EXISTS', `Device ${deviceId} is in the directory with another signature key: remove it first`);
      throw err;
    }
  } else {
    await ddb().send(
      new UpdateCommand({
        TableName: table(),
        Key: { userId, sk: deviceKey(deviceId) },
        UpdateExpression: lastResort ? 'SET publishedAt = :t, lastResort = :l' : 'SET publishedAt = :t',
        ConditionExpression: 'signatureKey = :s',
        ExpressionAttributeValues: { ':t': now, ':s': signatureKey, ...(lastResort ? { ':l': lastResort.b64 } : {}) },
      }),
    );
  }
  return { deviceId, keyPackages: held + added, added };
}

/**
 * Whom a caller may see the devices of and claim key packages from: themselves; a user of a
 * group both are members of (`groupId`); otherwise, as for a 1:1 message, a registered user who
 * has not blocked the caller (and a friend, when the deployment requires friendship).
 */
async function requireMayReach(actor: Actor, userId: string, groupId: string | undefined): Promise<void> {
  if (actor.kind !== 'user' || actor.userId === userId) return;
  const t = (k: Parameters<typeof config.tableName>[0]) => config.tableName(k);
  const request: Record<string, { Keys: Record<string, string>[]; ConsistentRead: boolean }> = {};
  if (groupId !== undefined) {
    request[t('groupMembers')] = { Keys: [{ groupId, userId: actor.userId }, { groupId, userId }], ConsistentRead: true };
  } else {
    request[t('users')] = { Keys: [{ userId }], ConsistentRead: true };
    request[t('blacklist')] = { Keys: [{ userId, blockedUserId: actor.userId }], ConsistentRead: true };
    if (config.requireFriendship()) request[t('friends')] = { Keys: [{ userId: actor.userId, friendUserId: userId }], ConsistentRead: true };
  }
  const res = await ddb().send(new BatchGetCommand({ RequestItems: request }));
  const found = (k: string) => (res.Responses?.[k] ?? []) as Record<string, unknown>[];
  if (groupId !== undefined) {
    const members = new Set(found(t('groupMembers')).map((m) => m.userId));
    if (!members.has(actor.userId)) throw new CirrusError('NOT_GROUP_MEMBER', `${actor.userId} is not a member of group ${groupId}`);
    if (!members.has(userId)) throw new CirrusError('NOT_GROUP_MEMBER', `${userId} is not a member of group ${groupId}`);
    return;
  }
  if (found(t('users')).length === 0) throw new CirrusError('USER_NOT_FOUND', `User ${userId} is not registered`);
  if (found(t('blacklist')).length > 0) throw new CirrusError('BLOCKED', `${userId} does not accept messages from ${actor.userId}`);
  if (config.requireFriendship() && found(t('friends')).length === 0) throw new CirrusError('NOT_FRIENDS', `${actor.userId} and ${userId} are not friends`);
}

export async function listE2eeDevices(actor: Actor, userId: string, groupId: string | undefined) {
  await requireMayReach(actor, userId, groupId);
  const own = actor.kind === 'user' && actor.userId === userId;
  const items = own ? await listDeviceItems(userId) : await reachableDevices(userId);
  const devices = [];
  for (const d of items) {
    devices.push({
      deviceId: d.deviceId,
      fingerprint: fingerprintOf(d.signatureKey),
      ...(own ? { keyPackages: await countPackages(userId, d.deviceId) } : {}),
      publishedAt: d.publishedAt,
    });
  }
  return { userId, devices };
}

/** Takes one one-time key package of the device, atomically; undefined when it has none left. */
async function takeOne(userId: string, deviceId: string): Promise<string | undefined> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const res = await ddb().send(
      new QueryCommand({
        TableName: table(),
        KeyConditionExpression: 'userId = :u AND begins_with(sk, :k)',
        ExpressionAttributeValues: { ':u': userId, ':k': packagePrefix(deviceId) },
        Limit: 5,
        ConsistentRead: true,
      }),
    );
    const candidates = (res.Items ?? []) as { sk: string; kp: string }[];
    if (candidates.length === 0) return undefined;
    // Spread concurrent claimers over the first few, so they rarely race for the same one.
    const start = Math.floor(Math.random() * candidates.length);
    for (let i = 0; i < candidates.length; i++) {
      const c = candidates[(start + i) % candidates.length]!;
      try {
        const del = await ddb().send(
          new DeleteCommand({ TableName: table(), Key: { userId, sk: c.sk }, ConditionExpression: 'attribute_exists(sk)', ReturnValues: 'ALL_OLD' }),
        );
        return (del.Attributes as { kp: string }).kp;
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
    }
  }
  throw new CirrusError('THROTTLED', `Too many concurrent claims for ${userId}/${deviceId}; retry`);
}

export async function claimKeyPackages(actor: Actor, userId: string, body: { groupId?: string; deviceIds?: string[] }) {
  await requireMayReach(actor, userId, body.groupId);
  let devices = actor.kind === 'user' && actor.userId === userId ? await listDeviceItems(userId) : await reachableDevices(userId);
  if (body.deviceIds) {
    const wanted = new Set(body.deviceIds);
    devices = devices.filter((d) => wanted.has(d.deviceId));
  }
  const keyPackages = [];
  for (const d of devices) {
    const kp = await takeOne(userId, d.deviceId);
    keyPackages.push(kp ? { deviceId: d.deviceId, keyPackage: kp, lastResort: false } : { deviceId: d.deviceId, keyPackage: d.lastResort, lastResort: true });
  }
  return { userId, keyPackages };
}

/** Removes a device: the user's own token, or an admin revoking a lost device (removing grants nobody anything). */
export async function removeE2eeDevice(actor: Actor, userId: string, deviceId: string) {
  if (actor.kind === 'user' && actor.userId !== userId) throw new CirrusError('FORBIDDEN', `A token of ${actor.userId} cannot act for ${userId}`);
  const existing = await getDevice(userId, deviceId);
  await keyPackageItems.remove(userId, packagePrefix(deviceId));
  if (existing) await ddb().send(new DeleteCommand({ TableName: table(), Key: { userId, sk: deviceKey(deviceId) } }));
  return { removed: existing !== undefined };
}
