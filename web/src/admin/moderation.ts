/**
 * Moderation: search messages in any conversation (`GET /admin/messages/search`), read a
 * conversation's history (`GET /conversations/{id}/messages`), and act on a message: revoke,
 * delete for everyone, or purge (a physical delete, after a confirmation).
 */
import { describeError, seg, type Message } from './api';
import { contentTypeLabel, contentTypeName } from './dashboard';
import { busy, confirmDialog, el, field, formatTime, notice, setNotice } from './dom';
import type { ViewContext } from './main';

type Api = ViewContext['api'];

/** A line of text for a message's content. */
function preview(message: Message): string {
  if (message.revoked) return 'Revoked';
  if (message.deleted) return 'Deleted for everyone';
  const content = message.content as Record<string, unknown> | null;
  if (content && typeof content.text === 'string') return content.text;
  if (content && typeof content.name === 'string') return `[${contentTypeName(message.contentType)}] ${content.name}`;
  const json = JSON.stringify(content) ?? '';
  return `[${contentTypeName(message.contentType)}] ${json.length > 120 ? `${json.slice(0, 120)}…` : json}`;
}

function messageItem(api: Api, message: Message, status: HTMLElement, onOpen?: (conversationId: string) => void): HTMLLIElement {
  const item = el('li', { class: 'msg' });
  const render = (m: Message) => {
    const state = m.revoked ? 'revoked' : m.deleted ? 'deleted' : 'normal';
    item.dataset.conversationId = m.conversationId;
    item.dataset.seq = String(m.seq);
    item.dataset.state = state;
    const conversation = onOpen
      ? el('button', { type: 'button', class: 'link', 'aria-label': `Read conversation ${m.conversationId}` }, m.conversationId)
      : el('span', {}, m.conversationId);
    if (onOpen) conversation.addEventListener('click', () => onOpen(m.conversationId));
    const actions = el('div', { class: 'row-actions' });
    const act = (label: string, danger: boolean, run: () => Promise<void>) => {
      const b = el('button', { type: 'button', class: danger ? 'small danger' : 'small secondary', 'aria-label': `${label} message ${m.seq} of ${m.conversationId}` }, label);
      b.addEventListener('click', () =>
        void busy(b, async () => {
          try {
            await run();
          } catch (err) {
            setNotice(status, describeError(err), 'error');
          }
        }),
      );
      actions.append(b);
    };
    const path = `/conversations/${seg(m.conversationId)}/messages/${m.seq}`;
    if (state === 'normal') {
      act('Revoke', false, async () => {
        render(await api.post<Message>(`${path}/revoke`));
        setNotice(status, `Message ${m.seq} of ${m.conversationId} revoked.`);
      });
      act('Delete', false, async () => {
        render(await api.del<Message>(path));
        setNotice(status, `Message ${m.seq} of ${m.conversationId} deleted for everyone.`);
      });
    }
    act('Purge', true, async () => {
      const sure = await confirmDialog(
        'Purge this message?',
        `Message ${m.seq} of ${m.conversationId} (from ${m.senderId}) is deleted from the history for good. This cannot be undone.`,
        'Purge',
      );
      if (!sure) return;
      const result = await api.post<{ purged: number }>(`/admin/conversations/${seg(m.conversationId)}/messages/purge`, { seqs: [m.seq] });
      item.remove();
      setNotice(status, `${result.purged} message(s) purged from ${m.conversationId}.`);
    });
    item.replaceChildren(
      el(
        'div',
        { class: 'msg-meta' },
        el('time', { datetime: new Date(m.sendTime).toISOString() }, formatTime(m.sendTime)),
        conversation,
        el('span', {}, `#${m.seq}`),
        el('a', { href: `#/users/${encodeURIComponent(m.senderId)}` }, m.senderId),
        el('span', { class: 'tag' }, contentTypeName(m.contentType)),
        m.edited ? el('span', { class: 'tag' }, 'edited') : null,
      ),
      el('p', { class: state === 'normal' ? 'msg-text' : 'msg-text removed' }, preview(m)),
      actions,
    );
  };
  render(message);
  return item;
}

