/**
 * Headers-first sync: learn the best header chain from the peer that claims the most work, then
 * download the missing blocks in batches from every peer that has them, one pipelined request
 * per peer (the next batch is asked for before the current one is processed, so the network and
 * validation overlap). Blocks may arrive in any order: their headers are known, the chain connects
 * them when the path is complete.
 *
 * Liveness (issue 11): a batch held too long by a slow or stalled peer is asked of an idle peer
 * too (the first answer wins); a pass never throws; passes that make no progress while more work
 * is known back off (1 s doubling to 32 s) instead of hammering, and any new peer or announced
 * block ends the back-off.
 */
import { decodeHeader } from '../../../shared/core/block/header.ts';
import { CairnError, DecodeError } from '../../../shared/core/errors.ts';
import type { Logger } from '../../../shared/log.ts';
import type { Chain } from '../chain/chain.ts';
import { StorageError } from '../db/errors.ts';
import { BlockConnector } from './block-connector.ts';
import { LIMITS } from './messages.ts';
import type { OutboundPeer } from './outbound.ts';
import { SyncProgress } from './sync-progress.ts';

export interface SyncOptions {
  /** A batch in flight this long is also asked of an idle peer (ms). Default 3,000. */
  readonly stealAfterMs?: number;
  /** Longest pause between passes that made no progress (ms). Default 32,000. */
  readonly maxBackoffMs?: number;
}

export interface SyncModules {
  readonly chain: Chain;
  readonly peers: () => OutboundPeer[];
  readonly logger: Logger;
  /** A peer sent something invalid: score it (points as in the handler's offences). */
  misbehaved(peer: OutboundPeer, points: number, reason: string): void;
}

const BATCH = LIMITS.blocksPerRequest;
/** Blocks queued per sync round (the round repeats until the best header is reached). */
const ROUND = 4096;
/**
 * Received blocks waiting to be connected, at most (beyond, downloads pause): two connector
 * groups, one ready and one being verified. In a 2,000 × 50 sync (bench/sync-profile.ts) 512 /
 * 64 MB peaked at 167 and 180 MB of anonymous memory, 192 / 24 MB at 146, 155 and 178 MB. Once
 * ready blocks waited for a full group (block-connector.ts), 128 against 192 blocks peaked at
 * 74.5 against 77.5 MB anonymous (medians of 10 runs each of 700 × 100), no slower.
 */
const MAX_STAGED_BLOCKS = 128;
const MAX_STAGED_BYTES = 24_000_000;

interface Batch {
  readonly hashes: Uint8Array[];
  /** When it was last asked for (ms), and of whom; undefined while queued. */
  sentAt: number | undefined;
  owner: OutboundPeer | undefined;
  stolen: boolean;
  /** Its blocks arrived (being connected): nobody else needs to ask for it. */
  received: boolean;
  done: boolean;
}

interface Round {
  readonly all: Batch[];
  readonly queue: Batch[];
  readonly out: Set<OutboundPeer>;
  /** Called when every batch is in. */
  readonly allIn: () => void;
  /** Resolves after `ms`, or sooner when every batch is in. */
  readonly idle: (ms: number) => Promise<void>;
}

export class Sync {
  readonly #m: SyncModules;
  readonly #stealAfterMs: number;
  readonly #maxBackoffMs: number;
  readonly #progress: SyncProgress;
  readonly #connector: BlockConnector;
  #running: Promise<void> | undefined;
  /** Stopped (the node is shutting down): no pass starts, no block is connected. */
  #stopped = false;
  /** The download round running, if any (stop() ends its waits). */
  #round: Round | undefined;
  #turn = 0;
  /** Passes in a row that ended with more work known and no progress. */
  #fruitless = 0;
  #notBefore = 0;
  /** Counters for status reports and metrics. */
  readonly counters = { passes: 0, batches: 0, stolen: 0, failedRequests: 0, errors: 0 };

  constructor(modules: SyncModules, opts: SyncOptions = {}) {
    this.#m = modules;
    this.#stealAfterMs = opts.stealAfterMs ?? 3_000;
    this.#maxBackoffMs = opts.maxBackoffMs ?? 32_000;
    this.#progress = new SyncProgress(modules.chain, modules.logger);
    this.#connector = new BlockConnector({}, { chain: modules.chain });
  }

