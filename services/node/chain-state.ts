/**
 * The node's state without networking: LMDB storage, the chain manager, the reservoir and the
 * fee estimator, wired together, opened in dependency order and closed in reverse (reservoir cache
 * saved, worker threads stopped, LMDB closed). cairnd's composition root builds one of these; tests
 * and benchmarks use it directly.
 */
import { join } from 'node:path';
import { hashToHex } from '../../shared/core/bytes.ts';
import { UsageError } from '../../shared/core/errors.ts';
import type { NetworkParams } from '../../shared/core/params/types.ts';
import {
  type BatchVerifier,
  createBatchVerifier,
  type PoolLoss,
  poolLossMessage,
} from '../../shared/crypto/batch.ts';
import { loadVerifier, type VerifierBackend, type VerifierPreference } from '../../shared/crypto/load.ts';
import type { Logger } from '../../shared/log.ts';
import { Chain, type ChainOptions } from './chain/chain.ts';
import { Pruner, type PrunerOptions } from './chain/pruner.ts';
import { ChainDb } from './db/chain-db.ts';
import { solveTemplate } from './mining/solve.ts';
import { type BlockTemplate, buildTemplate, type TemplateRequest } from './mining/template.ts';
import { loadReservoirCache, saveReservoirCache } from './reservoir/cache.ts';
import { FeeEstimator } from './reservoir/fee-estimator.ts';
import { Reservoir, type ReservoirOptions } from './reservoir/reservoir.ts';
import { TxSubmitter } from './reservoir/submitter.ts';

export interface ChainStateOptions {
  readonly dataDir: string;
  readonly params: NetworkParams;
  readonly chain?: ChainOptions;
  readonly reservoir?: ReservoirOptions;
  /** secp256k1 backend: 'auto' picks the fastest that loads. */
  readonly verifier?: VerifierPreference;
  /** Worker threads verifying block signatures besides the main thread (default: cores − 1). */
  readonly verifyWorkers?: number;
  /** fsync every block commit (default true). */
  readonly durable?: boolean;
  /** Stop writing (and refuse to open) while less than this is free under the data directory. Default 0: no check. */
  readonly minFreeBytes?: number | 'auto';
  /** LMDB map size in bytes (default 64 GiB). */
  readonly mapSize?: number;
  /** Prune old blocks (storage.prune_mb); undefined: keep every block. */
  readonly prune?: PrunerOptions;
}

export interface ChainStateModules {
  readonly logger: Logger;
  /** Seconds since the epoch. */
  readonly clock?: () => number;
}

export const RESERVOIR_CACHE_FILE = 'reservoir.dat';

export class ChainState {
  readonly params: NetworkParams;
  readonly db: ChainDb;
  readonly chain: Chain;
  readonly reservoir: Reservoir;
  /**
   * Every submission from outside (RPC clients, peers) goes through this one: concurrent ones are
   * verified in batches on the verify workers and enter the pool in the order they came.
   */
  readonly submitter: TxSubmitter;
  readonly fees: FeeEstimator;
  /** Deletes old blocks in the background when pruning is on. */
  readonly pruner: Pruner | undefined;
  readonly #batch: BatchVerifier | undefined;
  readonly #log: Logger;
  readonly #clock: () => number;
  readonly #cachePath: string;
  #closed = false;

  private constructor(
    params: NetworkParams,
    parts: {
      db: ChainDb;
      chain: Chain;
      reservoir: Reservoir;
      fees: FeeEstimator;
      batch: BatchVerifier | undefined;
      pruner: Pruner | undefined;
    },
    log: Logger,
    clock: () => number,
    cachePath: string,
  ) {
    this.params = params;
    this.db = parts.db;
    this.chain = parts.chain;
    this.reservoir = parts.reservoir;
    this.submitter = new TxSubmitter(parts.reservoir, parts.batch, params.genesisHash, clock);
    this.fees = parts.fees;
    this.pruner = parts.pruner;
    this.#batch = parts.batch;
    this.#log = log;
    this.#clock = clock;
    this.#cachePath = cachePath;
  }

  /** Opens storage, loads the chain (finishing any interrupted switch) and reloads the pool cache. */
  /** Why the verify workers are no longer used (the node verifies on its main thread), if so. */
  get verifyPoolLoss(): PoolLoss | undefined {
    return this.#batch?.lost;
  }

