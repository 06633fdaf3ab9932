/**
 * The public feed in Bitcoin Core's ZMQ format, so stock subscribers (contrib/zmq/zmq_sub.py) work
 * unchanged: three frames `topic | body | uint32 LE sequence` with one sequence counter per topic.
 * - hashblock / rawblock: each connected block (hash in display order, as Core; raw bytes).
 * - hashtx / rawtx: each transaction entering the mempool, and each transaction of a connected block.
 * - sequence: `hash(32, display order) | label` with C (block connected), D (block disconnected),
 *   A (tx added to the mempool) and R (tx removed), A and R followed by a uint64 LE mempool sequence.
 * Plain (no `subscribers`): loopback only, for stock subscribers. With `subscribers`: CURVE with the
 * node's peer key, and the ZAP handler admits only those keys, so the feed may face a network.
 */

import type { FeedTopic } from '../../../shared/config/node-config.ts';
import type { DecodedBlock } from '../../../shared/core/block/types.ts';
import { UsageError } from '../../../shared/core/errors.ts';
import type { DecodedTx } from '../../../shared/core/tx/types.ts';
import type { Logger } from '../../../shared/log.ts';
import type { CurveKeys } from '../../../shared/zmq/curve.ts';
import { PubSocket } from '../../../shared/zmq/publisher.ts';
import type { ZapHandler } from '../../../shared/zmq/zap.ts';
import type { Chain } from '../chain/chain.ts';
import type { Reservoir, ReservoirEntry } from '../reservoir/reservoir.ts';

export type { FeedTopic };

export interface FeedEndpoint {
  /** host:port */
  readonly address: string;
  readonly topics: readonly FeedTopic[];
}

export interface FeedOptions {
  /** One PUB socket per address, publishing its topics. */
  readonly endpoints: readonly FeedEndpoint[];
  /** Subscriber keys admitted over CURVE; empty: a plain socket (loopback only). */
  readonly subscribers: readonly string[];
}

export const FEED_ZAP_DOMAIN = 'feed';

export interface FeedModules {
  readonly chain: Chain;
  readonly reservoir: Reservoir;
  readonly logger: Logger;
  /** Needed when `subscribers` is not empty: the server keys and the process's ZAP handler. */
  readonly identity?: CurveKeys;
  readonly zap?: ZapHandler;
}

function displayOrder(hash: Uint8Array): Buffer {
  return Buffer.from(hash).reverse();
}

export class Feed {
  readonly #o: FeedOptions;
  readonly #m: FeedModules;
  readonly #counters = new Map<FeedTopic, number>();
  #mempoolSequence = 0n;
  #pubs: PubSocket[] = [];
  /** The sockets each topic goes out on (built at start: publishing looks it up per message). */
  #routes = new Map<FeedTopic, PubSocket[]>();
  #stopped = false;
  /** Messages published per topic (for /metrics); a topic nobody subscribes to is not published. */
  readonly published = new Map<FeedTopic, number>();

  /** Messages dropped because a socket's send queue was full (subscribers see sequence gaps). */
  get dropped(): number {
    let n = 0;
    for (const p of this.#pubs) n += p.dropped;
    return n;
  }
  readonly #onBlock = (block: DecodedBlock) => this.#blockConnected(block);
  readonly #onDisconnect = (block: DecodedBlock) => this.#sequence(block.hash, 'D');
  readonly #onAdded = (e: ReservoirEntry) => this.#txAdded(e);
  readonly #onRemoved = (e: ReservoirEntry, reason: string) => {
    if (reason !== 'block') this.#sequence(e.txid, 'R', this.#mempoolSequence++);
  };

  constructor(opts: FeedOptions, modules: FeedModules) {
    this.#o = opts;
    this.#m = modules;
  }

