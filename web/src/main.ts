/**
 * The Cirrus web chat demo: sign in (the local runtime's development sign-in, or, when the site
 * is deployed with a `/config.json`, the app backend's token URL), the conversation list with
 * unread badges and pins, 1:1 and group chats with delivery states, read receipts, typing,
 * reactions, pictures and files, editing and revoking your messages; friends (requests,
 * accept / refuse) and groups (create, members) through the SDK's typed HTTP API.
 */
import { CirrusClient, ContentType, CirrusSdkError, singleConversationId, type LocalMessage, type UploadedMedia } from '@cirrus-im/sdk';
import { disableWebPush, enableWebPush, webPushState } from './push';
import { E2ee, type DecryptedMessage } from '../../sdk/src/e2ee/index';
import { deviceIdFor, localStorageKv } from './e2ee-storage';
import './style.css';

interface Session {
  userId: string;
  token: string;
  wsUrl: string;
  apiUrl: string;
  /** Changes when the local runtime's state is reset: the cached store is then dropped. */
  instanceId: string;
}

const SESSION_KEY = 'cirrus-demo.session';
const REACTION = '👍';
const root = document.getElementById('app')!;

/** A small element builder: `el('p', {class: 'x'}, 'text', child)`. */
function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | boolean | undefined> = {}, ...children: (Node | string | null | undefined | false)[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

/**
 * What a deployed demo site serves at `/config.json` (written by `CirrusDemoSite` in
 * `lib/demo-site.ts`). The local runtime has none (404), and the demo then uses its
 * development sign-in.
 */
interface SiteConfig {
  wsUrl: string;
  apiUrl: string;
  /** The app backend's endpoint: `POST {userId}` with the browser's cookies → `{token, userId?}`. */
  tokenUrl: string;
}

async function loadSiteConfig(): Promise<SiteConfig | undefined> {
  const res = await fetch('/config.json', { cache: 'no-store' }).catch(() => undefined);
  if (!res?.ok) return undefined;
  const body = (await res.json().catch(() => undefined)) as Partial<SiteConfig> | undefined;
  if (typeof body?.wsUrl !== 'string' || typeof body.apiUrl !== 'string' || typeof body.tokenUrl !== 'string') return undefined;
  return { wsUrl: body.wsUrl, apiUrl: body.apiUrl, tokenUrl: body.tokenUrl };
}

/**
 * Sign-in through the app backend (see docs/deploy.md, "The web chat demo site"): the backend
 * authenticates its own user (cookies are sent along), issues a Cirrus user token through the
 * admin API and answers `{token}`, or `{token, userId}` when it decides the user id itself.
 */
async function tokenUrlSignIn(config: SiteConfig, userId: string): Promise<Session> {
  const res = await fetch(config.tokenUrl, {
    method: 'POST',
    credentials: 'include',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId }),
  }).catch(() => undefined);
  if (!res) throw new Error('Could not reach the sign-in service.');
  const body = (await res.json().catch(() => ({}))) as { token?: unknown; userId?: unknown; message?: unknown };
  if (!res.ok || typeof body.token !== 'string') throw new Error(typeof body.message === 'string' ? body.message : `Sign-in failed (HTTP ${res.status})`);
  return {
    userId: typeof body.userId === 'string' ? body.userId : userId,
    token: body.token,
    wsUrl: config.wsUrl,
    apiUrl: config.apiUrl,
    // Another deployment is another state: its cached store is dropped.
    instanceId: config.apiUrl,
  };
}

/** Set once at start: the deployed site's configuration, or undefined for the local runtime. */
let siteConfig: SiteConfig | undefined;

const signIn = (userId: string): Promise<Session> => (siteConfig ? tokenUrlSignIn(siteConfig, userId) : devSignIn(userId));

async function devSignIn(userId: string): Promise<Session> {
  const res = await fetch('/dev/sign-in', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId }) });
  const body = (await res.json().catch(() => ({}))) as Partial<Session> & { message?: string };
  if (!res.ok || !body.token) throw new Error(body.message ?? `Sign-in failed (HTTP ${res.status})`);
  return body as Session;
}

function loadSession(): Session | undefined {
  try {
    const raw = localStorage.getItem(SESSION_KEY);
    return raw ? (JSON.parse(raw) as Session) : undefined;
  } catch {
    return undefined;
  }
}

