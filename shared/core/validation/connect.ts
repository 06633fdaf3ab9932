/**
 * Contextual validation of a whole block against the ledger before it, returning its effects
 * (coins spent and created, assets registered, fees) for storage to apply. Pure: `view` is read,
 * never written; spends of outputs created earlier in the same block are seen through an overlay.
 */

import type { DecodedBlock } from '../block/types.ts';
import { toHex } from '../bytes.ts';
import { ValidationError } from '../errors.ts';
import { blockSubsidy } from '../params/networks.ts';
import type { NetworkParams } from '../params/types.ts';
import { checkTxInputs, createdCoins } from './tx-inputs.ts';
import { type AssetRecord, type Coin, type LedgerView, outpointKey } from './view.ts';

export interface OutpointCoin {
  readonly txid: Uint8Array;
  readonly vout: number;
  readonly coin: Coin;
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
  readonly created: readonly OutpointCoin[];
  readonly assets: readonly AssetRecord[];
  /**
   * Per transaction of the block, the owner of each input (of the coin it spends, which its key was
   * checked against): storage indexes senders with it instead of hashing every key again.
   */
  readonly inputOwners?: readonly (readonly Uint8Array[])[];
}

/** A view of `base` after some transactions of a block were applied. */
class BlockOverlay implements LedgerView {
  readonly created = new Map<string, OutpointCoin>();
  readonly spent = new Set<string>();
  readonly assets = new Map<string, AssetRecord>();

  constructor(private readonly base: LedgerView) {}

  getCoin(txid: Uint8Array, vout: number): Coin | undefined {
    const key = outpointKey(txid, vout);
    if (this.spent.has(key)) {
      return undefined;
    }
    return this.created.get(key)?.coin ?? this.base.getCoin(txid, vout);
  }

  getAsset(assetId: Uint8Array): AssetRecord | undefined {
    return this.assets.get(toHex(assetId)) ?? this.base.getAsset(assetId);
  }
}

/** `block` must have passed checkBlock; `height` is its height (parent height + 1). */
export function connectBlock(
  block: DecodedBlock,
  height: number,
  view: LedgerView,
  p: NetworkParams,
): BlockEffects {
  const overlay = new BlockOverlay(view);
  const spent: OutpointCoin[] = [];
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
        const key = outpointKey(input.prevTxid, input.vout);
        overlay.spent.add(key);
        if (!overlay.created.delete(key)) {
          spent.push({ txid: input.prevTxid, vout: input.vout, coin: r.spent[i]! });
        }
      }
      if (r.asset !== undefined) {
        overlay.assets.set(toHex(r.asset.id), r.asset);
        assets.push(r.asset);
      }
    }
    const coins = createdCoins(d, height);
    for (let v = 0; v < coins.length; v++) {
      overlay.created.set(outpointKey(d.txid, v), { txid: d.txid, vout: v, coin: coins[v]! });
    }
  }

  const reward = blockSubsidy(height, p) + fees;
  let paid = 0;
  for (const o of coinbase.tx.outputs) {
    paid += o.amount;
  }
  if (paid > reward) {
    throw new ValidationError('bad-cb-amount', `coinbase pays ${paid} > subsidy + fees ${reward}`);
  }
  return { height, fees, spent, created: [...overlay.created.values()], assets, inputOwners };
}
