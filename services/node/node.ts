/**
 * The composition root of cairnd: builds the subsystems in dependency order (ZAP handler, chain
 * state, P2P; later RPC, proof, feed) and stops them in reverse. Constructors take (opts, modules);
 * nothing reads configuration but this file.
 */

import {
  effectiveVerifyWorkers,
  feedEndpoints,
  feedSubscriberKeys,
  mapSizeBytes,
  type NodeConfig,
  peerAllowList,
  peerIdentityPaths,
  proofIdentityPaths,
  proofRecorderKeys,
  reservoirMaxBytes,
} from '../../shared/config/node-config.ts';
import { CairnError } from '../../shared/core/errors.ts';
import { NETWORKS } from '../../shared/core/params/networks.ts';
import { loadIdentity } from '../../shared/identity/certificate.ts';
import type { Logger } from '../../shared/log.ts';
import { VERSION } from '../../shared/version.ts';
import { ZapHandler } from '../../shared/zmq/zap.ts';
import { ChainState } from './chain-state.ts';
import { DiscoveryClient } from './discovery/discovery-client.ts';
import { EXIT } from './exit-codes.ts';
import { Explorer } from './explorer/explorer.ts';
import { Feed } from './feed/feed.ts';
import { ChainHealth } from './health/chain-health.ts';
import { rssFileBytes } from './memory/file-mappings.ts';
import { HeapGrowth } from './memory/heap-growth.ts';
import { MapTrim } from './memory/map-trim.ts';
import { loadNativeMemory } from './memory/native.ts';
import { loadGc, MemoryRelease } from './memory/release.ts';
import { NodeMetrics } from './metrics/metrics.ts';
import { MetricsServer } from './metrics/server.ts';
import { advertised, P2P } from './p2p/p2p.ts';
import { ProofService } from './proof/proof-service.ts';
import { RestApi } from './rest/rest.ts';
import { nodeRegistry } from './rpc/methods/index.ts';
import { RpcServer } from './rpc/server.ts';

export { USER_AGENT } from './user-agent.ts';

import { USER_AGENT } from './user-agent.ts';

/**
 * A listen address (peer, proof, feed, RPC, metrics) another process already holds: a
 * configuration problem (exit 2), said in one line naming the setting and the address.
 */
export class PortInUseError extends CairnError {
  readonly code = 'port-in-use';
  constructor(
    readonly setting: string,
    readonly address: string,
    options?: { cause?: unknown },
  ) {
    super(`${setting} ${address} is already in use (another cairnd? change ${setting})`, options);
  }
}

