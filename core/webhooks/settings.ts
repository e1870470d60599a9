/**
 * Webhook settings shared by the CDK props, the local runtime and the handlers. They
 * travel to the functions as environment variables (`WEBHOOK_*`), which exist only when
 * webhooks are configured: without them no function makes a webhook request.
 */

/** Callbacks made synchronously inside an action: the app backend may allow, refuse or modify it. */
export const BEFORE_CALLBACKS = [
  'beforeSendMessage',
  'beforeUserRegister',
  'beforeUpdateUserInfo',
  'beforeAddFriend',
  'beforeCreateGroup',
  'beforeJoinGroup',
  'beforeInviteToGroup',
  'beforeSetGroupInfo',
  'beforeOfflinePush',
] as const;

/** Callbacks queued after an event (the `webhook` queue), retried until the backend answers 2xx. */
export const AFTER_CALLBACKS = [
  'afterSendMessage',
  'afterMarkRead',
  'afterRevokeMessage',
  'afterUserOnline',
  'afterUserOffline',
  'afterUserKicked',
  'afterAddFriend',
  'afterDeleteFriend',
  'afterCreateGroup',
  'afterJoinGroup',
  'afterQuitGroup',
  'afterKickGroupMember',
  'afterDismissGroup',
  'afterSetGroupInfo',
] as const;

/** The callbacks Cirrus knows; `before…` ones run synchronously and may change the outcome. */
export const WEBHOOK_CALLBACKS = [...BEFORE_CALLBACKS, ...AFTER_CALLBACKS] as const;
export type WebhookCallback = (typeof WEBHOOK_CALLBACKS)[number];
export type BeforeCallback = (typeof BEFORE_CALLBACKS)[number];
export type AfterCallback = (typeof AFTER_CALLBACKS)[number];

/** Callbacks about a message: the only ones `skipContentTypes` applies to. */
export const MESSAGE_CALLBACKS: readonly WebhookCallback[] = ['beforeSendMessage', 'afterSendMessage', 'afterRevokeMessage', 'beforeOfflinePush'];
/** Callbacks whose event never involves a group: `groupIds` cannot apply to them. */
export const GROUPLESS_CALLBACKS: readonly WebhookCallback[] = [
  'beforeUserRegister',
  'beforeUpdateUserInfo',
  'beforeAddFriend',
  'afterUserOnline',
  'afterUserOffline',
  'afterUserKicked',
  'afterAddFriend',
  'afterDeleteFriend',
];

/** Ids a callback's `userIds` / `groupIds` may list (each list). */
export const MAX_WATCHED_IDS = 100;
/**
 * Bound on the callbacks' settings as JSON. In a deployment they are compiled into the
 * bundles of the functions that make callbacks (the manifest's `compiledSettings`), not put in
 * Lambda's environment, whose 4 KB for all variables the table and queue names already
 * use most of; the bound keeps their parsing cheap.
 */
export const MAX_CALLBACK_SETTINGS_CHARS = 64_000;

/** What a before-callback's failure (timeout, network error, non-2xx, malformed answer) does. */
export type FailurePolicy = 'open' | 'closed';

export interface WebhookCallbackSettings {
  readonly enabled: boolean;
  /** Before-callbacks only: `open` lets the action proceed unchanged, `closed` refuses it. Default `open`. */
  readonly failurePolicy?: FailurePolicy;
  /** Content types for which the callback is not made (message callbacks only). */
  readonly skipContentTypes?: readonly number[];
  /**
   * Users to watch: when set (alone or with `groupIds`), the callback is made only for
   * events involving one of them (OpenIM's attentionIds).
   */
  readonly userIds?: readonly string[];
  /** Groups to watch: when set, the callback is made only for events in one of them (or involving a watched user). */
  readonly groupIds?: readonly string[];
}

export interface WebhookSettings {
  /** The app backend's endpoint; every callback is a POST to it. */
  readonly url: string;
  /** Bound on each request, in milliseconds. */
  readonly timeoutMs: number;
  readonly callbacks: Partial<Record<WebhookCallback, WebhookCallbackSettings>>;
}

/** User and group ids, as the API accepts them. */
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9.@-]{0,63}$/;

/** What an event involves, matched against a callback's filters. */
export interface Involved {
  readonly userIds?: readonly (string | undefined)[];
  readonly groupId?: string;
  readonly contentType?: number;
}

/**
 * Whether a callback's filters let an event through: not a skipped content type, and,
 * when users or groups are watched, involving at least one of them.
 */
export function passesFilters(settings: WebhookCallbackSettings, involved: Involved): boolean {
  if (involved.contentType !== undefined && settings.skipContentTypes?.includes(involved.contentType)) return false;
  if (!settings.userIds && !settings.groupIds) return true;
  if (settings.userIds && involved.userIds?.some((id) => id !== undefined && settings.userIds!.includes(id))) return true;
  return Boolean(settings.groupIds && involved.groupId !== undefined && settings.groupIds.includes(involved.groupId));
}

