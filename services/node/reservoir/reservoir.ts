/**
 * The reservoir: Cairn's mempool. It keeps valid unconfirmed transactions, orders them for block
 * templates by ancestor fee rate (child pays for parent), replaces by fee, holds orphans until their
 * parents arrive, follows the chain as blocks connect and disconnect, and stays under a memory cap
 * by evicting the packages that pay least.
 *
 * Everything is synchronous and single-threaded. A refused transaction changes nothing, with one
 * exception shared with Bitcoin Core: 'mempool-full' is found by adding the transaction and then
 * trimming the pool, so what the trim (or the replacement) evicted before reaching it stays evicted.
 * Time is passed in (`now`, seconds), never read. Events are emitted after each public call has
 * finished its changes, so listeners see a consistent pool; listeners must not throw.
 *
 * Contract with the chain manager (see `blockDisconnected`): for every block that leaves the active
 * chain, call `blockDisconnected(block.txs, now)` AFTER the disconnect committed (`view()` and
 * `tipHeight()` already show the parent), tip first; for every block that joins it, call
 * `blockConnected(block.txs)` AFTER the connect committed, in chain order.
 */

import { Buffer } from 'node:buffer';
import { hashToHex } from '../../../shared/core/bytes.ts';
import { UsageError, ValidationError } from '../../../shared/core/errors.ts';
import type { NetworkParams } from '../../../shared/core/params/types.ts';
import type { SignatureVerifier } from '../../../shared/core/signature.ts';
import { checkTxSignatures, checkTxStructure } from '../../../shared/core/tx/check.ts';
import { decodeTx } from '../../../shared/core/tx/codec.ts';
import { assetIdOf } from '../../../shared/core/tx/ids.ts';
import type { DecodedTx } from '../../../shared/core/tx/types.ts';
import { checkTxInputs, type SpendResult } from '../../../shared/core/validation/tx-inputs.ts';
import { type LedgerView, outpointKey } from '../../../shared/core/validation/view.ts';
import { TypedEmitter } from '../../../shared/events.ts';
import type { Logger } from '../../../shared/log.ts';
import type { ReservoirChain } from './chain-view.ts';
import { ancestorsOf, idKey, PoolEntry, type ReservoirEntry, withDescendants } from './entry.ts';
import { PolicyError } from './errors.ts';
import { Heap } from './heap.ts';
import { HeldPool } from './held.ts';
import { type ReservoirOptions, type ResolvedReservoirOptions, resolveReservoirOptions } from './options.ts';
import { OrphanPool } from './orphans.ts';
import { type PoolIndex, PoolView } from './pool-view.ts';
import { selectPackages, topological } from './select.ts';

export type { ReservoirEntry } from './entry.ts';
export type { ReservoirOptions } from './options.ts';

/**
 * Why an entry left the pool. 'held': a disconnect put it beyond the ancestor limit; it waits in the
 * holding area and comes back with 'tx:added' once enough of its ancestors confirm.
 */
export type RemovalReason = 'block' | 'conflict' | 'replaced' | 'expiry' | 'size' | 'reorg' | 'held';

export interface ReservoirEvents {
  'tx:added': [entry: ReservoirEntry];
  'tx:removed': [entry: ReservoirEntry, reason: RemovalReason];
  /** After the pool processed a connected block; `confirmed` are the pool entries it confirmed. */
  'block:connected': [txs: readonly DecodedTx[], confirmed: readonly ReservoirEntry[]];
  /** After the pool processed a disconnected block; `restored` are its transactions back in the pool. */
  'block:disconnected': [txs: readonly DecodedTx[], restored: readonly ReservoirEntry[]];
}

export type AcceptResult =
  | {
      readonly status: 'added';
      readonly entry: ReservoirEntry;
      /** Pool transactions it replaced (conflicts and their descendants). */
      readonly replaced: readonly ReservoirEntry[];
      /** Orphans that could enter because of it (and of each other), in the order they entered. */
      readonly resolved: readonly ReservoirEntry[];
    }
  | {
      /** Inputs are missing: it waits in the orphan pool for these parents. */
      readonly status: 'orphan';
      readonly txid: Uint8Array;
      readonly missing: readonly Uint8Array[];
    };

export interface ReservoirInfo {
  readonly count: number;
  /** Serialized size of all entries. */
  readonly bytes: number;
  /** Estimated memory use, what maxBytes caps. */
  readonly usage: number;
  /** Sum of the entries' fees (base units). */
  readonly totalFee: number;
  readonly maxBytes: number;
  /** Fee rate a new transaction must pay now: the relay minimum, or more after evictions. */
  readonly minFeeRate: number;
  readonly minRelayFeeRate: number;
  readonly orphans: number;
  /** Transactions a reorg returned beyond the ancestor limit, waiting outside the pool, and their usage. */
  readonly held: number;
  readonly heldUsage: number;
}

export interface ReservoirModules {
  readonly chain: ReservoirChain;
  readonly verifier: SignatureVerifier;
  readonly logger: Logger;
}

interface AcceptMode {
  /** Signatures are known valid (they were in a valid block, or in the pool already). */
  readonly skipSignatures: boolean;
  /**
   * Re-admission after a disconnect: no fee minimums and no descendant limit, missing inputs are
   * fatal (no orphaning), beyond the ancestor limit it is held aside.
   */
  readonly reorg: boolean;
  /** No 'tx:added' event: a pool entry re-validated after a disconnect never left, as far as listeners know. */
  readonly silent: boolean;
}

