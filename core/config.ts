/**
 * Settings, read from the environment on use (as in Lambda), never at import time,
 * so the local runtime and tests can set them before the first call.
 */
import { CirrusError } from './errors';
import { fanOutDefaults, functionEnvVar, queueEnvVar, tableEnvVar } from './env-names';
import type { FunctionKey, TableKey, QueueKey } from './manifest';
import { DEFAULT_MEDIA_MAX_BYTES, DEFAULT_MEDIA_TYPES, parseMediaTypes } from './domain/media';
import { validateWebhookSettings, type WebhookCallback, type WebhookCallbackSettings, type WebhookSettings } from './webhooks/settings';
import { DEFAULT_LOGIN_POLICY, isLoginPolicy, LOGIN_POLICIES, type LoginPolicy } from './domain/login-policy';
import { validateLimits, type LimitSettings } from './domain/limits';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new CirrusError('INTERNAL', `Setting ${name} is missing`);
  return value;
}

/** A setting a deployment may compile into the bundle (`process.env.<NAME>` read by the caller), required. */
function compiled(name: string, value: string | undefined): string {
  if (!value) throw new CirrusError('INTERNAL', `Setting ${name} is missing`);
  return value;
}

function numberSetting(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new CirrusError('INTERNAL', `Setting ${name} is not a number`);
  return value;
}

/** The last limits parsed, by their raw value: parsed once per container, not per request. */
let parsedLimits: { raw: string; settings: LimitSettings | undefined } | undefined;

/** The last webhook settings parsed, by their raw variables: parsed once per container, not per callback. */
let parsedWebhooks: { key: string; settings: WebhookSettings } | undefined;