export const DEFAULT_WEBHOOK_TIMEOUT_MS = 2000;
/** Well under the sending functions' timeouts, since a before-callback runs inside a send. */
export const MAX_WEBHOOK_TIMEOUT_MS = 5000;

/**
 * Checks the settings, throwing a sentence that names the offending field (`prefix` is
 * where they came from, e.g. `webhooks`).
 */
export function validateWebhookSettings(input: { url: string; timeoutMs?: number; callbacks?: Record<string, WebhookCallbackSettings> }, prefix = 'webhooks'): WebhookSettings {
  let url: URL;
  try {
    url = new URL(input.url);
  } catch {
    throw new Error(`${prefix}.url must be an absolute http(s) URL; got ${JSON.stringify(input.url)}.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`${prefix}.url must be an http(s) URL; got ${input.url}.`);
  const timeoutMs = input.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_WEBHOOK_TIMEOUT_MS) {
    throw new Error(`${prefix}.timeoutMs must be a whole number of milliseconds between 1 and ${MAX_WEBHOOK_TIMEOUT_MS}; got ${timeoutMs}.`);
  }
  const callbacks: Partial<Record<WebhookCallback, WebhookCallbackSettings>> = {};
  for (const [name, cb] of Object.entries(input.callbacks ?? {})) {
    if (!(WEBHOOK_CALLBACKS as readonly string[]).includes(name)) {
      throw new Error(`${prefix}.callbacks.${name} is not a callback; expected one of ${WEBHOOK_CALLBACKS.join(', ')}.`);
    }
    if (typeof cb?.enabled !== 'boolean') throw new Error(`${prefix}.callbacks.${name}.enabled must be true or false.`);
    if (cb.failurePolicy !== undefined && cb.failurePolicy !== 'open' && cb.failurePolicy !== 'closed') {
      throw new Error(`${prefix}.callbacks.${name}.failurePolicy must be 'open' or 'closed'; got ${String(cb.failurePolicy)}.`);
    }
    if (cb.failurePolicy !== undefined && !name.startsWith('before')) {
      throw new Error(`${prefix}.callbacks.${name}.failurePolicy applies only to before-callbacks; after-callbacks are retried through their queue.`);
    }
    if (cb.skipContentTypes !== undefined && (!Array.isArray(cb.skipContentTypes) || cb.skipContentTypes.some((t) => !Number.isInteger(t)))) {
      throw new Error(`${prefix}.callbacks.${name}.skipContentTypes must be a list of whole numbers.`);
    }
    if (cb.skipContentTypes !== undefined && !MESSAGE_CALLBACKS.includes(name as WebhookCallback)) {
      throw new Error(`${prefix}.callbacks.${name}.skipContentTypes applies only to message callbacks (${MESSAGE_CALLBACKS.join(', ')}).`);
    }
    for (const field of ['userIds', 'groupIds'] as const) {
      const ids = cb[field];
      if (ids === undefined) continue;
      if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_WATCHED_IDS || ids.some((id) => typeof id !== 'string' || !ID_PATTERN.test(id))) {
        throw new Error(`${prefix}.callbacks.${name}.${field} must list 1 to ${MAX_WATCHED_IDS} ids (letters, digits, ".", "@" or "-", 1-64 characters); got ${JSON.stringify(ids)}.`);
      }
    }
    if (cb.groupIds !== undefined && GROUPLESS_CALLBACKS.includes(name as WebhookCallback)) {
      throw new Error(`${prefix}.callbacks.${name}.groupIds cannot apply: ${name} is never about a group (watch userIds instead).`);
    }
    callbacks[name as WebhookCallback] = {
      enabled: cb.enabled,
      ...(cb.failurePolicy !== undefined ? { failurePolicy: cb.failurePolicy } : {}),
      ...(cb.skipContentTypes !== undefined ? { skipContentTypes: [...cb.skipContentTypes] } : {}),
      ...(cb.userIds !== undefined ? { userIds: [...new Set(cb.userIds)] } : {}),
      ...(cb.groupIds !== undefined ? { groupIds: [...new Set(cb.groupIds)] } : {}),
    };
  }
  const size = JSON.stringify(callbacks).length;
  if (size > MAX_CALLBACK_SETTINGS_CHARS) {
    throw new Error(`${prefix}.callbacks are too large (${size} characters as JSON, at most ${MAX_CALLBACK_SETTINGS_CHARS}); watch fewer userIds / groupIds.`);
  }
  return { url: url.toString(), timeoutMs, callbacks };
}

/**
 * The variables carrying the settings (the secret id travels separately). The local
 * runtime sets all of them in the environment; the stack compiles `WEBHOOK_CALLBACKS` into
 * the bundles instead (the manifest's `compiledSettings`). The handlers read
 * `process.env.WEBHOOK_CALLBACKS` either way.
 */
export function webhookEnv(settings: WebhookSettings): Record<string, string> {
  return {
    WEBHOOK_URL: settings.url,
    WEBHOOK_TIMEOUT_MS: String(settings.timeoutMs),
    WEBHOOK_CALLBACKS: JSON.stringify(settings.callbacks),
  };
}
