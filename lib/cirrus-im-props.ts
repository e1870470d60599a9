/**
 * The knobs of a Cirrus deployment, their defaults, and the checks that reject a
 * configuration before any resource is created.
 */
import { RemovalPolicy, Token } from 'aws-cdk-lib';
import * as rds from 'aws-cdk-lib/aws-rds';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as ssm from 'aws-cdk-lib/aws-ssm';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { fanOutDefaults, functions } from '../core/manifest';
import { longestSeqAllocation } from './manifest-checks';
import { LOGIN_POLICIES, type LoginPolicy } from '../core/domain/login-policy';
import { validateWebhookSettings, type FailurePolicy, type WebhookCallback, type WebhookSettings } from '../core/webhooks/settings';
import { DEFAULT_MEDIA_MAX_BYTES, DEFAULT_MEDIA_TYPES, parseMediaTypes } from '../core/domain/media';
import { validatePushSettings } from '../core/offline-push/settings';
import type { PushSettings } from '../core/offline-push/types';
import { validateLimits, type LimitSettings, type RateLimit } from '../core/domain/limits';

export type { LoginPolicy };

/** Levels the handlers' logger understands (`LOG_LEVEL`). */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const logLevels: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** Capacity of the Aurora Serverless v2 history cluster. */
export interface AuroraCapacityProps {
  /**
   * Lowest capacity in Aurora capacity units (ACU), in steps of 0.5. `0` lets the cluster
   * pause when idle, so it bills nothing but storage; the first query after a pause waits
   * about 15 seconds for it to resume, which only delays the asynchronous archive and
   * history reads, never a message.
   * @default 0
   */
  readonly minCapacity?: number;
  /**
   * Highest capacity in ACU, in steps of 0.5, between 1 and 256.
   * @default 2
   */
  readonly maxCapacity?: number;
  /**
   * Seconds without connections after which the cluster pauses, between 300 and 86,400.
   * Only meaningful, and only accepted, when `minCapacity` is 0.
   * @default 300
   */
  readonly autoPauseSeconds?: number;
  /**
   * Aurora PostgreSQL engine version of a new cluster: a major version (`'16'`) or a full one
   * (`'16.6'`), 13 or later. A major version alone lets AWS create the cluster at that major's
   * current default minor version, so a fresh deploy keeps working after AWS retires any one
   * minor version; automatic minor version upgrades keep the cluster patched either way. A full
   * version fails to create once AWS retires it. Changing the major version of an existing
   * cluster is a major version upgrade: see docs/deploy.md.
   * @default '16'
   */
  readonly engineVersion?: string;
}

/** Default route throttling of an API stage. */
export interface ThrottleProps {
  /**
   * Steady-state requests (WebSocket: messages and connects) per second.
   * @default 1000
   */
  readonly rateLimit?: number;
  /**
   * Requests that may arrive at once above the steady rate.
   * @default 500
   */
  readonly burstLimit?: number;
}

/** The media store: a private S3 bucket reached through presigned upload and download URLs. */
export interface MediaProps {
  /**
   * Largest file a user may upload, in bytes, between 1 and 5 GiB (S3's limit for one
   * POST upload). Uploads declare their exact size; S3 refuses any other.
   * @default 104857600 (100 MiB)
   */
  readonly maxUploadBytes?: number;
  /**
   * Content types an upload may declare: `type/subtype`, or `type/*` for a whole family.
   * Think twice before allowing types a browser runs (`image/svg+xml`, `text/html`):
   * download URLs would serve them from the bucket's origin.
   * @default - pictures (JPEG, PNG, GIF, WebP, HEIC/HEIF, AVIF), audio (MP3, AAC/M4A, Ogg, WebM, WAV, AMR), video (MP4, QuickTime, WebM, 3GPP), PDF, plain text, CSV, ZIP, Word, Excel, PowerPoint
   */
  readonly allowedContentTypes?: readonly string[];
  /**
   * Days after which media objects are deleted; messages still reference them, and
   * download URLs then answer MEDIA_NOT_FOUND.
   * @default - objects are kept
   */
  readonly expirationDays?: number;
  /**
   * Origins from which browsers may upload and download (the bucket's CORS rule):
   * `['*']` for any, or full origins such as `https://app.example.com`.
   * @default ['*']
   */
  readonly corsAllowedOrigins?: readonly string[];
}

/** One webhook callback of {@link WebhooksProps}. */
export interface WebhookCallbackProps {
  /** Whether Cirrus makes this callback. */
  readonly enabled: boolean;
  /**
   * Before-callbacks only: what a failed callback (timeout, network error, non-2xx,
   * malformed answer, invalid modification) does. `'open'`: the action proceeds unchanged;
   * `'closed'`: it is refused with APP_UNAVAILABLE (retryable).
   * @default 'open'
   */
  readonly failurePolicy?: FailurePolicy;
  /**
   * Message callbacks only (beforeSendMessage, afterSendMessage, afterRevokeMessage):
   * content types for which the callback is not made (e.g. `[110]` to keep custom
   * payloads away from the backend).
   * @default - every content type
   */
  readonly skipContentTypes?: readonly number[];
  /**
   * Users to watch (at most 100): the callback is made only for events involving one of
   * them, or one of `groupIds` (OpenIM's attentionIds).
   * @default - every user
   */
  readonly userIds?: readonly string[];
  /**
   * Groups to watch (at most 100): the callback is made only for events in one of them, or
   * involving one of `userIds`. Not for callbacks that are never about a group.
   * @default - every group
   */
  readonly groupIds?: readonly string[];
}

