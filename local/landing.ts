import type { ReceivedNotification } from './push';

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const short = (token: string) => (token.length > 16 ? `…${token.slice(-12)}` : token);

/** The push stand-ins' recent notifications as an HTML table (provider, device, title and body, badge, time). */
export function recentNotificationsHtml(notifications: readonly ReceivedNotification[], baseUrl: string): string {
  const rows = notifications
    .map(
      (n) =>
        `<tr><td>${escape(n.provider)}</td><td><code title="${escape(n.token)}">${escape(short(n.token))}</code></td><td><b>${escape(n.title ?? '')}</b> ${escape(n.body ?? '')}</td><td>${n.badge ?? ''}</td><td>${escape(n.receivedAt.replace('T', ' ').slice(0, 19))}</td></tr>`,
    )
    .join('');
  return `<h2>Recent notifications</h2>
<p>What the local APNs, FCM and Web Push stand-ins received, newest first (JSON with the payloads: <a href="${baseUrl}/local/push/notifications"><code>/local/push/notifications</code></a>).</p>
${notifications.length === 0 ? '<p>None yet: a recipient with a registered device and no foreground connection gets one.</p>' : `<table><thead><tr><th>Provider</th><th>Device</th><th>Notification</th><th>Badge</th><th>Received (UTC)</th></tr></thead><tbody>${rows}</tbody></table>`}`;
}

const STYLE = `<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem}code{background:#f2f2f2;padding:.1rem .3rem;border-radius:3px}table{border-collapse:collapse;font-size:14px}td,th{border-bottom:1px solid #ddd;padding:.2rem .4rem;text-align:left;vertical-align:top}</style>`;

/** `GET /local/push/`: the recent notifications page. */
export function notificationsPage(notifications: readonly ReceivedNotification[], baseUrl: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Cirrus IM (local): notifications</title>
${STYLE}</head>
<body>
${recentNotificationsHtml(notifications, baseUrl)}
</body></html>`;
}

/** The page at `/` of the local runtime: where everything is. */
export function landingPage(baseUrl: string, notifications: readonly ReceivedNotification[] = []): string {
  const ws = baseUrl.replace(/^http/, 'ws');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Cirrus IM (local)</title>
${STYLE}</head>
<body>
<h1>Cirrus IM is running locally</h1>
<p>The web chat demo is not built: run <code>npm run web:build</code> (or restart <code>npm start</code>, which builds it when missing) and reload this page.
The same build has the admin console at <a href="${baseUrl}/admin/"><code>/admin/</code></a> (sign in with the admin secret).</p>
<ul>
<li>WebSocket API: <code>${ws}/ws?token=&lt;user token&gt;</code></li>
<li>HTTP API: <code>${baseUrl}/api</code> — OpenAPI document at <a href="${baseUrl}/api/openapi.json"><code>/api/openapi.json</code></a></li>
<li>API Gateway management (<code>@connections</code>), SQS, S3 (media bucket <code>cirrus-media</code>, path-style), SSM Parameter Store and RDS Data API stand-ins: <code>${baseUrl}</code></li>
</ul>
<p>Get an admin token with the admin secret printed by <code>npm start</code>:
<code>curl -s -X POST ${baseUrl}/api/auth/admin-token -H 'content-type: application/json' -d '{"secret":"…"}'</code></p>
<p>Development sign-in (local runtime only): <code>curl -s -X POST ${baseUrl}/dev/sign-in -H 'content-type: application/json' -d '{"userId":"alice"}'</code> registers the user if needed and returns a user token.</p>
<p>The protocol is described in <code>docs/protocol.md</code>, the HTTP API in <code>docs/openapi.json</code>.</p>
<p>Offline push goes to local stand-ins for APNs, FCM and Web Push (<a href="${baseUrl}/local/push/"><code>/local/push/</code></a>; development endpoints in <code>docs/operations.md</code>, Local runtime).</p>
<p>What the CloudWatch dashboard would show, from this runtime: <a href="${baseUrl}/local/metrics"><code>/local/metrics</code></a> (JSON; the admin console's Metrics view).</p>
${recentNotificationsHtml(notifications.slice(0, 20), baseUrl)}
</body></html>`;
}
