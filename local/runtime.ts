/**
 * The local runtime: every AWS part of Cirrus stood in for on one machine and one HTTP
 * port, built from the same manifest as the CDK stack. The handlers run unchanged; they
 * find the stand-ins through the same environment variables Lambda gives them.
 */
// First: the functions' AWS SDK clients take their credentials from the environment, as bundled.
import './credentials';
import { validateLimits } from '../core/domain/limits';
import type { LimitsProps } from '../lib/cirrus-im-props';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { DEFAULT_MEDIA_MAX_BYTES, DEFAULT_MEDIA_TYPES } from '../core/domain/media';
import { commonEnv, deadLetters, fanOutDefaults, functions, queues, streamConsumers, tables, type FunctionKey, type FunctionSpec, type QueueKey, type QueueSpec, type StreamConsumerKey, type StreamConsumerSpec, type TableKey } from '../core/manifest';
import type { LoginPolicy } from '../core/domain/login-policy';
import { validateWebhookSettings, webhookEnv, type WebhookCallback, type WebhookCallbackSettings } from '../core/webhooks/settings';
import { LocalGateway } from './gateway';
import { invoke, runningFunction } from './lambda';
import { runCustomResource } from './custom-resource';
import { migrationPolling } from '../core/history/migrations';
import { enforcePolicies } from './iam';
import { EXPORT_PREFIX, MEDIA_PREFIX } from '../core/domain/media';
import type { PolicyResource } from '../core/iam';
import { LocalSqs } from './aws/sqs';
import { LocalLambda } from './aws/lambda';
import { startEventSource } from './aws/event-source';
import { LocalSsm } from './aws/ssm';
import { secretParameterOf, validatePushSettings } from '../core/offline-push/settings';
import type { PushSettings } from '../core/offline-push/types';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { ssm as ssmClient } from '../core/aws/ssm';
import { handler as secureParametersHandler } from '../functions/secure-parameters';
import { startStreamSource, type StreamSource } from './aws/stream-source';
import { LocalDataApi } from './aws/data-api';
import { LocalS3 } from './aws/s3';
import { captureEmf, localMetrics } from './metrics';
import { startDynamoDbLocal, ensureTables } from './aws/dynamodb';
import type { StandIn } from './aws/types';
import { landingPage, notificationsPage } from './landing';
import { LOCAL_PUSH_PARAMETERS, PushStandIns, pushUrls, startApnsServer, type StartedPushStandIns } from './push';
import { devSignIn, serveStatic } from './web';

/** Where `npm run web:build` puts the web chat demo. */
export const WEB_DIST = join(dirname(fileURLToPath(import.meta.url)), '..', 'web', 'dist');

/** Milliseconds of an EventBridge `rate(n unit)` expression. */
function rateMs(rate: string): number {
  const m = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(rate);
  if (!m) throw new Error(`Unsupported schedule ${rate}`);
  const unit = m[2].startsWith('minute') ? 60_000 : m[2].startsWith('hour') ? 3_600_000 : 86_400_000;
  return Number(m[1]) * unit;
}

