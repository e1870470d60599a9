/** Batch send: one text message to many users (`POST /messages/batch`), then its progress (`GET /messages/batch/{id}`). */
import { describeError, seg } from './api';
import { busy, el, field, formatNumber, notice, setNotice } from './dom';
import type { ViewContext } from './main';

interface BatchStatus {
  batchId: string;
  status: 'running' | 'done';
  recipients: number;
  sent: number;
  failed: number;
  pages: number;
  pagesDone: number;
}

export function batchView({ api }: ViewContext): HTMLElement {
  const sender = el('input', { name: 'sendId', autocomplete: 'off', spellcheck: 'false', placeholder: 'alice' });
  const asSystem = el('input', { type: 'checkbox', name: 'asSystem' });
  const recipients = el('textarea', { name: 'recvIds', rows: 4, required: true, spellcheck: 'false', placeholder: 'bob, carol, dave' });
  const text = el('textarea', { name: 'text', rows: 3, required: true, maxlength: 4000 });
  const send = el('button', { type: 'submit' }, 'Send to all');
  const status = notice();
  const progress = el('progress', { max: 1, value: 0, hidden: true, 'aria-label': 'Batch progress' });
  asSystem.addEventListener('change', () => {
    sender.disabled = asSystem.checked;
  });
  const form = el(
    'form',
    { class: 'batch-form' },
    field('Sender user id', sender),
    el('label', { class: 'check' }, asSystem, 'Send as the system (to each user’s notification conversation)'),
    field('Recipients', recipients, 'User ids separated by commas, spaces or lines (deduplicated, at most 10,000)'),
    field('Text', text),
    send,
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  const poll = async (batchId: string) => {
    try {
      const s = await api.get<BatchStatus>(`/messages/batch/${seg(batchId)}`);
      progress.hidden = false;
      progress.max = Math.max(s.recipients, 1);
      progress.value = s.sent + s.failed;
      setNotice(status, `Batch ${s.batchId}: ${s.status}, ${formatNumber(s.sent)} sent, ${formatNumber(s.failed)} failed of ${formatNumber(s.recipients)} (${s.pagesDone}/${s.pages} pages).`);
      if (s.status === 'running' && form.isConnected) timer = setTimeout(() => void poll(batchId), 1000);
    } catch (err) {
      setNotice(status, describeError(err), 'error');
    }
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    clearTimeout(timer);
    const recvIds = [...new Set(recipients.value.split(/[\s,;]+/).filter(Boolean))];
    void busy(send, async () => {
      try {
        const started = await api.post<{ batchId: string; recipients: number; pages: number }>('/messages/batch', {
          ...(asSystem.checked ? { asSystem: true } : { sendId: sender.value.trim() }),
          recvIds,
          contentType: 101,
          content: { text: text.value },
        });
        setNotice(status, `Batch ${started.batchId} started for ${formatNumber(started.recipients)} recipient(s).`);
        await poll(started.batchId);
      } catch (err) {
        setNotice(status, describeError(err), 'error');
      }
    });
  });
  return el(
    'section',
    { class: 'view-batch', 'aria-labelledby': 'batch-title' },
    el('h1', { id: 'batch-title' }, 'Batch send'),
    el('p', { class: 'hint' }, 'Sends one text message to every recipient, in pages, behind a queue.'),
    form,
    progress,
    status,
  );
}
