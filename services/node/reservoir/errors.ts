/**
 * Errors of the reservoir (mempool). Consensus violations are the core's `ValidationError` and
 * `DecodeError`, rethrown unchanged; what is refused by local policy only (a valid transaction the
 * node chooses not to keep or relay) is a `PolicyError`. Damaged cache files are `CacheError`s: the
 * caller logs them and starts with an empty pool.
 */
import { CairnError } from '../../../shared/core/errors.ts';

/**
 * Stable policy reject codes, Bitcoin Core's spelling where the rule exists there. Callers (RPC,
 * P2P) switch on `code`; messages are for humans.
 */
export const POLICY_CODES = {
  'txn-already-in-mempool': 'the transaction is already in the pool',
  'txn-already-known':
    'the transaction is already confirmed (an output of it is in the chain view; a confirmed tx whose outputs are all spent is not detected this way)',
  'txn-mempool-conflict':
    'spends an output a pool transaction spends (or registers the same asset) and replacement is disabled',
  'too-many-replacements': 'a replacement would evict more pool transactions than allowed',
  'bad-txns-spends-conflicting-tx': 'a replacement depends on a transaction it would evict',
  'insufficient-fee': 'a replacement does not pay enough: a replace-by-fee fee rule failed',
  'min-relay-fee-not-met': 'fee rate below the minimum relay fee rate',
  'mempool-min-fee-not-met': 'fee rate below the pool minimum, raised while the pool is full',
  'mempool-full': 'the pool is full and the transaction pays less than what it would displace',
  'too-long-mempool-chain': 'too many unconfirmed ancestors, or an ancestor would get too many descendants',
  'reorg-holding-full':
    'returned by a reorg beyond the ancestor limit, and the holding area for such transactions is full',
  'reorg-holding-conflict':
    'returned by a reorg beyond the ancestor limit, and spends what a held transaction already spends',
  'tx-size': 'larger than the policy size limit',
  coinbase: 'a coinbase is only valid as the first transaction of a block',
  'orphan-pool-full': 'inputs are missing and the orphan pool takes none (its capacity is 0)',
  'orphan-too-large': 'inputs are missing and the transaction is too large to wait in the orphan pool',
} as const;

export type PolicyCode = keyof typeof POLICY_CODES;

/**
 * A valid transaction refused by local policy. `dos` is how much a relaying peer is to blame: 0 for
 * all of these (an honest peer can send each of them).
 */
export class PolicyError extends CairnError {
  constructor(
    readonly code: PolicyCode,
    message: string,
    readonly dos = 0,
  ) {
    super(`${code}: ${message}`);
  }
}

export type CacheErrorReason =
  | 'io'
  | 'too-large'
  | 'truncated'
  | 'bad-magic'
  | 'bad-version'
  | 'wrong-network'
  | 'bad-checksum'
  | 'bad-entry';

/** A reservoir cache file that cannot be used. Never fatal: the file is skipped. */
export class CacheError extends CairnError {
  readonly code = 'cache';
  constructor(
    readonly reason: CacheErrorReason,
    message: string,
  ) {
    super(`${reason}: ${message}`);
  }
}