export interface LocalOptions {
  /** HTTP port; 0 picks a free one. Default 8080. */
  port?: number;
  host?: string;
  /** Folder for state that survives restarts; in-memory when absent. */
  dataDir?: string;
  /** A running DynamoDB endpoint to use instead of starting DynamoDB Local. */
  dynamoEndpoint?: string;
  /** Prefix of the table names (lets several runtimes share one DynamoDB Local). */
  tablePrefix?: string;
  /** A real PostgreSQL for the history instead of PGlite. */
  databaseUrl?: string;
  /** Settings passed to the functions as environment variables. */
  settings?: { seqSettleMs?: number; inlinePushMax?: number; onlineIndexMinMembers?: number; messageTtlDays?: number; historyRetentionDays?: number; requireFriendship?: boolean; revokeWindowSeconds?: number; multiLoginPolicy?: LoginPolicy; pushMaxDevices?: number; offlinePush?: PushSettings | false; logLevel?: string; mediaMaxBytes?: number; mediaAllowedTypes?: readonly string[]; webhooks?: LocalWebhookSettings;
    /**
     * The limits against abuse, as the stack's `limits` prop (fields left out take their
     * defaults; `{}`: the defaults, as a deployment has them). Absent or false: no limit, unlike a
     * deployment, so tests and benchmarks that drive one user far faster than a person can are
     * not refused (`npm start` runs with the defaults).
     */
    limits?: LimitsProps | false };
  /** The local API Gateway's connection limits (default API Gateway's: 10 minutes idle, 2 hours in all); tests shorten them. */
  websocket?: { idleTimeoutMs?: number; maxConnectionMs?: number };
  /** Per-queue overrides of the manifest's event-source settings (tests shorten visibility timeouts). */
  queueOverrides?: Partial<Record<QueueKey, { visibilityTimeoutSeconds?: number; maxReceiveCount?: number }>>;
  /** Asynchronous invocations: the delays before a failed event's retries (default Lambda's, 1 and 2 minutes; tests shorten them). */
  asyncInvoke?: { retryDelaysMs?: readonly number[] };
  /** Per-stream overrides of the manifest's stream event-source settings (tests shorten the window). */
  streamOverrides?: Partial<Record<StreamConsumerKey, { maxBatchingWindowSeconds?: number; retryAttempts?: number }>>;
  /** The built web chat demo served at `/` when it holds an index.html (default `web/dist`). */
  webDist?: string;
  /** Where runtime notices go (default: stderr). */
  log?: (line: string) => void;
  /** The push stand-ins' app: bundle ids (default `com.example.cirrus`) and FCM project (default `cirrus-local`), used when their keys are first generated. */
  push?: { bundleIds?: string[]; projectId?: string };
}

/** The deployment's `webhooks` prop, locally: the signing secret is a value rather than a SecureString parameter. */
export interface LocalWebhookSettings {
  url: string;
  /** The secret callbacks are signed with (default: random, see `LocalCirrus.webhookSigningSecret`). */
  signingSecret?: string;
  timeoutMs?: number;
  callbacks?: Partial<Record<WebhookCallback, WebhookCallbackSettings>>;
}

export interface LocalCirrus {
  url: string;
  wsUrl: string;
  apiUrl: string;
  /** The admin secret now (after a PutParameter --overwrite on `/cirrus/local/admin-secret`, the new one). */
  readonly adminSecret: string;
  dynamoEndpoint: string;
  tableNames: Record<TableKey, string>;
  sqs: LocalSqs;
  /** Lambda's asynchronous invocations (push slices, batch pages); `lambda.idle()` waits until none is queued or running. */
  lambda: LocalLambda;
  /** The stream event sources (Messages and Outbox → archive). */
  streams: {
    /** Resolves once every stream record written before the call has been handled and no batch is in flight. */
    idle(): Promise<void>;
  };
  dataApi: LocalDataApi;
  /** The S3 stand-in serving the media bucket at `<url>/<mediaBucket>`. */
  s3: LocalS3;
  mediaBucket: string;
  gateway: LocalGateway;
  /** The secret webhook callbacks are signed with, when webhooks are configured. */
  webhookSigningSecret?: string;
  /** The APNs, FCM and Web Push stand-ins (local/push): their endpoints, PUSH_SETTINGS, credentials, development URLs and test hooks. */
  push: Omit<StartedPushStandIns, 'close'>;
  stop(): Promise<void>;
}

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const API_ID = 'local';
const STAGE = 'local';
const HTTP_PREFIX = '/api';
/** Served path-style by the S3 stand-in: `<url>/cirrus-media/<key>`. */
const MEDIA_BUCKET = 'cirrus-media';
/** The credentials the functions sign with, and the only ones the S3 stand-in accepts. */
const ACCESS_KEY_ID = 'local';
const SECRET_ACCESS_KEY = 'local';

/** The SecureString parameters holding the secrets, locally (the stack names them `/cirrus/<stack>/<id>/…`). */
export const LOCAL_PARAMETERS = {
  signingKey: '/cirrus/local/signing-key',
  adminSecret: '/cirrus/local/admin-secret',
  webhookSecret: '/cirrus/local/webhook-secret',
} as const;

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** What `GET /local/metrics` answers: set by the running runtime. */
let localFigures: () => unknown = () => ({});