const NORMAL: AcceptMode = { skipSignatures: false, reorg: false, silent: false };
/** As NORMAL, the signatures already verified by the caller (the RPC's batches on the verify workers). */
const PREVERIFIED: AcceptMode = { skipSignatures: true, reorg: false, silent: false };
/** Transactions of a disconnected block coming back. */
const RESTORE: AcceptMode = { skipSignatures: true, reorg: true, silent: false };
/**
 * Transactions of the cache file at start: signatures checked again (the file is only checksummed),
 * otherwise as a reorg's return — the pool may hold more descendants than the limit after a reorg,
 * and a restart must not drop them.
 */
const CACHED: AcceptMode = { skipSignatures: false, reorg: true, silent: false };
/** Pool entries re-validated after a disconnect. */
const RECHECK: AcceptMode = { skipSignatures: true, reorg: true, silent: true };

type Outcome =
  | { status: 'added'; entry: PoolEntry; replaced: PoolEntry[] }
  | { status: 'held'; entry: PoolEntry }
  | Extract<AcceptResult, { status: 'orphan' }>;

type Pending =
  | { kind: 'added'; entry: PoolEntry }
  | { kind: 'removed'; entry: PoolEntry; reason: RemovalReason }
  | { kind: 'connected'; txs: readonly DecodedTx[]; confirmed: readonly ReservoirEntry[] }
  | { kind: 'disconnected'; txs: readonly DecodedTx[]; restored: readonly ReservoirEntry[] };

interface EvictionItem {
  readonly entry: PoolEntry;
  readonly score: number;
  readonly version: number;
}

/** Lowest score first; on equal scores the newer entry goes first, then by txid. */
function evictFirst(a: EvictionItem, b: EvictionItem): boolean {
  if (a.score !== b.score) {
    return a.score < b.score;
  }
  if (a.entry.time !== b.entry.time) {
    return a.entry.time > b.entry.time;
  }
  return Buffer.compare(a.entry.txid, b.entry.txid) > 0;
}

const NO_ENTRIES: ReadonlySet<PoolEntry> = new Set();

/** True when `b` is the whole of its ArrayBuffer (not a view that would keep a larger buffer alive). */
function ownsBuffer(b: Uint8Array): boolean {
  return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength;
}

/**
 * A copy in a buffer of its own (`new Uint8Array(b)`: Buffer#slice would share memory, e.g. a slab
 * of Node's 8 KB Buffer pool).
 */
function ownCopy(b: Uint8Array): Uint8Array {
  return ownsBuffer(b) ? b : new Uint8Array(b);
}

/** A decoded tx whose parts do not pin a larger buffer (a block, a network message) in memory. */
function standalone(d: DecodedTx): DecodedTx {
  return ownsBuffer(d.raw) ? d : decodeTx(new Uint8Array(d.raw));
}

export class Reservoir extends TypedEmitter<ReservoirEvents> {
  readonly #opts: ResolvedReservoirOptions;
  readonly #chain: ReservoirChain;
  readonly #verifier: SignatureVerifier;
  readonly #log: Logger;

  readonly #byTxid = new Map<string, PoolEntry>();
  readonly #spenders = new Map<string, PoolEntry>();
  readonly #assets = new Map<string, PoolEntry>();
  /** Pool issues by idKey(assetId): a disconnect that un-confirms a registration must re-link them. */
  readonly #issues = new Map<string, Set<PoolEntry>>();
  /** Entries spending coinbase coins: a disconnect can make those spends premature. */
  readonly #coinbaseSpenders = new Set<PoolEntry>();
  readonly #index: PoolIndex;
  readonly #orphans: OrphanPool;
  readonly #held: HeldPool;
  #evictHeap = new Heap<EvictionItem>(evictFirst);

  #bytes = 0;
  #usage = 0;
  #totalFee = 0;
  /** Minimum fee rate raised by evictions for size (Bitcoin Core's rolling minimum fee). */
  #rollingMinFeeRate = 0;
  #rollingUpdated = 0;
  /** Latest `now` a caller passed: the time of evictions in calls that take none (blockConnected). */
  #clock = 0;
  #pending: Pending[] = [];
  #flushing = false;

  constructor(opts: ReservoirOptions, modules: ReservoirModules) {
    super();
    this.#opts = resolveReservoirOptions(opts);
    this.#chain = modules.chain;
    this.#verifier = modules.verifier;
    this.#log = modules.logger;
    this.#index = { byTxid: this.#byTxid, spenders: this.#spenders, assets: this.#assets };
    this.#orphans = new OrphanPool(this.#opts);
    this.#held = new HeldPool(this.#opts);
  }

  get params(): NetworkParams {
    return this.#chain.params;
  }

  get options(): Readonly<ResolvedReservoirOptions> {
    return this.#opts;
  }

  // ---------------------------------------------------------------- queries

  /** Number of transactions in the pool (orphans not included). */
  get size(): number {
    return this.#byTxid.size;
  }

  /** Serialized size of the pool's transactions. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Estimated memory use; kept at most `maxBytes`. */
  get usage(): number {
    return this.#usage;
  }

  has(txid: Uint8Array): boolean {
    return this.#byTxid.has(idKey(txid));
  }

