/** Policy settings of the reservoir, each with its default and the reason for it. */

export interface ReservoirOptions {
  /**
   * Cap on the pool's estimated memory use in bytes (`info().usage`: serialized size plus the
   * per-entry bookkeeping, as Bitcoin Core's -maxmempool). Default 300 MB.
   */
  maxBytes?: number;
  /** Minimum fee rate to enter the pool and the fee a replacement must add per byte. Default 1 unit/byte. */
  minRelayFeeRate?: number;
  /** A transaction unconfirmed for longer leaves the pool with its descendants. Default 14 days. */
  expirySeconds?: number;
  /** Most unconfirmed transactions in a package ending at one transaction (itself included). Default 25. */
  maxAncestors?: number;
  /** Most transactions in a package starting at one transaction (itself included). Default 25. */
  maxDescendants?: number;
  /** Policy size limit of one transaction in bytes (consensus allows 1,000,000). Default 100,000. */
  maxTxSize?: number;
  /** Replace-by-fee: when false every conflict is refused ('txn-mempool-conflict'). Default true (full RBF). */
  replaceByFee?: boolean;
  /** Most pool transactions a replacement may evict (conflicts and their descendants). Default 100. */
  maxReplacements?: number;
  /** Orphans kept at once (transactions waiting for a missing parent); the oldest goes first. Default 100. */
  maxOrphans?: number;
  /** Largest orphan kept, in bytes. Default 100,000. */
  maxOrphanTxSize?: number;
  /** An orphan whose parents do not arrive within this time is dropped. Default 20 minutes. */
  orphanExpirySeconds?: number;
  /** Half-life of the minimum fee rate raised by evictions when the pool was full. Default 12 hours. */
  rollingFeeHalfLifeSeconds?: number;
  /**
   * Most transactions held aside after a reorg (returned beyond the ancestor limit, waiting for
   * their ancestors to confirm). Each is re-validated after every block, so this also bounds that
   * work (about 50 ms per block at 1,000). Default 1,000.
   */
  maxHeld?: number;
  /** Cap on the held transactions' estimated memory use in bytes. Default 20 MB (Bitcoin Core's cap on disconnected transactions). */
  maxHeldBytes?: number;
}

export type ResolvedReservoirOptions = Required<ReservoirOptions>;

export const RESERVOIR_DEFAULTS: Readonly<ResolvedReservoirOptions> = Object.freeze({
  maxBytes: 300_000_000,
  minRelayFeeRate: 1,
  expirySeconds: 14 * 24 * 60 * 60,
  maxAncestors: 25,
  maxDescendants: 25,
  maxTxSize: 100_000,
  replaceByFee: true,
  maxReplacements: 100,
  maxOrphans: 100,
  maxOrphanTxSize: 100_000,
  orphanExpirySeconds: 20 * 60,
  rollingFeeHalfLifeSeconds: 12 * 60 * 60,
  maxHeld: 1000,
  maxHeldBytes: 20_000_000,
});

export function resolveReservoirOptions(opts: ReservoirOptions): ResolvedReservoirOptions {
  const r: ResolvedReservoirOptions = { ...RESERVOIR_DEFAULTS };
  for (const k of Object.keys(RESERVOIR_DEFAULTS) as (keyof ResolvedReservoirOptions)[]) {
    const v = opts[k];
    if (v !== undefined) {
      (r as Record<string, unknown>)[k] = v;
    }
  }
  for (const k of [
    'maxBytes',
    'minRelayFeeRate',
    'expirySeconds',
    'maxTxSize',
    'maxReplacements',
    'maxHeld',
    'maxHeldBytes',
  ] as const) {
    if (!(r[k] >= 0)) {
      throw new RangeError(`reservoir option ${k} must be a number >= 0, got ${r[k]}`);
    }
  }
  for (const k of ['maxAncestors', 'maxDescendants'] as const) {
    if (!Number.isInteger(r[k]) || r[k] < 1) {
      throw new RangeError(`reservoir option ${k} must be an integer >= 1, got ${r[k]}`);
    }
  }
  return r;
}