export async function startLocal(options: LocalOptions = {}): Promise<LocalCirrus> {
  const log = options.log ?? ((line: string) => process.stderr.write(`[cirrus] ${line}\n`));
  const dataDir = options.dataDir;
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((err) => log(`stop failed: ${(err as Error).message}`));
  };

  try {
    // DynamoDB: AWS's own emulator, in a Java process of its own.
    let dynamoEndpoint = options.dynamoEndpoint;
    if (!dynamoEndpoint) {
      const ddb = await startDynamoDbLocal({ dataDir: dataDir ? join(dataDir, 'dynamodb') : undefined });
      stops.push(() => ddb.stop());
      dynamoEndpoint = ddb.endpoint;
    }
    const tableNames = await ensureTables(dynamoEndpoint, options.tablePrefix ?? '');

    const webhookSettings = options.settings?.webhooks ? validateWebhookSettings(options.settings.webhooks, 'settings.webhooks') : undefined;
    // The deployment's `offlinePush` prop: the credentials are SecureString parameters of the local Parameter Store.
    const offlinePush = options.settings?.offlinePush ? validatePushSettings(options.settings.offlinePush, 'settings.offlinePush') : undefined;
    // Parameter Store, saved in ssm.json: a value an operator put (--overwrite) is kept across restarts.
    const ssm = new LocalSsm({ region: REGION, credentials: { [ACCESS_KEY_ID]: SECRET_ACCESS_KEY }, file: dataDir ? join(dataDir, 'ssm.json') : undefined });
    const sqs = new LocalSqs({ file: dataDir ? join(dataDir, 'sqs.json') : undefined });
    const dataApi = new LocalDataApi(options.databaseUrl ? { databaseUrl: options.databaseUrl } : { dataDir: dataDir ? join(dataDir, 'pglite') : undefined });
    const s3 = new LocalS3({ buckets: [MEDIA_BUCKET], credentials: { [ACCESS_KEY_ID]: SECRET_ACCESS_KEY }, region: REGION, dir: dataDir ? join(dataDir, 's3') : undefined });
    // The shared dead-letter queue (created below with the other queues) is the on-failure destination of asynchronous invocations.
    const asyncFunctions = (Object.entries(functions) as [FunctionKey, FunctionSpec][]).filter(([, spec]) => spec.asyncInvoke);
    const lambda = new LocalLambda({
      region: REGION,
      credentials: { [ACCESS_KEY_ID]: SECRET_ACCESS_KEY },
      file: dataDir ? join(dataDir, 'lambda.json') : undefined,
      retryDelaysMs: options.asyncInvoke?.retryDelaysMs,
      log,
      functions: asyncFunctions.map(([key, spec]) => ({
        name: spec.name,
        arn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${spec.name}`,
        config: { retryAttempts: spec.asyncInvoke!.retryAttempts, maxEventAgeSeconds: spec.asyncInvoke!.maxEventAgeSeconds },
        run: (event) => invoke(key, event),
      })),
      // Lambda sends the failure record with the function's role: its policy must allow it (local/iam.ts).
      onFailure: async (fn, record) => {
        const key = asyncFunctions.find(([, spec]) => spec.name === fn.name)![0];
        enforcement.check(key, 'SQS', 'SendMessage', { QueueUrl: sqs.queueUrl(deadLetters.name) });
        sqs.send(deadLetters.name, JSON.stringify(record));
      },
    });
    // The push services' stand-ins: keys, test tokens and subscriptions kept in push.json.
    const push = new PushStandIns({ file: dataDir ? join(dataDir, 'push.json') : undefined, bundleIds: options.push?.bundleIds, projectId: options.push?.projectId });
    // S3 first: it claims only its bucket's paths, and reads the raw target and bytes.
    const standIns: StandIn[] = [s3, push, sqs, ssm, dataApi, lambda];
    stops.push(async () => {
      for (const s of standIns) if (s !== lambda) await s.close();
    });
    // Before the stand-ins the runs in flight need, after the server (no new invocation).
    stops.push(() => lambda.close());

    const webDist = resolve(options.webDist ?? WEB_DIST);
    const gateway = new LocalGateway({ apiId: API_ID, stage: STAGE, region: REGION, httpPrefix: HTTP_PREFIX, log, credentials: { [ACCESS_KEY_ID]: SECRET_ACCESS_KEY }, ...options.websocket });
    const server: Server = createServer((req, res) => {
      void (async () => {
        const url = new URL(req.url ?? '/', 'http://localhost');
        const body = await readBody(req);
        if (url.pathname === HTTP_PREFIX || url.pathname.startsWith(`${HTTP_PREFIX}/`)) return gateway.handleHttpApi(req, res, url, body);
        if (url.pathname.startsWith('/@connections/')) return gateway.handleConnections(req, res, url.pathname, body);
        if (url.pathname === '/dev/sign-in' && req.method === 'POST') {
          return devSignIn({ url: baseUrl, apiUrl: `${baseUrl}${HTTP_PREFIX}`, wsUrl: baseUrl.replace(/^http/, 'ws') + '/ws', adminSecret: ssm.valueOf(LOCAL_PARAMETERS.adminSecret) ?? '' }, body, res);
        }
        if (!url.pathname.startsWith(`/${MEDIA_BUCKET}/`) && serveStatic(webDist, req, res, url.pathname)) return;
        if (req.method === 'GET' && (url.pathname === '/' || url.pathname === '/index.html')) {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
          return void res.end(landingPage(baseUrl, push.notifications({ limit: 20 })));
        }
        if (url.pathname === '/local/metrics') {
          // The figures the CloudWatch dashboard shows, from this runtime (local/metrics.ts); the console reads them cross-origin too.
          const cors = { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET, OPTIONS' };
          if (req.method === 'OPTIONS') return void res.writeHead(204, cors).end();
          if (req.method !== 'GET') return void res.writeHead(405, { ...cors, allow: 'GET', 'content-type': 'application/json' }).end(JSON.stringify({ message: 'GET only' }));
          res.writeHead(200, { ...cors, 'content-type': 'application/json', 'cache-control': 'no-store' });
          return void res.end(JSON.stringify(localFigures()));
        }
        if (req.method === 'GET' && (url.pathname === '/local/push' || url.pathname === '/local/push/')) {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
          return void res.end(notificationsPage(push.notifications({ limit: 100 }), baseUrl));
        }
        const headers: Record<string, string | undefined> = {};
        for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
        for (const standIn of standIns) {
          const out = await standIn.handle({ method: req.method ?? 'GET', path: url.pathname, headers, body: body.toString('utf8'), target: req.url ?? '/', bytes: body });
          if (out) {
            res.writeHead(out.status, out.headers ?? {});
            return void res.end(out.bytes ?? out.body);
          }
        }
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: `Nothing at ${req.method} ${url.pathname}` }));
      })().catch((err) => {
        log(`request failed: ${(err as Error).stack}`);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
    server.on('upgrade', (req, socket, head) => {
      gateway.upgrade(req, socket, head).catch((err) => {
        log(`upgrade failed: ${(err as Error).message}`);
        socket.destroy();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 8080, options.host ?? '127.0.0.1', () => resolve());
    });
    stops.push(async () => {
      await gateway.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    });
    const { port } = server.address() as AddressInfo;
    const host = options.host ?? '127.0.0.1';
    const baseUrl = `http://${host}:${port}`;
    sqs.baseUrl = baseUrl;
    // FCM and Web Push answer on this port (so subscription endpoints outlive a restart); APNs speaks HTTP/2 on its own.
    push.baseUrl = baseUrl;
    const apns = await startApnsServer(push, host);
    stops.push(() => apns.close());

    // The environment Lambda would give the functions, pointing at the stand-ins.
    const queueUrls = {} as Record<QueueKey, string>;
    const deadLetterUrls: Record<string, string> = {};
    for (const [key, spec] of Object.entries(queues) as [QueueKey, QueueSpec][]) {
      const override = options.queueOverrides?.[key] ?? {};
      // As in the stack: a DLQ keeps failed jobs for 14 days.
      const dlq = sqs.createQueue(`${spec.name}-dlq`, { messageRetentionSeconds: 14 * 86400 });
      if (spec.deadLetterEnvVar) deadLetterUrls[spec.deadLetterEnvVar] = dlq.url;
      queueUrls[key] = sqs.createQueue(spec.name, {
        visibilityTimeoutSeconds: override.visibilityTimeoutSeconds ?? spec.visibilityTimeoutSeconds,
        redrivePolicy: { deadLetterTargetArn: dlq.arn, maxReceiveCount: override.maxReceiveCount ?? spec.maxReceiveCount },
      }).url;
    }
    const settings = options.settings ?? {};
    const env: Record<string, string> = {
      AWS_REGION: REGION,
      AWS_DEFAULT_REGION: REGION,
      AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
      AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
      AWS_ENDPOINT_URL_SQS: baseUrl,
      AWS_ENDPOINT_URL_SSM: baseUrl,
      AWS_ENDPOINT_URL_RDS_DATA: baseUrl,
      AWS_ENDPOINT_URL_S3: baseUrl,
      AWS_ENDPOINT_URL_LAMBDA: baseUrl,
      [commonEnv.CONNECTIONS_ENDPOINT]: baseUrl,
      [commonEnv.SIGNING_SECRET_ID]: LOCAL_PARAMETERS.signingKey,
      [commonEnv.ADMIN_SECRET_ID]: LOCAL_PARAMETERS.adminSecret,
      [commonEnv.DB_CLUSTER_ARN]: `arn:aws:rds:${REGION}:${ACCOUNT}:cluster:cirrus-local`,
      [commonEnv.DB_SECRET_ARN]: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:cirrus-local-db`,
      [commonEnv.DB_NAME]: 'cirrus',
      [commonEnv.MESSAGE_TTL_DAYS]: String(settings.messageTtlDays ?? 14),
      [commonEnv.HISTORY_RETENTION_DAYS]: String(settings.historyRetentionDays ?? (process.env.HISTORY_RETENTION_DAYS || '')),
      [commonEnv.SEQ_SETTLE_MS]: String(settings.seqSettleMs ?? 30_000),
      [commonEnv.INLINE_PUSH_MAX]: String(settings.inlinePushMax ?? fanOutDefaults.inlinePushMax),
      [commonEnv.ONLINE_INDEX_MIN_MEMBERS]: String(settings.onlineIndexMinMembers ?? fanOutDefaults.onlineIndexMinMembers),
      [commonEnv.REQUIRE_FRIENDSHIP]: String(settings.requireFriendship ?? process.env.REQUIRE_FRIENDSHIP === 'true'),
      [commonEnv.REVOKE_WINDOW_SECONDS]: String(settings.revokeWindowSeconds ?? (process.env.REVOKE_WINDOW_SECONDS || 120)),
      [commonEnv.MULTI_LOGIN_POLICY]: settings.multiLoginPolicy ?? (process.env.MULTI_LOGIN_POLICY || 'onePerPlatform'),
      [commonEnv.PUSH_MAX_DEVICES]: String(settings.pushMaxDevices ?? (process.env.PUSH_MAX_DEVICES || 10)),
      [commonEnv.LOG_LEVEL]: settings.logLevel ?? process.env.LOG_LEVEL ?? 'info',
      [commonEnv.MEDIA_BUCKET]: MEDIA_BUCKET,
      [commonEnv.MEDIA_MAX_BYTES]: String(settings.mediaMaxBytes ?? (process.env.MEDIA_MAX_BYTES || DEFAULT_MEDIA_MAX_BYTES)),
      [commonEnv.LIMITS]: settings.limits ? JSON.stringify(validateLimits(settings.limits, 'settings.limits')) : 'off',
      [commonEnv.MEDIA_ALLOWED_TYPES]: (settings.mediaAllowedTypes ?? (process.env.MEDIA_ALLOWED_TYPES?.split(',') || DEFAULT_MEDIA_TYPES)).join(','),
      // Offline push to the stand-ins; Web Push subscriptions on this runtime's own host are allowed (never in the stack).
      PUSH_SETTINGS: JSON.stringify(push.settings(LOCAL_PUSH_PARAMETERS)),
      APNS_ENDPOINT: apns.endpoint,
      FCM_ENDPOINT: push.fcmEndpoint,
      FCM_TOKEN_ENDPOINT: push.fcmTokenEndpoint,
      WEBPUSH_ALLOW_LOCALHOST: 'true',
    };
    if (webhookSettings) Object.assign(env, webhookEnv(webhookSettings), { [commonEnv.WEBHOOK_SECRET_ID]: LOCAL_PARAMETERS.webhookSecret });
    // As in the stack, webhooks off means no WEBHOOK_* variable at all (the process may have run another runtime).
    else for (const name of [commonEnv.WEBHOOK_URL, commonEnv.WEBHOOK_TIMEOUT_MS, commonEnv.WEBHOOK_CALLBACKS, commonEnv.WEBHOOK_SECRET_ID]) delete process.env[name];
    // A deployment's own `offlinePush` settings replace the stand-ins' (its parameters are put by the test or operator);
    // `false` turns offline push off, and then, as in the stack, there is no PUSH_SETTINGS at all.
    if (offlinePush) env[commonEnv.PUSH_SETTINGS] = JSON.stringify(offlinePush);
    else if (options.settings?.offlinePush === false) {
      delete env[commonEnv.PUSH_SETTINGS];
      delete process.env[commonEnv.PUSH_SETTINGS];
    }
    for (const key of Object.keys(tables) as TableKey[]) env[tables[key].envVar] = tableNames[key];
    for (const [, spec] of asyncFunctions) env[spec.asyncInvoke!.envVar] = spec.name;
    for (const [key, spec] of Object.entries(queues) as [QueueKey, (typeof queues)[QueueKey]][]) env[spec.envVar] = queueUrls[key];
    Object.assign(env, deadLetterUrls);
    // The shared dead-letter queue, kept 14 days as in the stack.
    env[deadLetters.envVar] = sqs.createQueue(deadLetters.name, { messageRetentionSeconds: deadLetters.retentionDays * 86400 }).url;
    // One process hosts every function, so they share one environment (a superset of each one's).
    Object.assign(process.env, env);

    // The secrets, created by the stack's own custom resource handler: each value is generated
    // once and then kept (ssm.json), whatever an operator put since. A webhook secret given in
    // the settings is put first, as an operator would; so are the values of a state directory
    // from before Parameter Store (secrets.json).
    const given: Record<string, string> = {};
    const legacy = dataDir ? join(dataDir, 'secrets.json') : undefined;
    if (legacy && existsSync(legacy)) {
      const old = JSON.parse(readFileSync(legacy, 'utf8')) as { signingKey?: string; adminSecret?: string };
      if (old.signingKey && ssm.valueOf(LOCAL_PARAMETERS.signingKey) === undefined) given[LOCAL_PARAMETERS.signingKey] = old.signingKey;
      if (old.adminSecret && ssm.valueOf(LOCAL_PARAMETERS.adminSecret) === undefined) given[LOCAL_PARAMETERS.adminSecret] = old.adminSecret;
    }
    if (webhookSettings && options.settings?.webhooks?.signingSecret) given[LOCAL_PARAMETERS.webhookSecret] = options.settings.webhooks.signingSecret;
    // The push secrets, as an operator puts them: the stand-ins' keys (kept in push.json) are the truth.
    const pushSecrets = push.secretValues();
    for (const key of Object.keys(LOCAL_PUSH_PARAMETERS) as (keyof typeof LOCAL_PUSH_PARAMETERS)[]) given[LOCAL_PUSH_PARAMETERS[key]] = pushSecrets[key];
    for (const [name, value] of Object.entries(given)) {
      await ssmClient().send(new PutParameterCommand({ Name: name, Value: value, Type: 'SecureString', Overwrite: true }));
    }
    await secureParametersHandler({
      RequestType: 'Create',
      LogicalResourceId: 'Secrets',
      ResourceProperties: {
        Parameters: [
          { Name: LOCAL_PARAMETERS.signingKey, Description: 'Cirrus: key that signs user and admin tokens', Bytes: 48 },
          { Name: LOCAL_PARAMETERS.adminSecret, Description: 'Cirrus: admin secret', Bytes: 24 },
          ...(webhookSettings ? [{ Name: LOCAL_PARAMETERS.webhookSecret, Description: 'Cirrus: webhook signing key', Bytes: 48 }] : []),
        ],
      },
    });

    // Each function may do what its role in the stack allows, and nothing more (local/iam.ts).
    const secretArn = (id: string) => (id.startsWith('arn:') ? id : `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${id}`);
    const localArn = (resource: PolicyResource): string => {
      switch (resource.kind) {
        case 'table':
          return `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${tableNames[resource.table]}${resource.index ? `/index/${resource.index}` : ''}`;
        case 'queue':
          return sqs.queueArn(queues[resource.queue].name);
        case 'deadLetterQueue':
          return sqs.queueArn(`${queues[resource.queue].name}-dlq`);
        case 'deadLetters':
          return sqs.queueArn(deadLetters.name);
        case 'function':
          return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${functions[resource.function].name}`;
        case 'tableStream':
          return `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${tableNames[resource.table]}/stream/*`;
        case 'any':
          return '*';
        case 'secret':
          return ssm.arnOf(LOCAL_PARAMETERS[resource.secret]);
        case 'pushCredentials': {
          const effective = offlinePush ?? (options.settings?.offlinePush === false ? undefined : push.settings(LOCAL_PUSH_PARAMETERS));
          const name = effective ? secretParameterOf(effective, resource.provider) : '';
          return name.startsWith('arn:') ? name : ssm.arnOf(name);
        }
        case 'historyCluster':
          return env[commonEnv.DB_CLUSTER_ARN];
        case 'historyCredentials':
          return env[commonEnv.DB_SECRET_ARN];
        case 'connections':
          return `arn:aws:execute-api:${REGION}:${ACCOUNT}:${API_ID}/${STAGE}/*/@connections/*`;
        case 'mediaObjects':
          return `arn:aws:s3:::${MEDIA_BUCKET}/${MEDIA_PREFIX}*`;
        case 'exportObjects':
          return `arn:aws:s3:::${MEDIA_BUCKET}/${EXPORT_PREFIX}*`;
        case 'mediaBucket':
          return `arn:aws:s3:::${MEDIA_BUCKET}`;
        case 'logGroup':
          return `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/*`;
      }
    };
    const enforcement = enforcePolicies({
      arns: { region: REGION, account: ACCOUNT, resolve: localArn, secretArn, apiId: API_ID, stage: STAGE },
      // Every request a function sends, for the local figures (DynamoDB requests per table).
      observe: (service, command, input) => localMetrics.request(service, command, input),
      webhooks: webhookSettings !== undefined,
      // The stand-ins' settings when the runtime was given none: their parameters are granted as a deployment's would be.
      offlinePush: offlinePush ?? (options.settings?.offlinePush === false ? undefined : push.settings(LOCAL_PUSH_PARAMETERS)),
    });
    stops.push(async () => enforcement.stop());

    // The local figures start with the runtime; the functions' EMF lines are read from their output.
    localMetrics.reset();
    const stopCapture = captureEmf(runningFunction);
    stops.push(async () => stopCapture());
    const tableKeyOf = new Map((Object.keys(tables) as TableKey[]).map((key) => [tableNames[key], tables[key].name]));
    localFigures = () => {
      const figures = localMetrics.snapshot();
      const queue = (name: string) => ({ name, ...sqs.depth(name), oldestAgeSeconds: sqs.oldestAgeSeconds(name) });
      return {
        ...figures,
        // Tables by their manifest names, as the dashboard labels them.
        tables: Object.fromEntries(Object.entries(figures.tables).map(([name, t]) => [tableKeyOf.get(name) ?? name, t])),
        queues: (Object.values(queues) as QueueSpec[]).map((spec) => queue(spec.name)),
        deadLetters: [queue(deadLetters.name), ...(Object.values(queues) as QueueSpec[]).map((spec) => queue(`${spec.name}-dlq`))],
        // Asynchronous invocations queued or waiting for a retry (push slices, batch pages, notifications, exports).
        asyncEventsPending: lambda.pending,
        notShownLocally: ['Lambda and DynamoDB throttles (nothing local throttles)', 'DynamoDB consumed capacity units', 'Aurora capacity (ACU)'],
      };
    };

    // The history schema and data migrations, run by the same custom resource handler, polled as the provider polls it at deploy.
    const migrate = (event: Record<string, unknown>) => invoke('migrate', event);
    await runCustomResource(
      migrate,
      migrate,
      { RequestType: 'Create', RequestId: 'local', ResourceProperties: {}, LogicalResourceId: 'Migrations', StackId: 'local', ResponseURL: '', ServiceToken: '', ResourceType: 'Custom::Migrations' },
      { polls: true, queryIntervalMs: migrationPolling.queryIntervalSeconds * 1000, totalTimeoutMs: migrationPolling.totalTimeoutMinutes * 60_000 },
    );

    // Stops run in reverse: the pollers stop first, then the server, the stand-ins, DynamoDB.
    for (const spec of Object.values(queues) as QueueSpec[]) {
      // As in the stack, a feature's queue is not polled while the feature is off.
      if (spec.onlyWith === 'webhooks' && !webhookSettings) continue;
      const source = startEventSource({
        sqs,
        queueName: spec.name,
        queueArn: sqs.queueArn(spec.name),
        region: REGION,
        batchSize: spec.batchSize,
        maxBatchingWindowSeconds: spec.maxBatchingWindowSeconds,
        maxConcurrency: spec.maxConcurrency,
        invoke: (event) => invoke(spec.consumer, event),
        log,
      });
      stops.push(() => source.stop());
    }

    lambda.start();
    // The stream event sources, as Lambda's mappings (filter, batch, window, retries, bisect, failure destination).
    const streamSources: StreamSource[] = [];
    for (const [key, spec] of Object.entries(streamConsumers) as [StreamConsumerKey, StreamConsumerSpec][]) {
      const override = options.streamOverrides?.[key] ?? {};
      const source = startStreamSource({
        endpoint: dynamoEndpoint,
        tableName: tableNames[spec.table],
        region: REGION,
        batchSize: spec.batchSize,
        maxBatchingWindowSeconds: override.maxBatchingWindowSeconds ?? spec.maxBatchingWindowSeconds,
        eventNames: spec.eventNames,
        maxRecordAgeSeconds: spec.maxRecordAgeSeconds,
        retryAttempts: override.retryAttempts ?? spec.retryAttempts,
        bisectBatchOnError: true,
        invoke: (event, { lastReadAt }) => {
          localMetrics.streamBatch(key, event.Records.at(-1)?.dynamodb?.ApproximateCreationDateTime, lastReadAt);
          return invoke(spec.consumer, event);
        },
        onFailure: async (metadata) => {
          sqs.send(deadLetters.name, JSON.stringify(metadata));
          await sqs.durable();
        },
        stateFile: dataDir ? join(dataDir, 'streams', `${key}.json`) : undefined,
        log,
      });
      streamSources.push(source);
      stops.push(() => source.stop());
    }

    // Scheduled functions (the stack's EventBridge rules), on the same rate while the runtime is up.
    for (const [key, spec] of Object.entries(functions) as [FunctionKey, FunctionSpec][]) {
      if (!spec.schedule) continue;
      const every = rateMs(spec.schedule.rate);
      const timer = setInterval(() => void invoke(key, { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} }).catch((err) => log(`${key} failed: ${(err as Error).message}`)), every);
      timer.unref();
      stops.push(async () => clearInterval(timer));
    }

    return {
      url: baseUrl,
      wsUrl: `ws://${host}:${port}/ws`,
      apiUrl: `${baseUrl}${HTTP_PREFIX}`,
      get adminSecret() {
        return ssm.valueOf(LOCAL_PARAMETERS.adminSecret) ?? '';
      },
      dynamoEndpoint,
      tableNames,
      sqs,
      lambda,
      streams: {
        async idle() {
          await Promise.all(streamSources.map((s) => s.idle()));
        },
      },
      dataApi,
      s3,
      mediaBucket: MEDIA_BUCKET,
      gateway,
      ...(webhookSettings ? { webhookSigningSecret: ssm.valueOf(LOCAL_PARAMETERS.webhookSecret) } : {}),
      push: {
        endpoints: { apns: apns.endpoint, fcm: push.fcmEndpoint, fcmToken: push.fcmTokenEndpoint },
        settings: push.settings(LOCAL_PUSH_PARAMETERS),
        credentials: push.credentials(),
        urls: pushUrls(baseUrl),
        standIns: push,
        apnsGoAway: () => apns.goAway(),
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
