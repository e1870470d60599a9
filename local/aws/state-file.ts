/**
 * A JSON state file that survives crashes: writes go to a temporary file that is then
 * renamed over the real one (rename is atomic on POSIX file systems), so a process
 * killed mid-write leaves the previous state, never half a file. Saves are debounced
 * because a busy queue changes many times per second.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export class StateFile<T> {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly path: string,
    private readonly snapshot: () => T,
    private readonly debounceMs = 250,
  ) {}

  /** The saved state, or undefined when there is none yet. A corrupt file is an error: losing state silently is worse. */
  load(): T | undefined {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new Error(`State file ${this.path} is not valid JSON; delete it to start empty`, { cause: err });
    }
  }

  /** Schedules a save; many changes in a burst cost one write. */
  changed(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.saveNow();
    }, this.debounceMs);
    this.timer.unref();
  }

  saveNow(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.snapshot()));
    renameSync(tmp, this.path);
  }
}
