/**
 * Contextual validation of a whole block against the ledger before it, returning its effects
 * (coins spent and created, assets registered, fees) for storage to apply. Pure: `view` is read,
 * never written; spends of outputs created earlier in the same block are seen through an overlay.
 */

import type { DecodedBlock } from '../block/types.ts';
import { equalBytes, toHex } from '../bytes.ts';
import { ValidationError } from '../errors.ts';
import { blockSubsidy } from '../params/networks.ts';
import type { NetworkParams } from '../params/types.ts';
import { checkTxInputs, createdCoins } from './tx-inputs.ts';
import type { AssetRecord, Coin, LedgerView } from './view.ts';

export interface OutpointCoin {
  readonly txid: Uint8Array;
  readonly vout: number;
  readonly coin: Coin;
}

/** A coin the block created, with the position of its tx in the block (storage keys coins by it). */
export interface CreatedCoin extends OutpointCoin {
  readonly pos: number;
}

export interface BlockEffects {
  readonly height: number;
  readonly fees: number;
  /**
   * Net effect on the UTXO set: coins from before the block that it spends (the undo data), and
   * coins it creates that are still unspent at its end. Apply = delete spent, add created; undo =
   * delete created, add spent.
   */
  readonly spent: readonly OutpointCoin[];
  readonly created: readonly CreatedCoin[];
  readonly assets: readonly AssetRecord[];
  /**
   * Per transaction of the block, the owner of each input (of the coin it spends, which its key was
   * checked against): storage indexes senders with it instead of hashing every key again.
   */
  readonly inputOwners?: readonly (readonly Uint8Array[])[];
}

/**
 * A view of `base` after some transactions of a block were applied. Outpoints are found by
 * number, not by a string per input and output (a sync's main thread built five per
 * transaction): the block's txs by their txid's first four bytes, the coins spent from `base` by
 * those mixed with the output index, each entry checked against the full outpoint. Txids ground
 * to share four bytes (2^32 hashes each) buy an attacker one more comparison per lookup, never
 * a wrong answer.
 */
class BlockOverlay implements LedgerView {
  /** Coins of the block's txs applied so far, by tx position; undefined once spent in the block. */
  readonly #coins: (Coin | undefined)[][] = [];
  readonly #txids: Uint8Array[] = [];
  /** Tx positions by txidHash (a list in the rare case two txids share it). */
  readonly #positions = new Map<number, number | number[]>();
  /** Coins from `base` spent so far (the undo data), and their indexes by outpointHash. */
  readonly spent: OutpointCoin[] = [];
  readonly #spentAt = new Map<number, number | number[]>();
  readonly assets = new Map<string, AssetRecord>();

  constructor(private readonly base: LedgerView) {}