  /**
   * Commits made while syncing, the blocks in them, and the blocks the connecting thread prepared
   * itself while it waited (the verify workers were behind).
   */
  get commits(): { commits: number; blocks: number; helped: number } {
    return { ...this.#connector.counters };
  }

  get running(): boolean {
    return this.#running !== undefined;
  }

  /** ms until the next periodic pass may start (0 when not backing off). */
  get backoffMs(): number {
    return Math.max(0, this.#notBefore - Date.now());
  }

  /** Runs one sync pass unless one is running (then waits for it); ends any back-off. Never rejects. */
  run(): Promise<void> {
    this.#notBefore = 0;
    return this.#start();
  }

  /** The periodic pass: skipped while backing off after fruitless passes. Never rejects. */
  tick(): Promise<void> {
    if (Date.now() < this.#notBefore) return this.#running ?? Promise.resolve();
    return this.#start();
  }

  /**
   * Stops syncing: no pass starts and nothing more is connected (blocks received and not yet
   * connected are dropped; the next start downloads them again). Resolves when the running pass
   * has ended, which it does once its requests fail: close the peers after calling this.
   */
  stop(): Promise<void> {
    this.#stopped = true;
    this.#connector.stop();
    this.#round?.allIn(); // its peers idling until they may steal a batch stop waiting
    return this.#running ?? Promise.resolve();
  }

  #start(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    this.#running ??= this.#guardedPass().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #guardedPass(): Promise<void> {
    const chain = this.#m.chain;
    const before = chain.tipHeight();
    this.counters.passes++;
    try {
      await this.#pass();
    } catch (e) {
      this.counters.errors++;
      // a storage failure is the node's to report (it stops); anything else is a bug to see
      if (!(e instanceof StorageError))
        this.#m.logger.error({ err: e }, `sync pass failed: ${(e as Error).message}`);
    }
    const behind = chain.bestHeader().work > chain.tip.work;
    if (!behind || chain.tipHeight() !== before) {
      this.#fruitless = 0;
      this.#notBefore = 0;
      return;
    }
    this.#fruitless++;
    const wait = Math.min(this.#maxBackoffMs, 1000 * 2 ** Math.min(this.#fruitless - 1, 10));
    this.#notBefore = Date.now() + wait;
    if (this.#fruitless >= 3)
      this.#m.logger.debug(
        { fruitless: this.#fruitless, waitMs: wait },
        'sync made no progress; backing off',
      );
  }

  async #pass(): Promise<void> {
    const chain = this.#m.chain;
    for (let round = 0; round < 1000 && !this.#stopped; round++) {
      // with no peer claiming more work, still ask one (in turn): the work a hello claimed may be
      // old, and relays may have been dropped, so a peer ahead of us would otherwise go unseen
      // until the next ping; an up-to-date peer answers with an empty list
      const best = this.#bestPeer() ?? (round === 0 ? this.#nextPeer() : undefined);
      if (best !== undefined) await this.#headers(best);
      if (this.#stopped) return;
      const target = chain.bestHeader();
      if (target === chain.tip) return;
      const missing = chain.missingBlocks(target, ROUND);
      if (missing.length === 0) {
        // every block on the way has data: connect what can be (an earlier attempt may have
        // stopped short); what still cannot is waiting for an invalid parent
        chain.activateBestChain();
        return;
      }
      const before = chain.tipHeight();
      const started = Date.now();
      await this.#download(missing);
      this.#m.logger.debug(
        {
          missing: missing.length,
          from: before,
          to: chain.tipHeight(),
          target: target.height,
          ms: Date.now() - started,
        },
        'sync round',
      );
      this.#progress.report();
      if (chain.tipHeight() === before) return; // no progress: the next pass tries again
    }
  }

  /** The connected peers in turn, one per call. */
  #nextPeer(): OutboundPeer | undefined {
    const peers = this.#m.peers().filter((p) => p.remote !== undefined);
    if (peers.length === 0) return undefined;
    this.#turn = (this.#turn + 1) % peers.length;
    return peers[this.#turn];
  }

  /** The connected peer claiming the most work beyond our best header. */
  #bestPeer(): OutboundPeer | undefined {
    const ours = this.#m.chain.bestHeader().work;
    let best: OutboundPeer | undefined;
    for (const p of this.#m.peers()) {
      if (p.remote === undefined || p.remote.work <= ours) continue;
      if (best === undefined || p.remote.work > best.remote!.work) best = p;
    }
    return best;
  }

  async #headers(peer: OutboundPeer): Promise<void> {
    const chain = this.#m.chain;
    for (let i = 0; i < 10_000; i++) {
      let raws: Uint8Array[];
      try {
        raws = await peer.getHeaders(chain.locatorFrom(chain.bestHeader()));
      } catch (e) {
        this.counters.failedRequests++;
        this.#m.logger.debug({ peer: peer.key, err: (e as Error).message }, 'getheaders failed');
        return;
      }
      // the headers before a malformed one still count (as they would one by one)
      const headers = [];
      let malformed: DecodeError | undefined;
      for (const raw of raws) {
        try {
          headers.push(decodeHeader(raw));
        } catch (e) {
          if (!(e instanceof DecodeError)) throw e;
          malformed = e;
          break;
        }
      }
      const { entries, error } = chain.processHeaders(headers);
      const bad = error ?? malformed;
      if (bad !== undefined) {
        const dos = bad instanceof DecodeError ? 20 : 'dos' in bad ? (bad as { dos: number }).dos : 0;
        if (dos > 0) this.#m.misbehaved(peer, dos, `bad header: ${bad.message}`);
        return;
      }
      const added = entries.filter((e) => e.height > 0).length;
      if (raws.length < LIMITS.headers || added === 0) return;
    }
  }

  /**
   * Fetches `hashes` from every peer that may have them, each peer pipelining its batches; peers
   * claiming the most work start first. A peer that fails or has none of a batch gives its batches
   * back and is out for this round; the others run again while batches are left. A batch in
   * flight longer than `stealAfterMs` is asked of an idle peer too, and the round ends when every
   * batch is in, without waiting for a slow peer's late answer (processed when it comes).
   */
  async #download(hashes: Uint8Array[]): Promise<void> {
    const all: Batch[] = [];
    for (let i = 0; i < hashes.length; i += BATCH)
      all.push({
        hashes: hashes.slice(i, i + BATCH),
        sentAt: undefined,
        owner: undefined,
        stolen: false,
        received: false,
        done: false,
      });
    const queue = [...all];
    let peers = this.#m
      .peers()
      .filter((p) => p.remote !== undefined)
      .sort((a, b) => (b.remote!.work > a.remote!.work ? 1 : b.remote!.work < a.remote!.work ? -1 : 0));
    const out = new Set<OutboundPeer>();
    let allIn!: () => void;
    const finished = new Promise<void>((resolve) => {
      allIn = resolve;
    });
    const idle = (ms: number) =>
      new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ms);
        void finished.then(() => {
          clearTimeout(t);
          resolve();
        });
      });
    const round: Round = { all, queue, out, allIn, idle };
    this.#round = round;
    try {
      // each pass that ends with batches left has put at least one peer out: this ends
      while (!this.#stopped && all.some((b) => !b.done) && peers.length > 0) {
        await Promise.race([finished, Promise.all(peers.map((p) => this.#worker(p, round)))]);
        if (all.every((b) => b.done)) break;
        peers = peers.filter((p) => !out.has(p));
        // batches still in flight with a peer that is out go back to the queue
        for (const b of all)
          if (!b.done && b.owner !== undefined && out.has(b.owner) && !queue.includes(b)) queue.push(b);
      }
    } finally {
      this.#round = undefined;
    }
  }

  /**
   * A pruned peer (its hello's pruneHeight) is not asked for blocks at or below its prune height:
   * it has not got them (docs/protocol.md `hello`).
   */
  #canServe(peer: OutboundPeer, b: Batch): boolean {
    const pruned = peer.remote?.pruneHeight ?? 0;
    return pruned === 0 || b.hashes.every((h) => (this.#m.chain.entry(h)?.height ?? 0) > pruned);
  }

  /** The next batch for `peer`: a queued one it can serve, or one another peer has held too long. */
  #take(peer: OutboundPeer, r: Round): Batch | undefined {
    for (let i = 0; i < r.queue.length; ) {
      const b = r.queue[i]!;
      if (!b.done && !this.#canServe(peer, b)) {
        i++;
        continue;
      }
      r.queue.splice(i, 1);
      if (!b.done) return b;
    }
    const now = Date.now();
    for (const b of r.all) {
      if (b.done || b.received || b.stolen || b.owner === peer || b.sentAt === undefined) continue;
      if (!this.#canServe(peer, b)) continue;
      if (now - b.sentAt < this.#stealAfterMs) continue;
      b.stolen = true;
      this.counters.stolen++;
      this.#m.logger.debug(
        { from: b.owner?.key, to: peer.key, heldMs: now - b.sentAt },
        'slow batch asked of another peer',
      );
      return b;
    }
    return undefined;
  }

  /** ms until a batch another peer holds may be asked of `peer`; undefined when none can be. */
  #nextStealIn(peer: OutboundPeer, all: Batch[]): number | undefined {
    let soonest: number | undefined;
    const now = Date.now();
    for (const b of all) {
      if (b.done || b.received || b.stolen || b.owner === peer || b.sentAt === undefined) continue;
      if (!this.#canServe(peer, b)) continue;
      const wait = Math.max(1, b.sentAt + this.#stealAfterMs - now);
      if (soonest === undefined || wait < soonest) soonest = wait;
    }
    return soonest;
  }

  async #worker(peer: OutboundPeer, r: Round): Promise<void> {
    const ask = (b: Batch | undefined) => {
      if (b === undefined) return undefined;
      b.sentAt = Date.now();
      b.owner = peer;
      this.counters.batches++;
      const reply = peer.getBlocks(b.hashes);
      // a request can fail at once (our queue to the peer full) before it is awaited: mark it
      // handled now, or it is an unhandled rejection (awaiting it later still throws)
      reply.catch(() => undefined);
      return { batch: b, reply };
    };
    let pending = ask(this.#take(peer, r));
    // once out (a failed request, or none of a batch), the peer asks for nothing more this round
    // but still takes the answer already in flight: it may come, and dropping it cost a batch
    let out = false;
    const leave = () => {
      out = true;
      r.out.add(peer);
    };
    // The pipeline: a batch that arrives is decoded and its signatures go to the verify workers at
    // once; it is connected (in arrival order, with the batches ready beside it) when they are
    // done. Meanwhile this thread connects the batches before and receives the next.
    let staged: Promise<void> = Promise.resolve();
    try {
      for (;;) {
        if (this.#stopped) return;
        if (pending === undefined) {
          if (out) return;
          // idle: wait until a batch another peer holds may be asked for, or the round is over
          const wait = this.#nextStealIn(peer, r.all);
          if (wait === undefined || r.all.every((b) => b.done)) {
            // batches left in the queue are ones this (pruned) peer cannot serve: out of the round
            if (r.queue.some((b) => !b.done)) leave();
            return;
          }
          await r.idle(wait);
          pending = ask(this.#take(peer, r));
          continue;
        }
        const current = pending;
        // ask for the next batch before processing this one: the transfer overlaps validation
        pending = out ? undefined : ask(this.#take(peer, r));
        let blocks: Uint8Array[];
        try {
          blocks = await current.reply;
        } catch (e) {
          // give the batch to the other peers
          this.counters.failedRequests++;
          if (!current.batch.done) r.queue.unshift(current.batch);
          this.#m.logger.debug({ peer: peer.key, err: (e as Error).message }, 'getblocks failed');
          leave();
          continue;
        }
        if (blocks.length === 0 && current.batch.hashes.length > 0) {
          // the peer has none of them: leave the batch to others
          if (!current.batch.done) r.queue.push(current.batch);
          leave();
          continue;
        }
        current.batch.received = true;
        staged = this.#stage(peer, r, current.batch, blocks);
        // downloads wait while connecting is behind: what is staged is held decoded in memory
        await this.#connector.room(MAX_STAGED_BLOCKS, MAX_STAGED_BYTES);
      }
    } finally {
      // what arrived is connected before the worker ends (a storage failure rejects here)
      await staged;
    }
  }

  /**
   * Sends `blocks` to the verify workers to be prepared (decoded, checked, signatures verified) and
   * queues them to be connected (in arrival order, several batches per commit) once they are.
   */
  #stage(peer: OutboundPeer, r: Round, batch: Batch, blocks: Uint8Array[]): Promise<void> {
    const ready = this.#m.chain.prepare(blocks);
    const done = this.#connector
      .add(blocks, ready, (res) => {
        if (res.status !== 'invalid') return;
        const e = res.error;
        this.#m.logger.debug({ peer: peer.key, err: e?.message }, 'synced block invalid');
        const dos = e instanceof CairnError && 'dos' in e ? Number((e as { dos: number }).dos) : 0;
        if (dos > 0) this.#m.misbehaved(peer, dos, `sent invalid block: ${e?.message}`);
      })
      .then(() => {
        batch.done = true;
        if (r.all.every((b) => b.done)) r.allIn();
      });
    done.catch(() => undefined); // awaited by the worker; marked handled until then
    return done;
  }
}
