/**
 * Connects the blocks sync receives, in arrival order, once their signatures are checked, grouping
 * what is ready into one storage commit of up to `maxBlocks` blocks / `maxBytes` bytes.
 *
 * Why groups and not one commit per batch: every commit rewrites each B-tree page its writes
 * touched, and the tx, address and spent-coin keys are scattered, so most writes dirty a page of
 * their own. Four 16-block batches in one commit cost a syncing node's main thread about a third
 * less per transaction than four commits (bench/sync-profile.ts). While connecting is the bound,
 * the groups form by themselves: during one commit the next batches arrive and are verified, and
 * are taken together. While verifying is the bound, each batch would be ready alone and committed
 * alone; so ready blocks wait, up to `maxHoldMs`, for the batches behind them that are still being
 * checked, until they fill a group, and this thread helps check those meanwhile.
 *
 * Why bounded: connecting runs synchronously, so a group is as long as the event loop stays
 * blocked (no peer's ping, no RPC); between groups the loop turns.
 */
import type { DecodedBlock } from '../../../shared/core/block/types.ts';
import type { BlockResult, Chain } from '../chain/chain.ts';

export interface BlockConnectorOptions {
  /** Most blocks in one commit (default 64). */
  readonly maxBlocks?: number;
  /** Most block bytes in one commit (default 8 MB; one larger block still goes alone). */
  readonly maxBytes?: number;
  /**
   * Longest that ready blocks wait for the batches behind them, still being checked, to fill a
   * group (default 1,000 ms; 0: connect what is ready at once).
   */
  readonly maxHoldMs?: number;
}

/** One received batch: its blocks, whether they may be connected yet, and whom to tell. */
interface Entry {
  readonly items: readonly (Uint8Array | DecodedBlock)[];
  next: number;
  ready: boolean;
  readonly onResult: (result: BlockResult) => void;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

/** Blocks for one commit, the entry each came from, and the entries it completes. */
interface Group {
  readonly blocks: (Uint8Array | DecodedBlock)[];
  readonly owners: Entry[];
  readonly finished: Entry[];
}

const sizeOf = (b: Uint8Array | DecodedBlock) => (b instanceof Uint8Array ? b.length : b.raw.length);

export class BlockConnector {
  readonly #chain: Chain;
  readonly #maxBlocks: number;
  readonly #maxBytes: number;
  readonly #maxHoldMs: number;
  readonly #queue: Entry[] = [];
  /** When ready blocks began waiting for a fuller group (ms), and the timer that ends the wait. */
  #heldSince: number | undefined;
  #holdTimer: ReturnType<typeof setTimeout> | undefined;
  #running = false;
  /** Stopped (the node is shutting down): nothing more is connected. */
  #stopped = false;
  #queuedBlocks = 0;
  #queuedBytes = 0;
  /** Waiters for room (backpressure on downloads). */
  #waiters: (() => void)[] = [];
  /** Commits made, blocks in them, and blocks this thread prepared while waiting, for tests and metrics. */
  readonly counters = { commits: 0, blocks: 0, helped: 0 };

  constructor(opts: BlockConnectorOptions, modules: { readonly chain: Chain }) {
    this.#chain = modules.chain;
    this.#maxBlocks = opts.maxBlocks ?? 64;
    this.#maxBytes = opts.maxBytes ?? 8_000_000;
    this.#maxHoldMs = opts.maxHoldMs ?? 1_000;
  }

  /** Blocks received and not yet connected. */
  get queuedBlocks(): number {
    return this.#queuedBlocks;
  }

