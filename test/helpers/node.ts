/** Test helpers for the node's chain state: real LMDB in temp dirs, real verifier, silent logs. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Chain, type ChainOptions } from '../../services/node/chain/chain.ts';
import { ChainDb } from '../../services/node/db/chain-db.ts';
import { toHex } from '../../shared/core/bytes.ts';
import { LOCAL } from '../../shared/core/params/networks.ts';
import type { NetworkParams } from '../../shared/core/params/types.ts';
import type { BatchVerifier } from '../../shared/crypto/batch.ts';
import { loadVerifier } from '../../shared/crypto/load.ts';
import { silentLogger } from '../../shared/log.ts';

export const verifier = loadVerifier('auto').verifier;

export function tempDir(prefix = 'cairn-test-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface OpenChain {
  chain: Chain;
  db: ChainDb;
  close: () => void;
}

export function openChain(
  path: string,
  p: NetworkParams = LOCAL,
  opts: ChainOptions = {},
  batchVerifier?: BatchVerifier,
): OpenChain {
  const db = ChainDb.open({ path, params: p });
  const chain = new Chain(opts, {
    params: p,
    db,
    verifier,
    logger: silentLogger(),
    ...(batchVerifier ? { batchVerifier } : {}),
  });
  return { chain, db, close: () => db.close() };
}

export function digestHex(c: Chain): string {
  return toHex(c.ledger.digest());
}

import type { IndexEntry } from '../../services/node/chain/block-index.ts';
import type { DecodedBlock } from '../../shared/core/block/types.ts';
import { blockSubsidy } from '../../shared/core/params/networks.ts';
import type { DecodedTx } from '../../shared/core/tx/types.ts';
import { assembleBlock, coinbase, out } from './chain.ts';

/** A valid block on `parent` paying `payTo` subsidy + fees; `tag` makes sibling blocks differ. */
export function blockOn(
  parent: IndexEntry,
  txs: DecodedTx[],
  payTo: Uint8Array,
  fees = 0,
  tag = '',
  p: NetworkParams = LOCAL,
): DecodedBlock {
  const h = parent.height + 1;
  const cb = coinbase(h, [out(payTo, blockSubsidy(h, p) + fees)], tag);
  return assembleBlock(
    { hash: parent.hash, height: parent.height, time: parent.header.time, anchorTime: parent.anchorTime },
    [cb, ...txs],
    p,
  );
}
