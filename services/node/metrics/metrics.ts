/**
 * The node's Prometheus metrics, on a prom-client Registry of its own (never the global default, so
 * two nodes in one process — tests — do not share figures).
 *
 * Gauges are read from the subsystems when scraped (`collect`); counters and the histogram are fed
 * by events (chain: `block:validated`, `block:connected`, `reorg`; the RPC server's `onCall`).
 * Counters that a subsystem already keeps (feed messages per topic) are advanced by the difference
 * at each scrape. Label values come from fixed sets (method names are the registered ones, topics,
 * directions) or from configuration (recorder keys of the allow-list): nothing a client sends.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Chain } from '../chain/chain.ts';
import type { Feed, FeedTopic } from '../feed/feed.ts';
import type { ChainHealth } from '../health/chain-health.ts';
import type { MapTrim } from '../memory/map-trim.ts';
import type { P2P } from '../p2p/p2p.ts';
import type { ProofService } from '../proof/proof-service.ts';
import type { Reservoir } from '../reservoir/reservoir.ts';

export interface MetricsModules {
  readonly chain: Chain;
  readonly reservoir: Reservoir;
  readonly p2p: P2P;
  readonly proof: ProofService | undefined;
  readonly feed: Feed | undefined;
  readonly health: ChainHealth;
  /** LMDB map trimming; undefined where the native addon is not built. */
  readonly memory?: MapTrim | undefined;
  /** Seconds since the epoch (bans are compared with it). */
  readonly clock: () => number;
}

/** Bucket bounds of block validation times, in seconds (a local block: < 1 ms; 4 MB of transfers: seconds). */
const VALIDATION_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

export class NodeMetrics {
  readonly registry = new Registry();
  readonly #m: MetricsModules;
  readonly #rpcRequests: Counter<'method' | 'status'>;
  readonly #validation: Histogram<'stage'>;
  readonly #blocks: Counter;
  readonly #reorgs: Counter;
  readonly #onValidated = (stage: 'check' | 'connect', seconds: number) =>
    this.#validation.observe({ stage }, seconds);
  readonly #onConnected = () => this.#blocks.inc();
  readonly #onReorg = () => this.#reorgs.inc();

  /** For the RPC server: one call of `method` ended with `status` (`ok` or the JSON-RPC error code). */
  readonly rpcCall = (method: string, status: string): void => {
    this.#rpcRequests.inc({ method, status });
  };