/**
 * Webhooks to the app backend: signed JSON POSTs (see docs/operations.md). Before-callbacks
 * run inside the action and may refuse or change it; after-callbacks go through the
 * `webhook` queue and are retried until the backend answers 2xx.
 */
export interface WebhooksProps {
  /** The app backend's endpoint (`https://…`); every callback is a POST to it. */
  readonly url: string;
  /**
   * The SSM SecureString parameter whose value signs the callbacks (HMAC-SHA256), e.g.
   * `ssm.StringParameter.fromSecureStringParameterAttributes(stack, 'Key', { parameterName: '/app/webhook-key' })`.
   * @default - a 64-character SecureString parameter the construct creates (`CirrusIm.webhookSigningSecret`)
   */
  readonly signingParameter?: ssm.IStringParameter;
  /**
   * The customer managed KMS key `signingParameter` is encrypted with, when not the AWS
   * managed `aws/ssm`: the functions that sign callbacks may decrypt with it through Parameter Store.
   */
  readonly signingParameterKey?: kms.IKey;
  /**
   * Bound on each callback request, in milliseconds, between 1 and 5000.
   * @default 2000
   */
  readonly timeoutMs?: number;
  /** The callbacks to make, by name (the catalogue is in docs/webhooks.md); unlisted ones are off. */
  readonly callbacks?: { readonly [name in WebhookCallback]?: WebhookCallbackProps };
}

/**
 * Apple Push Notification service with token-based (.p8) authentication: one key of the Apple
 * developer account signs the requests for every app of the team.
 */
export interface ApnsProps {
  /** The key's Key ID: 10 uppercase letters and digits (Certificates, Identifiers & Profiles → Keys). */
  readonly keyId: string;
  /** The developer account's Team ID: 10 uppercase letters and digits (Membership details). */
  readonly teamId: string;
  /** Bundle ids of the apps devices may register for (each the apns-topic), reverse-DNS, 1 to 50, no duplicates. */
  readonly bundleIds: readonly string[];
  /**
   * Name (or ARN) of the SSM SecureString parameter holding the .p8 file's text
   * (`aws ssm put-parameter --type SecureString --value file://AuthKey_<keyId>.p8`).
   */
  readonly keyParameter: string;
}

/** Firebase Cloud Messaging (HTTP v1 API) with a service account of the Firebase project. */
export interface FcmProps {
  /** The Firebase project ID (Project settings → General), e.g. `my-chat-app`. */
  readonly projectId: string;
  /**
   * Name (or ARN) of the SSM SecureString parameter holding the service account's JSON key file
   * (Project settings → Service accounts → Generate new private key).
   */
  readonly serviceAccountParameter: string;
}

/** Web Push (browsers) with VAPID: the application server's key pair signs every request. */
export interface WebPushProps {
  /** The VAPID public key, base64url (the `publicKey` of `npx web-push generate-vapid-keys`); browsers subscribe with it. */
  readonly publicKey: string;
  /** A `mailto:` address or `https:` URL where push services can reach the operator. */
  readonly subject: string;
  /** Name (or ARN) of the SSM SecureString parameter holding the VAPID private key (base64url). */
  readonly privateKeyParameter: string;
}

/**
 * Offline push: the providers Cirrus calls directly to notify devices without a foreground
 * connection. The secrets stay in SSM SecureString parameters the operator puts (docs/deploy.md,
 * "Offline push"); the template and the functions' environment only name them.
 */
export interface OfflinePushProps {
  readonly apns?: ApnsProps;
  readonly fcm?: FcmProps;
  /** Web Push for browsers (the provider id is `webpush`). */
  readonly webpush?: WebPushProps;
  /**
   * false: no notification shows message content, only "New message" (a user may also hide it for themselves).
   * @default true
   */
  readonly showPreview?: boolean;
  /**
   * false: an @mention or @all in a group does not alert a member who receives the group silently.
   * @default true
   */
  readonly mentionsBreakThrough?: boolean;
  /**
   * The customer managed KMS key the parameters are encrypted with, when not the AWS managed
   * `aws/ssm`: the function reading them may decrypt with it through Parameter Store.
   */
  readonly parameterKey?: kms.IKey;
}

/**
 * Thresholds of the failure-signal alarms. Each alarm reads 5-minute periods and fires when
 * `datapointsToAlarm` of the last `evaluationPeriods` periods reach its threshold.
 */
