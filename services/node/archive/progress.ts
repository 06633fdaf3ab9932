/**
 * The progress of an import or export: sync's line (services/node/p2p/sync-progress.ts: percent,
 * rate, time left) with the verb 'importing' / 'exporting', as a log line every 5 s or 1,000 blocks and, when stderr is a
 * terminal, one line rewritten in place. The rate is the average since the import started, so the
 * estimate does not jump with each batch.
 */
import type { Logger } from '../../../shared/log.ts';
import { type SyncStatus, syncLine, syncStatus } from '../p2p/sync-progress.ts';

const LOG_EVERY_MS = 5_000;
const LOG_EVERY_BLOCKS = 1_000;
const TTY_EVERY_MS = 250;

export interface ProgressTerminal {
  readonly isTTY?: boolean;
  write(s: string): unknown;
}

export class ArchiveProgress {
  readonly #verb: string;
  readonly #log: Logger;
  readonly #tty: ProgressTerminal | undefined;
  #target = 0;
  #start: { height: number; at: number } | undefined;
  #logged: { height: number; at: number } | undefined;
  #drawn = 0;
  #open = false;

  constructor(verb: string, log: Logger, terminal: ProgressTerminal | undefined = process.stderr) {
    this.#verb = verb;
    this.#log = log;
    this.#tty = terminal?.isTTY ? terminal : undefined;
  }

  /** From here the rate is measured; `target` is the height of the file's last block. */
  begin(height: number, target: number, now = Date.now()): void {
    this.#target = target;
    this.#start = { height, at: now };
    this.#logged = { height, at: now };
  }

  status(height: number, now = Date.now()): SyncStatus {
    return syncStatus(height, this.#target, this.#start, now);
  }

  report(height: number, now = Date.now()): void {
    const s = this.status(height, now);
    if (this.#tty !== undefined && now - this.#drawn >= TTY_EVERY_MS) {
      this.#drawn = now;
      this.#open = true;
      this.#tty.write(`\r${syncLine(s, this.#verb)}\x1b[K`);
    }
    const last = this.#logged;
    if (last !== undefined && now - last.at < LOG_EVERY_MS && height < last.height + LOG_EVERY_BLOCKS) return;
    this.#logged = { height, at: now };
    this.end(); // the log line goes below the terminal line, not after it
    this.#log.info(
      { height: s.height, target: s.target, percent: s.percent, rate: Math.round(s.rate), eta: s.etaSeconds },
      syncLine(s, this.#verb),
    );
  }

  /** Ends the terminal line. */
  end(): void {
    if (this.#open) this.#tty?.write('\n');
    this.#open = false;
  }
}
