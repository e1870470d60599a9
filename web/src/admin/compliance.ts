/**
 * A user's compliance actions in their profile: export their data (POST
 * /admin/users/{userId}/exports, then GET its status every second until the archive is ready,
 * and a link to download it) and erase them (POST /admin/users/{userId}/erase with the id typed
 * again, after a confirmation, called again while it answers `done: false`).
 */
import { describeError, seg } from './api';
import type { ApiOutput } from '../../../sdk/src/http/types';
import type { ViewContext } from './main';
import { busy, confirmDialog, el, field, formatNumber, setNotice } from './dom';

/** An export's state (the routes' response schema). */
type ExportStatus = ApiOutput<'getUserExport'>;

/** What one erasure call answers (the route's response schema). */
type ErasureResult = ApiOutput<'eraseUser'>;

/** How long the console follows an export before leaving it to a later look (a very large user's takes minutes). */
const EXPORT_FOLLOW_MS = 15 * 60_000;
/** Erasure calls in a row, at most, before the console stops and says so (each erases at least one message). */
const ERASE_MAX_CALLS = 1000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `status`: the profile's own status line, where the results are said. */
export function complianceBlock(api: ViewContext['api'], userId: string, erased: boolean, status: HTMLElement, rerender: (message: string) => Promise<void>): HTMLElement {
  const result = el('div', { class: 'export-result' });

  const exportButton = el('button', { type: 'button', class: 'secondary', 'data-action': 'export' }, 'Export data');
  exportButton.addEventListener('click', () =>
    void busy(exportButton, async () => {
      result.replaceChildren();
      try {
        let current = await api.post<ExportStatus>(`/admin/users/${seg(userId)}/exports`, {});
        setNotice(status, `Building the export of ${userId}…`);
        const until = Date.now() + EXPORT_FOLLOW_MS;
        while (current.status === 'running' && Date.now() < until) {
          await sleep(1000);
          current = await api.get<ExportStatus>(`/admin/users/${seg(userId)}/exports/${seg(current.exportId)}`);
        }
        if (current.status === 'done' && current.downloadUrl) {
          const c = current.counts!;
          setNotice(
            status,
            `Export ready (${formatNumber(current.bytes ?? 0)} bytes): ${formatNumber(c.messages)} message(s), ${formatNumber(c.friends)} friend(s), ${formatNumber(c.groups)} group(s), ${formatNumber(c.media)} media object(s).`,
          );
          result.replaceChildren(
            el('a', { href: current.downloadUrl, download: `${userId}-export.jsonl.gz`, class: 'download', 'data-export-id': current.exportId }, `Download ${userId}-export.jsonl.gz`),
            el('small', { class: 'hint' }, ' The link works for 5 minutes; export again for a new one.'),
          );
        } else if (current.status === 'failed') {
          setNotice(status, `The export failed: ${current.error ?? 'unknown error'}`, 'error');
        } else {
          setNotice(status, `The export ${current.exportId} is still being built; look again later (GET /admin/users/${userId}/exports/${current.exportId}).`);
        }
      } catch (err) {
        setNotice(status, describeError(err), 'error');
      }
    }),
  );

  const confirmInput = el('input', { name: 'confirmUserId', autocomplete: 'off', spellcheck: 'false', placeholder: userId });
  const eraseButton = el('button', { type: 'submit', class: 'danger' }, erased ? 'Erase again' : 'Erase');
  const eraseForm = el(
    'form',
    { class: 'erase-form' },
    el('h3', {}, 'Erase (right to be forgotten)'),
    field('Type the user id to confirm', confirmInput, 'Deletes their profile, sessions, devices, relations, memberships, messages and media for good'),
    eraseButton,
  );
  eraseForm.addEventListener('submit', (event) => {
    event.preventDefault();
    if (confirmInput.value.trim() !== userId) {
      setNotice(status, `Type ${userId} to confirm the erasure.`, 'error');
      return;
    }
    void busy(eraseButton, async () => {
      if (!(await confirmDialog(`Erase ${userId}?`, 'Their profile, sessions, devices, relations and group memberships go, and every message they sent is deleted for everyone. This cannot be undone.', 'Erase'))) return;
      try {
        const total = { messages: 0, calls: 0 };
        let last: ErasureResult | undefined;
        // done: false means more messages remain: each call continues where the last stopped.
        while (total.calls < ERASE_MAX_CALLS) {
          last = await api.post<ErasureResult>(`/admin/users/${seg(userId)}/erase`, { confirmUserId: userId });
          total.calls++;
          total.messages += last.messages;
          if (last.done) break;
          setNotice(status, `Erasing ${userId}: ${formatNumber(total.messages)} message(s) so far…`);
        }
        if (!last?.done) {
          setNotice(status, `${userId} is not fully erased after ${total.calls} calls; press Erase again to continue.`, 'error');
          return;
        }
        await rerender(
          `${userId} is erased: ${formatNumber(total.messages)} message(s) deleted in ${total.calls} call(s), ${last.revoked} session(s) revoked, ${last.devices} device(s), ${last.friends} friend(s), ${last.groups} group(s) left; their media objects are being deleted.`,
        );
      } catch (err) {
        setNotice(status, describeError(err), 'error');
      }
    });
  });

  return el('div', { class: 'compliance-block' }, el('div', { class: 'row-actions' }, exportButton), result, eraseForm);
}
