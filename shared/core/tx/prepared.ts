/**
 * The hashes a verify worker computed of a block that passed every stateless rule there
 * (validation/block-prepare.ts), handed to the thread that connects it so that it decodes the same
 * bytes without hashing them again: every txid (32 bytes each, in block order), then the owner hash
 * of every input's key (20 bytes each, in block and input order). One buffer, read in order.
 */
import { HASH_SIZE, OWNER_SIZE } from '../limits.ts';

export class PreparedHashes {
  readonly #pack: Uint8Array;
  #txid: number;
  readonly #txidEnd: number;
  #owner: number;

  /** `txCount`: the block's transactions (the owners start after their txids). */
  constructor(pack: Uint8Array, txCount: number) {
    this.#pack = pack;
    this.#txid = 0;
    this.#txidEnd = txCount * HASH_SIZE;
    this.#owner = this.#txidEnd;
  }

  /** Bytes of a pack for `txCount` transactions with `inputCount` inputs in all. */
  static size(txCount: number, inputCount: number): number {
    return txCount * HASH_SIZE + inputCount * OWNER_SIZE;
  }

  nextTxid(): Uint8Array {
    const at = this.#txid;
    if (at + HASH_SIZE > this.#txidEnd) throw new RangeError('prepared block: more transactions than txids');
    this.#txid = at + HASH_SIZE;
    return this.#pack.subarray(at, at + HASH_SIZE);
  }

  nextOwners(inputs: number): Uint8Array {
    const at = this.#owner;
    const end = at + inputs * OWNER_SIZE;
    if (end > this.#pack.length) throw new RangeError('prepared block: more inputs than owner hashes');
    this.#owner = end;
    return this.#pack.subarray(at, end);
  }

  /** Every hash was taken: the pack was made for exactly the block just decoded. */
  get complete(): boolean {
    return this.#txid === this.#txidEnd && this.#owner === this.#pack.length;
  }
}
