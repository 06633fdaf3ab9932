/**
 * Pruning (storage.prune_mb, as Bitcoin Core's -prune): deletes the raw blocks and undo data of
 * the oldest active blocks while they take more than the target, never the last `keepBlocks`.
 * The UTXO set, the indexes and every header stay. It runs in small steps between other work (one
 * LMDB transaction of at most `batchBlocks` deletions each, then the event loop turns), and each
 * step deletes and records the new prune height in ONE transaction: a kill at any moment leaves
 * the store at the prune height it says.
 */
import { Buffer } from 'node:buffer';
import type { Logger } from '../../../shared/log.ts';
import type { ChainDb } from '../db/chain-db.ts';
import type { IndexEntry } from './block-index.ts';
import type { Chain } from './chain.ts';
import { PruneError } from './prune-errors.ts';
import { MIN_BLOCKS_TO_KEEP, writePruneHeight } from './prune-state.ts';

export interface PrunerOptions {
  /** storage.prune_mb in bytes: the most raw blocks and undo data may take. */
  readonly targetBytes: number;
  /** Blocks below the tip never pruned. Default MIN_BLOCKS_TO_KEEP (tests use fewer). */
  readonly keepBlocks?: number;
  /** Blocks deleted per transaction: bounds the pause of each step. Default 64. */
  readonly batchBlocks?: number;
}

export interface PrunerModules {
  readonly chain: Chain;
  readonly db: ChainDb;
  readonly logger: Logger;
}

export class Pruner {
  readonly targetBytes: number;
  readonly keepBlocks: number;
  readonly #batch: number;
  readonly #m: PrunerModules;
  #scheduled = false;
  #stopped = true;
  readonly #onTip = () => this.#schedule();
  /** Blocks pruned since start (metrics, tests). */
  pruned = 0;

  constructor(opts: PrunerOptions, modules: PrunerModules) {
    this.targetBytes = opts.targetBytes;
    this.keepBlocks = opts.keepBlocks ?? MIN_BLOCKS_TO_KEEP;
    this.#batch = opts.batchBlocks ?? 64;
    this.#m = modules;
  }

  /** Prunes in the background from now on: a step after each new tip while over the target. */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#m.chain.on('tip', this.#onTip);
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    this.#m.chain.off('tip', this.#onTip);
  }

  /** Bytes the raw blocks and undo data take in LMDB (their B-tree and overflow pages). */
  storedBytes(): number {
    let bytes = 0;
    for (const name of ['blocks', 'undo'] as const) {
      const s = this.#m.db.db(name).getStats() as {
        pageSize: number;
        treeBranchPageCount: number;
        treeLeafPageCount: number;
        overflowPages: number;
      };
      bytes += s.pageSize * (s.treeBranchPageCount + s.treeLeafPageCount + s.overflowPages);
    }
    return bytes;
  }

  /** The highest height that may be pruned now: the tip less the blocks always kept. */
  limit(): number {
    return this.#m.chain.tipHeight() - this.keepBlocks;
  }

  #schedule(): void {
    if (this.#scheduled || this.#stopped) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (this.#stopped || this.#m.db.closed || this.#m.db.failed !== undefined) return;
      // a storage failure stops the node (ChainDb reports it); a pruner error must not crash it
      try {
        if (this.step() > 0) this.#schedule();
      } catch (e) {
        this.#m.logger.error({ err: e }, `pruning step failed: ${(e as Error).message}`);
      }
    });
  }

  /**
   * One step: while over the target, deletes up to `batchBlocks` of the oldest unpruned blocks
   * (just enough to get under it). Returns how many it deleted.
   */
  step(): number {
    const over = this.storedBytes() - this.targetBytes;
    if (over <= 0) return 0;
    return this.#pruneUpTo(this.limit(), over);
  }

  /**
   * Prunes every block up to `height` (clamped to the tip less the kept blocks), as Core's
   * pruneblockchain; in steps of `batchBlocks`. Returns the prune height reached.
   */
  pruneTo(height: number): number {
    const tip = this.#m.chain.tipHeight();
    if (height > tip)
      throw new PruneError(
        'prune-height',
        `the chain is shorter (${tip}) than the prune height asked (${height})`,
      );
    const to = Math.min(height, this.limit());
    while (this.#m.chain.pruneHeight < to && this.#pruneUpTo(to, Number.POSITIVE_INFINITY) > 0);
    return this.#m.chain.pruneHeight;
  }

  /** Deletes the blocks after the prune height up to `to`, at most one batch and about `bytes`. */
  #pruneUpTo(to: number, bytes: number): number {
    const chain = this.#m.chain;
    const from = chain.pruneHeight + 1;
    const last = Math.min(to, from + this.#batch - 1);
    if (last < from) return 0;
    const blocks = this.#m.db.db('blocks');
    const undo = this.#m.db.db('undo');
    let height = from - 1;
    this.#m.db.write(() => {
      let freed = 0;
      for (let h = from; h <= last && freed < bytes; h++) {
        const key = Buffer.from(chain.entryAt(h)!.hash);
        freed += blocks.valueBytes(key) + undo.valueBytes(key);
        blocks.removeSync(key);
        undo.removeSync(key);
        height = h;
      }
      writePruneHeight(this.#m.db, height);
    });
    const count = height - from + 1;
    // memory follows the disk once the commit succeeded
    chain.pruneHeight = height;
    this.pruned += count;
    this.#m.logger.debug({ from, to: height }, `pruned blocks ${from}–${height}`);
    return count;
  }
}

/** True when `e`'s block data was pruned (an active block at or below the prune height, without data). */
export function isPruned(chain: Chain, e: IndexEntry): boolean {
  return e.height <= chain.pruneHeight && chain.isActive(e) && chain.getRawBlock(e.hash) === undefined;
}
