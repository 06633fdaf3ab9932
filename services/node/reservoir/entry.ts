/**
 * One transaction in the reservoir, with what ordering needs: its fee and size, and the totals of
 * its unconfirmed ancestors (for child-pays-for-parent selection) and descendants (for eviction).
 * Totals include the entry itself, as in Bitcoin Core.
 */
import { bytesKey, hashBytes } from '../../../shared/core/bytes.ts';
import type { DecodedTx } from '../../../shared/core/tx/types.ts';
import { createdCoins } from '../../../shared/core/validation/tx-inputs.ts';
import type { AssetRecord, Coin } from '../../../shared/core/validation/view.ts';

/** Map key of a transaction id (or asset id): its 32 bytes as latin1, as outpointKey does. */
export function idKey(id: Uint8Array): string {
  return bytesKey(hashBytes(id));
}

/** What callers see of an entry; the reservoir alone changes it. */
export interface ReservoirEntry {
  readonly tx: DecodedTx;
  readonly txid: Uint8Array;
  /** Coins in minus coins out, base units. */
  readonly fee: number;
  /** Serialized size in bytes. */
  readonly size: number;
  /** fee / size, base units per byte. */
  readonly feeRate: number;
  /** When it entered the pool (seconds; the `now` its caller passed). */
  readonly time: number;
  /** Tip height when it was accepted. */
  readonly height: number;
  /** Estimated memory use of this entry in bytes (counted against maxBytes). */
  readonly usage: number;
  /** The asset it registers (asset registrations only). */
  readonly asset: AssetRecord | undefined;
  /** Pool transactions it depends on: those whose outputs it spends, and for an issue, the registration. */
  readonly parents: ReadonlySet<ReservoirEntry>;
  readonly children: ReadonlySet<ReservoirEntry>;
  /** Totals over itself and every unconfirmed ancestor. */
  readonly ancestorCount: number;
  readonly ancestorSize: number;
  readonly ancestorFee: number;
  /** Totals over itself and every descendant in the pool. */
  readonly descendantCount: number;
  readonly descendantSize: number;
  readonly descendantFee: number;
}

/**
 * Fixed bookkeeping per entry, input and output (maps, sets, decoded objects), measured on Node 20
 * with bench/reservoir.ts (heap growth per accepted transfer) and rounded up.
 */
const ENTRY_OVERHEAD = 1100;
const INPUT_OVERHEAD = 260;
const OUTPUT_OVERHEAD = 160;

export class PoolEntry implements ReservoirEntry {
  readonly tx: DecodedTx;
  readonly txid: Uint8Array;
  readonly key: string;
  readonly fee: number;
  readonly size: number;
  readonly feeRate: number;
  readonly time: number;
  readonly height: number;
  readonly usage: number;
  readonly asset: AssetRecord | undefined;
  /** Highest height of a coinbase coin it spends, or -1: a disconnect can make such a spend premature. */
  readonly coinbaseSpendHeight: number;
  readonly parents = new Set<PoolEntry>();
  readonly children = new Set<PoolEntry>();
  ancestorCount = 1;
  ancestorSize: number;
  ancestorFee: number;
  descendantCount = 1;
  descendantSize: number;
  descendantFee: number;
  /** Bumped whenever the descendant totals change: stale eviction-heap items are recognised by it. */
  version = 0;
  inPool = true;
  #coins: Coin[] | undefined;

  constructor(
    tx: DecodedTx,
    fee: number,
    time: number,
    height: number,
    asset: AssetRecord | undefined,
    coinbaseSpendHeight: number,
  ) {
    this.tx = tx;
    this.txid = tx.txid;
    this.key = idKey(tx.txid);
    this.fee = fee;
    this.size = tx.raw.length;
    this.feeRate = fee / this.size;
    this.time = time;
    this.height = height;
    this.asset = asset;
    this.coinbaseSpendHeight = coinbaseSpendHeight;
    const t = tx.tx;
    const inputs = t.kind === 'coinbase' ? 0 : t.inputs.length;
    this.usage =
      ENTRY_OVERHEAD + 2 * this.size + inputs * INPUT_OVERHEAD + t.outputs.length * OUTPUT_OVERHEAD;
    this.ancestorSize = this.size;
    this.ancestorFee = fee;
    this.descendantSize = this.size;
    this.descendantFee = fee;
  }

  /** The coin output `vout` creates (minted bitmark ids resolved), computed on first use. */
  coin(vout: number): Coin | undefined {
    this.#coins ??= createdCoins(this.tx, this.height + 1);
    return this.#coins[vout];
  }

  /** Eviction order: the better of its own and its package's fee rate (Bitcoin Core's descendant score). */
  get evictionScore(): number {
    const own = this.feeRate;
    const pkg = this.descendantFee / this.descendantSize;
    return own > pkg ? own : pkg;
  }
}

/** Every ancestor of the given parents (the parents included), or null once more than `limit`. */
export function ancestorsOf(
  parents: Iterable<PoolEntry>,
  limit = Number.POSITIVE_INFINITY,
): Set<PoolEntry> | null {
  const seen = new Set<PoolEntry>();
  const stack: PoolEntry[] = [...parents];
  while (stack.length > 0) {
    const e = stack.pop()!;
    if (seen.has(e)) {
      continue;
    }
    seen.add(e);
    if (seen.size > limit) {
      return null;
    }
    for (const p of e.parents) {
      if (!seen.has(p)) {
        stack.push(p);
      }
    }
  }
  return seen;
}

/**
 * `roots` and all their descendants (breadth first, not necessarily parents before children: sort
 * by ancestorCount for that), or null once more than `limit`.
 */
export function withDescendants(
  roots: Iterable<PoolEntry>,
  limit = Number.POSITIVE_INFINITY,
): Set<PoolEntry> | null {
  const out = new Set<PoolEntry>(roots);
  if (out.size > limit) {
    return null;
  }
  for (const e of out) {
    for (const c of e.children) {
      if (!out.has(c)) {
        out.add(c);
        if (out.size > limit) {
          return null;
        }
      }
    }
  }
  return out;
}
