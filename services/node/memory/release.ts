/**
 * Gives memory back after a burst of transactions.
 *
 * Under load V8 grows its heap: pool entries, blocks and request garbage are promoted to the old
 * generation and die there seconds later. Once the node is idle again it allocates too little to
 * start another full collection, and V8's memory reducer rarely ran within 60 s in
 * bench/memory-load.ts: the heap, and RSS, stayed near the peak. So when a burst is over —
 * the reservoir held at least `minPeak` transactions since the last release, now holds at most a
 * tenth of that, and at most a tenth of that arrived since the previous look (a pool that blocks
 * empty while transactions keep coming is not over) — this runs a full collection, at most once
 * per `minIntervalMs`, and a second one at the next look if it is still quiet: only then does V8
 * measure a low allocation rate, shrink the young generation and compact more of the old one
 * (measured: after the first, 32 MB of new space and 50 MB of old space stayed committed for 16 MB
 * live; after the second, 1 MB and 19 MB). Each costs a pause of a few tens of ms (logged);
 * figures in docs/performance.md.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Logger } from '../../../shared/log.ts';

export interface MemoryReleaseOptions {
  /** Pool size (transactions) a burst must reach. Default 1,000. */
  readonly minPeak?: number;
  /** How often the pool is looked at. Default 5,000 ms. */
  readonly checkMs?: number;
  /** Least time between two collections. Default 60,000 ms. */
  readonly minIntervalMs?: number;
}

/** What this needs of the reservoir: its size and its 'tx:added' event. */
export interface PoolSize {
  readonly size: number;
  on(event: 'tx:added', fn: () => void): unknown;
  off(event: 'tx:added', fn: () => void): unknown;
}

export interface MemoryReleaseModules {
  readonly reservoir: PoolSize;
  readonly logger: Logger;
  /** A full garbage collection (`loadGc()`). */
  readonly gc: () => void;
  /** Milliseconds, monotonic. */
  readonly clock?: () => number;
}

/**
 * V8's full collection as a function, without starting node with --expose-gc: the flag is set for
 * a moment and the `gc` of a fresh context taken (as jest's leak detector does). Undefined if this
 * V8 refuses.
 */
export function loadGc(): (() => void) | undefined {
  const global = (globalThis as { gc?: () => void }).gc;
  if (typeof global === 'function') return global;
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}

const MB = 1024 * 1024;

export class MemoryRelease {
  readonly #minPeak: number;
  readonly #checkMs: number;
  readonly #minIntervalMs: number;
  readonly #m: MemoryReleaseModules;
  readonly #clock: () => number;
  #peak = 0;
  /** Transactions added since the previous check. */
  #added = 0;
  #last = Number.NEGATIVE_INFINITY;
  /** The peak of the burst just collected, while its second collection is due. */
  #followUp: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #onAdded = () => {
    this.#added++;
    const size = this.#m.reservoir.size;
    if (size > this.#peak) this.#peak = size;
  };

  constructor(opts: MemoryReleaseOptions, modules: MemoryReleaseModules) {
    this.#minPeak = opts.minPeak ?? 1000;
    this.#checkMs = opts.checkMs ?? 5000;
    this.#minIntervalMs = opts.minIntervalMs ?? 60_000;
    this.#m = modules;
    this.#clock = modules.clock ?? (() => performance.now());
  }

  /** Largest pool size since the last collection. */
  get peak(): number {
    return this.#peak;
  }

  start(): void {
    this.#m.reservoir.on('tx:added', this.#onAdded);
    this.#timer = setInterval(() => this.check(), this.#checkMs);
    this.#timer.unref();
  }

  stop(): void {
    this.#m.reservoir.off('tx:added', this.#onAdded);
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One look at the pool (the timer's); true when it collected. */
  check(): boolean {
    const size = this.#m.reservoir.size;
    if (size > this.#peak) this.#peak = size;
    const added = this.#added;
    this.#added = 0;
    const now = this.#clock();
    const followUp = this.#followUp;
    this.#followUp = undefined;
    if (followUp !== undefined && added <= followUp / 10) {
      this.#collect(`second full garbage collection after the reservoir drained (peak ${followUp})`, size);
      return true;
    }
    const drained = size <= this.#peak / 10 && added <= this.#peak / 10;
    if (this.#peak < this.#minPeak || !drained || now - this.#last < this.#minIntervalMs) {
      return false;
    }
    this.#collect(`reservoir drained (peak ${this.#peak} transactions): full garbage collection`, size);
    this.#followUp = this.#peak;
    this.#peak = size;
    this.#last = now;
    return true;
  }

  #collect(what: string, size: number): void {
    const before = process.memoryUsage();
    const started = performance.now();
    this.#m.gc();
    const ms = performance.now() - started;
    const after = process.memoryUsage();
    const mb = (x: number) => Math.round(x / MB);
    this.#m.logger.info(
      {
        size,
        ms: Math.round(ms),
        heapUsedMB: [mb(before.heapUsed), mb(after.heapUsed)],
        heapTotalMB: [mb(before.heapTotal), mb(after.heapTotal)],
        rssMB: mb(before.rss),
      },
      `${what} in ${ms.toFixed(0)} ms`,
    );
  }
}
