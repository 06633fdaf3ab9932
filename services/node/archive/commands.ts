/**
 * The `export-blocks` and `import-blocks` commands of cairnd: they open the node's database
 * alone (the pid file: a running node refuses them, exit 5), run an export or import, log what
 * was done and return the exit code. Errors are thrown for main.ts to map (exit-codes.ts).
 */
import { join } from 'node:path';
import {
  effectiveVerifyWorkers,
  mapSizeBytes,
  type NodeConfig,
  reservoirMaxBytes,
} from '../../../shared/config/node-config.ts';
import { NETWORKS } from '../../../shared/core/params/networks.ts';
import type { Logger } from '../../../shared/log.ts';
import { ChainState, type ChainStateOptions } from '../chain-state.ts';
import { EXIT } from '../exit-codes.ts';
import { acquirePidFile } from '../pid-file.ts';
import { exportBlocks } from './export.ts';
import { importBlocks } from './import.ts';
import { ArchiveProgress } from './progress.ts';

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

function stateOptions(c: NodeConfig, verifyWorkers: number): ChainStateOptions {
  return {
    dataDir: c.data_dir,
    params: NETWORKS[c.network],
    verifyWorkers,
    durable: c.storage.durable,
    minFreeBytes: c.storage.min_free_mb === null ? 'auto' : c.storage.min_free_mb * 1_000_000,
    mapSize: mapSizeBytes(c),
    reservoir: { maxBytes: reservoirMaxBytes(c), minRelayFeeRate: c.reservoir.min_relay_fee_rate },
  };
}

/**
 * Runs `work` with the data directory to itself, the chain open, and SIGINT/SIGTERM turned into an
 * abort (a second signal exits at once: every committed block is safe, the rest is redone).
 */
async function withChain<T>(
  c: NodeConfig,
  log: Logger,
  verifyWorkers: number,
  work: (state: ChainState, signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const release = acquirePidFile(join(c.data_dir, 'cairnd.pid'));
  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (abort.signal.aborted) {
      log.warn(`${signal} again: exiting at once`);
      process.exit(EXIT.interrupted);
    }
    log.info({ signal }, `${signal}: stopping after the blocks in hand`);
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const state = await ChainState.open(stateOptions(c, verifyWorkers), { logger: log });
    try {
      return await work(state, abort.signal);
    } finally {
      await state.close();
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    release();
  }
}

export async function exportCommand(
  c: NodeConfig,
  log: Logger,
  file: string,
  opts: { from?: number; to?: number; force?: boolean },
): Promise<number> {
  return withChain(c, log, 0, async (state, signal) => {
    const t0 = performance.now();
    const progress = new ArchiveProgress('exporting', log);
    const tip = state.chain.tipHeight();
    progress.begin(opts.from ?? 1, opts.to ?? tip);
    const r = await exportBlocks(state.chain, file, {
      ...opts,
      signal,
      onBlock: (h) => {
        if (h % 256 === 0) progress.report(h);
      },
    });
    progress.end();
    const seconds = (performance.now() - t0) / 1000;
    if (r.interrupted) {
      log.warn({ file }, `export interrupted: ${file} was not written`);
      return EXIT.interrupted;
    }
    log.info(
      { file, from: r.from, to: r.to, blocks: r.count, bytes: r.bytes, seconds },
      `exported ${r.count} blocks (heights ${r.from} to ${r.to}, ${mb(r.bytes)} MB) to ${file} in ${seconds.toFixed(1)} s`,
    );
    return EXIT.ok;
  });
}

export async function importCommand(c: NodeConfig, log: Logger, file: string): Promise<number> {
  return withChain(c, log, effectiveVerifyWorkers(c), async (state, signal) => {
    const progress = new ArchiveProgress('importing', log);
    try {
      const r = await importBlocks(state.chain, file, {
        logger: log,
        signal,
        onChecked: (s, tip) => {
          log.info(
            { file, from: s.header.from, to: s.to, blocks: s.count, bytes: s.size },
            `checked ${file}: ${s.count} blocks, heights ${s.header.from} to ${s.to} (${mb(s.size)} MB); the chain is at height ${tip}`,
          );
          progress.begin(tip, s.to);
        },
        onBatch: (tip) => {
          log.debug({ height: tip }, `committed up to height ${tip}`);
          progress.report(tip);
        },
      });
      progress.end();
      const rate = r.applySeconds > 0 ? Math.round(r.txs / r.applySeconds) : 0;
      const fields = { ...r, rate };
      if (r.interrupted) {
        log.warn(fields, `import interrupted at height ${r.tipHeight}: run the same command again to resume`);
        return EXIT.interrupted;
      }
      log.info(
        fields,
        `imported ${r.processed} blocks (${r.txs} transactions, ${r.skipped} already in the chain) from ${file} in ${r.applySeconds.toFixed(1)} s (${rate} tx/s, file checked in ${r.checkSeconds.toFixed(1)} s); the chain is at height ${r.tipHeight}`,
      );
      return EXIT.ok;
    } finally {
      progress.end();
    }
  });
}
