/**
 * Sums of share quantities per share kind (the id of the split bitmark), kept exact: every
 * addition is checked against MAX_SHARES, so no sum ever leaves the safe-integer range.
 */
import { toHex } from '../bytes.ts';
import { MAX_SHARES } from '../limits.ts';

/** A quantity of one kind of shares. */
export interface ShareHolding {
  /** Id of the split bitmark these are shares of. */
  readonly id: Uint8Array;
  readonly quantity: number;
}

/** True for a quantity an output may hold: an integer in 1..MAX_SHARES. */
export function isValidShareQuantity(q: number): boolean {
  return Number.isSafeInteger(q) && q >= 1 && q <= MAX_SHARES;
}

export class ShareTally {
  /** hex id → kind and sum, in order of first appearance (so errors name kinds deterministically). */
  readonly #sums = new Map<string, { id: Uint8Array; sum: number }>();

  /** Adds `quantity` (≤ MAX_SHARES) of kind `id`; false, with the sum unchanged, if the sum would pass MAX_SHARES. */
  add(id: Uint8Array, quantity: number): boolean {
    const key = toHex(id);
    const e = this.#sums.get(key);
    const sum = (e?.sum ?? 0) + quantity; // both ≤ MAX_SHARES: exact
    if (!Number.isSafeInteger(quantity) || quantity < 0 || sum > MAX_SHARES) return false;
    if (e === undefined) this.#sums.set(key, { id, sum });
    else e.sum = sum;
    return true;
  }

  get(id: Uint8Array): number {
    return this.#sums.get(toHex(id))?.sum ?? 0;
  }

  /** Kinds with their sums, in order of first appearance. */
  entries(): IterableIterator<{ readonly id: Uint8Array; readonly sum: number }> {
    return this.#sums.values();
  }

  get size(): number {
    return this.#sums.size;
  }
}