/** The address in an EADDRINUSE error (node:net: address + port; zeromq: a tcp:// endpoint), if any. */
function addressInUse(e: unknown): { address: string | undefined } | undefined {
  let x: unknown = e;
  for (let depth = 0; depth < 5 && typeof x === 'object' && x !== null; depth++) {
    const o = x as { code?: unknown; address?: unknown; port?: unknown; cause?: unknown };
    if (o.code === 'EADDRINUSE') {
      if (typeof o.address !== 'string') return { address: undefined };
      const host = o.address.replace(/^tcp:\/\//, '');
      if (typeof o.port !== 'number') return { address: host };
      return { address: host.includes(':') ? `[${host}]:${o.port}` : `${host}:${o.port}` };
    }
    x = o.cause;
  }
  return undefined;
}

/**
 * Runs a subsystem's start; an address already in use becomes a PortInUseError naming the setting
 * (of `settings`) that lists the address, or the first one.
 */
export async function binding<T>(
  settings: Record<string, readonly string[]>,
  start: () => Promise<T>,
): Promise<T> {
  try {
    return await start();
  } catch (e) {
    const hit = addressInUse(e);
    if (hit === undefined) throw e;
    const plain = (a: string) => a.replace(/^tcp:\/\//, '');
    const entries = Object.entries(settings);
    const found = entries.find(([, list]) => list.some((a) => plain(a) === hit.address));
    const [setting, list] = found ?? entries[0]!;
    throw new PortInUseError(setting, hit.address ?? list.map(plain).join(', '), { cause: e });
  }
}

export class CairnNode {
  readonly config: NodeConfig;
  readonly state: ChainState;
  readonly p2p: P2P;
  /** The proof channel, when recorders are configured. */
  readonly proof: ProofService | undefined;
  readonly rpc: RpcServer | undefined;
  readonly feed: Feed | undefined;
  readonly metrics: MetricsServer | undefined;
  readonly health: ChainHealth;
  /** The web explorer's server side (with `rpc.rest`). */
  explorer: Explorer | undefined;
  readonly #zap: ZapHandler;
  readonly #log: Logger;
  #discovery: DiscoveryClient | undefined;
  #memory: MemoryRelease | undefined;
  #mapTrim: MapTrim | undefined;
  #heapGrowth: HeapGrowth | undefined;
  #stopped = false;

  private constructor(
    config: NodeConfig,
    parts: {
      zap: ZapHandler;
      state: ChainState;
      p2p: P2P;
      proof: ProofService | undefined;
      rpc: RpcServer | undefined;
      feed: Feed | undefined;
      metrics: MetricsServer | undefined;
      health: ChainHealth;
    },
    log: Logger,
  ) {
    this.health = parts.health;
    this.config = config;
    this.#zap = parts.zap;
    this.state = parts.state;
    this.p2p = parts.p2p;
    this.proof = parts.proof;
    this.rpc = parts.rpc;
    this.feed = parts.feed;
    this.metrics = parts.metrics;
    this.#log = log;
  }

  static async start(
    config: NodeConfig,
    logger: Logger,
    clock = () => Math.floor(Date.now() / 1000),
    requestStop: (reason: string, exitCode?: number) => void = () => undefined,
  ): Promise<CairnNode> {
    const params = NETWORKS[config.network];
    const identity = loadIdentity(peerIdentityPaths(config).secretPath);
    // one ZAP handler per process, before any server socket (without it libzmq admits every key)
    const zap = new ZapHandler({ logger: logger.child({ module: 'zap' }) });
    await zap.start();
    let state: ChainState | undefined;
    const started: (() => Promise<void>)[] = [];
    try {
      state = await ChainState.open(
        {
          dataDir: config.data_dir,
          params,
          verifyWorkers: effectiveVerifyWorkers(config),
          durable: config.storage.durable,
          minFreeBytes: config.storage.min_free_mb === null ? 'auto' : config.storage.min_free_mb * 1_000_000,
          mapSize: mapSizeBytes(config),
          ...(config.storage.prune_mb > 0
            ? { prune: { targetBytes: config.storage.prune_mb * 1_000_000 } }
            : {}),
          reservoir: {
            maxBytes: reservoirMaxBytes(config),
            minRelayFeeRate: config.reservoir.min_relay_fee_rate,
          },
        },
        { logger, clock },
      );
      // a failed write (disk full, I/O error) stops the node: nothing more can be committed
      state.db.onFailure = (e) => {
        logger.fatal({ code: e.code }, `storage failed, stopping: ${e.message}`);
        requestStop('storage failure', EXIT.storage);
      };
      const gc = loadGc();
      const mapTrim = startMapTrim(config, state, gc, logger.child({ module: 'memory' }));
      if (mapTrim !== undefined) started.push(async () => mapTrim.stop());
      const listen = [...config.peering.listen];
      const p2p = new P2P(
        {
          dataDir: config.data_dir,
          listen,
          announce: [...config.peering.announce],
          connect: config.peering.connect.map((c) => ({ address: c.address, key: c.key })),
          allow: peerAllowList(config) ?? undefined,
          maxInbound: config.peering.max_inbound,
          maxOutbound: config.peering.max_outbound,
          maxMessageBytes: config.peering.max_message_bytes,
          requestTimeoutMs: config.peering.request_timeout_ms,
          banSeconds: config.peering.ban_seconds,
          userAgent: USER_AGENT,
          compactBlocks: config.peering.compact_blocks,
        },
        {
          chain: state.chain,
          reservoir: state.reservoir,
          submitter: state.submitter,
          identity,
          zap,
          logger: logger.child({ module: 'p2p' }),
          clock,
        },
      );
      await binding({ 'peering.listen': listen }, () => p2p.start());
      started.push(() => p2p.stop());
      const health = new ChainHealth(
        { stallSeconds: config.peering.stall_warning_seconds },
        {
          chain: state.chain,
          logger: logger.child({ module: 'health' }),
          storageFailure: () => state!.db.failed,
          peers: () => p2p.peers().length,
          verifyPoolLoss: () => state!.verifyPoolLoss,
        },
      );
      health.start();
      started.push(async () => health.stop());
      // peer source: cairn-discovery services (starts in the background; never blocks the start)
      let discovery: DiscoveryClient | undefined;
      if (config.discovery.servers.length > 0) {
        discovery = new DiscoveryClient(
          {
            servers: config.discovery.servers.map((d) => ({ address: d.address, key: d.key })),
            register: config.discovery.register,
            announce: advertised({ announce: config.peering.announce, listen: config.peering.listen }),
            params,
          },
          {
            identity,
            logger: logger.child({ module: 'discovery' }),
            clock,
            height: () => state!.chain.tipHeight(),
            addPeers: (peers) => p2p.addPeers(peers, 'discovery'),
            hungry: () => p2p.wantsPeers(),
          },
        );
        discovery.start();
        started.push(() => discovery!.stop());
      }
      let proof: ProofService | undefined;
      const recorders = proofRecorderKeys(config);
      if (recorders.length > 0) {
        proof = new ProofService(
          {
            jobsListen: [...config.proof.jobs_listen],
            submitListen: [...config.proof.submit_listen],
            recorders,
            shareBits: config.proof.share_bits,
            jobExpirySeconds: config.proof.job_expiry_seconds,
          },
          {
            state,
            identity: loadIdentity(proofIdentityPaths(config).secretPath),
            zap,
            logger: logger.child({ module: 'proof' }),
            clock,
          },
        );
        await binding(
          {
            'proof.jobs_listen': config.proof.jobs_listen,
            'proof.submit_listen': config.proof.submit_listen,
          },
          () => proof!.start(),
        );
      }
      if (proof !== undefined) started.push(() => proof!.stop());
      let feed: Feed | undefined;
      const feedAt = feedEndpoints(config);
      if (feedAt.length > 0) {
        feed = new Feed(
          {
            endpoints: feedAt,
            subscribers: feedSubscriberKeys(config),
          },
          {
            chain: state.chain,
            reservoir: state.reservoir,
            logger: logger.child({ module: 'feed' }),
            identity,
            zap,
          },
        );
        await binding(
          { 'feed.listen': config.feed.listen, 'feed.publish': config.feed.publish.map((p) => p.address) },
          () => feed!.start(),
        );
        started.push(() => feed!.stop());
      }
      const metrics = new NodeMetrics({
        chain: state.chain,
        reservoir: state.reservoir,
        p2p,
        proof,
        feed,
        health,
        memory: mapTrim,
        clock,
      });
      let rpc: RpcServer | undefined;
      let explorer: Explorer | undefined;
      if (config.rpc.listen.length > 0) {
        const registry = nodeRegistry({
          params,
          state,
          p2p,
          health,
          proof,
          banSeconds: config.peering.ban_seconds,
          memory: mapTrim,
          feed: feed === undefined ? [] : feedAt,
          startedAt: clock(),
          clock,
          requestStop: () => requestStop('RPC stop'),
        });
        if (config.rpc.rest) {
          explorer = new Explorer(
            {},
            {
              state,
              params,
              logger: logger.child({ module: 'explorer' }),
              clock,
              recorders: proof === undefined ? undefined : () => proof!.stats(),
              initialBlockDownload: () => health.initialBlockDownload(),
            },
          );
          explorer.start();
          started.push(async () => explorer!.stop());
        }
        const perSecond = config.rpc.max_requests_per_second;
        rpc = new RpcServer(
          {
            listen: [...config.rpc.listen],
            dataDir: config.data_dir,
            rpcauth: [...config.rpc.auth],
            rateLimit: perSecond === 0 ? false : { perSecond, burst: 2 * perSecond },
          },
          {
            registry,
            logger: logger.child({ module: 'rpc' }),
            onCall: metrics.rpcCall,
            ...(config.rpc.rest
              ? {
                  routes: new RestApi({
                    registry,
                    params,
                    logger: logger.child({ module: 'rest' }),
                    ...(explorer === undefined ? {} : { explorer }),
                    mempool: () => state!.reservoir.entries(),
                  }),
                }
              : {}),
          },
        );
        await binding({ 'rpc.listen': config.rpc.listen }, () => rpc!.start());
        logger.info(
          { listen: rpc.addresses() },
          `JSON-RPC on http://${rpc.addresses().join(', http://')} (cookie in ${config.data_dir}/.cookie)`,
        );
      }
      if (rpc !== undefined) started.push(() => rpc!.stop());
      let metricsServer: MetricsServer | undefined;
      if (config.metrics.listen.length > 0) {
        metricsServer = new MetricsServer(
          { listen: [...config.metrics.listen] },
          { metrics, logger: logger.child({ module: 'metrics' }) },
        );
        await binding({ 'metrics.listen': config.metrics.listen }, () => metricsServer!.start());
      }
      const node = new CairnNode(
        config,
        { zap, state, p2p, proof, rpc, feed, metrics: metricsServer, health },
        logger,
      );
      node.#discovery = discovery;
      node.explorer = explorer;
      node.#mapTrim = mapTrim;
      // while syncing, the old generation kept near what is live (services/node/memory/heap-growth.ts)
      node.#heapGrowth = new HeapGrowth({}, { syncing: () => p2p.syncing });
      node.#heapGrowth.start();
      // a full collection once the reservoir has drained after a burst (services/node/memory)
      if (gc === undefined)
        logger.warn({ module: 'memory' }, 'no gc function: memory is not released after bursts');
      else {
        node.#memory = new MemoryRelease(
          {},
          { reservoir: state.reservoir, logger: logger.child({ module: 'memory' }), gc },
        );
        node.#memory.start();
      }
      node.#watchTip();
      logger.info(
        { network: params.name, height: state.chain.tipHeight(), key: identity.publicKey },
        `cairnd ${VERSION} started on ${params.name}`,
      );
      return node;
    } catch (e) {
      for (const stop of started.reverse()) await stop().catch(() => undefined);
      await state?.close().catch(() => undefined);
      await zap.stop().catch(() => undefined);
      throw e;
    }
  }

  /** One info line per new tip (reorgs are logged by the chain): what an operator wants to see, without flooding. */
  #watchTip(): void {
    let last = 0;
    const chain = this.state.chain;
    chain.on('tip', (e) => {
      const now = Date.now();
      if (this.p2p.syncing && now - last < 5000) return;
      last = now;
      this.#log.info(
        { height: e.height, hash: Buffer.from(e.hash).reverse().toString('hex') },
        `new tip at height ${e.height}`,
      );
    });
  }

  /** Stops in reverse order of start. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#log.info('stopping');
    this.#memory?.stop();
    this.#mapTrim?.stop();
    this.#heapGrowth?.stop();
    await this.metrics?.stop().catch((e) => this.#log.error({ err: e }, 'metrics stop failed'));
    // its event streams end first: the HTTP server would wait for them
    this.explorer?.stop();
    await this.rpc?.stop().catch((e) => this.#log.error({ err: e }, 'rpc stop failed'));
    await this.feed?.stop().catch((e) => this.#log.error({ err: e }, 'feed stop failed'));
    await this.proof?.stop().catch((e) => this.#log.error({ err: e }, 'proof stop failed'));
    await this.#discovery?.stop().catch((e) => this.#log.error({ err: e }, 'discovery stop failed'));
    this.health.stop();
    await this.p2p.stop().catch((e) => this.#log.error({ err: e }, 'p2p stop failed'));
    await this.state.close().catch((e) => this.#log.error({ err: e }, 'chain state close failed'));
    await this.#zap.stop().catch((e) => this.#log.error({ err: e }, 'zap stop failed'));
    this.#log.info('stopped');
  }
}

/** LMDB's map kept to storage.map_cache_mb of RSS (with the native addon and /proc), and memory trimmed after a sync (services/node/memory/map-trim.ts). */
function startMapTrim(
  config: NodeConfig,
  state: ChainState,
  gc: (() => void) | undefined,
  logger: Logger,
): MapTrim {
  const loaded = loadNativeMemory();
  // without the addon or /proc the idle trim still collects and releases storage's write memory
  let native = typeof loaded === 'string' ? undefined : loaded;
  if (typeof loaded === 'string')
    logger.warn(`${loaded}: storage.map_cache_mb is not enforced, LMDB's map pages stay in RSS`);
  else if (rssFileBytes() === undefined) {
    logger.warn('no /proc/self/status: storage.map_cache_mb is not enforced');
    native = undefined;
  }
  const chain = state.chain;
  const trim = new MapTrim(
    { dbPath: state.db.path, mapCacheBytes: config.storage.map_cache_mb * 1024 * 1024 },
    {
      native,
      logger,
      activity: () => chain.tipHeight(),
      blocks: chain,
      releaseStorage: () => state.db.releaseWriteMemory(),
      ...(gc === undefined ? {} : { gc }),
    },
  );
  trim.start();
  return trim;
}