  static async open(opts: ChainStateOptions, modules: ChainStateModules): Promise<ChainState> {
    const log = modules.logger;
    const clock = modules.clock ?? (() => Math.floor(Date.now() / 1000));
    const loaded = loadVerifier(opts.verifier ?? 'auto');
    for (const f of loaded.fallbacks) {
      log.warn(
        { module: 'crypto', backend: f.name, reason: f.reason },
        `secp256k1 ${f.name} backend failed to load: ${f.reason}`,
      );
    }
    log.info(
      { module: 'crypto', backend: loaded.verifier.name },
      `signature verification: ${loaded.verifier.name}`,
    );
    const verifier = loaded.verifier;
    const workers = opts.verifyWorkers;
    const batch =
      workers === 0
        ? undefined
        : createBatchVerifier(verifier, {
            backend: verifier.name as VerifierBackend,
            params: opts.params,
            ...(workers === undefined ? {} : { workers }),
            onLost: (loss) => log.warn({ module: 'crypto', ...loss }, poolLossMessage(loss)),
          });

    const db = ChainDb.open({
      path: join(opts.dataDir, 'chain'),
      params: opts.params,
      ...(opts.durable === undefined ? {} : { durable: opts.durable }),
      ...(opts.minFreeBytes === undefined ? {} : { minFreeBytes: opts.minFreeBytes }),
      ...(opts.mapSize === undefined ? {} : { mapSize: opts.mapSize }),
    });
    let chain: Chain;
    try {
      chain = new Chain(opts.chain ?? {}, {
        params: opts.params,
        db,
        verifier,
        logger: log.child({ module: 'chain' }),
        clock,
        ...(batch ? { batchVerifier: batch } : {}),
      });
    } catch (e) {
      db.close();
      await batch?.close();
      throw e;
    }
    const reservoir = new Reservoir(opts.reservoir ?? {}, {
      chain,
      verifier,
      logger: log.child({ module: 'reservoir' }),
    });
    const fees = new FeeEstimator();
    const pruner =
      opts.prune === undefined
        ? undefined
        : new Pruner(opts.prune, { chain, db, logger: log.child({ module: 'prune' }) });
    if (pruner === undefined && chain.pruneHeight > 0)
      log.warn(
        { pruneHeight: chain.pruneHeight },
        `blocks up to height ${chain.pruneHeight} were pruned before: the node stays pruned (storage.prune_mb only stops further pruning)`,
      );
    const state = new ChainState(
      opts.params,
      { db, chain, reservoir, fees, batch, pruner },
      log,
      clock,
      join(opts.dataDir, RESERVOIR_CACHE_FILE),
    );
    state.#wire();

    const r = await loadReservoirCache(state.#cachePath, reservoir, { now: clock(), logger: log });
    if (r.status === 'loaded')
      log.info(
        { module: 'reservoir', ...r },
        `reservoir cache: ${r.accepted} of ${r.entries} transactions reloaded`,
      );
    else if (r.status === 'skipped')
      log.warn({ module: 'reservoir', code: r.error.code }, `reservoir cache skipped: ${r.error.message}`);
    log.info(
      { height: chain.tipHeight(), tip: hashToHex(chain.tip.hash) },
      `chain at height ${chain.tipHeight()}`,
    );
    if (pruner !== undefined) {
      log.info(
        { targetMb: pruner.targetBytes / 1e6, pruneHeight: chain.pruneHeight, keep: pruner.keepBlocks },
        `pruning on: block data kept under ${pruner.targetBytes / 1e6} MB, never the last ${pruner.keepBlocks} blocks`,
      );
      pruner.start();
    }
    return state;
  }

  /**
   * The chain tells the pool (after each commit) and the pool tells the fee estimator. Order:
   * disconnects tip first, then connects in chain order — what the reservoir requires.
   */
  #wire(): void {
    this.chain.on('block:connected', (block) => this.reservoir.blockConnected(block.txs));
    this.chain.on('block:disconnected', (block, entry) => {
      this.reservoir.blockDisconnected(block.txs, this.#clock());
      this.fees.blockDisconnected(entry.height);
    });
    this.reservoir.on('block:connected', (_txs, confirmed) => {
      this.fees.processBlock(
        this.chain.tipHeight(),
        confirmed.map((e) => e.feeRate),
      );
    });
  }

  /** The verify workers (undefined with `verifyWorkers = 0`): the RPC's mempool batches use them too. */
  get batchVerifier(): BatchVerifier | undefined {
    return this.#batch;
  }

  /** A block template for the next block (valid by construction). */
  template(req: Omit<TemplateRequest, 'now'> & { now?: number }): BlockTemplate {
    return buildTemplate(
      { ...req, now: req.now ?? this.#clock() },
      { chain: this.chain, source: this.reservoir },
    );
  }

  /**
   * Mines `count` blocks on this thread paying `owner` (network local only, like Bitcoin Core's
   * generatetoaddress on regtest): tests and the devnet need blocks without a recorder.
   */
  generate(count: number, owner: Uint8Array): Uint8Array[] {
    if (this.params.name !== 'local')
      throw new UsageError(`generate is for network local only, not ${this.params.name}`);
    const hashes: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      const t = this.template({ payouts: [{ owner }] });
      const raw = solveTemplate(t);
      if (raw === null) throw new UsageError('no nonce found for a local template');
      const r = this.chain.processBlock(raw);
      if (r.status !== 'connected')
        throw new UsageError(`a generated block was not connected: ${r.status} ${r.error?.message ?? ''}`);
      hashes.push(r.hash);
    }
    return hashes;
  }

  /** Saves the pool, stops the verifier threads and closes LMDB, in that order. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.pruner?.stop();
    try {
      const saved = await saveReservoirCache(this.#cachePath, this.reservoir);
      this.#log.info({ module: 'reservoir', ...saved }, `reservoir cache saved: ${saved.count} transactions`);
    } catch (e) {
      this.#log.error(
        { module: 'reservoir', err: e },
        `could not save the reservoir cache: ${(e as Error).message}`,
      );
    }
    this.chain.removeAllListeners();
    this.reservoir.removeAllListeners();
    await this.#batch?.close();
    this.db.close();
  }
}
