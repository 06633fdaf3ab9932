/**
 * What the explorer charts over time that the chain does not keep: the mempool (count, bytes, and
 * bytes in each fee-rate band) and the recorders' hash rates (the proof channel's accounting),
 * sampled every `intervalMs` into fixed-size rings. Memory is bounded by `keep`; one sample reads
 * the mempool's entries once (at most every `intervalMs`).
 */
import type { Reservoir } from '../reservoir/reservoir.ts';

/** Fee-rate bands (base units per byte), lower bounds: band i holds rates in [B[i], B[i+1]). */
export const FEE_BANDS = [0, 1, 2, 5, 10, 20, 50, 100] as const;

export interface MempoolSample {
  time: number;
  count: number;
  bytes: number;
  /** Bytes of transactions in each FEE_BANDS band. */
  bands: number[];
}

export interface RecorderSample {
  time: number;
  /** Hashes per second, by recorder key. */
  rates: Record<string, number>;
}

export interface SamplesOptions {
  readonly intervalMs: number;
  readonly keep: number;
}

export interface SamplesModules {
  readonly reservoir: Reservoir;
  /** Each connected recorder's hash rate; undefined without a proof channel. */
  readonly recorders: (() => { key: string; hashrate: number }[]) | undefined;
  readonly clock: () => number;
}

class Ring<T> {
  readonly #items: T[] = [];
  constructor(readonly size: number) {}
  push(x: T): void {
    this.#items.push(x);
    if (this.#items.length > this.size) this.#items.shift();
  }
  last(n: number): T[] {
    return this.#items.slice(Math.max(0, this.#items.length - n));
  }
}

export class Samples {
  readonly #o: SamplesOptions;
  readonly #m: SamplesModules;
  readonly #mempool: Ring<MempoolSample>;
  readonly #recorders: Ring<RecorderSample>;
  #timer: NodeJS.Timeout | undefined;

  constructor(opts: SamplesOptions, modules: SamplesModules) {
    this.#o = opts;
    this.#m = modules;
    this.#mempool = new Ring(opts.keep);
    this.#recorders = new Ring(opts.keep);
  }

  start(): void {
    this.sample();
    this.#timer = setInterval(() => this.sample(), this.#o.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  sample(): void {
    const time = this.#m.clock();
    const bands = FEE_BANDS.map(() => 0);
    let count = 0;
    let bytes = 0;
    for (const e of this.#m.reservoir.entries()) {
      count++;
      bytes += e.size;
      let b = FEE_BANDS.length - 1;
      while (b > 0 && e.feeRate < FEE_BANDS[b]!) b--;
      bands[b]! += e.size;
    }
    this.#mempool.push({ time, count, bytes, bands });
    if (this.#m.recorders !== undefined) {
      const rates: Record<string, number> = {};
      for (const r of this.#m.recorders()) rates[r.key] = r.hashrate;
      this.#recorders.push({ time, rates });
    }
  }

  mempool(count: number): MempoolSample[] {
    return this.#mempool.last(count);
  }

  recorders(count: number): RecorderSample[] {
    return this.#recorders.last(count);
  }
}
