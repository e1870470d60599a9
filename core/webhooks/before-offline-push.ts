/**
 * `beforeOfflinePush`: the app backend's say on one recipient's offline push, made by the
 * notify function before the providers are called. The app may allow it, change its title,
 * body or `ex` (`{ "action": "modify", "title"?, "body"?, "ex"? }`), or suppress it for
 * this recipient (`{ "action": "refuse", "code": 10000-19999 }`). A failure (timeout,
 * network error, non-2xx, malformed answer), whatever the callback's failure policy, sends
 * the notification as Cirrus built it: a push is not worth losing to a backend's outage.
 */
import * as z from 'zod/mini';
import { CirrusError } from '../errors';
import { OFFLINE_PUSH_LIMITS } from '../offline-push/rules';
import type { Notification } from '../offline-push/types';
import { callBefore } from './before';

/** What the app backend is told. */
export interface BeforeOfflinePushData {
  userId: string;
  conversationId: string;
  seq: number;
  serverMsgId: string;
  senderId: string;
  sessionType: number;
  groupId?: string;
  contentType: number;
  /** The notification as built: title, body, ex, silent, badge. */
  notification: { title?: string; body?: string; ex?: string; silent: boolean; badge?: number };
}

const Modify = z.strictObject({
  title: z.optional(z.string().check(z.minLength(1), z.maxLength(OFFLINE_PUSH_LIMITS.title))),
  body: z.optional(z.string().check(z.minLength(1), z.maxLength(OFFLINE_PUSH_LIMITS.body))),
  ex: z.optional(z.string().check(z.maxLength(OFFLINE_PUSH_LIMITS.ex))),
});

/** The notification to send (possibly rewritten), or undefined when the app suppressed it. */
export async function beforeOfflinePush(data: BeforeOfflinePushData, built: Notification, contentType: number): Promise<Notification | undefined> {
  try {
    const modified = await callBefore('beforeOfflinePush', data, {
      involved: { userIds: [data.userId, data.senderId], groupId: data.groupId, contentType },
      // One delivery id per message and recipient, also across the notify function's retries.
      idParts: [data.serverMsgId, data.userId],
      modify: Modify,
      what: 'the offline push',
    });
    if (!modified) return built;
    return {
      ...built,
      ...(modified.title !== undefined && !built.silent ? { title: modified.title, titleLocKey: undefined, titleLocArgs: undefined } : {}),
      ...(modified.body !== undefined && !built.silent ? { body: modified.body, bodyLocKey: undefined, bodyLocArgs: undefined } : {}),
      ...(modified.ex !== undefined ? { data: { ...built.data, ex: modified.ex } } : {}),
    };
  } catch (err) {
    if (err instanceof CirrusError && err.reason === 'REFUSED_BY_APP') return undefined;
    // APP_UNAVAILABLE (the closed policy): sent as built.
    if (err instanceof CirrusError && err.reason === 'APP_UNAVAILABLE') return built;
    throw err;
  }
}
