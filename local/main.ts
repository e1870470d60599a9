/**
 * `npm start`: runs Cirrus locally on one port with its state in `.cirrus/`.
 *   npm start                 start (state kept across restarts)
 *   npm start -- --reset      wipe the state, then start
 *   npm run reset             wipe the state only
 *   npm start -- --port 9000  another port (default 8080, or $PORT)
 *   npm start -- --no-web     do not build the web chat demo when web/dist is missing
 * DATABASE_URL set: the history goes to that PostgreSQL instead of PGlite.
 * WEBHOOK_URL set: webhooks to that URL, with WEBHOOK_CALLBACKS (JSON), WEBHOOK_TIMEOUT_MS and
 * WEBHOOK_SECRET (the signing secret; random when absent, printed at start).
 * LIMITS: the limits against abuse as JSON (the stack's `limits` prop), or `off`; absent: the defaults.
 */
import type { LimitsProps } from '../lib/cirrus-im-props';
import { existsSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocal, WEB_DIST } from './runtime';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const value = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const dataDir = value('--data-dir') ?? process.env.CIRRUS_DATA_DIR ?? join(root, '.cirrus');

if (flag('--reset') || flag('--reset-only')) {
  rmSync(dataDir, { recursive: true, force: true });
  console.log(`Cleared local state in ${dataDir}`);
  if (flag('--reset-only')) process.exit(0);
}

// The web chat demo at `/`: built once when missing (npm run web:build rebuilds it).
if (!existsSync(join(WEB_DIST, 'index.html')) && !flag('--no-web')) {
  console.log('Building the web chat demo (web/dist)…');
  try {
    const { buildWeb } = await import('../web/build');
    await buildWeb({ logLevel: 'warn' });
  } catch (err) {
    console.log(`Could not build the web chat demo (${(err as Error).message}); / shows the landing page. Try npm run web:build.`);
  }
}

const port = Number(value('--port') ?? process.env.PORT ?? 8080);
console.log('Starting Cirrus locally (DynamoDB Local, PGlite, SQS, S3, API Gateway and Parameter Store stand-ins)…');
const webhooks = process.env.WEBHOOK_URL
  ? {
      url: process.env.WEBHOOK_URL,
      signingSecret: process.env.WEBHOOK_SECRET || undefined,
      timeoutMs: process.env.WEBHOOK_TIMEOUT_MS ? Number(process.env.WEBHOOK_TIMEOUT_MS) : undefined,
      callbacks: JSON.parse(process.env.WEBHOOK_CALLBACKS || '{}'),
    }
  : undefined;
const cirrus = await startLocal({ port, dataDir, databaseUrl: process.env.DATABASE_URL, settings: { logLevel: process.env.LOG_LEVEL ?? 'warn', webhooks, limits: process.env.LIMITS === 'off' ? false : process.env.LIMITS ? (JSON.parse(process.env.LIMITS) as LimitsProps) : {} } });

console.log(`
Cirrus IM is running.
  Web chat demo   ${cirrus.url}/   (sign in with any user id: POST /dev/sign-in, local only)
  Admin console   ${cirrus.url}/admin/   (sign in with the admin secret below)
  WebSocket API   ${cirrus.wsUrl}?token=<user token>
  HTTP API        ${cirrus.apiUrl}   (OpenAPI: ${cirrus.apiUrl}/openapi.json)
  Media (S3)      ${cirrus.url}/${cirrus.mediaBucket}   (presigned uploads and downloads; POST /media/uploads)
  Push stand-ins  ${cirrus.push.urls.base}/   (APNs ${cirrus.push.endpoints.apns}, FCM and Web Push; received notifications listed there)
  State           ${dataDir}   (npm run reset to clear)${webhooks ? `\n  Webhooks        ${webhooks.url}   (signing secret: ${cirrus.webhookSigningSecret})` : ''}

Admin secret: ${cirrus.adminSecret}
  Admin token:  curl -s -X POST ${cirrus.apiUrl}/auth/admin-token -H 'content-type: application/json' -d '{"secret":"${cirrus.adminSecret}"}'
  Then:         curl -s -X POST ${cirrus.apiUrl}/users/register -H "authorization: Bearer $ADMIN_TOKEN" -H 'content-type: application/json' -d '{"users":[{"userId":"alice"},{"userId":"bob"}]}'

Ctrl-C stops everything (Java included).`);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping…`);
  await cirrus.stop();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
