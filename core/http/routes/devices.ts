/** HTTP routes: offline push devices, a user's push settings, and the deployment's push configuration. */
import * as z from 'zod/mini';
import { UserId } from '../../protocol/schema';
import { DeviceId, DeviceRegistrationBody, DeviceView, PushConfigSchema, PushSettingsSchema, RegisterPushDeviceResult, SetPushSettingsBody, UnregisterPushDeviceResult } from '../../protocol/push-devices';
import type { HttpRouteSpec } from './types';

const UserPath = z.strictObject({ userId: UserId });
const DevicePath = z.strictObject({ userId: UserId, deviceId: DeviceId });

export const deviceRoutes = [
  {
    operationId: 'registerPushDevice',
    method: 'PUT',
    path: '/users/{userId}/devices/{deviceId}',
    summary:
      "Register (or refresh) a device of the user for offline push. With the user's own token the device is tied to that token's session: logout, force logout, a kick by the multi-login policy or a ban removes it. " +
      'A token another user (or device id) holds moves to this device. Beyond the cap (`maxDevices` of GET /push/config) the least recently updated device is removed. ' +
      'PUSH_PROVIDER_DISABLED when the provider is off in this deployment; INVALID_ARGUMENT for a malformed token, an APNs bundle id the deployment does not send to, or a bad locale.',
    auth: 'self',
    params: DevicePath,
    body: DeviceRegistrationBody,
    response: RegisterPushDeviceResult,
  },
  {
    operationId: 'unregisterPushDevice',
    method: 'DELETE',
    path: '/users/{userId}/devices/{deviceId}',
    summary: 'Remove a device of the user from offline push (an unknown device id is not an error: `removed: false`).',
    auth: 'self',
    params: DevicePath,
    response: UnregisterPushDeviceResult,
  },
  {
    operationId: 'listPushDevices',
    method: 'GET',
    path: '/users/{userId}/devices',
    summary: "The user's registered devices, oldest first. Tokens are never listed in full, to anyone: each shows a `tokenHint`.",
    auth: 'self',
    params: UserPath,
    response: z.strictObject({ devices: z.array(DeviceView), maxDevices: z.int().check(z.describe('Devices per user')) }),
  },
  {
    operationId: 'getPushSettings',
    method: 'GET',
    path: '/users/{userId}/push-settings',
    summary: "The user's offline push settings: quiet hours and whether previews are hidden.",
    auth: 'self',
    params: UserPath,
    response: PushSettingsSchema,
  },
  {
    operationId: 'setPushSettings',
    method: 'PUT',
    path: '/users/{userId}/push-settings',
    summary: "Change the user's offline push settings: the fields given change, the others stay (`quietHours: null` turns quiet hours off).",
    auth: 'self',
    params: UserPath,
    body: SetPushSettingsBody,
    response: PushSettingsSchema,
  },
  {
    operationId: 'getPushConfig',
    method: 'GET',
    path: '/push/config',
    summary: "What clients need to register for offline push: the deployment's providers, the APNs bundle ids, the Firebase project, the VAPID public key, the device cap.",
    auth: 'user',
    response: PushConfigSchema,
  },
] as const satisfies readonly HttpRouteSpec[];
