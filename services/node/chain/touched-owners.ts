/**
 * The owners a tx touches (its inputs' keys and its outputs' owners), each once, with the outputs
 * each receives: the address index's rows. Filled into arrays kept between calls, since a
 * syncing node asks this of every tx it connects (its tuples were a tenth of the main thread's
 * allocation); read the result before the next `of`.
 */
import { ownerOf } from '../../../shared/core/address.ts';
import { bytesKey, equalBytes } from '../../../shared/core/bytes.ts';
import type { DecodedTx } from '../../../shared/core/tx/types.ts';

/** Owners compared byte by byte before a map is built (a transfer touches two to four). */
const FEW_OWNERS = 16;
/** Slots kept between calls. */
const KEPT_SLOTS = 256;

export class TouchedOwners {
  /** The owners found, `count` of them (the arrays' later slots are stale). */
  readonly owners: Uint8Array[] = [];
  /** The outputs each owner receives, in order (empty for an owner that only spends). */
  readonly vouts: number[][] = [];
  count = 0;
  #index: Map<string, number> | undefined;

  /** Fills the owners of `d`; `inputOwners`, when known, saves hashing each input's key. */
  of(d: DecodedTx, inputOwners?: readonly Uint8Array[]): this {
    this.count = 0;
    this.#index = undefined;
    // a tx with many owners is rare: the arrays do not keep its size for ever
    if (this.owners.length > KEPT_SLOTS) {
      this.owners.length = 0;
      this.vouts.length = 0;
    }
    if (d.tx.kind !== 'coinbase') {
      const inputs = d.tx.inputs;
      for (let i = 0; i < inputs.length; i++) this.#slot(inputOwners?.[i] ?? ownerOf(inputs[i]!.pubkey));
    }
    const outputs = d.tx.outputs;
    for (let vout = 0; vout < outputs.length; vout++)
      this.vouts[this.#slot(outputs[vout]!.owner)]!.push(vout);
    return this;
  }

  /** The slot of `owner`, taken (with an empty output list) if it is new. */
  #slot(owner: Uint8Array): number {
    if (this.#index === undefined) {
      for (let i = 0; i < this.count; i++) if (equalBytes(this.owners[i]!, owner)) return i;
    } else {
      const at = this.#index.get(bytesKey(owner));
      if (at !== undefined) return at;
    }
    const slot = this.count++;
    this.owners[slot] = owner;
    const list = this.vouts[slot];
    if (list === undefined) this.vouts[slot] = [];
    else list.length = 0;
    if (this.#index !== undefined) this.#index.set(bytesKey(owner), slot);
    else if (this.count === FEW_OWNERS) {
      this.#index = new Map();
      for (let i = 0; i < this.count; i++) this.#index.set(bytesKey(this.owners[i]!), i);
    }
    return slot;
  }
}