export interface AlarmThresholdsProps {
  /** Unhandled errors and timeouts of the functions one alarm watches, in 5 minutes. @default 5 */
  readonly functionErrors?: number;
  /** Throttled invocations of the functions one alarm watches, in 5 minutes. @default 10 */
  readonly functionThrottles?: number;
  /** WebSocket integration and execution errors, or HTTP 5xx answers, of one API in 5 minutes. @default 5 */
  readonly apiErrors?: number;
  /** Age in seconds of the oldest stream record a consumer has not yet read (IteratorAge). @default 300 */
  readonly streamIteratorAgeSeconds?: number;
  /** Age in seconds of the oldest message of a work queue. @default 900 */
  readonly queueAgeSeconds?: number;
  /** Read and write throttle events of the tables and indexes one alarm watches, in 5 minutes. @default 25 */
  readonly tableThrottles?: number;
}

/** Which CloudWatch dashboard `monitoring.dashboard` creates (docs/operations.md, "Dashboard"). */
export type DashboardKind = 'summary' | 'detailed';

/** The CloudWatch dashboard and the alarms on failure signals (docs/operations.md, "Monitoring"). */
export interface MonitoringProps {
  /**
   * The CloudWatch dashboard of the deployment. `'summary'` graphs the message path (the
   * invocations, errors, throttles and p99 duration of wsMessage, wsConnect, push, notify and
   * archive), API Gateway messages and errors, the Messages and Conversations tables, the stream
   * iterator age, the dead letters and Aurora's capacity in at most 50 metrics: free as one of
   * the account's first three dashboards, which CloudWatch's free tier allows "up to 50 metrics"
   * each. `'detailed'` graphs every function, table, index and queue (128 metrics in the default
   * deployment): $3 a month. `true` is `'summary'`; `false` creates no dashboard.
   * @default 'summary'
   */
  readonly dashboard?: DashboardKind | boolean;
  /**
   * Alarms on every failure signal (function errors and throttles, API errors, stream and
   * queue age, DynamoDB throttling, Aurora at its maximum capacity), notifying `alarmTopic`.
   * They bill $0.10 a month per metric they read (docs/operations.md lists the count).
   * The dead-letter alarms exist either way.
   * @default - on when `alarmTopic` is given, off otherwise
   */
  readonly alarms?: boolean;
  readonly thresholds?: AlarmThresholdsProps;
  /** Number of 5-minute periods an alarm looks at, between 1 and 288 (a day). @default 3 */
  readonly evaluationPeriods?: number;
  /** How many of those periods must reach the threshold, between 1 and `evaluationPeriods`. @default 2 */
  readonly datapointsToAlarm?: number;
}

