/**
 * The chain manager: accepts headers and blocks in any order, keeps the header tree, follows the
 * chain with the most cumulative work, and connects / disconnects blocks each in ONE storage
 * transaction (ledger effects, undo data, indexes and tip together), so a crash leaves the state
 * of a block boundary and a restart resumes. Reorgs of any depth. Invalid blocks are marked with
 * their descendants and never retried.
 */
import { decodeBlock, decodePreparedBlock } from '../../../shared/core/block/codec.ts';
import { headerHash } from '../../../shared/core/block/header.ts';
import type { BlockHeader, DecodedBlock } from '../../../shared/core/block/types.ts';
import { hashToHex } from '../../../shared/core/bytes.ts';
import { CairnError, ValidationError } from '../../../shared/core/errors.ts';
import type { NetworkParams } from '../../../shared/core/params/types.ts';
import { targetFromBits, workFromTarget } from '../../../shared/core/pow/compact.ts';
import type { SignatureVerifier } from '../../../shared/core/signature.ts';
import { checkTxSignatures, collectSignatureChecks } from '../../../shared/core/tx/check.ts';
import { checkBlock, checkHeader } from '../../../shared/core/validation/block-check.ts';
import { type BlockEffects, connectBlock } from '../../../shared/core/validation/connect.ts';
import { checkHeaderContext } from '../../../shared/core/validation/header-context.ts';
import type { LedgerView } from '../../../shared/core/validation/view.ts';
import type { BatchVerifier } from '../../../shared/crypto/batch.ts';
import { TypedEmitter } from '../../../shared/events.ts';
import type { Logger } from '../../../shared/log.ts';
import type { ChainDb } from '../db/chain-db.ts';
import { StorageError } from '../db/errors.ts';
import { BlockStatus } from '../db/records.ts';
import { BlockIndex, type IndexEntry } from './block-index.ts';
import { BlockStore } from './block-store.ts';
import { ChainError } from './errors.ts';
import { LedgerStore } from './ledger-store.ts';
import { OrphanBlocks } from './orphans.ts';
import { PruneError } from './prune-errors.ts';
import { readPruneHeight } from './prune-state.ts';

export interface ChainOptions {
  /** Blocks whose parent is unknown, kept until it arrives. Default 64. */
  readonly maxOrphans?: number;
  /** Total bytes of orphan blocks. Default 32 MB. */
  readonly maxOrphanBytes?: number;
  /**
   * Raw bytes of the decoded blocks kept between arrival and connection (at most 32 blocks; the
   * newest is always kept). Decoded, a block takes about 8× its raw size in memory. Default 8 MB.
   */
  readonly decodedCacheBytes?: number;
}

export interface ChainModules {
  readonly params: NetworkParams;
  readonly db: ChainDb;
  readonly verifier: SignatureVerifier;
  /** Verifies a block's signatures on several threads; without it they are verified inline. */
  readonly batchVerifier?: BatchVerifier;
  readonly logger: Logger;
  /** Seconds since the epoch; the validating node's clock. */
  readonly clock?: () => number;
}

export type BlockStatusName = 'connected' | 'side' | 'orphan' | 'duplicate' | 'invalid';

export interface BlockResult {
  readonly status: BlockStatusName;
  readonly hash: Uint8Array;
  readonly error?: CairnError;
}

export interface ReorgInfo {
  readonly depth: number;
  readonly from: IndexEntry;
  readonly to: IndexEntry;
  readonly fork: IndexEntry;
}

/** A reorg refused because its blocks to disconnect were pruned. */
export interface RefusedReorg {
  readonly depth: number;
  readonly fork: IndexEntry;
  readonly best: IndexEntry;
  readonly pruneHeight: number;
  readonly error: ChainError;
}

export type ChainEvents = {
  'block:connected': [block: DecodedBlock, entry: IndexEntry, effects: BlockEffects];
  'block:disconnected': [block: DecodedBlock, entry: IndexEntry];
  tip: [entry: IndexEntry];
  reorg: [info: ReorgInfo];
  /** A better chain forks below the prune height: not followed (pruning). */
  'reorg:refused': [info: RefusedReorg];
  'block:invalid': [hash: Uint8Array, error: CairnError];
  /** Time spent validating a block: `check` = header and stateless rules, `connect` = contextual rules and the commit. */
  'block:validated': [stage: 'check' | 'connect', seconds: number];
};

