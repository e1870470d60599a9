/**
 * Devices table: the devices a user registered for offline push, one item per device
 * ({userId, deviceId}). The user item keeps a small map `devs` (deviceId → provider) so the
 * reads the send path already makes of its recipients tell who has devices at all; only the
 * notify function reads the devices themselves (one Query per notified user).
 */
import { DeleteCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ddb } from '../aws/dynamodb';
import { config } from '../config';
import { forEachLimit } from '../domain/concurrency';
import type { Device, PushProvider } from '../offline-push/types';
import { isConditionFailure } from './dynamo';
import { onDevicesChanged, type RosterFields } from './group-online';

/** The user item's map of devices: deviceId → provider. */
export type DeviceMap = Record<string, PushProvider>;

/** Whether a user item's `devs` map names at least one device. */
export const hasDevices = (devs: unknown): boolean => Boolean(devs && typeof devs === 'object' && Object.keys(devs).length > 0);

export interface PutResult {
  device: Device;
  /** Devices removed to stay within the cap (least recently updated first). */
  evicted: Device[];
  /** Earlier registrations of the same token (another user or device id), removed. */
  moved: Device[];
}

/** After the user item's `devs` changed (`user`: the item as the update left it): a first or last device changes the user's group rosters. */
async function devicesChanged(userId: string, deviceId: string | undefined, user: Record<string, unknown> | undefined): Promise<void> {
  if (!user) return;
  const has = hasDevices(user.devs);
  // With `deviceId` just set, the user had devices before unless it is the only one (a refresh of it writes the same roster entries again).
  const had = deviceId !== undefined ? Object.keys(user.devs as object).some((d) => d !== deviceId) : true;
  await onDevicesChanged(userId, had, has, user as RosterFields);
}

/**
 * Names the device in the user's `devs` map (creating the map on the first device). False
 * when the user is not registered: no item is ever created for an unknown user.
 */