/** Properties of {@link CirrusIm}. Every field is optional. */
export interface CirrusImProps {
  /**
   * Days a message stays in the DynamoDB offline store that clients sync from. Older
   * messages remain in the Aurora history.
   * @default 14
   */
  readonly messageRetentionDays?: number;
  /**
   * Days the Aurora history keeps a message (like OpenIM's `retainChatRecords`): a daily run of
   * the `retention` function deletes older ones, with their edits, from the history and search.
   * A group may set its own (PUT /admin/groups/{groupId}/retention). Independent of
   * messageRetentionDays (the offline store's TTL). Whole days, 1 to 36,500.
   * @default - the history is kept for good
   */
  readonly historyRetentionDays?: number;
  /**
   * Runs the daily retention for groups' own retention even without historyRetentionDays
   * (with it, the run is on anyway). Each run resumes an auto-paused Aurora for a few minutes.
   * @default false
   */
  readonly groupRetention?: boolean;
  /**
   * Seconds after which a seq that was allocated but never written is a settled hole
   * that clients skip. Must be longer than the longest send path (the timeout of every
   * function that allocates seqs), or a slow send could be skipped as a hole.
   * @default 30
   */
  readonly seqSettleSeconds?: number;
  /**
   * Fan-outs up to this many recipients are pushed by the function that accepted the message,
   * before it answers (1:1 messages always); larger ones go to asynchronous invocations of the
   * push function, one per 100 recipients (500 connections of a group's online index). Up to
   * 50 the posts take about one round of parallel posts (~15 ms in AWS) and save a push
   * invocation; below, the ack comes sooner for mid-sized groups.
   * @default 50
   */
  readonly inlinePushMax?: number;
  /**
   * Groups with at least this many members keep an index of their online members
   * (GroupOnline): a message to such a group reads only its online members' connections,
   * and each connect and disconnect of a member writes one entry per such group. Below it,
   * a group message reads every member. See docs/architecture.md for the break-even.
   * @default 100
   */
  readonly onlineIndexMinMembers?: number;
  /**
   * One-to-one messages need the two users to be friends (a blocked sender is refused
   * either way).
   * @default false
   */
  readonly requireFriendship?: boolean;
  /**
   * Seconds after sending during which a sender may revoke their own message (the group's
   * owner and admins, and admin tokens, may revoke at any time). 0: no limit.
   * @default 120
   */
  readonly revokeWindowSeconds?: number;
  /**
   * Offline push devices a user may register (`PUSH_MAX_DEVICES`); registering one more removes
   * the user's least recently updated device. Whole number, 1 to 100.
   * @default 10
   */
  readonly pushMaxDevices?: number;
  /**
   * Multi-device login policy, applied when a connection opens: which of the user's other
   * live connections it kicks (they get a `kicked` event, are closed, and their tokens are
   * revoked). `'multiple'`: none; `'onePerPlatform'`: those on the same platform id;
   * `'onePerClass'`: those of the same class (PC: Windows, macOS, Linux; mobile: iOS,
   * Android, HarmonyOS; pad: AndroidPad, iPad; web: Web, MiniWeb; admin); `'pcUnlimited'`:
   * any number of PC connections plus one other, so a non-PC connection kicks the other
   * non-PC ones.
   * @default 'onePerPlatform'
   */
  readonly multiLoginPolicy?: LoginPolicy;
  /**
   * Capacity of the Aurora Serverless v2 history cluster.
   * @default - { minCapacity: 0, maxCapacity: 2, autoPauseSeconds: 300 }
   */
  readonly aurora?: AuroraCapacityProps;
  /**
   * Retention of every log group the construct creates (functions, API access logs,
   * VPC flow logs).
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to data (tables, Aurora cluster, buckets, secrets, log groups) when it is
   * removed from the stack or the stack is deleted. `RETAIN_ON_UPDATE_OR_DELETE` keeps it, except
   * when the operation that created it rolls back: a failed first deploy leaves nothing behind,
   * so it can simply be retried. `RETAIN` keeps it even then (what a failed create leaves must be
   * deleted by hand). `DESTROY` deletes it (for test and development stacks).
   * @default RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Deletion protection of the DynamoDB tables and the Aurora cluster, which then cannot be
   * deleted by anyone, CloudFormation included, until it is turned off. Leave it off for the
   * first deploy: a protected resource cannot be deleted by the rollback of a failed create,
   * which then fails too. Turn it on once the stack exists. Not with `removalPolicy` DESTROY.
   * @default false
   */
  readonly deletionProtection?: boolean;
  /**
   * Log level of the handlers (`LOG_LEVEL`): the lines they write when an invocation succeeds.
   * The lines below it are kept in a buffer of the invocation and written only when it fails
   * (an error logged or thrown), so a failure comes with its path. At `info` nothing is written
   * per message; `debug` writes a line at each step of every message's path (send, push,
   * archive), and buffers nothing.
   * @default 'info'
   */
  readonly logLevel?: LogLevel;
  /**
   * X-Ray tracing: every function with active tracing, and the handlers with Powertools' Tracer
   * (a subsegment per handler and per AWS call, the cold start and the service as annotations).
   * X-Ray bills traces beyond its free tier ($5 per million recorded, 100,000 a month free),
   * and the Tracer adds to each function's bundle and initialisation: off, it is not in the
   * bundles at all.
   * @default false
   */
  readonly tracing?: boolean;
  /**
   * Access logging of the WebSocket stage: one line per frame a client sends (about 130 bytes,
   * billed by CloudWatch Logs like every log byte). Off by default: the functions log every
   * warning and error with the request id as `correlationId`.
   * @default false
   */
  readonly webSocketAccessLogs?: boolean;
  /**
   * Stage name of the WebSocket API; it is the last path segment of the WebSocket URL.
   * @default 'live'
   */
  readonly stageName?: string;
  /**
   * Default route throttling of the WebSocket stage and of the HTTP API stage. It caps
   * one deployment's share of the account-wide API Gateway limit (10,000 requests per
   * second, shared with `@connections` pushes).
   * @default - { rateLimit: 1000, burstLimit: 500 }
   */
  readonly throttle?: ThrottleProps;
  /**
   * Limits against abuse, answered with THROTTLED and a retry-after (see docs/operations.md):
   * sends per WebSocket connection and per user (token buckets held by each container), a
   * window of sends per user held across containers (counted by the archive function, which
   * then sets `throttledUntil` on the user; nothing is written for a message under it),
   * HTTP requests per caller (user token, or source address without a token; admin tokens
   * are not limited; a bucket in each container and a count per minute shared across
   * containers, written only for busy callers), and typing indicators per connection. A
   * field left out takes its default; `perSecond: 0` or `window.messages: 0` turns that one off; `false` turns all of them off. Compiled into the
   * bundles of the functions that enforce them.
   * @default - { connection: { perSecond: 5, burst: 20 }, user: { perSecond: 10, burst: 40 }, window: { messages: 300, seconds: 60, throttleSeconds: 60 }, http: { perSecond: 20, burst: 100 }, typing: { perSecond: 1, burst: 5 } }
   */
  readonly limits?: LimitsProps | false;
  /**
   * Topic notified when a message lands in a dead-letter queue, and by the failure-signal
   * alarms of `monitoring` (which it turns on), when they fire and when they recover.
   * @default - the dead-letter alarms change state in CloudWatch but notify no one; no other alarm
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * The CloudWatch dashboard and the failure-signal alarms, their thresholds and evaluation.
   * @default - the summary dashboard; the alarms when `alarmTopic` is given
   */
  readonly monitoring?: MonitoringProps;
  /**
   * With `webSocketAccessLogs`, set the account's API Gateway CloudWatch Logs role, which
   * WebSocket access logging requires (without access logs the account setting is left alone). The setting is one per account and region: turn this off when the account
   * already has the role (for example from another stack), so two stacks do not own it.
   * The role and setting are retained when the stack is deleted, because other APIs in
   * the account may log through them.
   * @default true
   */
  readonly configureApiGatewayLogRole?: boolean;
  /**
   * The media store's limits, retention and CORS rule.
   * @default - 100 MiB uploads of common media types, kept forever, from any origin
   */
  readonly media?: MediaProps;
  /**
   * Webhooks to the app backend.
   * @default - no webhooks: no callback is made and the message path sends no extra request
   */
  readonly webhooks?: WebhooksProps;
  /**
   * Offline push through APNs, FCM and Web Push: at least one provider.
   * @default - no offline push: devices cannot be registered and nothing is sent
   */
  readonly offlinePush?: OfflinePushProps;
}

