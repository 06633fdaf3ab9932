/**
 * The ledger as a transaction entering the reservoir sees it: the chain tip's view plus the outputs
 * and asset registrations of pool transactions. Entries in `exclude` (those a replacement would
 * evict) are invisible. With `hideSpent`, outputs that pool transactions spend are hidden too (what
 * wallets and RPC want); acceptance looks conflicts up itself first and so does not hide them.
 */
import type { AssetRecord, Coin, LedgerView } from '../../../shared/core/validation/view.ts';
import { outpointKey } from '../../../shared/core/validation/view.ts';
import { idKey, type PoolEntry } from './entry.ts';

/** The reservoir's indexes that a view reads. */
export interface PoolIndex {
  /** Entries by idKey(txid). */
  readonly byTxid: ReadonlyMap<string, PoolEntry>;
  /** The entry spending each outpoint, by outpointKey. */
  readonly spenders: ReadonlyMap<string, PoolEntry>;
  /** Registrations by idKey(assetId). */
  readonly assets: ReadonlyMap<string, PoolEntry>;
}

const NONE: ReadonlySet<PoolEntry> = new Set();

export class PoolView implements LedgerView {
  constructor(
    private readonly chain: LedgerView,
    private readonly pool: PoolIndex,
    private readonly exclude: ReadonlySet<PoolEntry> = NONE,
    private readonly hideSpent = false,
  ) {}

  getCoin(txid: Uint8Array, vout: number): Coin | undefined {
    if (this.hideSpent && this.pool.spenders.has(outpointKey(txid, vout))) {
      return undefined;
    }
    const e = this.pool.byTxid.get(idKey(txid));
    if (e !== undefined) {
      return this.exclude.has(e) ? undefined : e.coin(vout);
    }
    return this.chain.getCoin(txid, vout);
  }

  getAsset(assetId: Uint8Array): AssetRecord | undefined {
    const confirmed = this.chain.getAsset(assetId);
    if (confirmed !== undefined) {
      return confirmed;
    }
    const e = this.pool.assets.get(idKey(assetId));
    return e === undefined || this.exclude.has(e) ? undefined : e.asset;
  }
}