  /** Bytes of blocks received and not yet connected. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /**
   * Queues a batch behind those before it. `ready` settles when its signatures were checked (its
   * blocks wait for it; undefined: no wait). Resolves when every block of it was processed,
   * `onResult` having been told each result; rejects on a storage failure (then every queued
   * batch rejects with it).
   */
  add(
    items: readonly (Uint8Array | DecodedBlock)[],
    ready: Promise<unknown> | undefined,
    onResult: (result: BlockResult) => void,
  ): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const e: Entry = { items, next: 0, ready: ready === undefined, onResult, resolve, reject };
      this.#queue.push(e);
      this.#queuedBlocks += items.length;
      for (const b of items) this.#queuedBytes += sizeOf(b);
      if (ready !== undefined) {
        // a failed pre-check is no reason to wait: processBlock checks the signatures itself
        const go = () => {
          e.ready = true;
          this.#kick();
        };
        ready.then(go, go);
      }
      // not ready yet: the drain helps prepare it meanwhile
      this.#kick();
    });
  }

  /**
   * Connects nothing more: the batches queued are dropped (their promises resolve; the blocks
   * were not connected, and the next sync downloads them again), later ones are not queued. The
   * chain is left at the end of the last group committed: the node can close its storage.
   */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#holdTimer);
    for (const e of this.#queue.splice(0)) e.resolve();
    this.#queuedBlocks = 0;
    this.#queuedBytes = 0;
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Resolves once fewer than `blocks` blocks and `bytes` bytes wait to be connected. */
  room(blocks: number, bytes: number): Promise<void> {
    if (this.#stopped || (this.#queuedBlocks < blocks && this.#queuedBytes < bytes)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const check = () => {
        if (this.#queuedBlocks < blocks && this.#queuedBytes < bytes) resolve();
        else this.#waiters.push(check);
      };
      this.#waiters.push(check);
    });
  }

  #kick(): void {
    if (this.#running) return;
    this.#running = true;
    // connect on a later turn: the reply that made the batch ready, and others, get read first
    setImmediate(() => this.#drain());
  }

  #drain(): void {
    clearTimeout(this.#holdTimer);
    this.#holdTimer = undefined;
    if (this.#stopped) {
      this.#running = false;
      return;
    }
    let group: Group | undefined;
    try {
      const hold = this.#holdFor();
      if (hold > 0) {
        // the batches behind are being checked: help check them rather than commit a small group
        if (this.#chain.helpPrepare()) {
          this.counters.helped++;
          setImmediate(() => this.#drain());
          return;
        }
        // nothing to help with: the next check done, or the end of the wait, kicks the drain
        this.#running = false;
        this.#holdTimer = setTimeout(() => this.#kick(), hold);
        return;
      }
      group = this.#takeGroup();
      if (group.blocks.length === 0 && group.finished.length === 0) {
        // nothing ready to connect: prepare a block the workers have not taken yet rather than
        // wait (on two cores this thread's idle time is half the machine)
        if (this.#queue.length > 0 && this.#chain.helpPrepare()) {
          this.counters.helped++;
          setImmediate(() => this.#drain());
          return;
        }
        this.#running = false;
        return;
      }
      const results = group.blocks.length === 0 ? [] : this.#chain.processBlocks(group.blocks);
      if (results.length > 0) this.counters.commits++;
      this.counters.blocks += results.length;
      for (let i = 0; i < results.length; i++) group.owners[i]!.onResult(results[i]!);
      for (const e of group.finished) e.resolve();
      this.#queuedBlocks -= group.blocks.length;
      for (const b of group.blocks) this.#queuedBytes -= sizeOf(b);
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) w();
      setImmediate(() => this.#drain());
    } catch (e) {
      // storage failed (the node stops): nothing taken or queued will be connected
      this.#running = false;
      const failed = new Set([
        ...(group?.owners ?? []),
        ...(group?.finished ?? []),
        ...this.#queue.splice(0),
      ]);
      for (const entry of failed) entry.reject(e);
      this.#queuedBlocks = 0;
      this.#queuedBytes = 0;
      for (const w of this.#waiters.splice(0)) w();
    }
  }

  /**
   * How much longer (ms) the ready blocks at the head should wait for a fuller group: 0 when they
   * fill one, when no batch behind them is still being checked, or when they waited `maxHoldMs`.
   */
  #holdFor(): number {
    let blocks = 0;
    let bytes = 0;
    let behind: Entry | undefined;
    for (const e of this.#queue) {
      if (!e.ready) {
        behind = e;
        break;
      }
      for (let i = e.next; i < e.items.length; i++) bytes += sizeOf(e.items[i]!);
      blocks += e.items.length - e.next;
    }
    const full =
      blocks >= this.#maxBlocks ||
      (behind !== undefined && behind.items.length > 0 && bytes + sizeOf(behind.items[0]!) > this.#maxBytes);
    if (blocks === 0 || behind === undefined || full || this.#maxHoldMs <= 0) {
      this.#heldSince = undefined;
      return 0;
    }
    const now = Date.now();
    this.#heldSince ??= now;
    const left = this.#heldSince + this.#maxHoldMs - now;
    if (left <= 0) this.#heldSince = undefined;
    return Math.max(0, left);
  }

  /** The ready blocks at the head of the queue, within the limits (at least one block). */
  #takeGroup(): Group {
    const blocks: (Uint8Array | DecodedBlock)[] = [];
    const owners: Entry[] = [];
    const finished: Entry[] = [];
    let bytes = 0;
    while (this.#queue.length > 0) {
      const e = this.#queue[0]!;
      if (!e.ready) break;
      while (e.next < e.items.length && blocks.length < this.#maxBlocks) {
        const b = e.items[e.next]!;
        if (blocks.length > 0 && bytes + sizeOf(b) > this.#maxBytes) break;
        blocks.push(b);
        owners.push(e);
        bytes += sizeOf(b);
        e.next++;
      }
      if (e.next < e.items.length) break;
      finished.push(e);
      this.#queue.shift();
    }
    return { blocks, owners, finished };
  }
}
