/**
 * What the local runtime serves besides the AWS stand-ins: the web chat demo and the admin
 * console at `/admin/` (`web/dist`, built by `npm run web:build`) and a development sign-in that mints user tokens through
 * the admin API. Both exist only in the local runtime; the deployed stack has neither.
 * The build has no `config.json`, so `/config.json` answers 404 here, which is how the demo tells
 * the local runtime from a deployed demo site (`lib/demo-site.ts`, which writes one).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { UserId } from '../core/protocol/schema';
import '../core/protocol/zod-locale';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.webmanifest': 'application/manifest+json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

/**
 * Serves a file of the built demo for a GET or HEAD, or returns false when the folder has no
 * build or no such file. A path ending in `/` is that folder's `index.html` (`/` the chat demo,
 * `/admin/` the admin console), a folder without the slash redirects to it; paths never leave the folder.
 */
export function serveStatic(dir: string, req: IncomingMessage, res: ServerResponse, pathname: string): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (!existsSync(join(dir, 'index.html'))) return false;
  let relative: string;
  try {
    relative = decodeURIComponent(pathname.endsWith('/') ? `${pathname}index.html` : pathname);
  } catch {
    return false;
  }
  const file = normalize(join(dir, relative));
  if (file !== dir && !file.startsWith(dir.endsWith(sep) ? dir : dir + sep)) return false;
  if (existsSync(file) && statSync(file).isDirectory() && existsSync(join(file, 'index.html'))) {
    const folder = file.slice(dir.length).split(sep).filter(Boolean).map(encodeURIComponent).join('/');
    res.writeHead(301, { location: `/${folder}/`, 'cache-control': 'no-cache' });
    res.end();
    return true;
  }
  if (!existsSync(file) || !statSync(file).isFile()) return false;
  const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
  // Vite puts a content hash in asset names: those may be cached; index.html may not.
  const cache = relative.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
  const bytes = readFileSync(file);
  res.writeHead(200, { 'content-type': type, 'content-length': bytes.length, 'cache-control': cache });
  res.end(req.method === 'HEAD' ? undefined : bytes);
  return true;
}

export interface DevSignInContext {
  url: string;
  apiUrl: string;
  wsUrl: string;
  adminSecret: string;
}

/** The web platform id (OpenIM's numbering, as in `docs/protocol.md`). */
const WEB_PLATFORM = 5;

/**
 * `POST /dev/sign-in {userId}` → `{userId, token, wsUrl, apiUrl, instanceId}`: registers the user
 * if needed and issues a web-platform user token, through the same admin API an app backend
 * calls. `instanceId` changes when the local state is reset, so a page can drop its cached store.
 */
export async function devSignIn(ctx: DevSignInContext, body: Buffer, res: ServerResponse): Promise<void> {
  const reply = (status: number, payload: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(payload));
  };
  let userId: unknown;
  try {
    userId = (JSON.parse(body.toString('utf8') || '{}') as { userId?: unknown }).userId;
  } catch {
    return reply(400, { message: 'The body must be JSON: {"userId": "…"}' });
  }
  const parsed = UserId.safeParse(userId);
  if (!parsed.success) return reply(400, { message: `Not a valid user id: ${parsed.error.issues[0]?.message ?? 'invalid'}` });

  const call = async (path: string, payload: unknown, token?: string) => {
    const r = await fetch(`${ctx.apiUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(payload),
    });
    const text = await r.text();
    return { status: r.status, body: text ? (JSON.parse(text) as Record<string, any>) : {} };
  };
  const admin = await call('/auth/admin-token', { secret: ctx.adminSecret });
  if (admin.status !== 200) return reply(502, { message: 'Could not get an admin token', detail: admin.body });
  const adminToken = admin.body.token as string;
  const registered = await call('/users/register', { users: [{ userId: parsed.data }] }, adminToken);
  const result = registered.body.results?.[0] as { ok: boolean; error?: { reason?: string } } | undefined;
  if (registered.status !== 200 || !result || (!result.ok && result.error?.reason !== 'ALREADY_EXISTS')) {
    return reply(502, { message: 'Could not register the user', detail: registered.body });
  }
  const issued = await call('/auth/user-token', { userId: parsed.data, platformId: WEB_PLATFORM }, adminToken);
  if (issued.status !== 200) return reply(502, { message: 'Could not issue a user token', detail: issued.body });
  reply(200, {
    userId: parsed.data,
    token: issued.body.token,
    wsUrl: ctx.wsUrl,
    apiUrl: ctx.apiUrl,
    instanceId: createHash('sha256').update(ctx.adminSecret).digest('hex').slice(0, 16),
  });
}
