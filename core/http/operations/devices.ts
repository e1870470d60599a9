/** Operations: offline push devices, push settings, push configuration. */
import { getPushSettings, listDevices, pushConfig, registerDevice, setPushSettings, unregisterDevice } from '../../services/devices';
import { sessionIdOf } from '../actor';
import type { deviceRoutes } from '../routes/devices';
import type { Operations } from '../routes/types';

export const deviceOperations: Operations<typeof deviceRoutes> = {
  registerPushDevice: ({ actor, params, body }) => registerDevice(params.userId, { deviceId: params.deviceId, ...body }, sessionIdOf(actor)),
  unregisterPushDevice: ({ params }) => unregisterDevice(params.userId, params.deviceId),
  listPushDevices: ({ params }) => listDevices(params.userId),
  getPushSettings: ({ params }) => getPushSettings(params.userId),
  setPushSettings: ({ params, body }) => setPushSettings(params.userId, body ?? {}),
  getPushConfig: async () => pushConfig(),
};
