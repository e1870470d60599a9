/** Operations: the key-package directory of end-to-end encrypted conversations. */
import { claimKeyPackages, listE2eeDevices, publishKeyPackages, removeE2eeDevice } from '../../services/e2ee';
import type { e2eeRoutes } from '../routes/e2ee';
import type { Operations } from '../routes/types';

export const e2eeOperations: Operations<typeof e2eeRoutes> = {
  publishKeyPackages: ({ actor, params, body }) => publishKeyPackages(actor, params.userId, params.deviceId, body),
  listE2eeDevices: ({ actor, params, query }) => listE2eeDevices(actor, params.userId, query?.groupId),
  claimKeyPackages: ({ actor, params, body }) => claimKeyPackages(actor, params.userId, body ?? {}),
  removeE2eeDevice: ({ actor, params }) => removeE2eeDevice(actor, params.userId, params.deviceId),
};