/** The `limits` prop: any field left out takes its default (see {@link CirrusImProps.limits}). */
export interface LimitsProps {
  /** Sends a second over one WebSocket connection, and the burst allowed above it. */
  readonly connection?: Partial<RateLimit>;
  /** Sends a second by one user (all their connections, and POST /messages as the user), and the burst. */
  readonly user?: Partial<RateLimit>;
  /** More than `messages` sends within `seconds` throttles the user for `throttleSeconds`, in every container. */
  readonly window?: Partial<LimitSettings['window']>;
  /** HTTP API requests a second per caller, and the burst. */
  readonly http?: Partial<RateLimit>;
  /** Typing indicators a second over one WebSocket connection, and the burst. */
  readonly typing?: Partial<RateLimit>;
}

/** {@link CirrusImProps} with every default applied. */
export interface ResolvedCirrusImProps {
  readonly messageRetentionDays: number;
  /** undefined: kept for good. */
  readonly historyRetentionDays: number | undefined;
  /** Whether the daily retention run is scheduled. */
  readonly retentionSchedule: boolean;
  readonly seqSettleSeconds: number;
  readonly inlinePushMax: number;
  readonly onlineIndexMinMembers: number;
  readonly requireFriendship: boolean;
  readonly revokeWindowSeconds: number;
  readonly pushMaxDevices: number;
  readonly multiLoginPolicy: LoginPolicy;
  readonly aurora: { readonly minCapacity: number; readonly maxCapacity: number; readonly autoPauseSeconds?: number; readonly engineVersion: rds.AuroraPostgresEngineVersion };
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  readonly deletionProtection: boolean;
  readonly logLevel: LogLevel;
  readonly tracing: boolean;
  readonly webSocketAccessLogs: boolean;
  readonly stageName: string;
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  /** undefined: no limit against abuse. */
  readonly limits: LimitSettings | undefined;
  readonly alarmTopic?: sns.ITopic;
  readonly monitoring: ResolvedMonitoring;
  readonly configureApiGatewayLogRole: boolean;
  readonly media: { readonly maxUploadBytes: number; readonly allowedContentTypes: readonly string[]; readonly expirationDays?: number; readonly corsAllowedOrigins: readonly string[] };
  readonly webhooks?: WebhookSettings & { readonly signingParameter?: ssm.IStringParameter; readonly signingParameterKey?: kms.IKey };
  /** The settings the functions receive (`PUSH_SETTINGS`), and the key of their parameters when not `aws/ssm`. */
  readonly offlinePush?: { readonly settings: PushSettings; readonly parameterKey?: kms.IKey };
}

/** {@link MonitoringProps} with every default applied. */
export interface ResolvedMonitoring {
  readonly dashboard: DashboardKind | false;
  readonly alarms: boolean;
  readonly thresholds: Required<AlarmThresholdsProps>;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
}

export const DEFAULT_ALARM_THRESHOLDS: Required<AlarmThresholdsProps> = {
  functionErrors: 5,
  functionThrottles: 10,
  apiErrors: 5,
  streamIteratorAgeSeconds: 300,
  queueAgeSeconds: 900,
  tableThrottles: 25,
};

