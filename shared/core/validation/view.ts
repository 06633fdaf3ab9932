import type { ShareHolding } from './share-tally.ts';

/**
 * What contextual validation reads from the chain: unspent outputs and registered assets. The
 * chain-state service implements it over LMDB; tests implement it over maps. Validation never
 * writes through it: effects are returned to the caller.
 */

/** An unspent output as the ledger stores it. */
export interface Coin {
  readonly owner: Uint8Array;
  readonly amount: number;
  /** Id of the bitmark this output holds, if any (minted ids are resolved here). */
  readonly bitmark: Uint8Array | null;
  /** Shares this output holds, if any (never together with a bitmark). */
  readonly shares?: ShareHolding;
  /** Height of the block that created it. */
  readonly height: number;
  readonly coinbase: boolean;
}

export interface AssetRecord {
  readonly id: Uint8Array;
  readonly name: string;
  readonly fingerprint: Uint8Array;
  readonly metadata: Uint8Array;
  /** Owner hash of the registering tx's input 0: the only one who may issue. */
  readonly registrant: Uint8Array;
  readonly txid: Uint8Array;
  readonly height: number;
}

export interface LedgerView {
  getCoin(txid: Uint8Array, vout: number): Coin | undefined;
  getAsset(assetId: Uint8Array): AssetRecord | undefined;
}

export { outpointKey } from '../outpoint.ts';