  getCoin(txid: Uint8Array, vout: number): Coin | undefined {
    const coins = this.#coinsOf(txid);
    if (coins !== undefined && vout < coins.length) return coins[vout];
    if (this.#spentIndex(txid, vout) !== undefined) return undefined;
    return this.base.getCoin(txid, vout);
  }

  getAsset(assetId: Uint8Array): AssetRecord | undefined {
    return this.assets.get(toHex(assetId)) ?? this.base.getAsset(assetId);
  }

  /** Applies a tx's outputs: later txs of the block may spend them. */
  add(txid: Uint8Array, coins: Coin[]): void {
    const pos = this.#coins.length;
    this.#coins.push(coins);
    this.#txids.push(txid);
    addTo(this.#positions, txidHash(txid), pos);
  }

  /** Applies a spend of `coin` (found through getCoin). */
  spend(txid: Uint8Array, vout: number, coin: Coin): void {
    const coins = this.#coinsOf(txid);
    if (coins !== undefined && vout < coins.length) {
      coins[vout] = undefined;
      return;
    }
    addTo(this.#spentAt, outpointHash(txid, vout), this.spent.length);
    this.spent.push({ txid, vout, coin });
  }

  /** Coins the block created that are still unspent, in tx and output order. */
  created(): CreatedCoin[] {
    const out: CreatedCoin[] = [];
    for (let pos = 0; pos < this.#coins.length; pos++) {
      const coins = this.#coins[pos]!;
      const txid = this.#txids[pos]!;
      for (let vout = 0; vout < coins.length; vout++) {
        const coin = coins[vout];
        if (coin !== undefined) out.push({ txid, vout, coin, pos });
      }
    }
    return out;
  }

  /** The coins of the block's tx `txid`, if it was applied. */
  #coinsOf(txid: Uint8Array): (Coin | undefined)[] | undefined {
    const pos = lookup(this.#positions, txidHash(txid), (p) => equalBytes(this.#txids[p]!, txid));
    return pos === undefined ? undefined : this.#coins[pos];
  }

  #spentIndex(txid: Uint8Array, vout: number): number | undefined {
    return lookup(
      this.#spentAt,
      outpointHash(txid, vout),
      (i) => this.spent[i]!.vout === vout && equalBytes(this.spent[i]!.txid, txid),
    );
  }
}

/** The index under `key` that `matches` (the full comparison behind the number). */
function lookup(
  m: Map<number, number | number[]>,
  key: number,
  matches: (index: number) => boolean,
): number | undefined {
  const at = m.get(key);
  if (at === undefined) return undefined;
  if (typeof at === 'number') return matches(at) ? at : undefined;
  return at.find(matches);
}

/** A txid's first four bytes as a number (txids are hashes: evenly spread). */
function txidHash(txid: Uint8Array): number {
  return ((txid[0]! << 24) | (txid[1]! << 16) | (txid[2]! << 8) | txid[3]!) >>> 0;
}

/** txidHash mixed with the output index (Fibonacci hashing), as a small integer. */
function outpointHash(txid: Uint8Array, vout: number): number {
  return (txidHash(txid) ^ Math.imul(vout + 1, 0x9e3779b1)) >>> 0;
}

function addTo(m: Map<number, number | number[]>, key: number, value: number): void {
  const at = m.get(key);
  if (at === undefined) m.set(key, value);
  else if (typeof at === 'number') m.set(key, [at, value]);
  else at.push(value);
}

/** `block` must have passed checkBlock; `height` is its height (parent height + 1). */
export function connectBlock(
  block: DecodedBlock,
  height: number,
  view: LedgerView,
  p: NetworkParams,
): BlockEffects {
  const overlay = new BlockOverlay(view);
  const assets: AssetRecord[] = [];
  const inputOwners: Uint8Array[][] = new Array(block.txs.length);
  inputOwners[0] = [];
  let fees = 0;

  const coinbase = block.txs[0]!;
  if (coinbase.tx.kind !== 'coinbase') {
    throw new ValidationError('bad-cb-missing', 'first tx is not a coinbase');
  }
  if (coinbase.tx.height !== height) {
    throw new ValidationError(
      'bad-cb-height',
      `coinbase says height ${coinbase.tx.height}, block is at ${height}`,
    );
  }

  for (let t = 0; t < block.txs.length; t++) {
    const d = block.txs[t]!;
    if (t > 0) {
      const r = checkTxInputs(d, overlay, height, p);
      fees += r.fee;
      if (fees > p.maxMoney) {
        throw new ValidationError('bad-txns-accumulated-fee-outofrange', 'fees out of range');
      }
      if (d.tx.kind === 'coinbase') {
        throw new ValidationError('bad-cb-multiple', `tx ${t} is a second coinbase`);
      }
      inputOwners[t] = r.spent.map((c) => c.owner);
      for (let i = 0; i < d.tx.inputs.length; i++) {
        const input = d.tx.inputs[i]!;
        overlay.spend(input.prevTxid, input.vout, r.spent[i]!);
      }
      if (r.asset !== undefined) {
        overlay.assets.set(toHex(r.asset.id), r.asset);
        assets.push(r.asset);
      }
    }
    overlay.add(d.txid, createdCoins(d, height));
  }

  const reward = blockSubsidy(height, p) + fees;
  let paid = 0;
  for (const o of coinbase.tx.outputs) {
    paid += o.amount;
  }
  if (paid > reward) {
    throw new ValidationError('bad-cb-amount', `coinbase pays ${paid} > subsidy + fees ${reward}`);
  }
  return { height, fees, spent: overlay.spent, created: overlay.created(), assets, inputOwners };
}