export function moderationView({ api, args, onArgs }: ViewContext): HTMLElement {
  // Search.
  const q = el('input', { type: 'search', name: 'q', autocomplete: 'off' });
  const conversationId = el('input', { name: 'conversationId', autocomplete: 'off', spellcheck: 'false', placeholder: 'si_alice_bob' });
  const senderId = el('input', { name: 'senderId', autocomplete: 'off', spellcheck: 'false', value: args[0] === 'sender' ? (args[1] ?? '') : '' });
  const contentType = el(
    'select',
    { name: 'contentType' },
    el('option', { value: '' }, 'Any'),
    ...['101', '102', '103', '104', '105', '106', '107', '108', '109', '110', '114', '118'].map((t) => el('option', { value: t }, contentTypeLabel(t))),
  );
  const from = el('input', { type: 'date', name: 'from' });
  const to = el('input', { type: 'date', name: 'to' });
  const searchButton = el('button', { type: 'submit' }, 'Search messages');
  const searchStatus = notice();
  const results = el('ul', { class: 'messages-list search-results', 'aria-label': 'Search results' });
  const moreResults = el('button', { type: 'button', class: 'secondary', hidden: true }, 'More results');
  const form = el(
    'form',
    { class: 'filters', role: 'search' },
    field('Text', q),
    field('Conversation id', conversationId),
    field('Sender id', senderId),
    field('Content type', contentType),
    field('From (UTC)', from),
    field('To (UTC)', to),
    el('div', { class: 'filters-submit' }, searchButton),
  );
  let cursor: string | null = null;
  const dayStart = (d: string) => (d ? Date.parse(`${d}T00:00:00Z`) : undefined);
  const dayEnd = (d: string) => (d ? Date.parse(`${d}T00:00:00Z`) + 86_400_000 - 1 : undefined);
  const search = async (append: boolean) => {
    try {
      const page = await api.get<{ messages: Message[]; nextCursor: string | null }>('/admin/messages/search', {
        q: q.value.trim(),
        conversationId: conversationId.value.trim(),
        senderId: senderId.value.trim(),
        contentType: contentType.value,
        from: dayStart(from.value),
        to: dayEnd(to.value),
        limit: 50,
        cursor: cursor ?? undefined,
      });
      if (!append) results.replaceChildren();
      for (const m of page.messages) results.append(messageItem(api, m, searchStatus, openConversation));
      cursor = page.nextCursor;
      moreResults.hidden = !cursor;
      setNotice(searchStatus, results.children.length === 0 ? 'No message matches.' : `${results.children.length} message(s) shown${cursor ? ', more available' : ''}.`);
    } catch (err) {
      setNotice(searchStatus, describeError(err), 'error');
    }
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    cursor = null;
    void busy(searchButton, () => search(false));
  });
  moreResults.addEventListener('click', () => void busy(moreResults, () => search(true)));

  // A conversation's history.
  const historyId = el('input', { name: 'historyConversationId', required: true, autocomplete: 'off', spellcheck: 'false', placeholder: 'sg_team', value: args[0] === 'conversation' ? (args[1] ?? '') : '' });
  const openButton = el('button', { type: 'submit' }, 'Open');
  const historyStatus = notice();
  const history = el('ul', { class: 'messages-list history', 'aria-label': 'Conversation history, newest first' });
  const older = el('button', { type: 'button', class: 'secondary', hidden: true }, 'Older messages');
  const historyForm = el('form', { class: 'toolbar' }, field('Conversation to read', historyId), openButton);
  let beforeSeq: number | null = null;
  let shown = '';
  const loadHistory = async (append: boolean) => {
    try {
      const page = await api.get<{ messages: Message[]; nextBeforeSeq: number | null }>(`/conversations/${seg(shown)}/messages`, { limit: 50, beforeSeq: beforeSeq ?? undefined });
      if (!append) history.replaceChildren();
      for (const m of page.messages) history.append(messageItem(api, m, historyStatus));
      beforeSeq = page.nextBeforeSeq;
      older.hidden = beforeSeq === null;
      setNotice(historyStatus, history.children.length === 0 ? `${shown} has no messages.` : `${shown}: ${history.children.length} message(s), newest first.`);
    } catch (err) {
      history.replaceChildren();
      older.hidden = true;
      setNotice(historyStatus, describeError(err), 'error');
    }
  };
  function openConversation(id: string): void {
    historyId.value = id;
    shown = id;
    beforeSeq = null;
    void busy(openButton, () => loadHistory(false)).then(() => historyId.scrollIntoView({ block: 'start' }));
  }
  historyForm.addEventListener('submit', (event) => {
    event.preventDefault();
    openConversation(historyId.value.trim());
  });
  older.addEventListener('click', () => void busy(older, () => loadHistory(true)));

  const follow = (next: string[]) => {
    if (next[0] === 'sender' && next[1]) {
      senderId.value = next[1];
      cursor = null;
      void busy(searchButton, () => search(false));
    }
    if (next[0] === 'conversation' && next[1]) openConversation(next[1]);
  };
  onArgs(follow);
  follow(args);

  return el(
    'section',
    { class: 'view-moderation', 'aria-labelledby': 'moderation-title' },
    el('h1', { id: 'moderation-title' }, 'Moderation'),
    el('section', { 'aria-labelledby': 'search-title' }, el('h2', { id: 'search-title' }, 'Search messages'), form, searchStatus, results, moreResults),
    el('section', { 'aria-labelledby': 'history-title' }, el('h2', { id: 'history-title' }, 'Conversation history'), historyForm, historyStatus, history, older),
  );
}