function showSignIn(notice?: string): void {
  const input = el('input', { name: 'userId', placeholder: 'alice', autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false', required: true, pattern: '[A-Za-z0-9][A-Za-z0-9.@\\-]{0,63}', 'aria-label': 'User id' });
  const error = el('p', { class: 'error', role: 'alert' }, notice ?? '');
  const button = el('button', { type: 'submit' }, 'Sign in');
  const form = el(
    'form',
    { class: 'sign-in' },
    el('h1', {}, 'Cirrus chat'),
    el(
      'p',
      { class: 'hint' },
      siteConfig ? `Signs in through the app's backend (${new URL(siteConfig.tokenUrl, location.href).host}).` : 'Development sign-in of the local runtime: any user id, registered on first use.',
    ),
    el('label', {}, 'User id', input),
    button,
    error,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    button.disabled = true;
    error.textContent = '';
    signIn(input.value.trim())
      .then((session) => {
        localStorage.setItem(SESSION_KEY, JSON.stringify(session));
        return openApp(session);
      })
      .catch((err: Error) => {
        error.textContent = err.message;
        button.disabled = false;
      });
  });
  root.replaceChildren(form);
  input.focus();
}

/** Drops the IndexedDB store of the user when it belongs to an earlier (reset) local state. */
async function dropStaleStore(session: Session): Promise<void> {
  const key = `cirrus-demo.instance.${session.userId}`;
  if (localStorage.getItem(key) === session.instanceId) return;
  await new Promise<void>((resolve) => {
    const request = indexedDB.deleteDatabase(`cirrus-${session.userId}`);
    request.onsuccess = request.onerror = request.onblocked = () => resolve();
  });
  localStorage.setItem(key, session.instanceId);
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

function messageText(message: { contentType: number; content: unknown }): string {
  const content = message.content as { text?: string; fileName?: string } | null;
  if (content === null) return '';
  switch (message.contentType) {
    case ContentType.text:
    case ContentType.markdown:
      return content?.text ?? '';
    case ContentType.picture:
      return '📷 Photo';
    case ContentType.voice:
      return '🎤 Voice message';
    case ContentType.video:
      return '🎬 Video';
    case ContentType.file:
      return `📎 ${content?.fileName ?? 'File'}`;
    case 150:
      return '🔒 Encrypted message';
    default:
      return content?.text ?? `Message of type ${message.contentType}`;
  }
}

/** Notification messages (friend, group and change events) are not chat bubbles. */
const isChatMessage = (m: { contentType: number }) => m.contentType < 1000 && m.contentType !== 151 && m.contentType !== 152;

async function openApp(session: Session): Promise<void> {
  const me = session.userId;
  await dropStaleStore(session);
  const client = await CirrusClient.create({
    wsUrl: session.wsUrl,
    apiUrl: session.apiUrl,
    token: session.token,
    refreshToken: async () => {
      const fresh = await signIn(me).catch(() => undefined);
      if (fresh) localStorage.setItem(SESSION_KEY, JSON.stringify(fresh));
      return fresh?.token;
    },
  });

  // End-to-end encrypted conversations (MLS): this browser is one device of the user.
  const e2ee = await E2ee.open({ client, deviceId: deviceIdFor(`${session.instanceId}.${me}`), storage: localStorageKv(`cirrus-demo.e2ee.${session.instanceId}.`) });
  const encrypted = new Set<string>();
  const isEncrypted = async (conversationId: string) => {
    if (!encrypted.has(conversationId) && (await e2ee.isMember(conversationId))) encrypted.add(conversationId);
    return encrypted.has(conversationId);
  };

  // The other user (or group) of each conversation, and what the chat view shows.
  const peerOf = (conversationId: string): { kind: 'single' | 'group'; id: string } => {
    if (conversationId.startsWith('sg_')) return { kind: 'group', id: conversationId.slice(3) };
    const [a, b] = conversationId.slice(3).split('_');
    return { kind: 'single', id: a === me ? b! : a! };
  };
  let current: string | undefined;
  /** The joined groups (from `listJoinedGroups`): their names and the user's role. */
  const groups = new Map<string, { name: string; role: 'owner' | 'admin' | 'member' }>();
  const nameOf = (conversationId: string): string => {
    const peer = peerOf(conversationId);
    return peer.kind === 'group' ? (groups.get(peer.id)?.name ?? peer.id) : peer.id;
  };
  /** The message being edited in the composer, if any. */
  let editing: { conversationId: string; seq: number } | undefined;
  let membersOpen = false;
  const peerRead = new Map<string, number>();
  const typing = new Map<string, ReturnType<typeof setTimeout>>();

  // Layout: a top bar, the conversation list, the chat; on a narrow screen one pane at a time.
  const stateLabel = el('span', { class: 'state', 'data-state': client.state }, client.state);
  const signOut = el('button', { type: 'button', class: 'link' }, 'Sign out');
  const notifyButton = el('button', { type: 'button', class: 'link notify' }, 'Notify me when this tab is closed');
  const notifyStatus = el('span', { class: 'notify-status', role: 'status' });
  const topbar = el('header', { class: 'topbar' }, el('strong', { class: 'me' }, me), stateLabel, notifyButton, notifyStatus, signOut);

  const newChatInput = el('input', { name: 'peer', placeholder: 'Chat with user id…', autocapitalize: 'none', spellcheck: 'false', required: true, 'aria-label': 'User id to chat with' });
  const newChatEncrypted = el('input', { type: 'checkbox', name: 'encrypted', 'aria-label': 'Encrypted' });
  const newChat = el('form', { class: 'new-chat' }, newChatInput, el('label', { class: 'encrypted-toggle', title: 'End-to-end encrypted' }, newChatEncrypted, '🔒'), el('button', { type: 'submit' }, 'Start'));
  const list = el('ul', { class: 'conversations', 'aria-label': 'Conversations' });
  const emptyList = el('p', { class: 'empty' }, 'No conversations yet. Start one with a user id above.');
  const chatsView = el('div', { class: 'view', 'data-view': 'chats' }, newChat, list, emptyList);

  // Friends: send a request by user id, incoming requests (accept / refuse), the friend list.
  const friendInput = el('input', { name: 'friend', placeholder: 'Friend user id', autocapitalize: 'none', spellcheck: 'false', required: true, 'aria-label': 'Friend user id' });
  const friendForm = el('form', { class: 'new-chat' }, friendInput, el('button', { type: 'submit' }, 'Add friend'));
  const friendNotice = el('p', { class: 'notice', role: 'status' });
  const requestList = el('ul', { class: 'people requests', 'aria-label': 'Friend requests' });
  const friendList = el('ul', { class: 'people friends', 'aria-label': 'Friends' });
  const requestsTitle = el('h2', {}, 'Requests');
  const friendsView = el('div', { class: 'view', 'data-view': 'friends', hidden: true }, friendForm, friendNotice, requestsTitle, requestList, el('h2', {}, 'Friends'), friendList);

  // Groups: create one (name and member ids), the joined groups.
  const groupName = el('input', { name: 'groupName', placeholder: 'Group name', required: true, maxlength: '128', 'aria-label': 'Group name' });
  const groupMembers = el('input', { name: 'groupMembers', placeholder: 'Member ids, comma separated', autocapitalize: 'none', spellcheck: 'false', 'aria-label': 'Member ids' });
  const groupForm = el('form', { class: 'new-group' }, groupName, groupMembers, el('button', { type: 'submit' }, 'Create group'));
  const groupNotice = el('p', { class: 'notice', role: 'status' });
  const groupList = el('ul', { class: 'people groups', 'aria-label': 'Groups' });
  const groupsView = el('div', { class: 'view', 'data-view': 'groups', hidden: true }, groupForm, groupNotice, el('h2', {}, 'Your groups'), groupList);

  type Tab = 'chats' | 'friends' | 'groups';
  const views: Record<Tab, HTMLElement> = { chats: chatsView, friends: friendsView, groups: groupsView };
  const tabButtons = (['chats', 'friends', 'groups'] as const).map((tab) => {
    const button = el('button', { type: 'button', role: 'tab', class: 'tab', 'data-tab': tab, 'aria-selected': tab === 'chats' ? 'true' : 'false' }, tab[0]!.toUpperCase() + tab.slice(1));
    button.addEventListener('click', () => showTab(tab));
    return button;
  });
  const requestBadge = el('span', { class: 'badge', hidden: true });
  tabButtons[1]!.append(requestBadge);
  const showTab = (tab: Tab) => {
    for (const button of tabButtons) button.setAttribute('aria-selected', String(button.dataset.tab === tab));
    for (const [name, view] of Object.entries(views)) view.hidden = name !== tab;
    if (tab === 'friends') void refreshFriends();
    if (tab === 'groups') void refreshGroups();
  };
  const listPane = el('section', { class: 'list-pane' }, el('nav', { class: 'tabs', role: 'tablist' }, ...tabButtons), chatsView, friendsView, groupsView);

  const back = el('button', { type: 'button', class: 'back', 'aria-label': 'Back to conversations' }, '‹');
  const title = el('strong', { class: 'peer' });
  const typingLabel = el('small', { class: 'typing' });
  const pin = el('button', { type: 'button', class: 'pin link' }, 'Pin');
  const membersButton = el('button', { type: 'button', class: 'members-toggle link', 'aria-expanded': 'false' }, 'Members');
  const memberList = el('ul', { class: 'people members', 'aria-label': 'Members' });
  const addMembersInput = el('input', { name: 'addMembers', placeholder: 'User ids to add, comma separated', autocapitalize: 'none', spellcheck: 'false', required: true, 'aria-label': 'User ids to add' });
  const addMembersForm = el('form', { class: 'new-chat' }, addMembersInput, el('button', { type: 'submit' }, 'Add'));
  const membersNotice = el('p', { class: 'notice', role: 'status' });
  const membersPanel = el('section', { class: 'members-panel', hidden: true, 'aria-label': 'Group members' }, memberList, addMembersForm, membersNotice);
  const editingCancel = el('button', { type: 'button', class: 'link' }, 'Cancel');
  const editingBar = el('p', { class: 'editing-bar', hidden: true }, el('span', {}, 'Editing your message'), editingCancel);
  const messages = el('ol', { class: 'messages', 'aria-live': 'polite' });
  const composerInput = el('input', { name: 'text', placeholder: 'Message', autocomplete: 'off', 'aria-label': 'Message' });
  const attachInput = el('input', { type: 'file', class: 'visually-hidden', 'aria-label': 'Attach a picture or file' });
  const attach = el('label', { class: 'attach', title: 'Attach a picture or file' }, '+', attachInput);
  const uploadStatus = el('p', { class: 'upload-status', role: 'status', hidden: true });
  const composer = el('form', { class: 'composer' }, attach, composerInput, el('button', { type: 'submit' }, 'Send'));
  const placeholder = el('p', { class: 'placeholder' }, 'Choose a conversation');
  const lock = el('span', { class: 'lock', title: 'End-to-end encrypted', 'aria-label': 'End-to-end encrypted', hidden: true }, '🔒');
  const keysList = el('ul', { class: 'fingerprints', 'aria-label': 'Key fingerprints' });
  const safety = el('p', { class: 'safety-number' });
  const keysPanel = el('details', { class: 'keys', hidden: true }, el('summary', {}, 'Verify keys'), el('p', {}, 'Compare these with what each device shows:'), keysList, safety);
  const chatPane = el('section', { class: 'chat-pane' }, el('header', { class: 'chat-header' }, back, el('div', { class: 'who' }, lock, title, typingLabel), membersButton, pin), keysPanel, membersPanel, messages, uploadStatus, editingBar, composer, placeholder);

  const app = el('div', { class: 'app' }, topbar, el('div', { class: 'panes' }, listPane, chatPane));
  root.replaceChildren(app);

  // Rendering: every change schedules one pass over the list and the open chat, one at a time.
  let queued = false;
  let running: Promise<void> = Promise.resolve();
  const render = () => {
    if (queued) return;
    queued = true;
    running = running.then(async () => {
      queued = false;
      await renderList();
      await renderChat();
    }).catch((err) => console.error('render failed', err));
  };

  async function renderList(): Promise<void> {
    for (const c of await client.getConversations()) await isEncrypted(c.conversationId);
    const conversations = (await client.getConversations()).filter((c) => (c.conversationId.startsWith('si_') || c.conversationId.startsWith('sg_')) && !c.hidden);
    conversations.sort((a, b) => Number(!!b.pinned) - Number(!!a.pinned) || (b.lastMessage?.sendTime ?? 0) - (a.lastMessage?.sendTime ?? 0));
    // The last message may be a notification (a reaction, an edit): preview the newest chat message.
    const previews = await Promise.all(
      conversations.map(async (c) => {
        if (!c.lastMessage || isChatMessage(c.lastMessage)) return c.lastMessage;
        const recent = (await client.getMessages(c.conversationId, { limit: 20 })).filter((m): m is Extract<LocalMessage, { status: 'sent' }> => m.status === 'sent' && isChatMessage(m));
        return recent.at(-1);
      }),
    );
    list.replaceChildren(
      ...conversations.map((c, i) => {
        const last = previews[i];
        const preview = last ? `${last.senderId === me ? 'You: ' : ''}${last.revoked ? 'Message revoked' : last.deleted ? 'Message deleted' : messageText(last)}` : peerOf(c.conversationId).kind === 'group' ? 'Group' : '';
        const item = el(
          'button',
          { type: 'button', class: 'conversation', 'aria-current': c.conversationId === current ? 'true' : undefined },
          el('span', { class: 'name' }, c.pinned ? el('span', { class: 'pinned', title: 'Pinned' }, '📌 ') : null, encrypted.has(c.conversationId) ? el('span', { class: 'lock', title: 'End-to-end encrypted' }, '🔒 ') : null, nameOf(c.conversationId)),
          el('span', { class: 'preview' }, preview),
          last ? el('time', {}, timeFormat.format(last.sendTime)) : null,
          c.unread > 0 ? el('span', { class: 'badge', 'aria-label': `${c.unread} unread` }, String(c.unread > 99 ? '99+' : c.unread)) : null,
        );
        item.addEventListener('click', () => openChat(c.conversationId));
        return el('li', { 'data-conversation-id': c.conversationId }, item);
      }),
    );
    emptyList.hidden = conversations.length > 0;
    const total = client.getTotalUnread();
    document.title = total > 0 ? `(${total}) Cirrus chat` : 'Cirrus chat';
  }

  async function renderChat(): Promise<void> {
    app.classList.toggle('chat-open', current !== undefined);
    placeholder.hidden = current !== undefined;
    composer.hidden = messages.hidden = current === undefined;
    if (!current) return;
    const conversationId = current;
    const conversation = await client.getConversation(conversationId);
    const peer = peerOf(conversationId);
    title.textContent = nameOf(conversationId);
    pin.hidden = !conversation;
    membersButton.hidden = peer.kind !== 'group';
    membersPanel.hidden = !(membersOpen && peer.kind === 'group');
    membersButton.setAttribute('aria-expanded', String(!membersPanel.hidden));
    editingBar.hidden = editing?.conversationId !== conversationId;
    pin.textContent = conversation?.pinned ? 'Unpin' : 'Pin';
    typingLabel.textContent = typing.has(conversationId) ? 'typing…' : peer.kind === 'group' ? 'group' : '';

    const secret = await isEncrypted(conversationId);
    lock.hidden = keysPanel.hidden = !secret;
    if (secret) {
      await renderEncrypted(conversationId, peer.kind === 'group');
      if (conversation && conversation.unread > 0 && document.visibilityState === 'visible') await client.markRead(conversationId).catch(() => undefined);
      return;
    }
    const list = (await client.getMessages(conversationId, { limit: 100 })).filter(isChatMessage);
    const nearBottom = messages.scrollHeight - messages.scrollTop - messages.clientHeight < 80;
    messages.replaceChildren(...list.map((m) => renderMessage(m, peerRead.get(conversationId) ?? 0, peer.kind === 'group')));
    if (nearBottom || list.at(-1)?.senderId === me) messages.scrollTop = messages.scrollHeight;

    if (conversation && conversation.unread > 0 && document.visibilityState === 'visible') {
      await client.markRead(conversationId).catch(() => undefined);
    }
  }

  /** An encrypted conversation: the messages this device decrypted, and the keys to verify. */
  async function renderEncrypted(conversationId: string, inGroup: boolean): Promise<void> {
    const decrypted = await e2ee.getMessages(conversationId);
    messages.replaceChildren(
      ...decrypted.map((m: DecryptedMessage) => {
        const mine = m.senderId === me;
        return el(
          'li',
          { class: `message ${mine ? 'mine' : 'theirs'}`, 'data-encrypted': true, 'data-seq': String(m.seq) },
          inGroup && !mine ? el('span', { class: 'sender' }, m.senderId) : null,
          el('div', { class: 'bubble' }, messageText(m)),
          el('span', { class: 'meta' }, el('time', {}, timeFormat.format(m.sendTime)), el('span', { class: 'lock-meta', title: 'End-to-end encrypted' }, ' · 🔒')),
        );
      }),
    );
    messages.scrollTop = messages.scrollHeight;
    const [own, members, number] = await Promise.all([e2ee.fingerprint(), e2ee.members(conversationId), e2ee.safetyNumber(conversationId)]);
    keysList.replaceChildren(
      ...members.map((d) => el('li', { 'data-user-id': d.userId, 'data-device-id': d.deviceId }, el('strong', {}, d.userId === me && d.fingerprint === own ? 'This device' : `${d.userId} (${d.deviceId})`), ' ', el('code', { class: 'fingerprint' }, d.fingerprint))),
    );
    safety.textContent = number ? `Safety number: ${number}` : '';
  }

  function renderMessage(m: LocalMessage, readUpTo: number, inGroup: boolean): HTMLLIElement {
    const mine = m.senderId === me;
    const sent = m.status === 'sent';
    const removed = sent && (m.revoked || m.deleted);
    const status = !mine ? undefined : m.status === 'sent' ? (peerOf(m.conversationId).kind === 'single' && m.seq <= readUpTo ? 'read' : 'sent') : m.status;
    const statusText = { sending: 'Sending…', sent: 'Sent', read: 'Read', failed: 'Not sent' } as const;
    const meta = el('span', { class: 'meta' }, el('time', {}, timeFormat.format(sent ? m.sendTime : m.createdAt)), sent && m.edited && !removed ? el('span', { class: 'edited' }, ' · edited') : null, status ? el('span', { class: 'status' }, ` · ${statusText[status]}`) : null);
    const marker = sent && m.revoked ? `${m.revoked.by === me ? 'You' : m.revoked.by} revoked a message` : 'Message deleted';
    const bubble = el('div', { class: 'bubble' }, removed ? el('em', { class: 'removed' }, marker) : (renderMedia(m) ?? messageText(m)));
    const sender = inGroup && !mine ? el('span', { class: 'sender' }, m.senderId) : null;
    const item = el('li', { class: `message ${mine ? 'mine' : 'theirs'}`, 'data-status': status, 'data-client-msg-id': m.clientMsgId, 'data-revoked': sent && !!m.revoked, 'data-edited': sent && !!m.edited && !removed }, sender, bubble, meta);

    if (m.status === 'failed') {
      const retry = el('button', { type: 'button', class: 'link retry' }, 'Retry');
      retry.addEventListener('click', () => void client.resendMessage(m.clientMsgId).catch(() => render()));
      item.append(el('span', { class: 'error' }, m.error?.message ?? 'Failed'), retry);
    }
    if (sent && !removed) {
      const reactions = el('div', { class: 'reactions' });
      for (const [emoji, users] of Object.entries(m.reactions ?? {})) {
        if (users.length === 0) continue;
        const chip = el('button', { type: 'button', class: 'chip', 'aria-pressed': users.includes(me) ? 'true' : 'false', title: users.join(', ') }, `${emoji} ${users.length}`);
        chip.addEventListener('click', () => void client.reactToMessage(m.conversationId, m.seq, emoji, !users.includes(me)).then(render, render));
        reactions.append(chip);
      }
      if (!m.reactions?.[REACTION]?.length) {
        const react = el('button', { type: 'button', class: 'react', 'aria-label': `React with ${REACTION}` }, REACTION);
        react.addEventListener('click', () => void client.reactToMessage(m.conversationId, m.seq, REACTION, true).then(render, render));
        reactions.append(react);
      }
      // Your own text messages: edit (in the composer) and revoke.
      if (mine && (m.contentType === ContentType.text || m.contentType === ContentType.markdown)) {
        const { conversationId, seq } = m;
        const edit = el('button', { type: 'button', class: 'act', 'aria-label': 'Edit message' }, 'Edit');
        edit.addEventListener('click', () => {
          editing = { conversationId, seq };
          composerInput.value = messageText(m);
          composerInput.focus();
          render();
        });
        const revoke = el('button', { type: 'button', class: 'act', 'aria-label': 'Revoke message' }, 'Revoke');
        revoke.addEventListener('click', () => {
          revoke.disabled = true;
          client.revokeMessage(conversationId, seq).then(render, (err: Error) => (alert(err.message), render()));
        });
        reactions.append(edit, revoke);
      }
      item.append(reactions);
    }
    return item;
  }

  // Media: short-lived download URLs, asked once per object and again when they expire.
  const downloadUrls = new Map<string, Promise<{ url: string; expiresAt: number }>>();
  const mediaUrl = async (objectKey: string): Promise<string> => {
    let pending = downloadUrls.get(objectKey);
    const known = pending ? await pending.catch(() => undefined) : undefined;
    if (!known || known.expiresAt - 30_000 < Date.now()) {
      pending = client.media.downloadUrl(objectKey);
      downloadUrls.set(objectKey, pending);
    }
    return (await pending!).url;
  };
  type Ref = { objectKey?: string; url?: string; mimeType?: string; size?: number };
  const resolveRef = (ref: Ref): Promise<string> => (ref.url ? Promise.resolve(ref.url) : mediaUrl(ref.objectKey!));

  /** A picture as an image, a file as a download link; undefined for other messages. */
  function renderMedia(m: LocalMessage): HTMLElement | undefined {
    const content = m.content as { source?: Ref; snapshot?: Ref; file?: Ref; fileName?: string } | null;
    if (!content) return undefined;
    if (m.contentType === ContentType.picture && content.source) {
      const img = el('img', { class: 'picture', alt: 'Photo', loading: 'lazy' });
      resolveRef(content.snapshot ?? content.source).then((url) => (img.src = url), () => (img.alt = 'Photo (not available)'));
      img.addEventListener('click', () => void resolveRef(content.source!).then((url) => window.open(url, '_blank', 'noopener')));
      return img;
    }
    if (m.contentType === ContentType.file && content.file) {
      const size = content.file.size ?? 0;
      const link = el('a', { class: 'file', target: '_blank', rel: 'noopener' }, `📎 ${content.fileName ?? 'File'}`, el('small', {}, ` ${size < 1024 ? `${size} B` : size < 1048576 ? `${(size / 1024).toFixed(0)} kB` : `${(size / 1048576).toFixed(1)} MB`}`));
      resolveRef(content.file).then((url) => (link.href = url), () => undefined);
      return link;
    }
    return undefined;
  }

  /** Uploads a picked file, then sends it as a picture (images) or a file message. */
  async function sendAttachment(file: File): Promise<void> {
    if (!current) return;
    const peer = peerOf(current);
    const to = peer.kind === 'single' ? { recvId: peer.id } : { groupId: peer.id };
    uploadStatus.textContent = `Uploading ${file.name}…`;
    uploadStatus.hidden = false;
    try {
      const ref: UploadedMedia & { width?: number; height?: number } = await client.media.upload(file, { fileName: file.name });
      if (file.type.startsWith('image/')) {
        const bitmap = await createImageBitmap(file).catch(() => undefined);
        if (bitmap) Object.assign(ref, { width: bitmap.width, height: bitmap.height });
        bitmap?.close();
        uploadStatus.hidden = true;
        await client.sendMessage({ ...to, contentType: ContentType.picture, content: { source: ref } });
      } else {
        uploadStatus.hidden = true;
        await client.sendMessage({ ...to, contentType: ContentType.file, content: { file: ref, fileName: file.name } });
      }
    } catch (err) {
      uploadStatus.textContent = `Could not send ${file.name}: ${(err as Error).message}`;
      uploadStatus.hidden = false;
      setTimeout(() => (uploadStatus.hidden = true), 6000);
    }
  }

  async function openChat(conversationId: string): Promise<void> {
    if (current !== conversationId) {
      editing = undefined;
      membersOpen = false;
    }
    current = conversationId;
    composerInput.value = (await client.getConversation(conversationId))?.draft?.text ?? '';
    render();
    if (peerOf(conversationId).kind === 'single' && client.state === 'connected') {
      const { peer } = await client.getReadReceipts(conversationId).catch(() => ({ peer: undefined }));
      if (peer) peerRead.set(conversationId, Math.max(peerRead.get(conversationId) ?? 0, peer.readSeq));
      render();
    }
    composerInput.focus();
  }

  // Typing: tell the other user at most every 3 s while typing, and stop 4 s after the last key.
  let typingSentAt = 0;
  let typingStop: ReturnType<typeof setTimeout> | undefined;
  const stopTyping = (recvId: string) => {
    clearTimeout(typingStop);
    if (typingSentAt) void client.typing(recvId, false).catch(() => undefined);
    typingSentAt = 0;
  };
  composerInput.addEventListener('input', () => {
    // Editing a sent message is not typing a new one.
    if (!current || editing || client.state !== 'connected') return;
    const peer = peerOf(current);
    if (peer.kind !== 'single') return;
    if (Date.now() - typingSentAt > 3000) {
      typingSentAt = Date.now();
      void client.typing(peer.id, true).catch(() => undefined);
    }
    clearTimeout(typingStop);
    typingStop = setTimeout(() => stopTyping(peer.id), 4000);
  });
  composerInput.addEventListener('blur', () => {
    if (current && !editing) void client.setDraft(current, composerInput.value).catch(() => undefined);
  });

  composer.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = composerInput.value.trim();
    if (!current || !text) return;
    const peer = peerOf(current);
    composerInput.value = '';
    if (editing?.conversationId === current) {
      const { conversationId, seq } = editing;
      editing = undefined;
      void client.setDraft(conversationId, '').catch(() => undefined);
      client.editMessage(conversationId, seq, { contentType: ContentType.text, content: { text } }).then(render, (err: Error) => (alert(err.message), render()));
      render();
      return;
    }
    if (peer.kind === 'single') stopTyping(peer.id);
    void client.setDraft(current, '').catch(() => undefined);
    if (encrypted.has(current)) {
      e2ee.sendText(current, text).then(render, (err: Error) => (alert(err.message), render()));
      return;
    }
    // The message shows as sending at once; its status events re-render it.
    client.sendText(peer.kind === 'single' ? { recvId: peer.id } : { groupId: peer.id }, text).catch((err: unknown) => {
      if (!(err instanceof CirrusSdkError)) console.error(err);
      render();
    });
    render();
  });

  attachInput.addEventListener('change', () => {
    const file = attachInput.files?.[0];
    attachInput.value = '';
    if (file) void sendAttachment(file);
  });

  newChat.addEventListener('submit', (event) => {
    event.preventDefault();
    const peer = newChatInput.value.trim();
    if (!peer || peer === me) return;
    newChatInput.value = '';
    if (newChatEncrypted.checked) {
      newChatEncrypted.checked = false;
      e2ee.createSingle(peer).then((conversationId) => {
        encrypted.add(conversationId);
        return openChat(conversationId);
      }, (err: Error) => alert(err.message));
      return;
    }
    void openChat(singleConversationId(me, peer));
  });

  editingCancel.addEventListener('click', () => {
    editing = undefined;
    composerInput.value = '';
    if (current) void client.setDraft(current, '').catch(() => undefined);
    render();
  });

  // Friends through client.api: requests, accept / refuse, the list.
  const userIds = (text: string) => [...new Set(text.split(/[\s,]+/).filter((id) => id && id !== me))];
  const notify = (target: HTMLElement, text: string, isError = false) => {
    target.textContent = text;
    target.classList.toggle('error', isError);
  };
  async function refreshFriends(): Promise<void> {
    if (client.state !== 'connected') return;
    const loaded = await Promise.all([client.api.listFriendRequests({ query: { direction: 'incoming', limit: 100 } }), client.api.listFriends({ query: { limit: 100 } })]).catch((err: Error) => {
      notify(friendNotice, err.message, true);
      return undefined;
    });
    if (!loaded) return;
    const [{ requests }, { friends }] = loaded;
    const pending = requests.filter((r) => r.status === 'pending');
    requestsTitle.hidden = requestList.hidden = pending.length === 0;
    requestBadge.hidden = pending.length === 0;
    requestBadge.textContent = String(pending.length);
    requestList.replaceChildren(
      ...pending.map((r) => {
        const accept = el('button', { type: 'button' }, 'Accept');
        const refuse = el('button', { type: 'button', class: 'link' }, 'Refuse');
        const handle = (action: Promise<unknown>) => {
          accept.disabled = refuse.disabled = true;
          action.then(() => refreshFriends(), (err: Error) => (notify(friendNotice, err.message, true), refreshFriends()));
        };
        accept.addEventListener('click', () => handle(client.api.acceptFriendRequest({ params: { fromUserId: r.fromUserId }, body: {} })));
        refuse.addEventListener('click', () => handle(client.api.refuseFriendRequest({ params: { fromUserId: r.fromUserId }, body: {} })));
        return el('li', { 'data-user-id': r.fromUserId }, el('span', { class: 'name' }, r.fromUserId, r.message ? el('small', {}, r.message) : null), accept, refuse);
      }),
    );
    friendList.replaceChildren(
      ...(friends.length === 0
        ? [el('li', { class: 'empty' }, 'No friends yet.')]
        : friends.map((f) => {
            const open = el('button', { type: 'button', class: 'link' }, 'Chat');
            open.addEventListener('click', () => void openChat(singleConversationId(me, f.friendUserId)));
            return el('li', { 'data-user-id': f.friendUserId }, el('span', { class: 'name' }, f.remark ?? f.friendUserId), open);
          })),
    );
  }
  friendForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const toUserId = friendInput.value.trim();
    if (!toUserId) return;
    client.api.sendFriendRequest({ body: { toUserId, message: `Hi, I'm ${me}` } }).then(
      ({ request }) => {
        friendInput.value = '';
        notify(friendNotice, request.status === 'accepted' ? `You and ${toUserId} are friends.` : `Request sent to ${toUserId}.`);
        void refreshFriends();
      },
      (err: Error) => notify(friendNotice, err.message, true),
    );
  });

  // Groups through client.api: create, the joined groups, members (owners and admins manage them).
  async function refreshGroups(): Promise<void> {
    if (client.state !== 'connected') return;
    const joined = await client.api.listJoinedGroups({ query: { limit: 100 } }).catch((err: Error) => (notify(groupNotice, err.message, true), undefined));
    if (!joined) return;
    groups.clear();
    for (const { group, role } of joined.groups) if (group.status === 'active') groups.set(group.groupId, { name: group.name, role });
    groupList.replaceChildren(
      ...(groups.size === 0
        ? [el('li', { class: 'empty' }, 'No groups yet.')]
        : [...groups].map(([groupId, { name, role }]) => {
            const open = el('button', { type: 'button', class: 'link' }, 'Open');
            open.addEventListener('click', () => void openChat(`sg_${groupId}`));
            return el('li', { 'data-group-id': groupId }, el('span', { class: 'name' }, name, el('small', {}, role)), open);
          })),
    );
    render();
    if (membersOpen) void refreshMembers();
  }
  groupForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const name = groupName.value.trim();
    if (!name) return;
    client.api.createGroup({ body: { name, memberUserIds: userIds(groupMembers.value), joinPolicy: 'invite' } }).then(
      async ({ group }) => {
        groupName.value = groupMembers.value = '';
        notify(groupNotice, '');
        groups.set(group.groupId, { name: group.name, role: 'owner' });
        showTab('chats');
        await openChat(`sg_${group.groupId}`);
      },
      (err: Error) => notify(groupNotice, err.message, true),
    );
  });

  async function refreshMembers(): Promise<void> {
    const groupId = current && peerOf(current).kind === 'group' ? peerOf(current).id : undefined;
    if (!groupId || client.state !== 'connected') return;
    const result = await client.api.listGroupMembers({ params: { groupId }, query: { limit: 100 } }).catch((err: Error) => (notify(membersNotice, err.message, true), undefined));
    if (!result || current !== `sg_${groupId}`) return;
    const myRole = result.members.find((m) => m.userId === me)?.role ?? 'member';
    const manages = myRole === 'owner' || myRole === 'admin';
    addMembersForm.hidden = !manages;
    memberList.replaceChildren(
      ...result.members.map((member) => {
        const item = el('li', { 'data-user-id': member.userId }, el('span', { class: 'name' }, member.userId === me ? `${member.userId} (you)` : member.userId, el('small', {}, member.role)));
        const removable = member.userId !== me && (myRole === 'owner' ? member.role !== 'owner' : myRole === 'admin' && member.role === 'member');
        if (removable) {
          const remove = el('button', { type: 'button', class: 'link danger', 'aria-label': `Remove ${member.userId}` }, 'Remove');
          remove.addEventListener('click', () => {
            remove.disabled = true;
            client.api.removeGroupMembers({ params: { groupId }, body: { userIds: [member.userId] } }).then(
              ({ results }) => (notify(membersNotice, results[0]?.ok === false ? (results[0].error?.message ?? 'Not removed') : ''), refreshMembers()),
              (err: Error) => (notify(membersNotice, err.message, true), refreshMembers()),
            );
          });
          item.append(remove);
        }
        return item;
      }),
    );
  }
  membersButton.addEventListener('click', () => {
    membersOpen = !membersOpen;
    if (membersOpen) void refreshMembers();
    render();
  });
  addMembersForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const groupId = current && peerOf(current).kind === 'group' ? peerOf(current).id : undefined;
    const ids = userIds(addMembersInput.value);
    if (!groupId || ids.length === 0) return;
    client.api.addGroupMembers({ params: { groupId }, body: { userIds: ids } }).then(
      ({ results }) => {
        addMembersInput.value = '';
        const failed = results.filter((r) => !r.ok);
        notify(membersNotice, failed.map((r) => `${r.userId}: ${r.error?.message ?? 'not added'}`).join('; '), failed.length > 0);
        void refreshMembers();
      },
      (err: Error) => notify(membersNotice, err.message, true),
    );
  });

  back.addEventListener('click', () => {
    current = undefined;
    render();
  });

  pin.addEventListener('click', async () => {
    if (!current) return;
    const conversation = await client.getConversation(current);
    await client.api.setConversation({ params: { conversationId: current }, body: { pinned: !conversation?.pinned } }).catch((err: Error) => alert(err.message));
  });

  const leave = async (notice?: string) => {
    opened.abort();
    e2ee.close();
    await client.close().catch(() => undefined);
    localStorage.removeItem(SESSION_KEY);
    document.title = 'Cirrus chat';
    showSignIn(notice);
  };
  signOut.addEventListener('click', async () => {
    await disableWebPush({ api: client.api, userId: me });
    await leave();
  });

  // Web Push: notifications while the tab is closed (see push.ts and /sw.js).
  const pushOn = (via: 'browser' | 'stand-in') => {
    notifyStatus.dataset.via = via;
    notifyStatus.textContent =
      via === 'browser' ? 'Notifications on: messages that come while this tab is closed show here.' : 'Notifications on, through the local Web Push stand-in (this browser reaches no push service): see /local/push/notifications.';
    notifyButton.hidden = true;
  };
  const registeredVia = webPushState(me);
  if (registeredVia) pushOn(registeredVia);
  notifyButton.addEventListener('click', async () => {
    notifyButton.disabled = true;
    notifyStatus.textContent = 'Turning notifications on…';
    try {
      const { via } = await enableWebPush({ api: client.api, userId: me, local: !siteConfig });
      pushOn(via);
    } catch (err) {
      notifyStatus.textContent = (err as Error).message;
      notifyButton.disabled = false;
    }
  });
  // A tapped notification: the service worker names the conversation (open tab) or opens `/?conversation=…`.
  const opened = new AbortController();
  const openFromNotification = (conversationId: string | null | undefined) => {
    if (!conversationId) return;
    void openChat(conversationId);
    if (client.state === 'connected') void client.sync().catch(() => undefined);
  };
  navigator.serviceWorker?.addEventListener(
    'message',
    (event: MessageEvent<{ type?: string; conversationId?: string }>) => {
      if (event.data?.type === 'cirrus:openConversation') openFromNotification(event.data.conversationId);
    },
    { signal: opened.signal },
  );

  for (const name of ['newConversation', 'conversationChanged', 'recvNewMessage', 'messageStatusChanged', 'recvMessageReactionChanged', 'newRecvMessageRevoked', 'recvMessageDeleted', 'recvMessageEdited', 'messagesDeletedForMe', 'syncServerFinish', 'totalUnreadMessageCountChanged'] as const) {
    client.on(name, render);
  }
  for (const name of ['message', 'joined', 'removed', 'epochChanged'] as const) e2ee.on(name, render);
  // After a reconnect, read what the encrypted conversations received meanwhile.
  client.on('syncServerFinish', () => {
    for (const conversationId of encrypted) void e2ee.catchUp(conversationId).catch(() => undefined);
  });
  for (const name of ['friendApplicationAdded', 'friendApplicationAccepted', 'friendApplicationRejected', 'friendAdded', 'friendDeleted'] as const) {
    client.on(name, () => void refreshFriends());
  }
  for (const name of ['joinedGroupAdded', 'joinedGroupDeleted', 'groupInfoChanged', 'groupMemberAdded', 'groupMemberDeleted', 'groupMemberInfoChanged', 'groupDismissed'] as const) {
    client.on(name, () => void refreshGroups());
  }
  client.on('connectSuccess', () => void Promise.all([refreshFriends(), refreshGroups()]));
  client.on('readReceiptChanged', ({ conversationId, userId, readSeq }) => {
    if (userId === me || readSeq === undefined) return;
    peerRead.set(conversationId, Math.max(peerRead.get(conversationId) ?? 0, readSeq));
    render();
  });
  client.on('typingStatusChanged', ({ conversationId, typing: isTyping }) => {
    clearTimeout(typing.get(conversationId));
    typing.delete(conversationId);
    // A typing: true expires after 10 s without another (docs/protocol.md).
    if (isTyping) typing.set(conversationId, setTimeout(() => (typing.delete(conversationId), render()), 10_000));
    render();
  });
  client.on('connectionStateChanged', ({ newState }) => {
    stateLabel.textContent = newState;
    stateLabel.dataset.state = newState;
  });
  client.on('kickedOffline', ({ reason }) => void leave(reason === 'loggedInElsewhere' ? 'Signed out: this user signed in on another web page.' : 'Signed out by the server.'));
  client.on('userTokenInvalid', () => void leave('The session is no longer valid: sign in again.'));
  client.on('userTokenExpired', () => void leave('The session expired: sign in again.'));
  document.addEventListener('visibilitychange', render);

  render();
  const linked = new URLSearchParams(location.search).get('conversation');
  if (linked) {
    history.replaceState(null, '', location.pathname);
    void openChat(linked);
  }
  await client.connect();
}

siteConfig = await loadSiteConfig();
const saved = loadSession();
// A session of another deployment (or of the local runtime) is not reused.
if (saved && (!siteConfig || (saved.apiUrl === siteConfig.apiUrl && saved.wsUrl === siteConfig.wsUrl))) openApp(saved).catch((err: Error) => showSignIn(err.message));
else showSignIn();
