/** Archive: copy messages into the Aurora history, idempotently. */
import { history } from '../history/history';
import { log, withLogContext } from '../log';
import type { ReplacedContent } from '../protocol/jobs';
import type { Message } from '../protocol/schema';

export interface ArchiveItem {
  id: string;
  message: Message;
  /** An edit's job: the content it replaced (kept in `message_edits`). */
  replaced?: ReplacedContent;
  correlationId?: string;
}

const editsOf = (items: readonly ArchiveItem[]) =>
  items.flatMap((i) => (i.replaced ? [{ conversationId: i.message.conversationId, seq: i.message.seq, ...i.replaced }] : []));

/** Archives a batch; returns the ids to retry. */
export async function archive(items: readonly ArchiveItem[]): Promise<Set<string>> {
  try {
    await history.recordEdits(editsOf(items));
    await history.insertMessages(items.map((i) => i.message));
    for (const { message, correlationId } of items) {
      withLogContext({ correlationId }, () => log.info('message archived', { conversationId: message.conversationId, seq: message.seq }));
    }
    return new Set();
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name === 'DatabaseResumingException') {
      // Aurora is waking from auto-pause: the whole batch waits for the next visibility timeout.
      log.info('history database resuming; batch will be retried', { size: items.length });
      return new Set(items.map((i) => i.id));
    }
    // Find the rows at fault so one bad message cannot hold back the rest.
    log.warn('batch insert failed; retrying rows one by one', { err });
    const failed = new Set<string>();
    for (const item of items) {
      try {
        await history.recordEdits(editsOf([item]));
        await history.insertMessages([item.message]);
      } catch (rowErr) {
        log.error('archive failed', { conversationId: item.message.conversationId, seq: item.message.seq, err: rowErr });
        failed.add(item.id);
      }
    }
    return failed;
  }
}