  async start(): Promise<void> {
    const curve = this.#o.subscribers.length > 0;
    if (curve) {
      if (this.#m.identity === undefined || this.#m.zap === undefined)
        throw new UsageError('a CURVE feed needs the node identity and the ZAP handler');
      this.#m.zap.setPolicy(FEED_ZAP_DOMAIN, { allow: new Set(this.#o.subscribers) });
    }
    try {
      for (const e of this.#o.endpoints) {
        const socket = new PubSocket(
          {
            endpoints: [`tcp://${e.address}`],
            ...(curve ? { curve: { keys: this.#m.identity!, zapDomain: FEED_ZAP_DOMAIN } } : {}),
          },
          { logger: this.#m.logger },
        );
        this.#pubs.push(socket);
        for (const t of e.topics) {
          this.#routes.set(t, [...(this.#routes.get(t) ?? []), socket]);
          this.published.set(t, 0);
        }
        await socket.bind();
      }
    } catch (err) {
      for (const p of this.#pubs) p.close();
      this.#pubs = [];
      this.#routes.clear();
      throw err;
    }
    this.#m.chain.on('block:connected', this.#onBlock);
    this.#m.chain.on('block:disconnected', this.#onDisconnect);
    this.#m.reservoir.on('tx:added', this.#onAdded);
    this.#m.reservoir.on('tx:removed', this.#onRemoved);
    const where = this.#o.endpoints.map((e) => `tcp://${e.address} (${e.topics.join(', ')})`).join('; ');
    this.#m.logger.info(
      { endpoints: this.#o.endpoints, subscribers: this.#o.subscribers.length },
      `feed on ${where}, ${curve ? `CURVE, ${this.#o.subscribers.length} subscriber keys` : 'plain'}`,
    );
  }

  async stop(): Promise<void> {
    this.#m.chain.off('block:connected', this.#onBlock);
    this.#m.chain.off('block:disconnected', this.#onDisconnect);
    this.#m.reservoir.off('tx:added', this.#onAdded);
    this.#m.reservoir.off('tx:removed', this.#onRemoved);
    this.#stopped = true;
    for (const p of this.#pubs) p.close();
    this.#pubs = [];
    this.#routes.clear();
    if (this.#o.subscribers.length > 0) this.#m.zap?.removePolicy(FEED_ZAP_DOMAIN);
  }

  /** Whether any socket carrying `topic` has a subscriber for it: if not, nothing is built. */
  #wanted(topic: FeedTopic): boolean {
    if (this.#stopped) return false;
    const to = this.#routes.get(topic);
    if (to === undefined) return false;
    for (const p of to) if (p.wants(topic)) return true;
    return false;
  }

  #send(topic: FeedTopic, body: Uint8Array): void {
    const to = this.#routes.get(topic);
    if (this.#stopped || to === undefined) return;
    // one counter per topic: a topic on two addresses carries the same numbers on both
    const n = this.#counters.get(topic) ?? 0;
    this.#counters.set(topic, (n + 1) % 2 ** 32);
    const seq = Buffer.alloc(4);
    seq.writeUInt32LE(n, 0);
    this.published.set(topic, (this.published.get(topic) ?? 0) + 1);
    for (const p of to) if (p.wants(topic)) p.offer(topic, body, seq);
  }

  #tx(d: DecodedTx): void {
    if (this.#wanted('hashtx')) this.#send('hashtx', displayOrder(d.txid));
    if (this.#wanted('rawtx')) this.#send('rawtx', d.raw);
  }

  #blockConnected(block: DecodedBlock): void {
    this.#sequence(block.hash, 'C');
    if (this.#wanted('hashtx') || this.#wanted('rawtx')) for (const d of block.txs) this.#tx(d);
    if (this.#wanted('hashblock')) this.#send('hashblock', displayOrder(block.hash));
    if (this.#wanted('rawblock')) this.#send('rawblock', block.raw);
  }

  #txAdded(e: ReservoirEntry): void {
    this.#sequence(e.txid, 'A', this.#mempoolSequence++);
    this.#tx(e.tx);
  }

  #sequence(hash: Uint8Array, label: 'C' | 'D' | 'A' | 'R', mempoolSeq?: bigint): void {
    if (!this.#wanted('sequence')) return;
    const body = Buffer.alloc(33 + (mempoolSeq === undefined ? 0 : 8));
    displayOrder(hash).copy(body, 0);
    body.write(label, 32, 'latin1');
    if (mempoolSeq !== undefined) body.writeBigUInt64LE(mempoolSeq, 33);
    this.#send('sequence', body);
  }
}
