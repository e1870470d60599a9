/** Operations: users. */
import { registerUsers } from '../../services/users';
import type { userRoutes } from '../routes/users';
import type { Operations } from '../routes/types';

export const userOperations: Operations<typeof userRoutes> = {
  registerUsers: async ({ body }) => ({ results: await registerUsers(body.users) }),
};