  get(txid: Uint8Array): ReservoirEntry | undefined {
    return this.#byTxid.get(idKey(txid));
  }

  /** Entries in the order they entered the pool. */
  entries(): IterableIterator<ReservoirEntry> {
    return this.#byTxid.values();
  }

  /** The pool transaction spending output `vout` of `txid`, if any. */
  spenderOf(txid: Uint8Array, vout: number): ReservoirEntry | undefined {
    return this.#spenders.get(outpointKey(txid, vout));
  }

  hasOrphan(txid: Uint8Array): boolean {
    return this.#orphans.has(txid);
  }

  /** Drops an orphan (a cache load does not keep what re-validation left waiting). */
  discardOrphan(txid: Uint8Array): boolean {
    return this.#orphans.removeTx(txid);
  }

  get orphanCount(): number {
    return this.#orphans.size;
  }

  /** True when a reorg returned `txid` beyond the ancestor limit and it waits outside the pool. */
  isHeld(txid: Uint8Array): boolean {
    return this.#held.has(txid);
  }

  get heldCount(): number {
    return this.#held.size;
  }

  /** Chain tip plus pool: pool outputs visible, outputs pool transactions spend hidden. */
  view(): LedgerView {
    return new PoolView(this.#chain.view(), this.#index, NO_ENTRIES, true);
  }

  info(now?: number): ReservoirInfo {
    const rolling = now === undefined ? this.#rollingMinFeeRate : this.#rollingMinFee(now);
    return {
      count: this.#byTxid.size,
      bytes: this.#bytes,
      usage: this.#usage,
      totalFee: this.#totalFee,
      maxBytes: this.#opts.maxBytes,
      minFeeRate: Math.max(this.#opts.minRelayFeeRate, rolling),
      minRelayFeeRate: this.#opts.minRelayFeeRate,
      orphans: this.#orphans.size,
      held: this.#held.size,
      heldUsage: this.#held.usage,
    };
  }

  /**
   * Transactions for a block template of at most `maxBytes` (transaction bytes only), best package
   * fee rate first, every parent before its children.
   */
  selectForBlock(maxBytes: number): DecodedTx[] {
    return selectPackages(this.#byTxid.values(), maxBytes);
  }

  // ---------------------------------------------------------------- acceptance

  /**
   * Validates `raw` against the chain tip plus the pool and adds it. Throws DecodeError (bytes),
   * ValidationError (consensus rule, unchanged from the core) or PolicyError (local policy). A
   * transaction with missing inputs is kept as an orphan (`status: 'orphan'`). `now` (seconds) is
   * its entry time. `signaturesVerified`: every input's signature (low-S included) was verified
   * against this transaction's signature hashes by the caller (TxSubmitter); they are not checked again.
   */
  accept(raw: Uint8Array | DecodedTx, now: number, signaturesVerified = false): AcceptResult {
    const d = raw instanceof Uint8Array ? decodeTx(ownCopy(raw)) : standalone(raw);
    this.#clock = Math.max(this.#clock, now);
    try {
      const outcome = this.#acceptOne(d, now, signaturesVerified ? PREVERIFIED : NORMAL);
      if (outcome.status === 'orphan') {
        return outcome;
      }
      if (outcome.status === 'held') {
        throw new UsageError('only a reorg re-admission holds transactions');
      }
      const entry = outcome.entry;
      this.#trimKeeping(entry, now);
      const resolved = this.#resolveOrphans([entry.txid]);
      if (resolved.length > 0) {
        this.#trim(now);
      }
      return {
        status: 'added',
        entry,
        replaced: outcome.replaced,
        resolved: resolved.filter((e) => e.inPool),
      };
    } finally {
      this.#flush();
    }
  }

  /** Trims the pool; an `entry` just added that the trim evicted at once is refused (mempool-full). */
  #trimKeeping(entry: PoolEntry, now: number): void {
    this.#trim(now);
    if (entry.inPool) return;
    // It never counted as added: no events for it.
    this.#pending = this.#pending.filter((p) => !('entry' in p) || p.entry !== entry);
    throw new PolicyError(
      'mempool-full',
      `fee rate ${entry.feeRate.toFixed(3)}/byte is too low for a full pool (${this.#usage} of ${this.#opts.maxBytes} bytes)`,
    );
  }

  /**
   * Re-admits a transaction saved in the cache file (saved parents first): validated again with
   * its signatures, without the fee minimums and the descendant limit it was admitted under (or
   * returned by a reorg beyond), held aside beyond the ancestor limit. Throws as accept() does;
   * missing inputs are an error here (no orphaning).
   */
  restore(d: DecodedTx, time: number): 'added' | 'held' {
    this.#clock = Math.max(this.#clock, time);
    try {
      const outcome = this.#acceptOne(standalone(d), time, CACHED);
      if (outcome.status === 'orphan') throw new UsageError('a cached transaction cannot be an orphan');
      if (outcome.status === 'held') return 'held';
      this.#trimKeeping(outcome.entry, time);
      return 'added';
    } finally {
      this.#flush();
    }
  }

  #acceptOne(d: DecodedTx, now: number, mode: AcceptMode): Outcome {
    const t = d.tx;
    const p = this.#chain.params;
    if (t.kind === 'coinbase') {
      throw new PolicyError('coinbase', 'a coinbase is valid only as the first transaction of a block', 100);
    }
    const key = idKey(d.txid);
    if (this.#byTxid.has(key)) {
      throw new PolicyError('txn-already-in-mempool', hashToHex(d.txid));
    }
    const size = d.raw.length;
    if (size > this.#opts.maxTxSize) {
      throw new PolicyError('tx-size', `${size} bytes > ${this.#opts.maxTxSize}`);
    }
    checkTxStructure(d, p);
    if (!mode.reorg) {
      const orphan = this.#orphans.get(d.txid);
      if (orphan !== undefined) {
        return { status: 'orphan', txid: d.txid, missing: orphan.missing };
      }
    }
    const chainView = this.#chain.view();
    // Heuristic: a tx with an unspent output in the chain is confirmed (one whose outputs are all
    // spent is not detected; it fails later as a spend of spent inputs).
    for (let v = 0; v < t.outputs.length; v++) {
      if (chainView.getCoin(d.txid, v) !== undefined) {
        throw new PolicyError('txn-already-known', `${hashToHex(d.txid)} is confirmed`);
      }
    }

    // Conflicts: pool transactions spending the same outputs or registering the same asset.
    let conflicts: Set<PoolEntry> | undefined;
    for (const i of t.inputs) {
      const s = this.#spenders.get(outpointKey(i.prevTxid, i.vout));
      if (s !== undefined) {
        conflicts ??= new Set();
        conflicts.add(s);
      }
    }
    if (t.kind === 'asset') {
      const reg = this.#assets.get(idKey(assetIdOf(t.asset.fingerprint)));
      if (reg !== undefined) {
        conflicts ??= new Set();
        conflicts.add(reg);
      }
    }
    let evict: ReadonlySet<PoolEntry> = NO_ENTRIES;
    if (conflicts !== undefined) {
      evict = this.#replaceable(d, conflicts);
    }

    const spendHeight = this.#chain.tipHeight() + 1;
    // A reorg re-admission may spend held outputs (it is then held too); others never see them.
    const base = mode.reorg && this.#held.size > 0 ? new PoolView(chainView, this.#held.index) : chainView;
    let r: SpendResult;
    try {
      r = checkTxInputs(d, new PoolView(base, this.#index, evict), spendHeight, p);
    } catch (err) {
      if (err instanceof ValidationError && err.code === 'bad-txns-inputs-missingorspent' && !mode.reorg) {
        const missing = this.#missingParents(d, chainView);
        if (missing.length > 0) {
          for (const o of this.#orphans.add(d, missing, now)) {
            this.#log.debug({ txid: hashToHex(o.tx.txid) }, 'orphan evicted: orphan pool full');
          }
          return { status: 'orphan', txid: d.txid, missing };
        }
      }
      throw err;
    }

    const fee = r.fee;
    if (!mode.reorg) {
      const min = this.#opts.minRelayFeeRate;
      if (fee < min * size) {
        throw new PolicyError('min-relay-fee-not-met', `fee ${fee} < ${min}/byte × ${size} bytes`);
      }
      const rolling = this.#rollingMinFee(now);
      if (rolling > min && fee < rolling * size) {
        throw new PolicyError(
          'mempool-min-fee-not-met',
          `fee ${fee} < ${rolling.toFixed(3)}/byte × ${size} bytes (pool minimum after evictions)`,
        );
      }
    }

    // Unconfirmed parents, ancestor and descendant limits.
    const parents = new Set<PoolEntry>();
    for (const i of t.inputs) {
      const parent = this.#byTxid.get(idKey(i.prevTxid));
      if (parent !== undefined) {
        parents.add(parent);
      }
    }
    if (t.kind === 'issue') {
      const reg = this.#assets.get(idKey(t.assetId));
      if (reg !== undefined && !evict.has(reg)) {
        parents.add(reg);
      }
    }
    let ancestors: ReadonlySet<PoolEntry> = NO_ENTRIES;
    // A held parent must enter first.
    let hold = mode.reorg && this.#held.dependsOnHeld(d);
    if (!hold && parents.size > 0) {
      const found = ancestorsOf(parents, this.#opts.maxAncestors - 1);
      if (found === null) {
        if (!mode.reorg) {
          throw new PolicyError(
            'too-long-mempool-chain',
            `more than ${this.#opts.maxAncestors - 1} unconfirmed ancestors`,
          );
        }
        hold = true;
      } else {
        ancestors = found;
      }
      // The descendant limit is waived for reorg returns (a 500-child fan-out comes back whole):
      // the ancestor limit alone bounds the work of every later update.
      if (!hold && !mode.reorg) {
        const below = evict.size > 0 ? evictedBelow(evict) : undefined;
        for (const a of ancestors) {
          if (a.descendantCount - (below?.get(a) ?? 0) + 1 > this.#opts.maxDescendants) {
            throw new PolicyError(
              'too-long-mempool-chain',
              `ancestor ${hashToHex(a.txid)} would exceed ${this.#opts.maxDescendants} descendants`,
            );
          }
        }
      }
    }

    if (conflicts !== undefined) {
      this.#checkReplacementFees(fee, size, conflicts, evict);
    }

    if (!mode.skipSignatures) {
      checkTxSignatures(d, p.genesisHash, this.#verifier);
    }

    let coinbaseSpendHeight = -1;
    for (const c of r.spent) {
      if (c.coinbase && c.height > coinbaseSpendHeight) {
        coinbaseSpendHeight = c.height;
      }
    }
    const entry = new PoolEntry(d, fee, now, spendHeight - 1, r.asset, coinbaseSpendHeight);
    if (hold) {
      entry.inPool = false;
      const refused = this.#held.add(entry);
      if (refused !== null) {
        throw new PolicyError(
          refused === 'full' ? 'reorg-holding-full' : 'reorg-holding-conflict',
          `beyond ${this.#opts.maxAncestors - 1} unconfirmed ancestors, and not held: ${refused}`,
        );
      }
      return { status: 'held', entry };
    }

    // Commit.
    const replaced = evict.size > 0 ? [...evict] : [];
    if (evict.size > 0) {
      this.#removeSet(evict, 'replaced');
    }
    this.#insert(entry, parents, ancestors, mode.silent);
    if (mode.reorg) {
      this.#orphans.removeTx(d.txid);
    }
    return { status: 'added', entry, replaced };
  }

  /** The set a replacement would evict, or the reason it may not replace. */
  #replaceable(d: DecodedTx, conflicts: ReadonlySet<PoolEntry>): ReadonlySet<PoolEntry> {
    const t = d.tx;
    if (t.kind === 'coinbase') {
      return NO_ENTRIES;
    }
    const first = conflicts.values().next().value as PoolEntry;
    if (!this.#opts.replaceByFee) {
      throw new PolicyError('txn-mempool-conflict', `conflicts with ${hashToHex(first.txid)}`);
    }
    const evict = withDescendants(conflicts, this.#opts.maxReplacements);
    if (evict === null) {
      throw new PolicyError(
        'too-many-replacements',
        `would evict more than ${this.#opts.maxReplacements} pool transactions`,
      );
    }
    for (const i of t.inputs) {
      const parent = this.#byTxid.get(idKey(i.prevTxid));
      if (parent !== undefined && evict.has(parent)) {
        throw new PolicyError(
          'bad-txns-spends-conflicting-tx',
          `spends ${hashToHex(parent.txid)}, which it would replace`,
        );
      }
    }
    if (t.kind === 'issue') {
      const reg = this.#assets.get(idKey(t.assetId));
      if (reg !== undefined && evict.has(reg)) {
        throw new PolicyError(
          'bad-txns-spends-conflicting-tx',
          `issues the asset of ${hashToHex(reg.txid)}, which it would replace`,
        );
      }
    }
    return evict;
  }

  /**
   * Replace-by-fee, full RBF (no signalling): the replacement pays a higher fee rate than each
   * transaction it directly conflicts with, a higher absolute fee than everything it evicts
   * together, and the difference pays for its own relay at the minimum relay fee rate.
   */
  #checkReplacementFees(
    fee: number,
    size: number,
    conflicts: ReadonlySet<PoolEntry>,
    evict: ReadonlySet<PoolEntry>,
  ): void {
    const rate = fee / size;
    for (const c of conflicts) {
      if (rate <= c.feeRate) {
        throw new PolicyError(
          'insufficient-fee',
          `fee rate ${rate.toFixed(3)}/byte <= ${c.feeRate.toFixed(3)}/byte of ${hashToHex(c.txid)}`,
        );
      }
    }
    let evictedFees = 0;
    for (const e of evict) {
      evictedFees += e.fee;
    }
    if (fee <= evictedFees) {
      throw new PolicyError(
        'insufficient-fee',
        `fee ${fee} <= ${evictedFees} paid by the ${evict.size} replaced`,
      );
    }
    const relay = this.#opts.minRelayFeeRate * size;
    if (fee - evictedFees < relay) {
      throw new PolicyError(
        'insufficient-fee',
        `adds ${fee - evictedFees} in fees, less than ${relay} to relay its ${size} bytes`,
      );
    }
  }

  /** Parents of `d` that neither the chain nor the pool has an output of: what an orphan waits for. */
  #missingParents(d: DecodedTx, chainView: LedgerView): Uint8Array[] {
    const t = d.tx;
    if (t.kind === 'coinbase') {
      return [];
    }
    const out = new Map<string, Uint8Array>();
    for (const i of t.inputs) {
      const k = idKey(i.prevTxid);
      if (this.#byTxid.has(k) || out.has(k)) {
        continue;
      }
      if (chainView.getCoin(i.prevTxid, i.vout) === undefined) {
        out.set(k, i.prevTxid);
      }
    }
    return [...out.values()];
  }

  /** Accepts the orphans waiting for these parents, and those waiting for them in turn. */
  #resolveOrphans(parents: readonly Uint8Array[]): PoolEntry[] {
    const resolved: PoolEntry[] = [];
    const queue = [...parents];
    for (let q = 0; q < queue.length; q++) {
      for (const o of this.#orphans.takeChildrenOf(queue[q]!)) {
        try {
          const r = this.#acceptOne(o.tx, o.time, NORMAL);
          if (r.status === 'added') {
            resolved.push(r.entry);
            queue.push(r.entry.txid);
          }
        } catch (err) {
          this.#log.debug({ txid: hashToHex(o.tx.txid), err: String(err) }, 'orphan rejected');
        }
      }
    }
    return resolved;
  }

  // ---------------------------------------------------------------- chain events

  /**
   * A block joined the active chain (call after the chain's view shows it). Removes what it
   * confirmed ('block'), every pool transaction that now double spends or registers an asset it
   * registered, with descendants ('conflict'), and orphans it made invalid; accepts orphans it
   * made whole.
   */
  blockConnected(txs: readonly DecodedTx[]): void {
    try {
      if (this.#byTxid.size === 0 && this.#orphans.size === 0 && this.#held.size === 0) {
        // nothing to confirm, conflict, drop or resolve (the usual case in initial sync): skip the
        // per-input lookups, which cost ~2% of a sync's main thread
        this.#pending.push({ kind: 'connected', txs, confirmed: [] });
        return;
      }
      const confirmed = new Set<PoolEntry>();
      for (const d of txs) {
        const e = this.#byTxid.get(idKey(d.txid));
        if (e !== undefined) {
          confirmed.add(e);
        }
      }
      if (confirmed.size > 0) {
        this.#removeSet(confirmed, 'block');
      }
      const conflicts = new Set<PoolEntry>();
      const spent: string[] = [];
      let height: number | undefined;
      for (const d of txs) {
        const t = d.tx;
        this.#orphans.removeTx(d.txid);
        this.#held.remove(d.txid);
        if (t.kind === 'coinbase') {
          height = t.height;
          continue;
        }
        for (const i of t.inputs) {
          const k = outpointKey(i.prevTxid, i.vout);
          spent.push(k);
          const s = this.#spenders.get(k);
          if (s !== undefined) {
            conflicts.add(s);
          }
        }
        if (t.kind === 'asset') {
          const reg = this.#assets.get(idKey(assetIdOf(t.asset.fingerprint)));
          if (reg !== undefined) {
            conflicts.add(reg);
          }
        }
      }
      if (conflicts.size > 0) {
        this.#removeSet(withDescendants(conflicts)!, 'conflict');
      }
      const dropped = this.#orphans.removeSpendersOf(spent);
      if (dropped.length > 0) {
        this.#log.debug({ count: dropped.length }, 'orphans dropped: the block spent their inputs');
      }
      const resolved = this.#resolveOrphans(txs.map((d) => d.txid));
      if (resolved.length > 0) {
        this.#trim(this.#clock);
      }
      this.#retryHeld(this.#clock);
      if (confirmed.size > 0 || conflicts.size > 0) {
        this.#log.debug(
          { height, confirmed: confirmed.size, conflicts: conflicts.size, size: this.size },
          'block connected',
        );
      }
      this.#pending.push({ kind: 'connected', txs, confirmed: [...confirmed] });
    } finally {
      this.#flush();
    }
  }

  /**
   * A block left the active chain. REQUIRED ORDER: call this after the chain committed the
   * disconnect, so that `view()` and `tipHeight()` already show the block's parent, once per block,
   * tip first (then `blockConnected` for the new branch, in order).
   *
   * The block's non-coinbase transactions return to the pool (re-validated against the parent,
   * signatures not re-checked: they were valid in a block and signatures do not depend on the
   * chain; fee minimums and the descendant limit waived). Pool entries the disconnect affects (those
   * spending the block's outputs, issuing an asset it registered, or spending a coinbase that is no
   * longer mature) are re-validated after them; the ones now invalid leave with reason 'reorg'.
   * Valid ones beyond the ancestor limit are held aside (reason 'held' for pool entries) and enter
   * when enough ancestors confirm (`#retryHeld`).
   */
  blockDisconnected(txs: readonly DecodedTx[], now: number): void {
    this.#clock = Math.max(this.#clock, now);
    try {
      const p = this.#chain.params;
      const spendHeight = this.#chain.tipHeight() + 1;
      const roots = new Set<PoolEntry>();
      for (const d of txs) {
        const t = d.tx;
        for (let v = 0; v < t.outputs.length; v++) {
          const s = this.#spenders.get(outpointKey(d.txid, v));
          if (s !== undefined) {
            roots.add(s);
          }
        }
        if (t.kind === 'asset') {
          for (const e of this.#issues.get(idKey(assetIdOf(t.asset.fingerprint))) ?? []) {
            roots.add(e);
          }
        }
      }
      for (const e of this.#coinbaseSpenders) {
        if (spendHeight - e.coinbaseSpendHeight < p.coinbaseMaturity) {
          roots.add(e);
        }
      }
      const affected = [...withDescendants(roots)!].sort(topological);
      this.#removeSet(new Set(affected), null);

      const restored: PoolEntry[] = [];
      let known = 0;
      let held = 0;
      for (const d of txs) {
        if (d.tx.kind === 'coinbase') {
          continue;
        }
        try {
          const r = this.#acceptOne(standalone(d), now, RESTORE);
          if (r.status === 'added') {
            restored.push(r.entry);
          } else if (r.status === 'held') {
            held++;
          }
        } catch (err) {
          if (err instanceof PolicyError && err.code === 'txn-already-known') {
            known++;
          }
          this.#log.info(
            { txid: hashToHex(d.txid), err: String(err) },
            'transaction of a disconnected block dropped',
          );
        }
      }
      if (known > 0) {
        this.#log.warn(
          { known },
          'disconnected block still in the chain view: blockDisconnected must be called after the disconnect committed',
        );
      }
      for (const e of affected) {
        try {
          if (this.#acceptOne(e.tx, e.time, RECHECK).status === 'held') {
            held++;
            this.#pending.push({ kind: 'removed', entry: e, reason: 'held' });
          }
        } catch (err) {
          this.#pending.push({ kind: 'removed', entry: e, reason: 'reorg' });
          this.#log.info(
            { txid: hashToHex(e.txid), err: String(err) },
            'pool transaction invalid after a disconnect',
          );
        }
      }
      if (held > 0) {
        this.#log.info(
          { held, total: this.#held.size },
          'transactions beyond the ancestor limit held aside until their ancestors confirm',
        );
      }
      this.#trim(now);
      this.#resolveOrphans(restored.map((e) => e.txid));
      this.#trim(now);
      // Re-validates what earlier disconnects held: their parents may have just come back.
      this.#retryHeld(now);
      this.#pending.push({ kind: 'disconnected', txs, restored: restored.filter((e) => e.inPool) });
    } finally {
      this.#flush();
    }
  }

  /**
   * Re-validates every held transaction, parents first, against the chain and pool as they are now:
   * those within the ancestor limit enter the pool ('tx:added'), those still valid but too deep stay,
   * the rest (double spent, inputs gone, a held parent dropped) are dropped.
   */
  #retryHeld(now: number): void {
    if (this.#held.size === 0) {
      return;
    }
    const admitted: PoolEntry[] = [];
    let dropped = 0;
    for (const e of this.#held.takeAll()) {
      try {
        const r = this.#acceptOne(e.tx, e.time, RESTORE);
        if (r.status === 'added') {
          admitted.push(r.entry);
        }
      } catch (err) {
        dropped++;
        this.#log.debug({ txid: hashToHex(e.txid), err: String(err) }, 'held transaction dropped');
      }
    }
    if (admitted.length > 0 || dropped > 0) {
      this.#log.info(
        { admitted: admitted.length, dropped, held: this.#held.size },
        'held transactions re-validated',
      );
    }
    if (admitted.length > 0) {
      this.#resolveOrphans(admitted.map((e) => e.txid));
      this.#trim(now);
    }
  }

  /** Removes transactions that entered more than expirySeconds before `now`, with descendants; and old orphans. */
  expire(now: number): number {
    this.#clock = Math.max(this.#clock, now);
    try {
      const old: PoolEntry[] = [];
      for (const e of this.#byTxid.values()) {
        if (now - e.time > this.#opts.expirySeconds) {
          old.push(e);
        }
      }
      const set = withDescendants(old)!;
      if (set.size > 0) {
        this.#removeSet(set, 'expiry');
      }
      const orphans = this.#orphans.expire(now);
      const held = this.#held.expire(now, this.#opts.expirySeconds);
      if (held > 0) {
        // Their held descendants can no longer enter: the re-validation drops them.
        this.#retryHeld(now);
      }
      if (set.size > 0 || orphans.length > 0 || held > 0) {
        this.#log.debug({ expired: set.size, orphans: orphans.length, held }, 'expired');
      }
      return set.size;
    } finally {
      this.#flush();
    }
  }

  // ---------------------------------------------------------------- bookkeeping

  #insert(
    entry: PoolEntry,
    parents: ReadonlySet<PoolEntry>,
    ancestors: ReadonlySet<PoolEntry>,
    silent: boolean,
  ): void {
    entry.ancestorCount += ancestors.size;
    for (const a of ancestors) {
      entry.ancestorSize += a.size;
      entry.ancestorFee += a.fee;
      a.descendantCount++;
      a.descendantSize += entry.size;
      a.descendantFee += entry.fee;
      a.version++;
      this.#pushEviction(a);
    }
    for (const parent of parents) {
      parent.children.add(entry);
      entry.parents.add(parent);
    }
    const t = entry.tx.tx;
    this.#byTxid.set(entry.key, entry);
    if (t.kind !== 'coinbase') {
      for (const i of t.inputs) {
        this.#spenders.set(outpointKey(i.prevTxid, i.vout), entry);
      }
    }
    if (entry.asset !== undefined) {
      this.#assets.set(idKey(entry.asset.id), entry);
    }
    if (t.kind === 'issue') {
      const k = idKey(t.assetId);
      let s = this.#issues.get(k);
      if (s === undefined) {
        s = new Set();
        this.#issues.set(k, s);
      }
      s.add(entry);
    }
    if (entry.coinbaseSpendHeight >= 0) {
      this.#coinbaseSpenders.add(entry);
    }
    this.#bytes += entry.size;
    this.#usage += entry.usage;
    this.#totalFee += entry.fee;
    this.#pushEviction(entry);
    if (!silent) {
      this.#pending.push({ kind: 'added', entry });
    }
  }

  /**
   * Removes `set` (closed under whatever the caller needs: descendants for conflicts and
   * evictions, nothing for confirmations), keeping the totals of the rest exact. `reason` null:
   * silently (a disconnect re-validates these and reports only the failures).
   */
  #removeSet(set: ReadonlySet<PoolEntry>, reason: RemovalReason | null): void {
    const touched = new Set<PoolEntry>();
    for (const e of set) {
      if (e.parents.size > 0) {
        for (const a of ancestorsOf(e.parents)!) {
          if (!set.has(a)) {
            a.descendantCount--;
            a.descendantSize -= e.size;
            a.descendantFee -= e.fee;
            a.version++;
            touched.add(a);
          }
        }
      }
      if (e.children.size > 0) {
        for (const d of withDescendants(e.children)!) {
          if (!set.has(d)) {
            d.ancestorCount--;
            d.ancestorSize -= e.size;
            d.ancestorFee -= e.fee;
          }
        }
      }
    }
    for (const e of set) {
      for (const parent of e.parents) {
        parent.children.delete(e);
      }
      for (const c of e.children) {
        c.parents.delete(e);
      }
      e.parents.clear();
      e.children.clear();
      const t = e.tx.tx;
      this.#byTxid.delete(e.key);
      if (t.kind !== 'coinbase') {
        for (const i of t.inputs) {
          const k = outpointKey(i.prevTxid, i.vout);
          if (this.#spenders.get(k) === e) {
            this.#spenders.delete(k);
          }
        }
      }
      if (e.asset !== undefined) {
        const k = idKey(e.asset.id);
        if (this.#assets.get(k) === e) {
          this.#assets.delete(k);
        }
      }
      if (t.kind === 'issue') {
        const k = idKey(t.assetId);
        const s = this.#issues.get(k);
        s?.delete(e);
        if (s?.size === 0) {
          this.#issues.delete(k);
        }
      }
      this.#coinbaseSpenders.delete(e);
      this.#bytes -= e.size;
      this.#usage -= e.usage;
      this.#totalFee -= e.fee;
      e.inPool = false;
      if (reason !== null) {
        this.#pending.push({ kind: 'removed', entry: e, reason });
      }
    }
    for (const a of touched) {
      if (a.inPool) {
        this.#pushEviction(a);
      }
    }
    this.#compactEvictions();
  }

  #pushEviction(e: PoolEntry): void {
    this.#evictHeap.push({ entry: e, score: e.evictionScore, version: e.version });
    this.#compactEvictions();
  }

  /**
   * Rebuilds the eviction heap from the pool when stale items (removed entries, old versions)
   * outnumber live ones, and empties it with the pool: a stale item holds a removed entry, its
   * transaction and everything linked from it, in memory.
   */
  #compactEvictions(): void {
    const live = this.#byTxid.size;
    const size = this.#evictHeap.size;
    if (live === 0 ? size === 0 : size <= 2 * live + 1024) {
      return;
    }
    const items: EvictionItem[] = [];
    for (const x of this.#byTxid.values()) {
      items.push({ entry: x, score: x.evictionScore, version: x.version });
    }
    this.#evictHeap = new Heap(evictFirst, items);
  }

  /** Items in the eviction heap, stale ones included (at most 2 × size + 1024; 0 when the pool is empty). */
  get evictionQueueSize(): number {
    return this.#evictHeap.size;
  }

  /**
   * While over maxBytes, evicts the entry with the lowest descendant score and its descendants
   * ('size'), and raises the pool's minimum fee rate above what was evicted.
   */
  #trim(now: number): void {
    while (this.#usage > this.#opts.maxBytes) {
      const item = this.#evictHeap.pop();
      if (item === undefined) {
        break;
      }
      const e = item.entry;
      if (!e.inPool || item.version !== e.version) {
        continue;
      }
      const packageRate = e.descendantFee / e.descendantSize;
      this.#raiseMinFee(packageRate + this.#opts.minRelayFeeRate, now);
      this.#removeSet(withDescendants([e])!, 'size');
    }
  }

  /** The rolling minimum fee rate at `now`: halves every rollingFeeHalfLifeSeconds, 0 below half the relay minimum. */
  #rollingMinFee(now: number): number {
    if (this.#rollingMinFeeRate === 0) {
      return 0;
    }
    const dt = now - this.#rollingUpdated;
    if (dt > 0) {
      this.#rollingMinFeeRate *= 2 ** (-dt / this.#opts.rollingFeeHalfLifeSeconds);
      this.#rollingUpdated = now;
      if (this.#rollingMinFeeRate < this.#opts.minRelayFeeRate / 2) {
        this.#rollingMinFeeRate = 0;
      }
    }
    return this.#rollingMinFeeRate;
  }

  #raiseMinFee(rate: number, now: number): void {
    const current = this.#rollingMinFee(now);
    if (rate > current) {
      this.#rollingMinFeeRate = rate;
      this.#rollingUpdated = Math.max(this.#rollingUpdated, now);
    }
  }

  #flush(): void {
    if (this.#flushing) {
      return;
    }
    this.#flushing = true;
    try {
      for (let i = 0; i < this.#pending.length; i++) {
        const ev = this.#pending[i]!;
        switch (ev.kind) {
          case 'added':
            this.emit('tx:added', ev.entry);
            break;
          case 'removed':
            this.emit('tx:removed', ev.entry, ev.reason);
            break;
          case 'connected':
            this.emit('block:connected', ev.txs, ev.confirmed);
            break;
          case 'disconnected':
            this.emit('block:disconnected', ev.txs, ev.restored);
            break;
        }
      }
    } finally {
      this.#pending = [];
      this.#flushing = false;
    }
  }
}

/** For each entry outside `evict`, how many members of `evict` descend from it. */
function evictedBelow(evict: ReadonlySet<PoolEntry>): Map<PoolEntry, number> {
  const below = new Map<PoolEntry, number>();
  for (const e of evict) {
    if (e.parents.size === 0) {
      continue;
    }
    for (const a of ancestorsOf(e.parents)!) {
      if (!evict.has(a)) {
        below.set(a, (below.get(a) ?? 0) + 1);
      }
    }
  }
  return below;
}
