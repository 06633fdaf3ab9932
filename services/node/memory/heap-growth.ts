/**
 * How far V8 lets the old generation grow past what survived the last full collection, while the
 * node is syncing.
 *
 * V8 picks the factor itself (up to 4×, more when collections are fast against allocation). A
 * syncing node allocates fast and keeps little (about 20 MB live), yet its old generation grew to
 * 70 MB committed before V8 collected it: 40% of the node's peak anonymous memory. At 1.2× the peak
 * anonymous memory fell from 92–133 MB to 83–85 MB with CPU per transaction level (three pairs of
 * bench/sync-profile.ts 700 100; docs/performance.md). A node taking a mempool burst keeps a lot
 * live, and there the tight factor cost 3–6% more CPU per accepted transaction (bench/rpc.ts), so
 * off sync V8 chooses again (MemoryRelease gives the memory back after a burst). The flag is
 * process-wide (the verify workers' heaps too) and read at every collection.
 */
import { setFlagsFromString } from 'node:v8';

export interface HeapGrowthOptions {
  /** Growth allowed while syncing, percent. Default 20. */
  readonly percent?: number;
  /** How often the sync state is looked at. Default 1,000 ms. */
  readonly checkMs?: number;
}

export interface HeapGrowthModules {
  /** True while a sync pass runs. */
  readonly syncing: () => boolean;
  /** node's command line (default process.execArgv): an operator's --heap-growing-percent wins. */
  readonly execArgv?: readonly string[];
  /** Sets a V8 flag (default v8.setFlagsFromString). */
  readonly setFlag?: (flag: string) => void;
}

export class HeapGrowth {
  readonly #percent: number;
  readonly #checkMs: number;
  readonly #m: HeapGrowthModules;
  readonly #setFlag: (flag: string) => void;
  /** The operator set the flag on node's command line: this leaves it alone. */
  readonly inert: boolean;
  #limited = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(opts: HeapGrowthOptions, modules: HeapGrowthModules) {
    this.#percent = opts.percent ?? 20;
    this.#checkMs = opts.checkMs ?? 1000;
    this.#m = modules;
    this.#setFlag = modules.setFlag ?? setFlagsFromString;
    this.inert = (modules.execArgv ?? process.execArgv).some((a) => /^--heap[-_]growing[-_]percent/.test(a));
  }

  /** True while the tight factor is in force. */
  get limited(): boolean {
    return this.#limited;
  }

  start(): void {
    this.check();
    this.#timer = setInterval(() => this.check(), this.#checkMs);
    this.#timer.unref();
  }

  /** Stops looking and gives the choice back to V8. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#limited) this.#set(false);
  }

  check(): void {
    if (this.inert) return;
    const want = this.#m.syncing();
    if (want !== this.#limited) this.#set(want);
  }

  #set(limited: boolean): void {
    // 0 is V8's own: its dynamic factor
    this.#setFlag(`--heap-growing-percent=${limited ? this.#percent : 0}`);
    this.#limited = limited;
  }
}
