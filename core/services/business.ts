/**
 * Business notifications (OpenIM's send_business_notification, 2001): the app backend's
 * own events for its users. Always a live `businessNotification` event to the recipients'
 * connected devices (not stored); with `reliable` also a message of content type 2001 in
 * each recipient's notification conversation `n_<userId>`, so a device offline now gets
 * it on its next sync.
 */
import { createHash } from 'node:crypto';
import { forEachLimit } from '../domain/concurrency';
import { newId, notificationConversationId } from '../domain/ids';
import { log } from '../log';
import { pushEvent } from './push';
import { notifyConversation } from './notify';
import { requireUsers } from './users';

/** Recipients per request, at most. */
export const MAX_BUSINESS_RECIPIENTS = 1000;
/** Recipients handled at once (each is a GetItem, and with `reliable` a send). */
const CONCURRENCY = 32;

export interface BusinessNotification {
  recvIds: readonly string[];
  key: string;
  data: string;
  reliable?: boolean;
  /** The app's id for this notification: a retried call with it stores nothing new. */
  notificationId?: string;
}

/** The stored message's clientMsgId for one recipient: fixed by the notification id, so a retry is a resend. */
function storedClientMsgId(notificationId: string | undefined, userId: string): string {
  if (notificationId === undefined) return newId();
  return `bn-${createHash('sha256').update(`${notificationId}\n${userId}`).digest('hex').slice(0, 40)}`;
}

/** Returns how many recipients had a device reached live, and how many messages were stored. */
export async function sendBusinessNotification(req: BusinessNotification): Promise<{ online: number; stored: number }> {
  const recvIds = [...new Set(req.recvIds)];
  await requireUsers(recvIds);
  const sendTime = Date.now();
  let online = 0;
  await forEachLimit(recvIds, CONCURRENCY, async (userId) => {
    const outcome = await pushEvent(userId, { push: 'businessNotification', data: { key: req.key, data: req.data, sendTime } });
    if (outcome.delivered > 0) online++;
  });
  let stored = 0;
  if (req.reliable) {
    await forEachLimit(recvIds, CONCURRENCY, async (userId) => {
      await notifyConversation(notificationConversationId(userId), 'businessNotification', { key: req.key, data: req.data }, undefined, storedClientMsgId(req.notificationId, userId));
      stored++;
    });
  }
  log.info('business notification sent', { key: req.key, recipients: recvIds.length, online, stored });
  return { online, stored };
}
