/**
 * The node's honest status (issue 11): is it following the chain, and if not, why. A watchdog
 * checks once a second that the tip moves while more work is known, that storage still takes
 * writes and that the chain's invariants hold; what it finds is logged (a warning when it starts,
 * again every period while it lasts, an info line when it ends) and read by RPC
 * (`getblockchaininfo.warnings`, `initialblockdownload`) and metrics.
 */
import { type PoolLoss, poolLossMessage } from '../../../shared/crypto/batch.ts';
import type { Logger } from '../../../shared/log.ts';
import type { Chain } from '../chain/chain.ts';
import type { StorageError } from '../db/errors.ts';

export interface ChainHealthOptions {
  /** Tip unmoved this long while more work is known = stalled (s). */
  readonly stallSeconds: number;
  /** Behind the best known header by more than this many blocks = initial block download. */
  readonly ibdBlocks?: number;
}

export interface ChainHealthModules {
  readonly chain: Chain;
  readonly logger: Logger;
  /** The write failure that stopped storage, if any. */
  readonly storageFailure: () => StorageError | undefined;
  /** Connected outbound peers, for the warning's text. */
  readonly peers: () => number;
  /** Why the verify workers are no longer used, if so (signatures then take the main thread). */
  readonly verifyPoolLoss?: () => PoolLoss | undefined;
  /** Milliseconds (monotonic enough); injectable for tests. */
  readonly now?: () => number;
}

const CHECK_MS = 1000;
const IBD_BLOCKS = 24;

export class ChainHealth {
  readonly #o: ChainHealthOptions;
  readonly #m: ChainHealthModules;
  readonly #now: () => number;
  #tipKey: string;
  #tipMovedAt: number;
  #stalledSince: number | undefined;
  #lastWarnAt = 0;
  #invariantProblem: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Times a stall began (for metrics). */
  stalls = 0;

  constructor(opts: ChainHealthOptions, modules: ChainHealthModules) {
    this.#o = opts;
    this.#m = modules;
    this.#now = modules.now ?? Date.now;
    this.#tipKey = modules.chain.tip.key;
    this.#tipMovedAt = this.#now();
  }

  start(): void {
    this.#timer ??= setInterval(() => this.check(), CHECK_MS);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Blocks between the tip and the best known header. */
  behindBlocks(): number {
    const c = this.#m.chain;
    return Math.max(0, c.bestHeader().height - c.tipHeight());
  }

  /** True while far behind the best known header (Core's `initialblockdownload`). */
  initialBlockDownload(): boolean {
    return this.behindBlocks() > (this.#o.ibdBlocks ?? IBD_BLOCKS);
  }

  /** Seconds the tip has been unmoved while more work is known; 0 when not stalled. */
  stalledSeconds(): number {
    return this.#stalledSince === undefined ? 0 : Math.floor((this.#now() - this.#stalledSince) / 1000);
  }

  get stalled(): boolean {
    return this.#stalledSince !== undefined;
  }

  /** What an operator must know, worst first; empty when all is well. */
  warnings(): string[] {
    const out: string[] = [];
    const failed = this.#m.storageFailure();
    if (failed !== undefined) out.push(`storage failed, node stopping: ${failed.message}`);
    if (this.#invariantProblem !== undefined)
      out.push(`chain state inconsistent: ${this.#invariantProblem}: stop the node and run cairnd reindex`);
    if (this.#stalledSince !== undefined) out.push(this.#stallText());
    // pruning: a heavier chain this node cannot reorg to (chain.ts refuses it)
    const refused = this.#m.chain.refusedReorg;
    if (refused !== undefined) out.push(`reorg refused: ${refused.error.message}`);
    const lost = this.#m.verifyPoolLoss?.();
    if (lost !== undefined) out.push(poolLossMessage(lost));
    return out;
  }

  #stallText(): string {
    const c = this.#m.chain;
    return `sync stalled: no new block for ${this.stalledSeconds()} s at height ${c.tipHeight()} while peers have shown headers to ${c.bestHeader().height} (${this.#m.peers()} outbound peers)`;
  }

  /** One watchdog step (the timer calls it each second). */
  check(): void {
    const c = this.#m.chain;
    const now = this.#now();
    if (c.tip.key !== this.#tipKey) {
      this.#tipKey = c.tip.key;
      this.#tipMovedAt = now;
    }
    // after a storage failure memory may be ahead of the disk (a batch undone there): the node is
    // stopping and a restart reloads from disk, so no "run reindex" for it
    const problems = this.#m.storageFailure() === undefined ? c.checkInvariants() : [];
    const problem = problems.length === 0 ? undefined : problems.join('; ');
    if (problem !== undefined && problem !== this.#invariantProblem)
      this.#m.logger.error({ problems }, `chain state inconsistent: ${problem}`);
    this.#invariantProblem = problem;

    const behind = c.bestHeader().work > c.tip.work;
    const stuck =
      behind &&
      this.#m.storageFailure() === undefined &&
      now - this.#tipMovedAt >= this.#o.stallSeconds * 1000;
    if (stuck && this.#stalledSince === undefined) {
      this.#stalledSince = this.#tipMovedAt;
      this.stalls++;
    }
    if (!stuck && this.#stalledSince !== undefined) {
      this.#m.logger.info(
        { height: c.tipHeight(), stalledSeconds: Math.floor((now - this.#stalledSince) / 1000) },
        `sync resumed at height ${c.tipHeight()}`,
      );
      this.#stalledSince = undefined;
      this.#lastWarnAt = 0;
    }
    if (this.#stalledSince !== undefined && now - this.#lastWarnAt >= this.#o.stallSeconds * 1000) {
      this.#lastWarnAt = now;
      this.#m.logger.warn(
        { height: c.tipHeight(), headers: c.bestHeader().height, stalledSeconds: this.stalledSeconds() },
        this.#stallText(),
      );
    }
  }
}