  constructor(modules: MetricsModules) {
    this.#m = modules;
    const registers = [this.registry];
    const m = modules;
    new Gauge({
      name: 'cairn_chain_height',
      help: 'Height of the active chain tip.',
      registers,
      collect() {
        this.set(m.chain.tipHeight());
      },
    });
    new Gauge({
      name: 'cairn_prune_height',
      help: 'Pruning: the highest height whose block data may be deleted (0: nothing pruned).',
      registers,
      collect() {
        this.set(m.chain.pruneHeight);
      },
    });
    new Gauge({
      name: 'cairn_headers_height',
      help: 'Height of the best known header (more than cairn_chain_height while syncing).',
      registers,
      collect() {
        this.set(m.chain.bestHeader().height);
      },
    });
    new Gauge({
      name: 'cairn_sync_stalled',
      help: '1 while the tip has not moved for peering.stall_warning_seconds although more work is known.',
      registers,
      collect() {
        this.set(m.health.stalled ? 1 : 0);
      },
    });
    new Gauge({
      name: 'cairn_sync_stalled_seconds',
      help: 'Seconds the current stall has lasted (0 when not stalled).',
      registers,
      collect() {
        this.set(m.health.stalledSeconds());
      },
    });
    new Gauge({
      name: 'cairn_warnings',
      help: 'Warnings the node reports (getblockchaininfo warnings): stall, storage failure, inconsistency.',
      registers,
      collect() {
        this.set(m.health.warnings().length);
      },
    });
    new Gauge({
      name: 'cairn_peers',
      help: 'Connected peers by direction (outbound: handshake done; inbound: live sessions).',
      labelNames: ['direction'],
      registers,
      collect() {
        this.set({ direction: 'outbound' }, m.p2p.peers().length);
        this.set({ direction: 'inbound' }, m.p2p.inboundCount());
      },
    });
    new Gauge({
      name: 'cairn_peers_banned',
      help: 'Peers banned now (in the peer book).',
      registers,
      collect() {
        const now = m.clock();
        this.set(m.p2p.book.all().filter((r) => r.bannedUntil > now).length);
      },
    });
    // bans are read from the peer book: a ban is counted when a (key, until) pair appears there
    const counted = new Map<string, number>();
    for (const r of m.p2p.book.all()) if (r.bannedUntil > 0) counted.set(r.key, r.bannedUntil); // from before start
    new Counter({
      name: 'cairn_bans_total',
      help: 'Peers banned since start (misbehaviour or setban), as seen at scrape time.',
      registers,
      collect() {
        const live = new Set<string>();
        for (const r of m.p2p.book.all()) {
          if (r.bannedUntil <= 0) continue;
          live.add(r.key);
          if (counted.get(r.key) === r.bannedUntil) continue;
          counted.set(r.key, r.bannedUntil);
          this.inc();
        }
        for (const key of counted.keys()) if (!live.has(key)) counted.delete(key);
      },
    });
    new Gauge({
      name: 'cairn_mempool_transactions',
      help: 'Transactions in the mempool.',
      registers,
      collect() {
        this.set(m.reservoir.size);
      },
    });
    new Gauge({
      name: 'cairn_mempool_bytes',
      help: 'Serialized size of the mempool transactions, in bytes.',
      registers,
      collect() {
        this.set(m.reservoir.bytes);
      },
    });
    this.#validation = new Histogram({
      name: 'cairn_block_validation_seconds',
      help: 'Time to validate a block: stage "check" = header and stateless rules (signatures), "connect" = contextual rules and the commit.',
      labelNames: ['stage'],
      buckets: VALIDATION_BUCKETS,
      registers,
    });
    this.#blocks = new Counter({
      name: 'cairn_blocks_connected_total',
      help: 'Blocks connected to the active chain since start.',
      registers,
    });
    this.#reorgs = new Counter({
      name: 'cairn_reorgs_total',
      help: 'Reorganisations (at least one block disconnected) since start.',
      registers,
    });
    this.#rpcRequests = new Counter({
      name: 'cairn_rpc_requests_total',
      help: 'JSON-RPC method calls by method and outcome ("ok" or the JSON-RPC error code).',
      labelNames: ['method', 'status'],
      registers,
    });
    const seen = new Map<FeedTopic, number>();
    new Counter({
      name: 'cairn_feed_messages_total',
      help: 'Messages published on the ZMQ feed, by topic (a topic no subscriber holds is not published).',
      labelNames: ['topic'],
      registers,
      collect() {
        for (const [topic, n] of m.feed?.published ?? []) {
          const delta = n - (seen.get(topic) ?? 0);
          // every topic the feed carries is listed, at 0 while nobody subscribes to it
          if (delta > 0 || !seen.has(topic)) this.inc({ topic }, delta);
          seen.set(topic, n);
        }
      },
    });
    // a counter a subsystem keeps itself, advanced by the difference at each scrape
    const runningTotal = (name: string, help: string, read: () => number, on = registers) => {
      let seenTotal = 0;
      new Counter({
        name,
        help,
        registers: on,
        collect() {
          const n = read();
          if (n > seenTotal) this.inc(n - seenTotal);
          seenTotal = n;
        },
      });
    };
    runningTotal(
      'cairn_blocks_prepared_total',
      'Blocks connected as prepared on the verify workers (sync and import: decoded, checked and signatures verified ahead of connecting); the other connected blocks were checked inline.',
      () => m.chain.preparedBlocks,
    );
    runningTotal(
      'cairn_sync_commits_total',
      'Storage commits made while syncing (each holds one or more blocks: grouped during initial sync).',
      () => m.p2p.syncCommits().commits,
    );
    runningTotal(
      'cairn_sync_blocks_helped_total',
      'Blocks of a sync batch the connecting thread prepared itself while it waited for the verify workers.',
      () => m.p2p.syncCommits().helped,
    );
    runningTotal(
      'cairn_memory_map_released_bytes_total',
      'Bytes of LMDB map pages dropped from RSS to keep it under storage.map_cache_mb (they stay in the page cache). Absent without the native addon.',
      () => m.memory?.releasedBytes ?? 0,
      m.memory?.enforcing === true ? registers : [],
    );
    runningTotal(
      'cairn_feed_dropped_total',
      'Feed messages dropped because the send queue was full (subscribers see sequence gaps).',
      () => m.feed?.dropped ?? 0,
    );
    const recorderGauge = (name: string, help: string, pick: (r: RecorderRow) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['recorder'],
        registers,
        collect() {
          this.reset(); // recorders that left disappear
          for (const r of m.proof?.stats() ?? []) this.set({ recorder: r.key }, pick(r));
        },
      });
    recorderGauge(
      'cairn_recorder_hashrate',
      'Estimated hashes per second of each recorder: the work of its shares and blocks over the last 5 minutes.',
      (r) => r.hashrate,
    );
    recorderGauge(
      'cairn_recorder_shares',
      'Shares each recorder submitted since it said hello.',
      (r) => r.shares,
    );
    recorderGauge(
      'cairn_recorder_blocks',
      'Blocks each recorder found since it said hello.',
      (r) => r.blocks,
    );
    collectDefaultMetrics({ register: this.registry });
  }

  start(): void {
    this.#m.chain.on('block:validated', this.#onValidated);
    this.#m.chain.on('block:connected', this.#onConnected);
    this.#m.chain.on('reorg', this.#onReorg);
  }

  stop(): void {
    this.#m.chain.off('block:validated', this.#onValidated);
    this.#m.chain.off('block:connected', this.#onConnected);
    this.#m.chain.off('reorg', this.#onReorg);
  }

  /** The exposition text and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

type RecorderRow = ReturnType<ProofService['stats']>[number];
