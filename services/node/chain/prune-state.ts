/**
 * Pruning's one persistent fact: the prune height, kept in `meta`. Every active block at or below
 * it may have lost its raw data and undo data (docs/operations.md §Pruning); above it nothing is
 * deleted. It is written in the same LMDB transaction as the deletions it covers, so a crash
 * leaves either both or neither.
 */
import { Buffer } from 'node:buffer';
import type { ChainDb } from '../db/chain-db.ts';
import { u32be } from '../db/keys.ts';

const META_PRUNE_HEIGHT = Buffer.from('pruneheight');

/**
 * Blocks below the tip never pruned, as Bitcoin Core's MIN_BLOCKS_TO_KEEP: the deepest reorg a
 * pruned node can follow, and what it still serves to peers.
 */
export const MIN_BLOCKS_TO_KEEP = 288;

/** 0 = nothing pruned yet (genesis is never pruned). */
export function readPruneHeight(db: ChainDb): number {
  const v = db.db('meta').get(META_PRUNE_HEIGHT);
  return v === undefined || v.length !== 4 ? 0 : v.readUInt32BE(0);
}

/** Inside ChainDb.write, with the deletions it covers. */
export function writePruneHeight(db: ChainDb, height: number): void {
  db.db('meta').putSync(META_PRUNE_HEIGHT, u32be(height));
}
