/**
 * Webhook settings shared by the CDK props, the local runtime and the handlers. They
 * travel to the functions as environment variables (`WEBHOOK_*`), which exist only when
 * webhooks are configured: without them no function makes a webhook request.
 */

/** The callbacks Cirrus knows; `before…` ones run synchronously and may change the outcome. */
export const WEBHOOK_CALLBACKS = ['beforeSendMessage', 'afterSendMessage'] as const;
export type WebhookCallback = (typeof WEBHOOK_CALLBACKS)[number];

/** What a before-callback's failure (timeout, network error, non-2xx, malformed answer) does. */
export type FailurePolicy = 'open' | 'closed';

export interface WebhookCallbackSettings {
  readonly enabled: boolean;
  /** Before-callbacks only: `open` lets the action proceed unchanged, `closed` refuses it. Default `open`. */
  readonly failurePolicy?: FailurePolicy;
  /** Content types for which the callback is not made. */
  readonly skipContentTypes?: readonly number[];
}

export interface WebhookSettings {
  /** The app backend's endpoint; every callback is a POST to it. */
  readonly url: string;
  /** Bound on each request, in milliseconds. */
  readonly timeoutMs: number;
  readonly callbacks: Partial<Record<WebhookCallback, WebhookCallbackSettings>>;
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
    callbacks[name as WebhookCallback] = {
      enabled: cb.enabled,
      ...(cb.failurePolicy !== undefined ? { failurePolicy: cb.failurePolicy } : {}),
      ...(cb.skipContentTypes !== undefined ? { skipContentTypes: [...cb.skipContentTypes] } : {}),
    };
  }
  return { url: url.toString(), timeoutMs, callbacks };
}

/** The environment variables carrying the settings (the secret id travels separately). */
export function webhookEnv(settings: WebhookSettings): Record<string, string> {
  return {
    WEBHOOK_URL: settings.url,
    WEBHOOK_TIMEOUT_MS: String(settings.timeoutMs),
    WEBHOOK_CALLBACKS: JSON.stringify(settings.callbacks),
  };
}