/** `monitoring` with its defaults, or a sentence naming what is wrong with it. */
function resolveMonitoring(monitoring: MonitoringProps | undefined, hasAlarmTopic: boolean): ResolvedMonitoring {
  const given = monitoring ?? {};
  if (given.alarms !== undefined && typeof given.alarms !== 'boolean') throw new Error(`monitoring.alarms must be true or false; got ${JSON.stringify(given.alarms)}.`);
  if (given.dashboard !== undefined && ![true, false, 'summary', 'detailed'].includes(given.dashboard)) {
    throw new Error(`monitoring.dashboard must be 'summary' (the free dashboard of at most 50 metrics), 'detailed' (every resource, $3 a month) or false (no dashboard); got ${JSON.stringify(given.dashboard)}.`);
  }
  const dashboard = given.dashboard === true || given.dashboard === undefined ? 'summary' : given.dashboard;
  const alarms = given.alarms ?? hasAlarmTopic;
  const tuned = (['thresholds', 'evaluationPeriods', 'datapointsToAlarm'] as const).filter((key) => given[key] !== undefined);
  if (!alarms && tuned.length > 0) {
    throw new Error(`monitoring.${tuned[0]} only applies to the failure-signal alarms, which are off: give an alarmTopic or set monitoring.alarms to true.`);
  }
  const thresholds = { ...DEFAULT_ALARM_THRESHOLDS };
  for (const [name, value] of Object.entries(given.thresholds ?? {}) as [keyof AlarmThresholdsProps, unknown][]) {
    if (!(name in DEFAULT_ALARM_THRESHOLDS)) {
      throw new Error(`monitoring.thresholds.${name} is not a threshold Cirrus knows; the thresholds are ${Object.keys(DEFAULT_ALARM_THRESHOLDS).join(', ')}.`);
    }
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new Error(`monitoring.thresholds.${name} must be a positive number; got ${JSON.stringify(value)}.`);
    }
    thresholds[name] = value;
  }
  const evaluationPeriods = given.evaluationPeriods ?? 3;
  if (!Number.isInteger(evaluationPeriods) || evaluationPeriods < 1 || evaluationPeriods > 288) {
    throw new Error(`monitoring.evaluationPeriods must be a whole number of 5-minute periods between 1 and 288 (CloudWatch evaluates at most a day); got ${evaluationPeriods}.`);
  }
  const datapointsToAlarm = given.datapointsToAlarm ?? Math.min(2, evaluationPeriods);
  if (!Number.isInteger(datapointsToAlarm) || datapointsToAlarm < 1 || datapointsToAlarm > evaluationPeriods) {
    throw new Error(`monitoring.datapointsToAlarm must be a whole number between 1 and monitoring.evaluationPeriods (${evaluationPeriods}); got ${datapointsToAlarm}.`);
  }
  return { dashboard, alarms, thresholds, evaluationPeriods, datapointsToAlarm };
}

/**
 * The longest stack name a deployment may have. CloudFormation builds the generated table and
 * queue names from it, and the HTTP function's environment, which Lambda caps at 4 KB for all
 * variables together, holds over a dozen of them (test/infra/deploy-limits.test.ts).
 */
export const MAX_STACK_NAME_LENGTH = 100;

/** Fails the synth when the stack's name is too long for the functions' environments. */
export function checkStackName(stackName: string): void {
  if (!Token.isUnresolved(stackName) && stackName.length > MAX_STACK_NAME_LENGTH) {
    throw new Error(
      `The stack name must be at most ${MAX_STACK_NAME_LENGTH} characters: CloudFormation puts it into every generated table and queue name, ` +
        `and the HTTP function's environment (4 KB at most) holds over a dozen of them; got ${stackName.length} characters (${stackName}).`,
    );
  }
}

const removalPolicies: readonly RemovalPolicy[] = [RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE, RemovalPolicy.RETAIN, RemovalPolicy.DESTROY];

/**
 * The major version only: AWS creates a new cluster at that major's default minor version,
 * which it keeps deployable, where a pinned minor version fails to create once it is retired.
 */
export const DEFAULT_AURORA_ENGINE_VERSION = '16';

/**
 * Scaling to 0 ACU (auto-pause) needs at least these minor versions of each major version
 * (later majors have it from their first release); majors before 13 have no Data API on
 * Serverless v2.
 */
const AUTO_PAUSE_MINIMUM: Readonly<Record<number, number>> = { 13: 15, 14: 12, 15: 7, 16: 3 };

/** `aurora.engineVersion` as the CDK's engine version, or a sentence saying what is wrong with it. */
function auroraEngineVersion(version: string, minCapacity: number): rds.AuroraPostgresEngineVersion {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(version);
  if (!match) {
    throw new Error(`aurora.engineVersion must be an Aurora PostgreSQL major version such as '16', or a full version such as '16.6'; got ${JSON.stringify(version)}.`);
  }
  const major = Number(match[1]);
  if (major < 13) throw new Error(`aurora.engineVersion must be Aurora PostgreSQL 13 or later (the Data API on Serverless v2); got ${version}.`);
  const minor = match[2] === undefined ? undefined : Number(match[2]);
  const needed = AUTO_PAUSE_MINIMUM[major];
  const autoPause = minor === undefined || needed === undefined || minor >= needed;
  if (minCapacity === 0 && !autoPause) {
    throw new Error(`aurora.minCapacity 0 (auto-pause) needs Aurora PostgreSQL ${major}.${needed} or later; got ${version}. Choose a later version or a minCapacity of at least 0.5.`);
  }
  // A major version alone: AWS's default minor of a supported major has auto-pause.
  return rds.AuroraPostgresEngineVersion.of(version, String(major), { s3Import: true, s3Export: true, serverlessV2AutoPauseSupported: autoPause });
}

/** Whether a value holds a string only known at deploy (a token). */
function containsToken(value: unknown): boolean {
  if (typeof value === 'string') return Token.isUnresolved(value);
  if (Array.isArray(value)) return value.some(containsToken);
  if (value !== null && typeof value === 'object') return Object.values(value).some(containsToken);
  return false;
}

const isHalfStep = (n: number) => Number.isFinite(n) && Number.isInteger(n * 2);

/**
 * Applies the defaults and rejects invalid or conflicting values with a sentence that
 * names the property, so a wrong configuration fails at synth rather than at deploy.
 */
