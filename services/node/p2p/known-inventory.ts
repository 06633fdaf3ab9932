import { bytesKey } from '../../../shared/core/bytes.ts';

/** A bounded set of hashes a peer is known to have (sent to us, announced, or sent by us). */
export class KnownInventory {
  readonly #set = new Set<string>();

  constructor(private readonly max = 50_000) {}

  has(hash: Uint8Array): boolean {
    return this.#set.has(bytesKey(hash));
  }

  add(hash: Uint8Array): void {
    const k = bytesKey(hash);
    if (this.#set.has(k)) return;
    this.#set.add(k);
    if (this.#set.size > this.max) this.#set.delete(this.#set.values().next().value!);
  }
}
