/**
 * A simple fee estimator from what recent blocks confirmed (pure: no clock, no I/O).
 *
 * Data: for each connected block, the fee rates (base units per byte) of its non-coinbase
 * transactions whose fees the node knows (those that were in the reservoir: the 'block:connected'
 * event lists them). The last `maxBlocks` blocks (default 100) are kept; a disconnected block's
 * record is dropped.
 *
 * Rule for `estimateSmartFee(t)`:
 *   - t is clamped to [1, maxBlocks]; `blocks` in the answer is the clamped t;
 *   - all recorded fee rates of the window are pooled and sorted ascending;
 *   - the answer is the p-th percentile (nearest rank: the value at index ceil(p·n) − 1) with
 *         p(t) = max(10%, 95% − 15% · log2 t)
 *     so t = 1 → 95th, 2 → 80th, 4 → 65th, 8 → 50th, 16 → 35th, 32 → 20th, ≥ 51 → 10th percentile:
 *     the sooner the wanted confirmation, the more of recent competition it must outbid;
 *   - rounded up to a whole unit per byte and floored at minRelayFeeRate.
 *   - null (too little data) while fewer than `minBlocks` blocks (default 6) or fewer than
 *     `minSamples` fee rates (default 20) are recorded.
 */

export interface FeeEstimatorOptions {
  maxBlocks?: number;
  minBlocks?: number;
  minSamples?: number;
  minRelayFeeRate?: number;
}

export interface FeeEstimate {
  /** Base units per byte. */
  readonly feeRate: number;
  /** The confirmation target the estimate is for. */
  readonly blocks: number;
}

/** The percentile (0..1) of recent fee rates used for a confirmation target of `t` blocks. */
export function percentileForTarget(t: number): number {
  return Math.max(0.1, 0.95 - 0.15 * Math.log2(t));
}

export class FeeEstimator {
  readonly #maxBlocks: number;
  readonly #minBlocks: number;
  readonly #minSamples: number;
  readonly #minRelayFeeRate: number;
  /** Fee rates by block height, oldest first. */
  readonly #blocks = new Map<number, readonly number[]>();
  #sorted: number[] | null = null;

  constructor(opts: FeeEstimatorOptions = {}) {
    this.#maxBlocks = opts.maxBlocks ?? 100;
    this.#minBlocks = opts.minBlocks ?? 6;
    this.#minSamples = opts.minSamples ?? 20;
    this.#minRelayFeeRate = opts.minRelayFeeRate ?? 1;
    if (!Number.isInteger(this.#maxBlocks) || this.#maxBlocks < 1) {
      throw new RangeError(`maxBlocks must be an integer >= 1, got ${this.#maxBlocks}`);
    }
  }

  /** Blocks recorded (at most maxBlocks). */
  get blockCount(): number {
    return this.#blocks.size;
  }

  /**
   * Records the block at `height` with the fee rates of the transactions it confirmed. Records at
   * `height` or above (a replaced branch) are dropped first.
   */
  processBlock(height: number, feeRates: readonly number[]): void {
    this.blockDisconnected(height);
    this.#blocks.set(
      height,
      feeRates.filter((r) => Number.isFinite(r) && r >= 0),
    );
    while (this.#blocks.size > this.#maxBlocks) {
      this.#blocks.delete(this.#blocks.keys().next().value as number);
    }
    this.#sorted = null;
  }

  /** Forgets the block at `height` and any above it. */
  blockDisconnected(height: number): void {
    for (const h of [...this.#blocks.keys()]) {
      if (h >= height) {
        this.#blocks.delete(h);
        this.#sorted = null;
      }
    }
  }

  estimateSmartFee(targetBlocks: number): FeeEstimate | null {
    if (this.#blocks.size < this.#minBlocks) {
      return null;
    }
    const sorted = this.#samples();
    if (sorted.length < this.#minSamples || sorted.length === 0) {
      return null;
    }
    const t = Math.min(
      this.#maxBlocks,
      Math.max(1, Math.floor(Number.isFinite(targetBlocks) ? targetBlocks : 1)),
    );
    const p = percentileForTarget(t);
    const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
    const feeRate = Math.max(this.#minRelayFeeRate, Math.ceil(sorted[index]!));
    return { feeRate, blocks: t };
  }

  #samples(): number[] {
    if (this.#sorted === null) {
      const all: number[] = [];
      for (const rates of this.#blocks.values()) {
        for (const r of rates) {
          all.push(r);
        }
      }
      this.#sorted = all.sort((a, b) => a - b);
    }
    return this.#sorted;
  }
}
