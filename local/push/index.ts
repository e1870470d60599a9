/**
 * The push services' stand-ins, started on their own (tests) or by the local runtime: APNs on
 * an HTTP/2 cleartext (h2c) server, FCM, Web Push and the development endpoints as HTTP/1
 * routes under `/local/push/` (the runtime mounts them on its own port; started alone they get
 * a server of their own).
 */
import { createServer as createHttp2Server, type Http2Server } from 'node:http2';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PushCredentials, PushSettings } from '../../core/offline-push/types';
import { PushStandIns, type PushStandInOptions, LOCAL_PUSH_PREFIX, LOCAL_PUSH_PARAMETERS } from './standins';

export { PushStandIns, LOCAL_PUSH_PREFIX, LOCAL_PUSH_PARAMETERS, shortToken, generatePushKeys, STANDIN_MAX_PAYLOAD_BYTES, MAX_KEPT_NOTIFICATIONS } from './standins';
export type { PushStandInKeys, ReceivedNotification, InjectedFailure, PushStandInOptions } from './standins';


/** Starts the APNs h2c server on `host` (default 127.0.0.1) and a free port; its origin is set on the stand-ins. */
export async function startApnsServer(standIns: PushStandIns, host = '127.0.0.1'): Promise<{ endpoint: string; goAway(): void; close(): Promise<void> }> {
  const server: Http2Server = createHttp2Server();
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', () => undefined);
    stream.on('end', () => {
      const plain: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(headers)) if (!name.startsWith(':')) plain[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
      standIns
        .apns(String(headers[':method']), String(headers[':path']), plain, Buffer.concat(chunks))
        .then((out) => {
          if (stream.destroyed) return;
          stream.respond({ ':status': out.status, ...(out.headers ?? {}) });
          stream.end(out.body);
        })
        .catch(() => {
          if (!stream.destroyed) {
            stream.respond({ ':status': 500, 'content-type': 'application/json' });
            stream.end('{"reason":"InternalServerError"}');
          }
        });
    });
  });
  const sessions = new Set<import('node:http2').ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://${host}:${port}`;
  standIns.apnsEndpoint = endpoint;
  return {
    endpoint,
    goAway: () => {
      for (const s of sessions) s.goaway(0);
    },
    close: async () => {
      for (const s of sessions) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface StartedPushStandIns {
  /** Where Cirrus sends: the values of APNS_ENDPOINT, FCM_ENDPOINT and FCM_TOKEN_ENDPOINT. */
  endpoints: { apns: string; fcm: string; fcmToken: string };
  /** PUSH_SETTINGS naming LOCAL_PUSH_PARAMETERS. */
  settings: PushSettings;
  /** The credentials (settings and secrets), as core/offline-push/credentials.ts would load them. */
  credentials: PushCredentials;
  /** The HTTP/1 base (`<origin>/local/push`) and the development endpoints' URLs. */
  urls: { base: string; notifications: string; config: string; apnsTokens: string; fcmTokens: string; webPushSubscriptions: string; uninstall: string; failures: string };
  /** The stand-ins themselves: mintApnsToken, mintFcmToken, createWebPushSubscription, uninstall, injectFailure, notifications, clearNotifications. */
  standIns: PushStandIns;
  /** APNs sends GOAWAY on every open connection (as it does before maintenance): clients must reconnect. */
  apnsGoAway(): void;
  close(): Promise<void>;
}

export function pushUrls(origin: string): StartedPushStandIns['urls'] {
  const base = `${origin}${LOCAL_PUSH_PREFIX}`;
  return {
    base,
    notifications: `${base}/notifications`,
    config: `${base}/config`,
    apnsTokens: `${base}/apns/tokens`,
    fcmTokens: `${base}/fcm/tokens`,
    webPushSubscriptions: `${base}/webpush/subscriptions`,
    uninstall: `${base}/uninstall`,
    failures: `${base}/failures`,
  };
}

/** Starts the stand-ins on their own servers (127.0.0.1, free ports). */
export async function startPushStandIns(options: PushStandInOptions & { host?: string } = {}): Promise<StartedPushStandIns> {
  const host = options.host ?? '127.0.0.1';
  const standIns = new PushStandIns(options);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const bytes = Buffer.concat(chunks);
      const headers: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
      const target = req.url ?? '/';
      standIns
        .handle({ method: req.method ?? 'GET', path: target.split('?')[0], headers, body: bytes.toString('utf8'), bytes, target })
        .then((out) => {
          const answer = out ?? { status: 404, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: `Nothing at ${req.method} ${target}` }) };
          res.writeHead(answer.status, answer.headers ?? {});
          res.end(answer.bytes ?? answer.body);
        })
        .catch((err) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end((err as Error).message);
        });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const origin = `http://${host}:${(server.address() as AddressInfo).port}`;
  standIns.baseUrl = origin;
  const apns = await startApnsServer(standIns, host);
  return {
    endpoints: { apns: apns.endpoint, fcm: standIns.fcmEndpoint, fcmToken: standIns.fcmTokenEndpoint },
    settings: standIns.settings(LOCAL_PUSH_PARAMETERS),
    credentials: standIns.credentials(),
    urls: pushUrls(origin),
    standIns,
    apnsGoAway: () => apns.goAway(),
    close: async () => {
      await apns.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await standIns.close();
    },
  };
}
