/**
 * The holding area: valid transactions that a reorg returned but that are deeper than the
 * pool's ancestor limit. They wait here, outside the pool (not relayed, not mined), and the
 * reservoir re-validates all of them after every block: a transaction enters the pool once enough
 * of its ancestors confirmed, stays if it is still valid but still too deep, and is dropped
 * otherwise (its held descendants then fail too, their inputs being gone).
 *
 * Bounded by count and by estimated memory. The reservoir fills it parents first, so when it is
 * full the newcomer is refused: what is kept is the shallowest, the first to be able to enter.
 */

import { assetIdOf } from '../../../shared/core/tx/ids.ts';
import type { DecodedTx } from '../../../shared/core/tx/types.ts';
import { outpointKey } from '../../../shared/core/validation/view.ts';
import { idKey, type PoolEntry } from './entry.ts';
import type { PoolIndex } from './pool-view.ts';

export interface HeldPoolOptions {
  readonly maxHeld: number;
  readonly maxHeldBytes: number;
}

/** Why a transaction could not be held. */
export type HoldRefusal = 'full' | 'conflict';

export class HeldPool {
  readonly #opts: HeldPoolOptions;
  readonly #byTxid = new Map<string, PoolEntry>();
  readonly #spenders = new Map<string, PoolEntry>();
  readonly #assets = new Map<string, PoolEntry>();
  #usage = 0;
  /** What a PoolView layered under the pool reads: held outputs and registrations become visible. */
  readonly index: PoolIndex = { byTxid: this.#byTxid, spenders: this.#spenders, assets: this.#assets };

  constructor(opts: HeldPoolOptions) {
    this.#opts = opts;
  }

  get size(): number {
    return this.#byTxid.size;
  }

  /** Estimated memory use (the entries' `usage`), what maxHeldBytes caps. */
  get usage(): number {
    return this.#usage;
  }

  has(txid: Uint8Array): boolean {
    return this.#byTxid.has(idKey(txid));
  }

  /** True when `d` spends an output of a held transaction or issues an asset one registers. */
  dependsOnHeld(d: DecodedTx): boolean {
    const t = d.tx;
    if (t.kind === 'coinbase' || this.#byTxid.size === 0) {
      return false;
    }
    if (t.kind === 'issue' && this.#assets.has(idKey(t.assetId))) {
      return true;
    }
    return t.inputs.some((i) => this.#byTxid.has(idKey(i.prevTxid)));
  }

  /** Holds `e` (validated against chain + pool + held, all but the ancestor limit), or says why not. */
  add(e: PoolEntry): HoldRefusal | null {
    if (this.#byTxid.size >= this.#opts.maxHeld || this.#usage + e.usage > this.#opts.maxHeldBytes) {
      return 'full';
    }
    const t = e.tx.tx;
    const outpoints = t.kind === 'coinbase' ? [] : t.inputs.map((i) => outpointKey(i.prevTxid, i.vout));
    const asset = t.kind === 'asset' ? idKey(assetIdOf(t.asset.fingerprint)) : undefined;
    // Held transactions never conflict with each other: the first held wins.
    if (outpoints.some((k) => this.#spenders.has(k)) || (asset !== undefined && this.#assets.has(asset))) {
      return 'conflict';
    }
    this.#byTxid.set(e.key, e);
    for (const k of outpoints) {
      this.#spenders.set(k, e);
    }
    if (asset !== undefined) {
      this.#assets.set(asset, e);
    }
    this.#usage += e.usage;
    return null;
  }

  /** Drops `txid` (a block confirmed it). */
  remove(txid: Uint8Array): boolean {
    const e = this.#byTxid.get(idKey(txid));
    if (e === undefined) {
      return false;
    }
    this.#byTxid.delete(e.key);
    const t = e.tx.tx;
    if (t.kind !== 'coinbase') {
      for (const i of t.inputs) {
        this.#spenders.delete(outpointKey(i.prevTxid, i.vout));
      }
    }
    if (t.kind === 'asset') {
      this.#assets.delete(idKey(assetIdOf(t.asset.fingerprint)));
    }
    this.#usage -= e.usage;
    return true;
  }

  /** Drops what entered the pool first more than `seconds` before `now` (as the pool's expiry); returns how many. */
  expire(now: number, seconds: number): number {
    const old = [...this.#byTxid.values()].filter((e) => now - e.time > seconds);
    for (const e of old) {
      this.remove(e.txid);
    }
    return old.length;
  }

  /** Empties the area; returns what it held, every held parent before its children. */
  takeAll(): PoolEntry[] {
    const out: PoolEntry[] = [];
    const done = new Set<PoolEntry>();
    // Iterative depth-first walk, parents first (a deep chain must not overflow the stack).
    for (const root of this.#byTxid.values()) {
      const stack: Array<[PoolEntry, boolean]> = [[root, false]];
      while (stack.length > 0) {
        const [e, expanded] = stack.pop()!;
        if (expanded) {
          out.push(e);
          continue;
        }
        if (done.has(e)) {
          continue;
        }
        done.add(e);
        stack.push([e, true]);
        for (const p of this.#heldParents(e)) {
          if (!done.has(p)) {
            stack.push([p, false]);
          }
        }
      }
    }
    this.#byTxid.clear();
    this.#spenders.clear();
    this.#assets.clear();
    this.#usage = 0;
    return out;
  }

  #heldParents(e: PoolEntry): PoolEntry[] {
    const t = e.tx.tx;
    if (t.kind === 'coinbase') {
      return [];
    }
    const out: PoolEntry[] = [];
    for (const i of t.inputs) {
      const p = this.#byTxid.get(idKey(i.prevTxid));
      if (p !== undefined) {
        out.push(p);
      }
    }
    if (t.kind === 'issue') {
      const reg = this.#assets.get(idKey(t.assetId));
      if (reg !== undefined) {
        out.push(reg);
      }
    }
    return out;
  }
}