export function resolveCirrusImProps(props: CirrusImProps = {}): ResolvedCirrusImProps {
  const messageRetentionDays = props.messageRetentionDays ?? 14;
  if (!Number.isInteger(messageRetentionDays) || messageRetentionDays < 1) {
    throw new Error(`messageRetentionDays must be a whole number of days, at least 1; got ${messageRetentionDays}.`);
  }

  const historyRetentionDays = props.historyRetentionDays;
  if (historyRetentionDays !== undefined && (!Number.isInteger(historyRetentionDays) || historyRetentionDays < 1 || historyRetentionDays > 36_500)) {
    throw new Error(`historyRetentionDays must be a whole number of days, 1 to 36500; got ${historyRetentionDays}.`);
  }

  const seqSettleSeconds = props.seqSettleSeconds ?? 30;
  const slowest = longestSeqAllocation(functions);
  if (!Number.isFinite(seqSettleSeconds) || seqSettleSeconds <= slowest.timeoutSeconds) {
    throw new Error(
      `seqSettleSeconds must be longer than the timeout of every function that allocates seqs ` +
        `(${slowest.name}: ${slowest.timeoutSeconds} s), or a slow send would be skipped as a hole; got ${seqSettleSeconds}.`,
    );
  }

  const inlinePushMax = props.inlinePushMax ?? fanOutDefaults.inlinePushMax;
  if (!Number.isInteger(inlinePushMax) || inlinePushMax < 0) {
    throw new Error(`inlinePushMax must be a whole number, 0 or more; got ${inlinePushMax}.`);
  }

  const onlineIndexMinMembers = props.onlineIndexMinMembers ?? fanOutDefaults.onlineIndexMinMembers;
  if (!Number.isInteger(onlineIndexMinMembers) || onlineIndexMinMembers < 2) {
    throw new Error(`onlineIndexMinMembers must be a whole number, 2 or more; got ${onlineIndexMinMembers}.`);
  }

  const multiLoginPolicy = props.multiLoginPolicy ?? 'onePerPlatform';
  if (!LOGIN_POLICIES.includes(multiLoginPolicy)) {
    throw new Error(`multiLoginPolicy must be one of ${LOGIN_POLICIES.join(', ')}; got ${multiLoginPolicy}.`);
  }

  const minCapacity = props.aurora?.minCapacity ?? 0;
  const maxCapacity = props.aurora?.maxCapacity ?? 2;
  if (!isHalfStep(minCapacity) || minCapacity < 0 || minCapacity > 256) {
    throw new Error(`aurora.minCapacity must be between 0 and 256 ACU in steps of 0.5; got ${minCapacity}.`);
  }
  if (!isHalfStep(maxCapacity) || maxCapacity < 1 || maxCapacity > 256) {
    throw new Error(`aurora.maxCapacity must be between 1 and 256 ACU in steps of 0.5; got ${maxCapacity}.`);
  }
  if (minCapacity > maxCapacity) {
    throw new Error(`aurora.minCapacity (${minCapacity}) must not exceed aurora.maxCapacity (${maxCapacity}).`);
  }
  if (props.aurora?.autoPauseSeconds !== undefined && minCapacity > 0) {
    throw new Error(`aurora.autoPauseSeconds only applies when aurora.minCapacity is 0; remove it or set minCapacity to 0.`);
  }
  const autoPauseSeconds = minCapacity === 0 ? (props.aurora?.autoPauseSeconds ?? 300) : undefined;
  if (autoPauseSeconds !== undefined && (!Number.isInteger(autoPauseSeconds) || autoPauseSeconds < 300 || autoPauseSeconds > 86_400)) {
    throw new Error(`aurora.autoPauseSeconds must be a whole number between 300 and 86400; got ${autoPauseSeconds}.`);
  }

  const engineVersion = auroraEngineVersion(props.aurora?.engineVersion ?? DEFAULT_AURORA_ENGINE_VERSION, minCapacity);

  const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE;
  if (!removalPolicies.includes(removalPolicy)) {
    throw new Error(`removalPolicy must be RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE, RemovalPolicy.RETAIN or RemovalPolicy.DESTROY; got ${removalPolicy}.`);
  }
  const deletionProtection = props.deletionProtection ?? false;
  if (deletionProtection && removalPolicy === RemovalPolicy.DESTROY) {
    throw new Error('deletionProtection cannot be used with removalPolicy DESTROY: protected tables and clusters cannot be deleted with the stack.');
  }

  const logLevel = props.logLevel ?? 'info';
  if (!logLevels.includes(logLevel)) {
    throw new Error(`logLevel must be one of ${logLevels.join(', ')}; got ${logLevel}.`);
  }

  const stageName = props.stageName ?? 'live';
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(stageName)) {
    throw new Error(`stageName may contain only letters, digits, hyphens and underscores (1 to 128 of them); got "${stageName}".`);
  }

  const revokeWindowSeconds = props.revokeWindowSeconds ?? 120;
  if (!Number.isInteger(revokeWindowSeconds) || revokeWindowSeconds < 0) {
    throw new Error(`revokeWindowSeconds must be a whole number of seconds, at least 0; got ${revokeWindowSeconds}.`);
  }

  const pushMaxDevices = props.pushMaxDevices ?? 10;
  if (!Number.isInteger(pushMaxDevices) || pushMaxDevices < 1 || pushMaxDevices > 100) {
    throw new Error(`pushMaxDevices must be a whole number of devices per user, from 1 to 100; got ${pushMaxDevices}.`);
  }

  let limits: LimitSettings | undefined;
  try {
    limits = props.limits === false ? undefined : validateLimits(props.limits ?? {}, 'limits');
  } catch (err) {
    throw new Error(`${(err as Error).message}.`);
  }

  const rateLimit = props.throttle?.rateLimit ?? 1000;
  const burstLimit = props.throttle?.burstLimit ?? 500;
  if (!Number.isFinite(rateLimit) || rateLimit <= 0) {
    throw new Error(`throttle.rateLimit must be a positive number of requests per second; got ${rateLimit}.`);
  }
  if (!Number.isInteger(burstLimit) || burstLimit < 1) {
    throw new Error(`throttle.burstLimit must be a whole number, at least 1; got ${burstLimit}.`);
  }

  const maxUploadBytes = props.media?.maxUploadBytes ?? DEFAULT_MEDIA_MAX_BYTES;
  if (!Number.isInteger(maxUploadBytes) || maxUploadBytes < 1 || maxUploadBytes > 5 * 1024 ** 3) {
    throw new Error(`media.maxUploadBytes must be a whole number of bytes between 1 and 5 GiB (5368709120); got ${maxUploadBytes}.`);
  }
  let allowedContentTypes: string[];
  try {
    allowedContentTypes = props.media?.allowedContentTypes ? parseMediaTypes(props.media.allowedContentTypes.join(',')) : [...DEFAULT_MEDIA_TYPES];
  } catch (err) {
    throw new Error(`media.allowedContentTypes: ${(err as Error).message}.`);
  }
  if (allowedContentTypes.length === 0) throw new Error('media.allowedContentTypes must list at least one type.');
  const expirationDays = props.media?.expirationDays;
  if (expirationDays !== undefined && (!Number.isInteger(expirationDays) || expirationDays < 1)) {
    throw new Error(`media.expirationDays must be a whole number of days, at least 1; got ${expirationDays}.`);
  }
  const corsAllowedOrigins = props.media?.corsAllowedOrigins ?? ['*'];
  const badOrigin = corsAllowedOrigins.find((o) => o !== '*' && !/^https?:\/\/[A-Za-z0-9.*-]+(:\d{1,5})?$/.test(o));
  if (corsAllowedOrigins.length === 0 || badOrigin !== undefined) {
    throw new Error(`media.corsAllowedOrigins must list '*' or origins such as https://app.example.com (scheme, host, optional port); got ${JSON.stringify(badOrigin ?? corsAllowedOrigins)}.`);
  }

  const monitoring = resolveMonitoring(props.monitoring, props.alarmTopic !== undefined);

  let webhooks: ResolvedCirrusImProps['webhooks'];
  if (props.webhooks) {
    const { url, signingParameter, signingParameterKey, timeoutMs, callbacks } = props.webhooks;
    // A URL from another construct is a token, checked only at deploy.
    const unresolved = Token.isUnresolved(url);
    const settings = validateWebhookSettings({ url: unresolved ? 'https://unresolved.invalid/' : url, timeoutMs, callbacks: callbacks as Record<string, WebhookCallbackProps> | undefined });
    webhooks = { ...settings, url: unresolved ? url : settings.url, signingParameter, signingParameterKey };
  }

  let offlinePush: ResolvedCirrusImProps['offlinePush'];
  if (props.offlinePush !== undefined) {
    const given: unknown = props.offlinePush;
    const isObject = given !== null && typeof given === 'object' && !Array.isArray(given);
    const { parameterKey, ...providers } = (isObject ? given : {}) as OfflinePushProps;
    // Values known at synth only: a token would reach PUSH_SETTINGS unchecked.
    if (containsToken(providers)) throw new Error('offlinePush settings must be literal values, not tokens resolved at deploy: they are checked at synth.');
    offlinePush = { settings: validatePushSettings(isObject ? providers : given, 'offlinePush'), parameterKey };
  }

  return {
    messageRetentionDays,
    historyRetentionDays,
    retentionSchedule: historyRetentionDays !== undefined || props.groupRetention === true,
    seqSettleSeconds,
    inlinePushMax,
    onlineIndexMinMembers,
    requireFriendship: props.requireFriendship ?? false,
    revokeWindowSeconds,
    pushMaxDevices,
    multiLoginPolicy,
    aurora: { minCapacity, maxCapacity, autoPauseSeconds, engineVersion },
    logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    removalPolicy,
    deletionProtection,
    logLevel,
    tracing: props.tracing ?? false,
    webSocketAccessLogs: props.webSocketAccessLogs ?? false,
    stageName,
    throttle: { rateLimit, burstLimit },
    limits,
    alarmTopic: props.alarmTopic,
    monitoring,
    configureApiGatewayLogRole: props.configureApiGatewayLogRole ?? true,
    media: { maxUploadBytes, allowedContentTypes, expirationDays, corsAllowedOrigins },
    webhooks,
    offlinePush,
  };
}
