/**
 * Archive: copy messages into the Aurora history, and users and groups into its
 * directory mirrors (statistics, admin user search), idempotently.
 */
import { directory } from '../history/directory';
import { history } from '../history/history';
import { log, withLogContext } from '../log';
import type { DirectoryGroup, DirectoryUser, ReplacedContent } from '../protocol/jobs';
import type { Message } from '../protocol/schema';

export interface MessageArchiveItem {
  id: string;
  message: Message;
  /** An edit's job: the content it replaced (kept in `message_edits`). */
  replaced?: ReplacedContent;
  correlationId?: string;
}

export type ArchiveItem =
  | MessageArchiveItem
  | { id: string; user: DirectoryUser; correlationId?: string }
  | { id: string; group: DirectoryGroup; correlationId?: string };

const isMessage = (i: ArchiveItem): i is MessageArchiveItem => 'message' in i;

const editsOf = (items: readonly MessageArchiveItem[]) =>
  items.flatMap((i) => (i.replaced ? [{ conversationId: i.message.conversationId, seq: i.message.seq, ...i.replaced }] : []));

async function write(items: readonly ArchiveItem[]): Promise<void> {
  const messages = items.filter(isMessage);
  await history.recordEdits(editsOf(messages));
  await history.insertMessages(messages.map((i) => i.message));
  await directory.upsertUsers(items.flatMap((i) => ('user' in i ? [i.user] : [])));
  await directory.upsertGroups(items.flatMap((i) => ('group' in i ? [i.group] : [])));
}

function describe(item: ArchiveItem): Record<string, unknown> {
  if (isMessage(item)) return { conversationId: item.message.conversationId, seq: item.message.seq };
  return 'user' in item ? { userId: item.user.userId } : { groupId: item.group.groupId };
}

/** Archives a batch; returns the ids to retry. */
export async function archive(items: readonly ArchiveItem[]): Promise<Set<string>> {
  try {
    await write(items);
    for (const item of items) {
      withLogContext({ correlationId: item.correlationId }, () => log.debug(isMessage(item) ? 'message archived' : 'directory row archived', describe(item)));
    }
    return new Set();
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name === 'DatabaseResumingException') {
      // Aurora is waking from auto-pause: the whole batch waits for the next visibility timeout.
      log.info('history database resuming; batch will be retried', { size: items.length });
      return new Set(items.map((i) => i.id));
    }
    // Find the rows at fault so one bad job cannot hold back the rest.
    log.warn('batch insert failed; retrying rows one by one', { err });
    const failed = new Set<string>();
    for (const item of items) {
      try {
        await write([item]);
      } catch (rowErr) {
        log.error('archive failed', { ...describe(item), err: rowErr });
        failed.add(item.id);
      }
    }
    return failed;
  }
}
