/** Blocks whose parent is not known yet, bounded in count and bytes, oldest evicted first. */
import type { DecodedBlock } from '../../../shared/core/block/types.ts';
import { hashKey } from './block-index.ts';

export class OrphanBlocks {
  readonly #byHash = new Map<string, DecodedBlock>();
  readonly #byParent = new Map<string, Set<string>>();
  #bytes = 0;

  constructor(
    private readonly maxCount: number,
    private readonly maxBytes: number,
  ) {}

  get size(): number {
    return this.#byHash.size;
  }

  add(block: DecodedBlock): void {
    const key = hashKey(block.hash);
    if (this.#byHash.has(key) || block.raw.length > this.maxBytes) return;
    this.#byHash.set(key, block);
    this.#bytes += block.raw.length;
    const parent = hashKey(block.header.prevHash);
    const set = this.#byParent.get(parent) ?? new Set<string>();
    set.add(key);
    this.#byParent.set(parent, set);
    while (this.#byHash.size > this.maxCount || this.#bytes > this.maxBytes)
      this.#remove(this.#byHash.keys().next().value!);
  }

  /** Removes and returns the orphans whose parent is `parentHash`. */
  takeChildren(parentHash: Uint8Array): DecodedBlock[] {
    const keys = this.#byParent.get(hashKey(parentHash));
    if (keys === undefined) return [];
    const out = [...keys].map((k) => this.#byHash.get(k)!).filter((b) => b !== undefined);
    for (const k of keys) this.#remove(k);
    return out;
  }

  #remove(key: string): void {
    const b = this.#byHash.get(key);
    if (b === undefined) return;
    this.#byHash.delete(key);
    this.#bytes -= b.raw.length;
    const parent = hashKey(b.header.prevHash);
    const set = this.#byParent.get(parent);
    set?.delete(key);
    if (set?.size === 0) this.#byParent.delete(parent);
  }
}
