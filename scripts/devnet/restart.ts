/**
 * When a devnet process ends on its own — killed, crashed, or stopped cleanly by someone else —
 * the devnet restarts it, as a regtest user expects, and keeps the rest running. This is the
 * policy, pure so it can be tested with plain numbers:
 *
 * - the first restart waits `initialMs` (1 s), each further failure in a row doubles it, up to
 *   `maxMs` (30 s);
 * - a process that ran at least `stableMs` (30 s) before it ended starts a new row (back to 1 s);
 * - after `maxQuickFailures` (5) ends in a row each within `stableMs` of its start, it is not
 *   restarted any more (the rest of the devnet keeps running);
 * - an exit code that says something must be fixed first (cairnd: 2 configuration, 3 storage —
 *   e.g. disk full —, 4 identity, 5 data directory in use) is not retried at once: the wait is at
 *   least `fixFirstMs` (5 s), and the report says what the code means.
 */

export interface RestartOptions {
  readonly initialMs?: number;
  readonly maxMs?: number;
  readonly stableMs?: number;
  readonly maxQuickFailures?: number;
  readonly fixFirstMs?: number;
}

export const RESTART_DEFAULTS: Required<RestartOptions> = {
  initialMs: 1_000,
  maxMs: 30_000,
  stableMs: 30_000,
  maxQuickFailures: 5,
  fixFirstMs: 5_000,
};

/** How a process ended: its exit code, or the name of the signal that killed it. */
export type Ending = number | string;

/** What the exit codes of cairnd, cairn-recorder and cairn-discovery mean (shared/cli/exit.ts). */
const MEANING: Readonly<Record<number, { what: string; fix: boolean }>> = {
  0: { what: 'stopped cleanly, but not by the devnet', fix: false },
  1: { what: 'failure', fix: false },
  2: { what: 'configuration error', fix: true },
  3: { what: 'storage failure, e.g. disk full', fix: true },
  4: { what: 'identity error', fix: true },
  5: { what: 'its data directory is in use by another process', fix: true },
  64: { what: 'usage error', fix: true },
};

/** `exit code 3 (storage failure, e.g. disk full)`, `killed by SIGKILL`, … */
export function describeEnding(how: Ending): string {
  if (typeof how === 'number') {
    const m = MEANING[how];
    return m === undefined ? `exit code ${how}` : `exit code ${how} (${m.what})`;
  }
  if (how === 'spawn-failed') return 'could not be started';
  if (how.startsWith('SIG')) return `killed by ${how}`;
  return `ended: ${how}`;
}

/** True for an exit code that restarting alone will not cure (configuration, storage, identity…). */
export function needsFix(how: Ending): boolean {
  return typeof how === 'number' && MEANING[how]?.fix === true;
}

export type RestartDecision =
  | { readonly restart: true; readonly delayMs: number; readonly failuresInRow: number; readonly why: string }
  | { readonly restart: false; readonly failuresInRow: number; readonly why: string };

/** One process's restart state. */
export class RestartPolicy {
  readonly #o: Required<RestartOptions>;
  #inRow = 0;
  #quickInRow = 0;

  constructor(o: RestartOptions = {}) {
    this.#o = { ...RESTART_DEFAULTS, ...o };
  }

  /** Call when the process ended on its own after running `uptimeMs`. */
  onExit(how: Ending, uptimeMs: number): RestartDecision {
    const o = this.#o;
    const quick = uptimeMs < o.stableMs;
    if (quick) {
      this.#inRow++;
      this.#quickInRow++;
    } else {
      this.#inRow = 1;
      this.#quickInRow = 0;
    }
    if (this.#quickInRow >= o.maxQuickFailures)
      return {
        restart: false,
        failuresInRow: this.#quickInRow,
        why: `${this.#quickInRow} failures in a row, each within ${seconds(o.stableMs)} of its start`,
      };
    let delayMs = Math.min(o.maxMs, o.initialMs * 2 ** (this.#inRow - 1));
    let why = this.#inRow === 1 ? 'first failure' : `failure ${this.#inRow} in a row`;
    if (needsFix(how)) {
      delayMs = Math.max(delayMs, Math.min(o.fixFirstMs, o.maxMs));
      why += '; this exit code needs a fix that a restart alone does not bring, so not at once';
    }
    return { restart: true, delayMs, failuresInRow: this.#inRow, why };
  }
}

export function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
