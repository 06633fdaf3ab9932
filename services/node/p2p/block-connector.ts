/**
 * Connects the blocks sync receives, in arrival order, once their signatures are checked, grouping
 * what is ready into one storage commit of up to `maxBlocks` blocks / `maxBytes` bytes.
 *
 * Why groups and not one commit per batch: every commit rewrites each B-tree page its writes
 * touched, and the tx, address and spent-coin keys are scattered, so most writes dirty a page of
 * their own. Four 16-block batches in one commit cost a syncing node's main thread about a third
 * less per transaction than four commits (bench/sync-profile.ts). The groups form by themselves:
 * while one commits, the next batches arrive and are verified, and are taken together.
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
  readonly #queue: Entry[] = [];
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
    if (this.#stopped) {
      this.#running = false;
      return;
    }
    let group: Group | undefined;
    try {
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
