/** HTTP routes: the key-package directory of end-to-end encrypted conversations (MLS). */
import * as z from 'zod/mini';
import { GroupId, UserId } from '../../protocol/schema';
import { DeviceId } from '../../protocol/push-devices';
import { ClaimKeyPackagesBody, ClaimKeyPackagesResult, ListE2eeDevicesResult, PublishKeyPackagesBody, PublishKeyPackagesResult, RemoveE2eeDeviceResult } from '../../protocol/e2ee';
import type { HttpRouteSpec } from './types';

const UserPath = z.strictObject({ userId: UserId });
const DevicePath = z.strictObject({ userId: UserId, deviceId: DeviceId });

export const e2eeRoutes = [
  {
    operationId: 'publishKeyPackages',
    method: 'PUT',
    path: '/users/{userId}/e2ee/devices/{deviceId}',
    summary:
      "Publish a device's MLS key packages (end-to-end encrypted conversations): one-time ones and a last-resort one. With the user's own token only (FORBIDDEN for an admin token). " +
      'The first publish registers the device with the signature key its key packages carry; a later one with another signature key is ALREADY_EXISTS (remove the device first). ' +
      'INVALID_ARGUMENT for malformed base64, a key package over the size limit, not a key package, another ciphersuite, a credential naming another user or device, too many key packages or devices.',
    auth: 'self',
    params: DevicePath,
    body: PublishKeyPackagesBody,
    response: PublishKeyPackagesResult,
  },
  {
    operationId: 'listE2eeDevices',
    method: 'GET',
    path: '/users/{userId}/e2ee/devices',
    summary:
      "A user's devices in the key-package directory, with their key fingerprints (and, to the user, the one-time key packages each has left). " +
      'A banned or erased user has none for others (so the members\' devices remove theirs). Another user may list them as they may message the user (USER_NOT_FOUND, BLOCKED, NOT_FRIENDS when the deployment requires friendship), or, with `groupId`, when both are members of that group (NOT_GROUP_MEMBER).',
    auth: 'user',
    permissions: 'The user themselves; a user who may send them a 1:1 message; a member of a group (`groupId`) they are in; an admin.',
    params: UserPath,
    query: z.strictObject({ groupId: z.optional(GroupId) }),
    response: ListE2eeDevicesResult,
  },
  {
    operationId: 'claimKeyPackages',
    method: 'POST',
    path: '/users/{userId}/e2ee/key-packages/claim',
    summary:
      'Claim one key package of each of the user\'s devices, to add them to an encrypted conversation. A one-time key package is handed out once only (a conditional delete); a device with none left gives its last-resort one (`lastResort: true`). ' +
      'Who may claim: as for listE2eeDevices.',
    auth: 'user',
    permissions: 'The user themselves (their other devices); a user who may send them a 1:1 message; a member of a group (`groupId`) they are in; an admin.',
    params: UserPath,
    body: ClaimKeyPackagesBody,
    response: ClaimKeyPackagesResult,
  },
  {
    operationId: 'removeE2eeDevice',
    method: 'DELETE',
    path: '/users/{userId}/e2ee/devices/{deviceId}',
    summary: "Remove a device and its key packages from the directory (logout of a device): nobody can add it to a conversation any more; its conversations' other members remove it from their groups. With the user's own token, or an admin token (revoking a lost device).",
    auth: 'self',
    params: DevicePath,
    response: RemoveE2eeDeviceResult,
  },
] as const satisfies readonly HttpRouteSpec[];
