/** Operations: presigned media uploads and downloads. */
import { CirrusError } from '../../errors';
import { presignDownload, presignUpload } from '../../services/media';
import { requireUsers } from '../../services/users';
import { getUserExport, startUserExport } from '../../services/exports';
import { isAdmin } from '../actor';
import type { mediaRoutes } from '../routes/media';
import type { Operations } from '../routes/types';

export const mediaOperations: Operations<typeof mediaRoutes> = {
  createMediaUpload: async ({ actor, body }) => {
    let userId: string;
    if (isAdmin(actor)) {
      if (!body.userId) throw new CirrusError('INVALID_ARGUMENT', 'userId is required with an admin token');
      userId = body.userId;
      // A user token proves its user is registered; an admin's choice must be checked.
      await requireUsers([userId]);
    } else {
      if (body.userId !== undefined && body.userId !== actor.userId) throw new CirrusError('FORBIDDEN', `A token of ${actor.userId} cannot upload as ${body.userId}`);
      userId = actor.userId;
    }
    return presignUpload({ userId, fileName: body.fileName, contentType: body.contentType, size: body.size });
  },
  getMediaDownloadUrl: async ({ query }) => presignDownload(query.objectKey),
  startUserExport: async ({ actor, params }) => {
    if (!isAdmin(actor)) throw new CirrusError('FORBIDDEN', 'Only an admin token may export a user');
    return startUserExport(params.userId, actor);
  },
  getUserExport: async ({ params }) => getUserExport(params.userId, params.exportId),
};