async function setMapEntry(userId: string, deviceId: string, provider: PushProvider): Promise<boolean> {
  const TableName = config.tableName('users');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const res = await ddb().send(
        new UpdateCommand({
          TableName,
          Key: { userId },
          UpdateExpression: 'SET devs.#d = :p',
          ConditionExpression: 'attribute_exists(devs)',
          ExpressionAttributeNames: { '#d': deviceId },
          ExpressionAttributeValues: { ':p': provider },
          ReturnValues: 'ALL_NEW',
        }),
      );
      await devicesChanged(userId, deviceId, res.Attributes);
      return true;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
    try {
      const res = await ddb().send(
        new UpdateCommand({
          TableName,
          Key: { userId },
          UpdateExpression: 'SET devs = :m',
          ConditionExpression: 'attribute_exists(userId) AND attribute_not_exists(devs)',
          ExpressionAttributeValues: { ':m': { [deviceId]: provider } },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      await devicesChanged(userId, deviceId, res.Attributes);
      return true;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      // No item: not registered. Otherwise another registration created the map meanwhile: set the entry in it.
      if (!(err as { Item?: unknown }).Item) return false;
    }
  }
  throw new Error(`Could not record device ${deviceId} of ${userId}`);
}

async function removeMapEntries(userId: string, deviceIds: readonly string[]): Promise<void> {
  if (deviceIds.length === 0) return;
  try {
    const res = await ddb().send(
      new UpdateCommand({
        TableName: config.tableName('users'),
        Key: { userId },
        UpdateExpression: `REMOVE ${deviceIds.map((_, i) => `devs.#d${i}`).join(', ')}`,
        ConditionExpression: 'attribute_exists(devs)',
        ExpressionAttributeNames: Object.fromEntries(deviceIds.map((d, i) => [`#d${i}`, d])),
        ReturnValues: 'ALL_NEW',
      }),
    );
    await devicesChanged(userId, undefined, res.Attributes);
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
  }
}

export const devices = {
  /** A user's devices, oldest registration first by id order (one Query, strongly consistent). */
  async ofUser(userId: string): Promise<Device[]> {
    const out: Device[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const res = await ddb().send(new QueryCommand({ TableName: config.tableName('devices'), KeyConditionExpression: 'userId = :u', ExpressionAttributeValues: { ':u': userId }, ConsistentRead: true, ExclusiveStartKey }));
      out.push(...((res.Items ?? []) as Device[]));
      ExclusiveStartKey = res.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return out;
  },

  /** Several users' devices: one Query each, 16 at a time. Users without devices are absent. */
  async ofUsers(userIds: readonly string[]): Promise<Map<string, Device[]>> {
    const out = new Map<string, Device[]>();
    await forEachLimit([...new Set(userIds)], 16, async (userId) => {
      const list = await this.ofUser(userId);
      if (list.length > 0) out.set(userId, list);
    });
    return out;
  },

  /** The devices holding `token`, from the byToken index (keys only). */
  async holdersOf(token: string): Promise<{ userId: string; deviceId: string }[]> {
    const res = await ddb().send(new QueryCommand({ TableName: config.tableName('devices'), IndexName: 'byToken', KeyConditionExpression: '#t = :t', ExpressionAttributeNames: { '#t': 'token' }, ExpressionAttributeValues: { ':t': token } }));
    return (res.Items ?? []).map((i) => ({ userId: i.userId as string, deviceId: i.deviceId as string }));
  },

  /**
   * Registers (or refreshes) a device: the token leaves any other user or device id that
   * held it, the item is written, the user's `devs` map names it, and beyond `maxDevices`
   * the least recently updated of the user's other devices are removed. Undefined (nothing
   * written) when the user is not registered.
   */
  async put(input: Omit<Device, 'createdAt' | 'updatedAt'>, maxDevices: number): Promise<PutResult | undefined> {
    const now = Date.now();
    // The map first: it only says "may have devices", and an unregistered user gets nothing written.
    if (!(await setMapEntry(input.userId, input.deviceId, input.provider))) return undefined;
    const existing = await this.ofUser(input.userId);
    const same = existing.find((d) => d.deviceId === input.deviceId);
    const holders = (await this.holdersOf(input.token)).filter((h) => !(h.userId === input.userId && h.deviceId === input.deviceId));
    const moved: Device[] = [];
    for (const h of holders) {
      const gone = await this.remove(h.userId, [h.deviceId]);
      moved.push(...gone);
    }
    const device: Device = { ...input, createdAt: same?.createdAt ?? now, updatedAt: now };
    await ddb().send(new PutCommand({ TableName: config.tableName('devices'), Item: device }));
    const others = existing.filter((d) => d.deviceId !== input.deviceId && !moved.some((m) => m.userId === d.userId && m.deviceId === d.deviceId));
    const excess = others.length + 1 - Math.max(1, maxDevices);
    const evicted: Device[] = [];
    if (excess > 0) {
      const oldest = [...others].sort((a, b) => a.updatedAt - b.updatedAt).slice(0, excess);
      evicted.push(...(await this.remove(input.userId, oldest.map((d) => d.deviceId))));
    }
    return { device, evicted, moved };
  },

  /** Removes a user's devices by id (items and map entries); returns those that existed. */
  async remove(userId: string, deviceIds: readonly string[]): Promise<Device[]> {
    const removed: Device[] = [];
    for (const deviceId of new Set(deviceIds)) {
      const res = await ddb().send(new DeleteCommand({ TableName: config.tableName('devices'), Key: { userId, deviceId }, ReturnValues: 'ALL_OLD' }));
      if (res.Attributes) removed.push(res.Attributes as Device);
    }
    await removeMapEntries(userId, [...new Set(deviceIds)]);
    return removed;
  },

  /** Removes the devices a predicate picks (e.g. those registered by a logged-out session). */
  async removeWhere(userId: string, pick: (device: Device) => boolean): Promise<Device[]> {
    const chosen = (await this.ofUser(userId)).filter(pick);
    return chosen.length > 0 ? this.remove(userId, chosen.map((d) => d.deviceId)) : [];
  },

  /** Removes a device only if it still holds `token` (a pruned token re-registered meanwhile stays). */
  async removeIfToken(userId: string, deviceId: string, token: string): Promise<boolean> {
    try {
      await ddb().send(
        new DeleteCommand({
          TableName: config.tableName('devices'),
          Key: { userId, deviceId },
          ConditionExpression: '#t = :t',
          ExpressionAttributeNames: { '#t': 'token' },
          ExpressionAttributeValues: { ':t': token },
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
    await removeMapEntries(userId, [deviceId]);
    return true;
  },
};
