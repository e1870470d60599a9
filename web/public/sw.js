/**
 * The web chat demo's service worker: Web Push for a closed tab. Cirrus sends (through the
 * browser's push service, encrypted with the subscription's keys) a JSON payload:
 * `{title?, body?, tag, badge?, sound?, silent, titleLocKey?, titleLocArgs?, bodyLocKey?, bodyLocArgs?,
 * data: {conversationId, seq, serverMsgId, senderId, …}}`. A push shows one notification per
 * conversation (`tag`: a newer one replaces it); a tap focuses the demo (or opens it) at the
 * conversation, which then syncs.
 */
/// <reference lib="webworker" />
const sw = /** @type {ServiceWorkerGlobalScope} */ (/** @type {unknown} */ (self));

/** What system notifications' localisation keys read as in this demo (others show their arguments). */
const LOC = {
  title: (key, args) => (args && args.length ? args.join(', ') : 'Cirrus'),
  body: (key, args) => (args && args.length ? args.join(' ') : 'You have a new notification'),
};

/** The notification a push payload asks for. */
function notificationOf(payload) {
  const data = payload && typeof payload.data === 'object' && payload.data !== null ? payload.data : {};
  const title = typeof payload.title === 'string' ? payload.title : payload.titleLocKey ? LOC.title(payload.titleLocKey, payload.titleLocArgs) : 'Cirrus';
  const body = typeof payload.body === 'string' ? payload.body : payload.bodyLocKey ? LOC.body(payload.bodyLocKey, payload.bodyLocArgs) : payload.silent ? '' : 'New message';
  const tag = typeof payload.tag === 'string' && payload.tag ? payload.tag : data.conversationId || 'cirrus';
  return {
    title,
    options: {
      body,
      tag,
      // A newer message of the conversation replaces its notification and alerts again (unless silent).
      renotify: !payload.silent,
      silent: payload.silent === true,
      data: { ...data, badge: typeof payload.badge === 'number' ? payload.badge : undefined },
    },
  };
}

sw.addEventListener('push', (event) => {
  let payload = {};
  try {
    payload = event.data ? event.data.json() : {};
  } catch {
    payload = { body: event.data ? event.data.text() : '' };
  }
  const { title, options } = notificationOf(payload);
  const badge = options.data.badge;
  event.waitUntil(
    Promise.all([
      sw.registration.showNotification(title, options),
      // The app icon's badge (installed web apps): the user's total unread.
      typeof badge === 'number' && 'setAppBadge' in navigator ? navigator.setAppBadge(badge).catch(() => undefined) : undefined,
    ]),
  );
});

/** The demo's address for a conversation: `/?conversation=<id>&seq=<seq>`. */
function conversationUrl(data) {
  const url = new URL('./', sw.registration.scope);
  if (data && data.conversationId) url.searchParams.set('conversation', data.conversationId);
  if (data && data.seq) url.searchParams.set('seq', String(data.seq));
  return url.href;
}

/** Focuses an open demo tab and tells it which conversation to show, or opens one at it. */
async function openConversation(data) {
  const url = conversationUrl(data);
  const windows = await sw.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const demo = windows.find((w) => new URL(w.url).origin === new URL(url).origin && new URL(w.url).pathname === new URL(url).pathname);
  if (demo) {
    demo.postMessage({ type: 'cirrus:openConversation', conversationId: data && data.conversationId, seq: data && data.seq ? Number(data.seq) : undefined });
    await demo.focus().catch(() => undefined);
    return;
  }
  await sw.clients.openWindow(url);
}

sw.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(openConversation(event.notification.data));
});

sw.addEventListener('install', () => void sw.skipWaiting());
sw.addEventListener('activate', (event) => event.waitUntil(sw.clients.claim()));
