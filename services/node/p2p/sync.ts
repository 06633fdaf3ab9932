/**
 * Headers-first sync: learn the best header chain from the peer that claims the most work, then
 * download the missing blocks in batches from every peer that has them, one pipelined request
 * per peer (the next batch is asked for before the current one is processed, so the network and
 * validation overlap). Blocks may arrive in any order: their headers are known, the chain connects
 * them when the path is complete.
 */
import { decodeHeader } from '../../../shared/core/block/header.ts';
import { CairnError, DecodeError, ValidationError } from '../../../shared/core/errors.ts';
import type { Logger } from '../../../shared/log.ts';
import type { Chain } from '../chain/chain.ts';
import { ChainError } from '../chain/errors.ts';
import { LIMITS } from './messages.ts';
import type { OutboundPeer } from './outbound.ts';

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

export class Sync {
  readonly #m: SyncModules;
  #running: Promise<void> | undefined;
  #lastReport = 0;
  #turn = 0;

  constructor(modules: SyncModules) {
    this.#m = modules;
  }

  get running(): boolean {
    return this.#running !== undefined;
  }

  /** Runs one sync pass unless one is running (then waits for it). */
  run(): Promise<void> {
    this.#running ??= this.#pass().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #pass(): Promise<void> {
    const chain = this.#m.chain;
    for (let round = 0; round < 1000; round++) {
      // with no peer claiming more work, still ask one (in turn): the work a hello claimed may be
      // old, and relays may have been dropped, so a peer ahead of us would otherwise go unseen
      // until the next ping; an up-to-date peer answers with an empty list
      const best = this.#bestPeer() ?? (round === 0 ? this.#nextPeer() : undefined);
      if (best !== undefined) await this.#headers(best);
      const target = chain.bestHeader();
      if (target === chain.tip) return;
      const missing = chain.missingBlocks(target, ROUND);
      if (missing.length === 0) return; // blocks stored but waiting for an invalid parent, or connected already
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
      if (chain.tipHeight() > before + 1000 || Date.now() - this.#lastReport > 5000) {
        this.#lastReport = Date.now();
        this.#m.logger.info(
          { height: chain.tipHeight(), target: target.height },
          `syncing: height ${chain.tipHeight()} of ${target.height}`,
        );
      }
      if (chain.tipHeight() === before) return; // no progress: try again on the next pass
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
        this.#m.logger.debug({ peer: peer.key, err: (e as Error).message }, 'getheaders failed');
        return;
      }
      let added = 0;
      for (const raw of raws) {
        try {
          const e = chain.processHeader(decodeHeader(raw));
          if (e.height > 0) added++;
        } catch (e) {
          if (e instanceof DecodeError || e instanceof ValidationError || e instanceof ChainError) {
            const dos = e instanceof DecodeError ? 20 : 'dos' in e ? (e as { dos: number }).dos : 0;
            if (dos > 0) this.#m.misbehaved(peer, dos, `bad header: ${e.message}`);
            return;
          }
          throw e;
        }
      }
      if (raws.length < LIMITS.headers || added === 0) return;
    }
  }

  /**
   * Fetches `hashes` from every peer that may have them, each peer pipelining its batches; peers
   * claiming the most work start first. A peer that fails or has none of a batch gives its batches
   * back and is out for this round; the others run again while batches are left, so batches given
   * back after the peers that have them found the queue empty are still fetched.
   */
  async #download(hashes: Uint8Array[]): Promise<void> {
    const queue: Uint8Array[][] = [];
    for (let i = 0; i < hashes.length; i += BATCH) queue.push(hashes.slice(i, i + BATCH));
    let peers = this.#m
      .peers()
      .filter((p) => p.remote !== undefined)
      .sort((a, b) => (b.remote!.work > a.remote!.work ? 1 : b.remote!.work < a.remote!.work ? -1 : 0));
    const out = new Set<OutboundPeer>();
    // each pass that ends with batches left has put at least one peer out: this ends
    while (queue.length > 0 && peers.length > 0) {
      await Promise.all(peers.map((p) => this.#worker(p, queue, out)));
      peers = peers.filter((p) => !out.has(p));
    }
  }

  async #worker(peer: OutboundPeer, queue: Uint8Array[][], out: Set<OutboundPeer>): Promise<void> {
    const chain = this.#m.chain;
    let next = queue.shift();
    let pending = next === undefined ? undefined : { hashes: next, reply: peer.getBlocks(next) };
    while (pending !== undefined) {
      const current = pending;
      next = queue.shift();
      // ask for the next batch before processing this one: the transfer overlaps validation
      pending = next === undefined ? undefined : { hashes: next, reply: peer.getBlocks(next) };
      let blocks: Uint8Array[];
      try {
        blocks = await current.reply;
      } catch (e) {
        // give its batches to the other peers and stop using this one for this round
        queue.unshift(current.hashes);
        if (pending !== undefined) {
          queue.unshift(pending.hashes);
          pending.reply.catch(() => undefined);
        }
        this.#m.logger.debug({ peer: peer.key, err: (e as Error).message }, 'getblocks failed');
        out.add(peer);
        return;
      }
      for (const raw of blocks) {
        const r = chain.processBlock(raw);
        if (r.status === 'invalid') {
          const e = r.error;
          this.#m.logger.debug({ peer: peer.key, err: e?.message }, 'synced block invalid');
          const dos = e instanceof CairnError && 'dos' in e ? Number((e as { dos: number }).dos) : 0;
          if (dos > 0) this.#m.misbehaved(peer, dos, `sent invalid block: ${e?.message}`);
        }
      }
      if (blocks.length === 0 && current.hashes.length > 0) {
        // the peer has none of them: leave the batch to others
        queue.push(current.hashes);
        if (pending !== undefined) {
          queue.unshift(pending.hashes);
          pending.reply.catch(() => undefined);
        }
        out.add(peer);
        return;
      }
    }
  }
}
