/** The page at `/` of the local runtime: where everything is. */
export function landingPage(baseUrl: string): string {
  const ws = baseUrl.replace(/^http/, 'ws');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Cirrus IM (local)</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem}code{background:#f2f2f2;padding:.1rem .3rem;border-radius:3px}</style></head>
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
</body></html>`;
}