const DECODED_CACHE = 32;

export class Chain extends TypedEmitter<ChainEvents> {
  readonly params: NetworkParams;
  readonly ledger: LedgerStore;
  readonly #db: ChainDb;
  readonly #blocks: BlockStore;
  readonly #index = new BlockIndex();
  readonly #orphans: OrphanBlocks;
  readonly #verifier: SignatureVerifier;
  readonly #batch: BatchVerifier | undefined;
  readonly #log: Logger;
  readonly #clock: () => number;
  /** Active chain, height → entry. */
  #active: IndexEntry[] = [];
  /**
   * Decoded blocks not connected yet (a side branch), so a block is decoded once between arrival
   * and connection; a block leaves when it is connected (a disconnect decodes it again from disk).
   */
  readonly #decoded = new Map<string, DecodedBlock>();
  #decodedBytes = 0;
  readonly #decodedMaxBytes: number;
  /**
   * Pruning (pruner.ts): active blocks at or below this height may have no data or undo data, so
   * no reorg may fork below it. 0 = nothing pruned. Set by the Pruner after each commit.
   */
  pruneHeight = 0;
  /** Branches refused as too deep to reorg to (in memory: re-decided at each start). */
  readonly #tooDeep = new WeakSet<IndexEntry>();
  /** The last reorg refused for pruning, for warnings. */
  refusedReorg: RefusedReorg | undefined;

