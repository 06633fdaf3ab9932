/**
 * Transactions whose inputs are missing, kept a while in case their parents arrive (they usually
 * were relayed out of order). Bounded by count and per-transaction size; when full the oldest
 * leaves (deterministic, and an attacker must outpace honest relay to flush a wanted orphan).
 * Orphans are not signature-checked here (as in Bitcoin Core): that happens when they are accepted.
 */
import type { DecodedTx } from '../../../shared/core/tx/types.ts';
import { outpointKey } from '../../../shared/core/validation/view.ts';
import { idKey } from './entry.ts';
import { PolicyError } from './errors.ts';

export interface Orphan {
  readonly tx: DecodedTx;
  readonly key: string;
  /** When it arrived; kept across retries. */
  readonly time: number;
  /** The parents it waits for, and their idKeys. */
  readonly missing: readonly Uint8Array[];
  readonly missingKeys: readonly string[];
}

export interface OrphanPoolOptions {
  readonly maxOrphans: number;
  readonly maxOrphanTxSize: number;
  readonly orphanExpirySeconds: number;
}

export class OrphanPool {
  readonly #opts: OrphanPoolOptions;
  /** Insertion order is arrival order: the first key is the oldest. */
  readonly #byKey = new Map<string, Orphan>();
  readonly #byParent = new Map<string, Set<Orphan>>();
  readonly #byOutpoint = new Map<string, Set<Orphan>>();

  constructor(opts: OrphanPoolOptions) {
    this.#opts = opts;
  }

  get size(): number {
    return this.#byKey.size;
  }

  has(txid: Uint8Array): boolean {
    return this.#byKey.has(idKey(txid));
  }

  get(txid: Uint8Array): Orphan | undefined {
    return this.#byKey.get(idKey(txid));
  }

  /** Adds `tx` waiting for `missing` parents (distinct); returns the orphans evicted to make room. */
  add(tx: DecodedTx, missing: readonly Uint8Array[], time: number): Orphan[] {
    if (this.#opts.maxOrphans <= 0) {
      throw new PolicyError('orphan-pool-full', 'inputs are missing and orphans are not kept');
    }
    if (tx.raw.length > this.#opts.maxOrphanTxSize) {
      throw new PolicyError(
        'orphan-too-large',
        `inputs are missing and ${tx.raw.length} bytes > ${this.#opts.maxOrphanTxSize} bytes`,
      );
    }
    const key = idKey(tx.txid);
    const old = this.#byKey.get(key);
    if (old !== undefined) {
      return [];
    }
    const evicted: Orphan[] = [];
    while (this.#byKey.size >= this.#opts.maxOrphans) {
      const oldest = this.#byKey.values().next().value as Orphan;
      this.#remove(oldest);
      evicted.push(oldest);
    }
    const o: Orphan = { tx, key, time, missing, missingKeys: missing.map(idKey) };
    this.#byKey.set(key, o);
    for (const p of o.missingKeys) {
      addTo(this.#byParent, p, o);
    }
    for (const k of this.#outpoints(o)) {
      addTo(this.#byOutpoint, k, o);
    }
    return evicted;
  }

  /** Removes and returns the orphans waiting for `parentTxid`, oldest first. */
  takeChildrenOf(parentTxid: Uint8Array): Orphan[] {
    const set = this.#byParent.get(idKey(parentTxid));
    if (set === undefined) {
      return [];
    }
    const out = [...set];
    for (const o of out) {
      this.#remove(o);
    }
    return out;
  }

  /** Removes the orphans that spend any of these outpoints (a block spent them: they are double spends). */
  removeSpendersOf(outpointKeys: Iterable<string>): Orphan[] {
    const out: Orphan[] = [];
    for (const k of outpointKeys) {
      const set = this.#byOutpoint.get(k);
      if (set !== undefined) {
        for (const o of [...set]) {
          this.#remove(o);
          out.push(o);
        }
      }
    }
    return out;
  }

  removeTx(txid: Uint8Array): boolean {
    const o = this.#byKey.get(idKey(txid));
    if (o === undefined) {
      return false;
    }
    this.#remove(o);
    return true;
  }

  /** Drops orphans that arrived more than orphanExpirySeconds before `now`; returns them. */
  expire(now: number): Orphan[] {
    const out: Orphan[] = [];
    for (const o of this.#byKey.values()) {
      if (now - o.time > this.#opts.orphanExpirySeconds) {
        out.push(o);
      }
    }
    for (const o of out) {
      this.#remove(o);
    }
    return out;
  }

  #outpoints(o: Orphan): string[] {
    const t = o.tx.tx;
    return t.kind === 'coinbase' ? [] : t.inputs.map((i) => outpointKey(i.prevTxid, i.vout));
  }

  #remove(o: Orphan): void {
    this.#byKey.delete(o.key);
    for (const p of o.missingKeys) {
      removeFrom(this.#byParent, p, o);
    }
    for (const k of this.#outpoints(o)) {
      removeFrom(this.#byOutpoint, k, o);
    }
  }
}

function addTo<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  let s = m.get(k);
  if (s === undefined) {
    s = new Set();
    m.set(k, s);
  }
  s.add(v);
}

function removeFrom<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  const s = m.get(k);
  if (s !== undefined) {
    s.delete(v);
    if (s.size === 0) {
      m.delete(k);
    }
  }
}
