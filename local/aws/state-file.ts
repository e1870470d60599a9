/**
 * State that survives a crash (SIGKILL included), kept as a JSON snapshot plus a journal
 * of the changes made since:
 *
 * - `record(entry)` appends a change to the journal, in memory. `durable()` resolves
 *   when everything recorded so far is on disk; the entries of all the callers waiting
 *   in the same event-loop turn are written and fsynced together, once. A caller that
 *   answers only after it (an SQS SendMessage) never acknowledges what a crash could
 *   lose; entries nobody waits for reach the disk with the next write.
 * - `changed()` schedules a new snapshot (debounced: a busy queue changes many times a
 *   second). A snapshot is written to a temporary file, fsynced and renamed over the
 *   real one (atomic on POSIX file systems), and starts a new journal generation; the
 *   previous journal is then deleted. A crash at any point leaves a snapshot and the
 *   journal of its generation, never half a file.
 * - `load()` returns the snapshot and the journal entries to replay over it. Only the
 *   journal's last line can be cut short by a crash, and such a line was never reported
 *   durable, so it is dropped.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class StateFile<T, E = never> {
  private timer: NodeJS.Timeout | undefined;
  /** Journal generation of the snapshot on disk; its journal is `<path>.<generation>.journal`. */
  private generation = 0;
  private journalFd: number | undefined;
  private pending: string[] = [];
  private waiters: Waiter[] = [];
  private flushScheduled = false;

  constructor(
    readonly path: string,
    private readonly snapshot: () => T,
    private readonly debounceMs = 250,
  ) {}

  private tmpPath(): string {
    return `${this.path}.${process.pid}.tmp`;
  }

    private journalPath(generation: number): string {
    return `${this.path}.${generation}.journal`;
  }

  /**
   * The saved state and the journal entries recorded after it, or undefined when there
   * is no state yet. A corrupt snapshot is an error: losing state silently is worse.
   */
  load(): { state: T | undefined; journal: E[] } {
    let text: string | undefined;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    let state: T | undefined;
    if (text !== undefined) {
      let parsed: T & { journalGeneration?: number };
      try {
        parsed = JSON.parse(text) as typeof parsed;
      } catch (err) {
        throw new Error(`State file ${this.path} is not valid JSON; delete it to start empty`, { cause: err });
      }
      this.generation = parsed.journalGeneration ?? 0;
      delete parsed.journalGeneration;
      state = parsed;
    }
    const journal: E[] = [];
    let lines: string[] = [];
    try {
      lines = readFileSync(this.journalPath(this.generation), 'utf8').split('\n');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    for (const [i, line] of lines.entries()) {
      if (line === '') continue;
      try {
        journal.push(JSON.parse(line) as E);
      } catch (err) {
        // Only the last line can be cut short by a crash; anything else is damage.
        if (i < lines.length - 1 && lines.slice(i + 1).some((l) => l !== '')) {
          throw new Error(`Journal ${this.journalPath(this.generation)} is damaged at line ${i + 1}; delete it and ${this.path} to start empty`, { cause: err });
        }
      }
    }
    return { state, journal };
  }

  /** Appends a change to the journal; it is on disk once `durable()` resolves (or the next snapshot is written). */
  record(entry: E): void {
    this.pending.push(`${JSON.stringify(entry)}\n`);
  }

  /** Resolves once everything recorded (and every snapshot asked for by `saveNow`) is on disk. */
  durable(): Promise<void> {
    if (this.pending.length === 0 && !this.flushScheduled) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.scheduleFlush();
    });
  }

  /** Schedules a snapshot; many changes in a burst cost one write. */
  changed(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.saveNow();
    }, this.debounceMs);
    this.timer.unref();
  }

  /** Writes a snapshot now, which also makes everything recorded so far durable. */
  saveNow(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const waiters = this.waiters;
    this.waiters = [];
    this.pending = [];
    try {
      mkdirSync(dirname(this.path), { recursive: true });
      const next = this.generation + 1;
      const tmp = this.tmpPath();
      writeDurably(tmp, JSON.stringify({ ...this.snapshot(), journalGeneration: next }));
      renameSync(tmp, this.path);
      syncDirectory(dirname(this.path));
      this.generation = next;
      if (this.journalFd !== undefined) closeSync(this.journalFd);
      this.journalFd = undefined;
      this.removeOldJournals();
    } catch (err) {
      for (const w of waiters) w.reject(err);
      throw err;
    }
    for (const w of waiters) w.resolve();
  }

  /** Closes the journal (after a final `saveNow`, nothing is left in it). */
  close(): void {
    if (this.journalFd !== undefined) closeSync(this.journalFd);
    this.journalFd = undefined;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // setImmediate runs after the I/O callbacks of this loop turn: every request that
    // arrived together shares one write and one fsync.
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const lines = this.pending;
    const waiters = this.waiters;
    this.pending = [];
    this.waiters = [];
    try {
      if (lines.length > 0) {
        if (this.journalFd === undefined) {
          mkdirSync(dirname(this.path), { recursive: true });
          this.journalFd = openSync(this.journalPath(this.generation), 'a');
        }
        const buffer = Buffer.from(lines.join(''), 'utf8');
        let written = 0;
        while (written < buffer.length) written += writeSync(this.journalFd, buffer, written);
        fsyncSync(this.journalFd);
      }
    } catch (err) {
      for (const w of waiters) w.reject(err);
      return;
    }
    for (const w of waiters) w.resolve();
  }

  /** Journals of earlier generations (their changes are in the snapshot), and snapshots a crash left half-written. */
  private removeOldJournals(): void {
    const prefix = `${basename(this.path)}.`;
    for (const name of readdirSync(dirname(this.path))) {
      if (!name.startsWith(prefix)) continue;
      if (name.endsWith('.tmp') && name !== basename(this.tmpPath())) rmSync(join(dirname(this.path), name), { force: true });
      if (!name.endsWith('.journal')) continue;
      const generation = Number(name.slice(prefix.length, -'.journal'.length));
      if (Number.isInteger(generation) && generation < this.generation) rmSync(join(dirname(this.path), name), { force: true });
    }
  }
}

function writeDurably(path: string, text: string): void {
  const fd = openSync(path, 'w');
  try {
    const buffer = Buffer.from(text, 'utf8');
    let written = 0;
    while (written < buffer.length) written += writeSync(fd, buffer, written);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Makes a rename in the directory durable; not possible on every platform (Windows), where it is skipped. */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // best effort
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
