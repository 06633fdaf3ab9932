/** What the RPC methods may use of the running node (built by the composition root). */
import type { NetworkParams } from '../../../../shared/core/params/types.ts';
import type { ChainState } from '../../chain-state.ts';
import type { ChainHealth } from '../../health/chain-health.ts';
import type { MapTrim } from '../../memory/map-trim.ts';
import type { P2P } from '../../p2p/p2p.ts';
import type { ProofService } from '../../proof/proof-service.ts';

export interface NodeApi {
  readonly params: NetworkParams;
  readonly state: ChainState;
  readonly p2p: P2P;
  readonly health: ChainHealth;
  readonly proof: ProofService | undefined;
  /** Default ban length (setban without a time). */
  readonly banSeconds: number;
  /** The feed's endpoints and their topics (getzmqnotifications); empty when the feed is off. */
  readonly feed: readonly { readonly address: string; readonly topics: readonly string[] }[];
  /** LMDB map trimming (getmemoryinfo); undefined without the native addon. */
  readonly memory?: MapTrim | undefined;
  /** Seconds since the epoch when the node started. */
  readonly startedAt: number;
  readonly clock: () => number;
  /** Asks the process to shut down cleanly (like SIGTERM). */
  requestStop(): void;
}