export const config = {
  tableName: (key: TableKey): string => required(tableEnvVar(key)),
  queueUrl: (key: QueueKey): string => required(queueEnvVar(key)),
  /**
   * The name of a function invoked asynchronously (its `asyncInvoke.envVar`). `self`: the
   * caller is that function, which Lambda tells its own name (AWS_LAMBDA_FUNCTION_NAME)
   * instead: a variable naming the function itself cannot be deployed.
   */
  functionName: (key: FunctionKey, options: { self?: boolean } = {}): string => {
    const own = options.self ? process.env.AWS_LAMBDA_FUNCTION_NAME : undefined;
    return process.env[functionEnvVar(key)] || own || required(functionEnvVar(key));
  },
  /** Days a message stays in the DynamoDB offline store (default 14). */
  messageTtlDays: (): number => numberSetting('MESSAGE_TTL_DAYS', 14),
  /** Days the Aurora history keeps a message (groups may set their own); undefined: for good. */
  historyRetentionDays: (): number | undefined => {
    const days = numberSetting('HISTORY_RETENTION_DAYS', 0);
    if (days === 0) return undefined;
    if (!Number.isInteger(days) || days < 1) throw new CirrusError('INTERNAL', 'Setting HISTORY_RETENTION_DAYS must be a whole number of days, at least 1');
    return days;
  },
  /**
   * An allocated seq whose message has not appeared this long after allocation is a
   * settled hole (default 30 s, longer than any send path may run).
   */
  seqSettleMs: (): number => numberSetting('SEQ_SETTLE_MS', 30_000),
  /** Fan-outs up to this many recipients are pushed inline by the accepting function (default 50). */
  inlinePushMax: (): number => numberSetting('INLINE_PUSH_MAX', fanOutDefaults.inlinePushMax),
  /** Groups with at least this many members keep a GroupOnline index of their online members (default 100). */
  onlineIndexMinMembers: (): number => numberSetting('ONLINE_INDEX_MIN_MEMBERS', fanOutDefaults.onlineIndexMinMembers),
  /** 1:1 messages need friendship (default false). */
  requireFriendship: (): boolean => process.env.REQUIRE_FRIENDSHIP === 'true',
  /** Seconds after sending during which a sender may revoke their own message (default 120; 0: no limit). */
  revokeWindowSeconds: (): number => numberSetting('REVOKE_WINDOW_SECONDS', 120),
  /** Which of a user's connections a new connection kicks (default `onePerPlatform`). */
  multiLoginPolicy: (): LoginPolicy => {
    const raw = process.env.MULTI_LOGIN_POLICY;
    if (raw === undefined || raw === '') return DEFAULT_LOGIN_POLICY;
    if (!isLoginPolicy(raw)) throw new CirrusError('INTERNAL', `Setting MULTI_LOGIN_POLICY must be one of ${LOGIN_POLICIES.join(', ')}`);
    return raw;
  },
  /** The media bucket (private; reached only through presigned URLs). */
  mediaBucket: (): string => required('MEDIA_BUCKET'),
  /** Largest media upload a user may declare, in bytes (default 100 MiB). */
  mediaMaxBytes: (): number => numberSetting('MEDIA_MAX_BYTES', DEFAULT_MEDIA_MAX_BYTES),
  /** Content types a media upload may declare (`type/subtype` or `type/*`; default pictures, audio, video, common documents). */
  mediaAllowedTypes: (): string[] => {
    const raw = process.env.MEDIA_ALLOWED_TYPES;
    if (raw === undefined || raw.trim() === '') return [...DEFAULT_MEDIA_TYPES];
    try {
      return parseMediaTypes(raw);
    } catch (err) {
      throw new CirrusError('INTERNAL', `Setting MEDIA_ALLOWED_TYPES: ${(err as Error).message}`);
    }
  },
  /**
   * The webhook settings, or undefined when webhooks are not configured (no `WEBHOOK_URL`):
   * then no callback is made and nothing is queued for one.
   */
  webhooks: (): WebhookSettings | undefined => {
    const url = process.env.WEBHOOK_URL;
    if (!url) return undefined;
    // `process.env.WEBHOOK_CALLBACKS` spelled out: in a deployment the bundler replaces it with the settings.
    const raw = process.env.WEBHOOK_CALLBACKS || '{}';
    const key = `${url}\n${process.env.WEBHOOK_TIMEOUT_MS ?? ''}\n${raw}`;
    if (parsedWebhooks?.key === key) return parsedWebhooks.settings;
    try {
      const callbacks = JSON.parse(raw) as Record<string, WebhookCallbackSettings>;
      const settings = validateWebhookSettings({ url, timeoutMs: numberSetting('WEBHOOK_TIMEOUT_MS', 2000), callbacks }, 'WEBHOOK');
      parsedWebhooks = { key, settings };
      return settings;
    } catch (err) {
      throw new CirrusError('INTERNAL', `Webhook settings: ${(err as Error).message}`);
    }
  },
  /** A callback's settings when webhooks are configured and the callback is enabled. */
  webhookCallback: (name: WebhookCallback): (WebhookCallbackSettings & { url: string; timeoutMs: number }) | undefined => {
    const settings = config.webhooks();
    const callback = settings?.callbacks[name];
    return settings && callback?.enabled ? { ...callback, url: settings.url, timeoutMs: settings.timeoutMs } : undefined;
  },
  /**
   * The limits against abuse (core/domain/limits.ts), or undefined when the deployment has
   * none (no `LIMITS`, or `off`). Spelled out as `process.env.LIMITS`: compiled into the bundle.
   */
  limits: (): LimitSettings | undefined => {
    const raw = process.env.LIMITS ?? '';
    if (parsedLimits?.raw === raw) return parsedLimits.settings;
    let settings: LimitSettings | undefined;
    if (raw !== '' && raw !== 'off') {
      try {
        settings = validateLimits(JSON.parse(raw), 'LIMITS');
      } catch (err) {
        throw new CirrusError('INTERNAL', `Setting LIMITS: ${(err as Error).message}`);
      }
    }
    parsedLimits = { raw, settings };
    return settings;
  },
  /** Devices a user may register for offline push; one more evicts the least recently updated (default 10). */
  pushMaxDevices: (): number => Math.max(1, Math.floor(numberSetting('PUSH_MAX_DEVICES', 10))),
  // The parameters' names spelled out as `process.env.<NAME>`: a deployment compiles them into the bundle (they are no secret).
  webhookSecretId: (): string => compiled('WEBHOOK_SECRET_ID', process.env.WEBHOOK_SECRET_ID),
  signingSecretId: (): string => compiled('SIGNING_SECRET_ID', process.env.SIGNING_SECRET_ID),
  adminSecretId: (): string => compiled('ADMIN_SECRET_ID', process.env.ADMIN_SECRET_ID),
  connectionsEndpoint: (): string => required('CONNECTIONS_ENDPOINT'),
  db: () => ({ resourceArn: required('DB_CLUSTER_ARN'), secretArn: required('DB_SECRET_ARN'), database: process.env.DB_NAME || 'cirrus' }),
  /** Connection records expire after API Gateway's 2-hour connection cap plus a margin. */
  connectionTtlSeconds: (): number => 2 * 3600 + 600,
};
