/**
 * What the reservoir (mempool) needs from the chain: the network, the tip, and a read view of the
 * ledger at the tip. The chain manager implements it over LMDB; unit tests over the in-memory
 * ledger in test/helpers/chain.ts.
 */
import type { NetworkParams } from '../../../shared/core/params/types.ts';
import type { LedgerView } from '../../../shared/core/validation/view.ts';

export interface ReservoirChain {
  readonly params: NetworkParams;
  /** Height of the active tip: a mempool tx is validated as if mined at tipHeight() + 1. */
  tipHeight(): number;
  /** Coins and assets as of the active tip (confirmed state only). */
  view(): LedgerView;
}