  constructor(opts: ChainOptions, modules: ChainModules) {
    super();
    this.params = modules.params;
    this.#db = modules.db;
    this.#verifier = modules.verifier;
    this.#batch = modules.batchVerifier;
    this.#log = modules.logger;
    this.#clock = modules.clock ?? (() => Math.floor(Date.now() / 1000));
    this.#blocks = new BlockStore(this.#db);
    this.ledger = new LedgerStore(this.#db);
    this.#orphans = new OrphanBlocks(opts.maxOrphans ?? 64, opts.maxOrphanBytes ?? 32_000_000);
    this.#decodedMaxBytes = opts.decodedCacheBytes ?? 8_000_000;
    this.#load();
  }

  // ---- start-up ----

  /** Loads the header tree; writes genesis into an empty database; finishes an interrupted switch. */
  #load(): void {
    let records = this.#blocks.allHeaders();
    if (records.length === 0) {
      this.#writeGenesis();
      records = this.#blocks.allHeaders();
    }
    for (const { hash, record } of records) {
      const parent = record.height === 0 ? null : this.#index.get(record.header.prevHash);
      if (record.height > 0 && parent === undefined) {
        throw new StorageError(
          'storage-corrupt',
          `header ${hashToHex(hash)} at height ${record.height} has no stored parent`,
        );
      }
      this.#index.add(hash, record.header, record.height, record.work, record.status, parent ?? null);
    }
    const tipHash = this.ledger.tipHash();
    const tip = tipHash === undefined ? undefined : this.#index.get(tipHash);
    if (tip === undefined)
      throw new StorageError(
        'storage-corrupt',
        'the stored tip is not in the header index: run cairnd reindex',
      );
    this.#active = new Array(tip.height + 1);
    for (let e: IndexEntry | null = tip; e !== null; e = e.parent) this.#active[e.height] = e;
    const stored = this.ledger.hashAt(tip.height);
    if (stored === undefined || hashToHex(stored) !== hashToHex(tip.hash)) {
      throw new StorageError(
        'storage-corrupt',
        'the active chain does not end at the stored tip: run cairnd reindex',
      );
    }
    this.pruneHeight = readPruneHeight(this.#db);
    this.activateBestChain();
  }

  #writeGenesis(): void {
    const g = decodeBlock(this.params.genesisBlock);
    const work = workFromTarget(targetFromBits(g.header.bits, this.params.powLimit) ?? 1n);
    this.#db.write(() => {
      this.#blocks.putBlock(g.hash, this.params.genesisBlock);
      this.#blocks.putHeader(g.hash, g.header, 0, work, BlockStatus.valid);
      this.#writeGenesisState(g);
    });
  }

  /** Genesis is the root of the active chain; its coinbase pays nothing and creates no coin. */
  #writeGenesisState(g: DecodedBlock): void {
    this.ledger.applyConnect(g, 0, { height: 0, fees: 0, spent: [], created: [], assets: [] });
  }

  // ---- queries ----

  get tip(): IndexEntry {
    return this.#active[this.#active.length - 1]!;
  }

  tipHeight(): number {
    return this.#active.length - 1;
  }

  /** Facts of the tip a block template needs. */
  tipInfo(): { hash: Uint8Array; height: number; time: number; recentTimes: number[]; anchorTime: number } {
    const t = this.tip;
    return {
      hash: t.hash,
      height: t.height,
      time: t.header.time,
      anchorTime: t.anchorTime,
      recentTimes: this.#index.recentTimes(t, this.params.medianTimeSpan),
    };
  }

  /** The ledger at the tip, for validation of pool transactions. */
  view(): LedgerView {
    return this.ledger;
  }

  entry(hash: Uint8Array): IndexEntry | undefined {
    return this.#index.get(hash);
  }

  /** Entry of the active chain at `height`. */
  entryAt(height: number): IndexEntry | undefined {
    return this.#active[height];
  }

  isActive(e: IndexEntry): boolean {
    return this.#active[e.height] === e;
  }

  getRawBlock(hash: Uint8Array): Uint8Array | undefined {
    return this.#blocks.getBlock(hash);
  }

  getBlock(hash: Uint8Array): DecodedBlock | undefined {
    const key = hashToHex(hash);
    const cached = this.#decoded.get(key);
    if (cached !== undefined) return cached;
    const raw = this.#blocks.getBlock(hash);
    return raw === undefined ? undefined : decodeBlock(raw);
  }

  /** The header with the most work that is not invalid (it may lack block data: sync fetches it). */
  bestHeader(): IndexEntry {
    // the tip keeps its place against headers of equal work
    const top = this.#index.topHeader();
    return top !== undefined && top.work > this.tip.work ? top : this.tip;
  }

  /** Block locator of the chain ending at `e` (its header chain, data or not). */
  locatorFrom(e: IndexEntry): Uint8Array[] {
    const out: Uint8Array[] = [];
    let step = 1;
    let x: IndexEntry | undefined = e;
    while (x !== undefined && x.height > 0) {
      out.push(x.hash);
      if (out.length >= 10) step *= 2;
      x = this.#index.ancestor(x, Math.max(0, x.height - step));
    }
    out.push(this.#active[0]!.hash);
    return out;
  }

  /**
   * Hashes of the blocks on the way to `target` that have no data yet, oldest first, at most
   * `limit`: what sync downloads next. The whole path down to the active chain is walked: blocks
   * relayed while we were behind have data above blocks that still lack it, and stopping at the
   * first of them left the ones below never asked for (the stall of issue 11).
   */
  missingBlocks(target: IndexEntry, limit: number): Uint8Array[] {
    if (limit <= 0) return [];
    // walking down finds the newest first: keep the last `limit` found in a ring
    const ring: Uint8Array[] = [];
    let found = 0;
    for (let e: IndexEntry | null = target; e !== null && !this.isActive(e); e = e.parent) {
      if (e.status !== BlockStatus.headerOnly) continue;
      ring[found % limit] = e.hash;
      found++;
    }
    const out: Uint8Array[] = [];
    for (let i = found - 1; i >= Math.max(0, found - limit); i--) out.push(ring[i % limit]!);
    return out;
  }

  /**
   * Headers of the active chain after the first locator hash we know (up to `max`, stopping at
   * `stop`): the answer to a peer's getheaders.
   */
  headersAfter(locator: readonly Uint8Array[], max: number, stop?: Uint8Array): BlockHeader[] {
    let start = 0;
    for (const h of locator) {
      const e = this.#index.get(h);
      if (e !== undefined && this.isActive(e)) {
        start = e.height + 1;
        break;
      }
    }
    const out: BlockHeader[] = [];
    const stopKey = stop === undefined ? undefined : hashToHex(stop);
    for (let h = start; h <= this.tipHeight() && out.length < max; h++) {
      const e = this.#active[h]!;
      out.push(e.header);
      if (stopKey !== undefined && hashToHex(e.hash) === stopKey) break;
    }
    return out;
  }

  /** Every known header with its state (for getchaintips-like reports and tests). */
  entries(): IterableIterator<IndexEntry> {
    return this.#index.values();
  }

  get orphanCount(): number {
    return this.#orphans.size;
  }

  // ---- headers ----

  /** Adds a header whose parent is known (headers-first sync). Returns its entry. */
  processHeader(header: BlockHeader, now = this.#clock()): IndexEntry {
    const e = this.#db.write(() => this.#processHeaderInTxn(header, now));
    this.#refuseEarly(e);
    return e;
  }

  /**
   * On a pruned node, a header chain with more work that forks below the prune height is refused
   * as soon as its headers show it (one walk per headers message), not after its blocks were
   * downloaded only to be refused by activateBestChain.
   */
  #refuseEarly(e: IndexEntry | undefined): void {
    if (e === undefined || this.pruneHeight === 0 || e.work <= this.tip.work || this.#tooDeep.has(e)) return;
    if (e.status === BlockStatus.invalid) return;
    const fork = this.#index.fork(this.tip, e);
    if (fork.height < this.pruneHeight) this.#refuseTooDeep(this.tip, e, fork);
  }

  /**
   * The headers of one message in ONE commit: one fsync for up to 2,000 headers instead of one
   * each (they were 14% of a syncing node's main thread). Stops at the first header that breaks a
   * rule: those before it are kept, and its error is returned with them.
   */
  processHeaders(
    headers: readonly BlockHeader[],
    now = this.#clock(),
  ): { entries: IndexEntry[]; error?: ValidationError | ChainError } {
    const entries: IndexEntry[] = [];
    let error: ValidationError | ChainError | undefined;
    this.#db.write(() => {
      for (const h of headers) {
        try {
          entries.push(this.#processHeaderInTxn(h, now));
        } catch (e) {
          if (!(e instanceof ValidationError || e instanceof ChainError)) throw e;
          error = e;
          return;
        }
      }
    });
    this.#refuseEarly(entries[entries.length - 1]);
    return error === undefined ? { entries } : { entries, error };
  }

  /**
   * processHeader's work; the caller holds the write transaction. The index learns the header
   * before the commit (the next header of the message needs its parent there); a failed commit
   * is a storage failure, on which the node stops and a restart reads the index from disk.
   */
  #processHeaderInTxn(header: BlockHeader, now: number): IndexEntry {
    const hash = headerHash(header);
    const known = this.#index.get(hash);
    if (known !== undefined) {
      if (this.#tooDeep.has(known)) throw this.#tooDeepError(hash);
      if (known.status === BlockStatus.invalid)
        throw new ChainError('duplicate-invalid', `header ${hashToHex(hash)} is known invalid`, 100);
      return known;
    }
    const parent = this.#index.get(header.prevHash);
    if (parent === undefined)
      throw new ChainError('prev-blk-not-found', `parent of header ${hashToHex(hash)} is unknown`);
    return this.#acceptHeader(header, hash, parent, now, BlockStatus.headerOnly);
  }

  /** Header rules against its parent; returns the cumulative work of the chain it would end. */
  #checkHeaderOn(header: BlockHeader, hash: Uint8Array, parent: IndexEntry, now: number): bigint {
    if (this.#tooDeep.has(parent)) throw this.#tooDeepError(hash);
    if (parent.status === BlockStatus.invalid) {
      throw new ChainError(
        'bad-prevblk',
        `block ${hashToHex(hash)} builds on invalid block ${hashToHex(parent.hash)}`,
        100,
      );
    }
    checkHeader(header, hash, this.params);
    checkHeaderContext(
      header,
      {
        height: parent.height,
        time: parent.header.time,
        recentTimes: this.#index.recentTimes(parent, this.params.medianTimeSpan),
        anchorTime: parent.anchorTime,
      },
      this.params,
      now,
    );
    return parent.work + workFromTarget(targetFromBits(header.bits, this.params.powLimit)!);
  }

  #acceptHeader(
    header: BlockHeader,
    hash: Uint8Array,
    parent: IndexEntry,
    now: number,
    status: 0,
  ): IndexEntry {
    const work = this.#checkHeaderOn(header, hash, parent, now);
    this.#blocks.putHeader(hash, header, parent.height + 1, work, status);
    return this.#index.add(hash, header, parent.height + 1, work, status, parent);
  }

  // ---- blocks ----

  /**
   * Takes a block from anywhere (peer, recorder, RPC, disk). Never throws for bad input: the result
   * says what happened and carries the typed error of an invalid block.
   */
  processBlock(input: Uint8Array | DecodedBlock, now = this.#clock()): BlockResult {
    let block: DecodedBlock;
    try {
      block = input instanceof Uint8Array ? this.#decode(input) : input;
    } catch (e) {
      if (!(e instanceof CairnError)) throw e;
      return { status: 'invalid', hash: new Uint8Array(32), error: e };
    }
    const result = this.#processOne(block, now);
    if (result.status === 'connected' || result.status === 'side') this.#adoptOrphans(block.hash, now);
    return result;
  }

  /**
   * Several blocks (sync's batches) in ONE storage commit: each block is validated before any of
   * its writes, which all go into the one transaction, and one fsync covers them all instead of
   * two per block. An invalid block writes only its invalid mark and the next blocks go on. Runs
   * synchronously, so nothing reads the chain between the blocks; a crash loses at most this
   * batch, never a committed block. A storage failure aborts the whole batch (the node stops; a
   * restart resumes at the last commit).
   */
  processBlocks(inputs: readonly (Uint8Array | DecodedBlock)[], now = this.#clock()): BlockResult[] {
    if (inputs.length === 1) return [this.processBlock(inputs[0]!, now)];
    // the block data, its undo record and index entries: about three times its size
    let writing = 0;
    for (const b of inputs) writing += 3 * (b instanceof Uint8Array ? b.length : b.raw.length);
    return this.#db.write(() => inputs.map((b) => this.processBlock(b, now)), writing);
  }

  #processOne(block: DecodedBlock, now: number): BlockResult {
    const hash = block.hash;
    const known = this.#index.get(hash);
    if (known !== undefined && known.status !== BlockStatus.headerOnly) {
      if (this.#tooDeep.has(known)) return { status: 'invalid', hash, error: this.#tooDeepError(hash) };
      if (known.status === BlockStatus.invalid) {
        return {
          status: 'invalid',
          hash,
          error: new ChainError('duplicate-invalid', `block ${hashToHex(hash)} is known invalid`, 100),
        };
      }
      return { status: 'duplicate', hash };
    }
    const parent = this.#index.get(block.header.prevHash);
    if (parent === undefined) {
      this.#orphans.add(block);
      return { status: 'orphan', hash };
    }
    let entry: IndexEntry;
    try {
      const started = performance.now();
      const work = known?.work ?? this.#checkHeaderOn(block.header, hash, parent, now);
      this.#checkBlockBody(block);
      this.emit('block:validated', 'check', (performance.now() - started) / 1000);
      // header record and block data in one transaction: a crash never leaves one without the other
      this.#db.write(() => {
        this.#blocks.putBlock(hash, block.raw);
        this.#blocks.putHeader(hash, block.header, parent.height + 1, work, BlockStatus.haveData);
      });
      if (known !== undefined) this.#index.setStatus(known, BlockStatus.haveData);
      entry =
        known ?? this.#index.add(hash, block.header, parent.height + 1, work, BlockStatus.haveData, parent);
    } catch (e) {
      if (!(e instanceof ValidationError || e instanceof ChainError)) throw e;
      // A header that failed its own checks is not remembered (it costs the sender the PoW only);
      // a known header whose body breaks a rule is marked invalid with its descendants, unless
      // the body does not match the header at all (a mutated copy says nothing of the real block).
      if (known !== undefined && e instanceof ValidationError && e.code !== 'bad-txnmrklroot')
        this.#markInvalid(known, e);
      this.emit('block:invalid', hash, e);
      return { status: 'invalid', hash, error: e };
    }
    this.#remember(block);
    this.activateBestChain();
    if (this.#tooDeep.has(entry)) return { status: 'invalid', hash, error: this.#tooDeepError(hash) };
    if (entry.status === BlockStatus.invalid) {
      return {
        status: 'invalid',
        hash,
        error: this.#lastInvalid ?? new ChainError('bad-prevblk', 'invalid'),
      };
    }
    return { status: this.isActive(entry) ? 'connected' : 'side', hash };
  }

  #lastInvalid: CairnError | undefined;

  /**
   * Prepares raw `blocks` on the verify workers (sync's and import's pipeline: the next batch is
   * decoded, checked and its signatures verified there while this thread connects the current
   * one). Resolves when they are done; processBlock then decodes each block that passed with the
   * hashes the worker computed and skips the stateless rules it checked (trusted by the identity
   * of the bytes, which nothing changes). A block that failed there is taken the ordinary way, for
   * its exact reject code. Undefined when there are no workers.
   */
  prepare(blocks: readonly Uint8Array[]): Promise<void> | undefined {
    if (this.#batch === undefined || blocks.length === 0) return undefined;
    const pending = this.#batch.prepareBlocks(blocks);
    if (pending === undefined) return undefined;
    return pending.then((packs) => {
      for (let i = 0; i < blocks.length; i++) {
        const pack = packs[i];
        if (pack !== undefined) this.#prepared.set(blocks[i]!, pack);
      }
    });
  }

  /** Prepares here one block of a `prepare` batch no worker has taken yet; false when there is none. */
  helpPrepare(): boolean {
    return this.#batch?.helpPrepare() ?? false;
  }

  /** Hashes of prepared blocks, by their bytes, until processBlock takes them. */
  readonly #prepared = new WeakMap<Uint8Array, Uint8Array>();
  /** Decoded blocks whose stateless rules a worker checked. */
  readonly #prechecked = new WeakSet<DecodedBlock>();
  /** Blocks connected as prepared by the workers (for tests and metrics). */
  preparedBlocks = 0;

  /** `raw` decoded: with a worker's hashes when it prepared it (then its stateless rules are checked). */
  #decode(raw: Uint8Array): DecodedBlock {
    const pack = this.#prepared.get(raw);
    if (pack !== undefined) {
      this.#prepared.delete(raw);
      const block = decodePreparedBlock(raw, pack);
      if (block !== undefined) {
        this.#prechecked.add(block);
        return block;
      }
    }
    return decodeBlock(raw);
  }

  /** Every stateless rule; signatures on the batch verifier's threads when there is one. */
  #checkBlockBody(block: DecodedBlock): void {
    if (this.#prechecked.has(block)) {
      this.#prechecked.delete(block);
      this.preparedBlocks++;
      return;
    }
    if (this.#batch === undefined) {
      checkBlock(block, this.params, this.#verifier);
      return;
    }
    checkBlock(block, this.params, this.#verifier, { skipSignatures: true });
    const checks = collectSignatureChecks(block.txs, this.params.genesisHash);
    const bad = this.#batch.verifyAll(checks);
    // the failing tx is checked again alone, for its exact reject code
    if (bad !== -1) checkTxSignatures(checks[bad]!.tx, this.params.genesisHash, this.#verifier);
    if (bad !== -1)
      throw new ValidationError('bad-txns-sig', `input ${checks[bad]!.input} signature does not verify`);
  }

  #remember(block: DecodedBlock): void {
    const key = hashToHex(block.hash);
    this.#forget(key);
    this.#decoded.set(key, block);
    this.#decodedBytes += block.raw.length;
    while (
      this.#decoded.size > DECODED_CACHE ||
      (this.#decodedBytes > this.#decodedMaxBytes && this.#decoded.size > 1)
    )
      this.#forget(this.#decoded.keys().next().value!);
  }

  #forget(key: string): void {
    const b = this.#decoded.get(key);
    if (b === undefined) return;
    this.#decoded.delete(key);
    this.#decodedBytes -= b.raw.length;
  }

  /** Decoded blocks kept for connection, and their raw bytes (bounded by `decodedCacheBytes`). */
  get decodedCache(): { blocks: number; bytes: number } {
    return { blocks: this.#decoded.size, bytes: this.#decodedBytes };
  }

  #adoptOrphans(parentHash: Uint8Array, now: number): void {
    const queue = [parentHash];
    while (queue.length > 0) {
      for (const child of this.#orphans.takeChildren(queue.shift()!)) {
        const r = this.#processOne(child, now);
        if (r.status === 'connected' || r.status === 'side') queue.push(child.hash);
      }
    }
  }

  /** Marks `e` and everything built on it invalid, in memory and on disk. */
  #markInvalid(e: IndexEntry, error: CairnError): void {
    this.#lastInvalid = error;
    const all = this.#index.descendants(e);
    // memory follows the disk only once the commit succeeded (a failed write changes neither)
    this.#db.write(() => {
      for (const x of all) this.#blocks.putHeader(x.hash, x.header, x.height, x.work, BlockStatus.invalid);
    });
    for (const x of all) this.#index.setStatus(x, BlockStatus.invalid);
    this.#log.warn(
      { hash: hashToHex(e.hash), height: e.height, code: error.code, descendants: all.length - 1 },
      `invalid block: ${error.message}`,
    );
  }

  // ---- fork choice ----

  /** Moves the tip to the connectable chain with the most work, one atomic step per block. */
  activateBestChain(): void {
    for (;;) {
      const best = this.#index.bestCandidate(this.tip);
      if (best === this.tip) return;
      const from = this.tip;
      const fork = this.#index.fork(from, best);
      if (fork.height < this.pruneHeight) {
        this.#refuseTooDeep(from, best, fork);
        continue;
      }
      const path: IndexEntry[] = [];
      for (let e: IndexEntry | null = best; e !== fork; e = e!.parent) path.push(e!);
      path.reverse();

      let depth = 0;
      while (this.tip !== fork) {
        this.#disconnectTip();
        depth++;
      }
      for (const e of path) {
        if (!this.#connect(e)) break;
      }
      if (depth > 0) {
        this.#log.info(
          { depth, from: hashToHex(from.hash), to: hashToHex(this.tip.hash), fork: fork.height },
          `reorg of depth ${depth}`,
        );
        this.emit('reorg', { depth, from, to: this.tip, fork });
      }
      this.emit('tip', this.tip);
    }
  }

  /**
   * The blocks to disconnect down to `fork` were pruned: the branch from `fork` to `best` is put
   * out of fork choice (in memory only, as not connectable; its later blocks and headers are
   * refused with reorg-too-deep, which scores no peer), and the node goes on with its chain.
   */
  #refuseTooDeep(from: IndexEntry, best: IndexEntry, fork: IndexEntry): void {
    const root = this.#index.ancestor(best, fork.height + 1)!;
    const error = new ChainError(
      'reorg-too-deep',
      `a chain with more work forks at height ${fork.height}, below the prune height ${this.pruneHeight}: this pruned node cannot undo its blocks and stays on its chain; to follow the other chain, resync without pruning (move the data directory away)`,
    );
    for (const x of this.#index.descendants(root)) {
      this.#tooDeep.add(x);
      this.#index.setStatus(x, BlockStatus.invalid);
    }
    const info = { depth: from.height - fork.height, fork, best, pruneHeight: this.pruneHeight, error };
    this.refusedReorg = info;
    this.#log.warn(
      { depth: info.depth, fork: fork.height, best: hashToHex(best.hash), pruneHeight: this.pruneHeight },
      error.message,
    );
    this.emit('reorg:refused', info);
  }

  #tooDeepError(hash: Uint8Array): ChainError {
    return new ChainError(
      'reorg-too-deep',
      `block ${hashToHex(hash)} is on a branch forking below the prune height ${this.pruneHeight}`,
    );
  }

  #connect(e: IndexEntry): boolean {
    const block = this.getBlock(e.hash);
    if (block === undefined)
      throw new StorageError('storage-corrupt', `block data of ${hashToHex(e.hash)} is missing`);
    let fx: BlockEffects;
    const started = performance.now();
    try {
      fx = connectBlock(block, e.height, this.ledger, this.params);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      this.#markInvalid(e, err);
      this.emit('block:invalid', e.hash, err);
      return false;
    }
    this.#db.write(() => {
      this.ledger.applyConnect(block, e.height, fx);
      if (e.status !== BlockStatus.valid)
        this.#blocks.putHeader(e.hash, e.header, e.height, e.work, BlockStatus.valid);
    });
    this.#index.setStatus(e, BlockStatus.valid);
    this.#active.push(e);
    this.#forget(hashToHex(e.hash));
    this.emit('block:validated', 'connect', (performance.now() - started) / 1000);
    this.emit('block:connected', block, e, fx);
    return true;
  }

  #disconnectTip(): void {
    const e = this.tip;
    if (e.parent === null) throw new Error('cannot disconnect genesis');
    const block = this.getBlock(e.hash);
    if (block === undefined)
      throw new StorageError('storage-corrupt', `block data of ${hashToHex(e.hash)} is missing`);
    this.#db.write(() => this.ledger.applyDisconnect(block, e.height, e.parent!.hash));
    this.#active.pop();
    this.emit('block:disconnected', block, e);
  }

  // ---- invariants ----

  /**
   * What must hold after every connect, disconnect, invalid marking, storage failure and restart
   * (issue 11): the active chain is one linked path from genesis whose entries are all valid, its
   * tip is the tip the ledger stored, and the stored hash at every active height is that entry's.
   * Returns the violations (empty when sound); `full` walks every height, otherwise the last 16.
   */
  checkInvariants(full = false): string[] {
    const bad: string[] = [];
    const active = this.#active;
    if (active.length === 0) return ['the active chain is empty'];
    if (hashToHex(active[0]!.hash) !== hashToHex(this.params.genesisHash))
      bad.push('the active chain does not start at genesis');
    const from = full ? 0 : Math.max(0, active.length - 16);
    for (let h = from; h < active.length; h++) {
      const e = active[h];
      if (e === undefined) {
        bad.push(`no active entry at height ${h}`);
        continue;
      }
      if (e.height !== h) bad.push(`active entry at height ${h} says height ${e.height}`);
      if (h > 0 && e.parent !== active[h - 1])
        bad.push(`active entry at height ${h} is not the child of ${h - 1}`);
      if (e.status !== BlockStatus.valid)
        bad.push(`active entry at height ${h} has status ${e.status}, not valid`);
      const stored = this.ledger.hashAt(h);
      if (stored === undefined || hashToHex(stored) !== hashToHex(e.hash))
        bad.push(`stored chain and active chain differ at height ${h}`);
    }
    const tipHash = this.ledger.tipHash();
    if (tipHash === undefined || hashToHex(tipHash) !== hashToHex(this.tip.hash))
      bad.push('the stored tip is not the active tip');
    if (this.ledger.hashAt(active.length) !== undefined)
      bad.push(`the stored chain goes past the active tip (height ${active.length})`);
    return bad;
  }

  // ---- maintenance ----

  /**
   * Rebuilds every derived database (UTXO set and indexes) from the stored blocks of the best
   * chain. The result is byte-identical to the live state (tested by digest).
   */
  reindex(onProgress?: (height: number) => void): void {
    if (this.pruneHeight > 0)
      throw new PruneError(
        'reindex-pruned',
        `the blocks up to height ${this.pruneHeight} were pruned, so the ledger cannot be rebuilt from them: move the data directory away and resync from peers (with storage.prune_mb set to prune again)`,
      );
    const target = this.tip;
    const genesis = this.#active[0]!;
    const g = this.getBlock(genesis.hash)!;
    this.#db.write(() => {
      this.ledger.clearIndexes();
      this.#writeGenesisState(g);
    });
    this.#active = [genesis];
    const path: IndexEntry[] = [];
    for (let e: IndexEntry | null = target; e !== null && e !== genesis; e = e.parent) path.push(e);
    for (const e of path.reverse()) {
      if (!this.#connect(e)) break;
      if (onProgress !== undefined && e.height % 1000 === 0) onProgress(e.height);
    }
    this.activateBestChain();
  }
}
