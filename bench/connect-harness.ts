/**
 * The syncing main thread's own work, without a network or a second process: builds the p2p
 * bench's chain (half the transfers with two inputs), opens a ChainState as cairnd does (one verify
 * worker) and connects the transfer blocks the way BlockConnector does: a worker prepares a group
 * of 64, then `processBlocks` connects it. What bench/alloc-profile.ts and
 * bench/connect-profile.ts measure around.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChainState } from '../services/node/chain-state.ts';
import { LOCAL } from '../shared/core/params/networks.ts';
import { silentLogger } from '../shared/log.ts';
import { buildChain } from './p2p.ts';

export const GROUP = 64;

export interface ConnectRun {
  transfers: number;
  blocks: number;
  /** Milliseconds inside processBlocks (the connect), prepares excluded. */
  connectMs: number;
  /** Blocks the worker prepared (the rest were checked on this thread). */
  prepared: number;
}

/**
 * Connects the chain's transfer blocks; `around` runs once the funding blocks are in, with the
 * connect loop to run (so a profiler can be started before and stopped after it).
 */
export async function connectChain(
  opts: { blocks: number; perBlock: number; durable?: boolean; group?: number },
  around: (connect: () => Promise<ConnectRun>) => Promise<void>,
): Promise<void> {
  const { raw, txs } = buildChain(opts.blocks, opts.perBlock, { twoInputs: true });
  const dir = mkdtempSync(join(tmpdir(), 'cairn-connect-'));
  const state = await ChainState.open(
    {
      dataDir: dir,
      params: LOCAL,
      verifyWorkers: 1,
      ...(opts.durable === undefined ? {} : { durable: opts.durable }),
    },
    { logger: silentLogger() },
  );
  try {
    const chain = state.chain;
    const funding = raw.length - opts.blocks;
    for (const r of raw.slice(0, funding)) chain.processBlock(r);
    await around(async () => {
      let connectMs = 0;
      const size = opts.group ?? GROUP;
      for (let i = funding; i < raw.length; i += size) {
        const group = raw.slice(i, i + size);
        await chain.prepare(group);
        const t0 = performance.now();
        for (const r of chain.processBlocks(group))
          if (r.status !== 'connected') throw new Error(`bench block refused: ${r.status}`);
        connectMs += performance.now() - t0;
      }
      return { transfers: txs - funding, blocks: opts.blocks, connectMs, prepared: chain.preparedBlocks };
    });
  } finally {
    await state.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
