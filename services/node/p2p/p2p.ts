/**
 * The P2P subsystem: the peer listener (ROUTER behind the ZAP allow-list), outbound connections
 * chosen over the ring of keys, sync, relay, peer exchange, pings, bans. start() / stop() like
 * every subsystem; stop saves the peer book (peers and bans).
 */
import { join } from 'node:path';
import { z85Encode } from '../../../shared/identity/z85.ts';
import type { Logger } from '../../../shared/log.ts';
import type { CurveKeys } from '../../../shared/zmq/curve.ts';
import { RequestServer } from '../../../shared/zmq/server.ts';
import type { ZapHandler } from '../../../shared/zmq/zap.ts';
import type { Chain } from '../chain/chain.ts';
import type { Reservoir } from '../reservoir/reservoir.ts';
import type { TxSubmitter } from '../reservoir/submitter.ts';
import { type InboundSession, PeerRequestHandler } from './handler.ts';
import { COMPACT_BLOCKS_VERSION, P2P_VERSION } from './messages.ts';
import { OutboundPeer } from './outbound.ts';
import { PeerBook, type PeerRecord, type PeerSource, ringTargets } from './peer-book.ts';
import { Relay } from './relay.ts';
import { Sync } from './sync.ts';

export const PEER_ZAP_DOMAIN = 'peer';

/**
 * Addresses told to peers: `announce`, or else the listen addresses that a remote node could dial
 * (0.0.0.0 / [::] mean "every interface here" and would make a peer dial itself: left out).
 */
export function advertised(o: { announce: readonly string[]; listen: readonly string[] }): string[] {
  if (o.announce.length > 0) return [...o.announce];
  return o.listen.filter((a) => !a.startsWith('0.0.0.0:') && !a.startsWith('[::]:'));
}

/** The version our hello states: 1 when compact blocks are off (peers then send us whole blocks). */
function protocolVersion(o: { compactBlocks?: boolean }): number {
  return o.compactBlocks === false ? COMPACT_BLOCKS_VERSION - 1 : P2P_VERSION;
}

export interface P2POptions {
  readonly dataDir: string;
  /** host:port endpoints to listen on. */
  readonly listen: readonly string[];
  /** host:port addresses to tell peers (default: listen). */
  readonly announce: readonly string[];
  readonly connect: readonly { address: string; key: string }[];
  /** Allow-list of peer keys (Z85); undefined = open network. */
  readonly allow: readonly string[] | undefined;
  readonly maxInbound: number;
  readonly maxOutbound: number;
  readonly maxMessageBytes: number;
  readonly requestTimeoutMs: number;
  readonly banSeconds: number;
  readonly userAgent: string;
  /**
   * Compact block relay (default true). False: blocks go whole both ways, and our hello states
   * protocol 1 so peers send us whole blocks too (a node from before compact blocks).
   */
  readonly compactBlocks?: boolean;
}

export interface P2PModules {
  readonly chain: Chain;
  readonly reservoir: Reservoir;
  /** Peers' transactions enter the pool through it (verified in batches on the verify workers). */
  readonly submitter: TxSubmitter;
  readonly identity: CurveKeys;
  readonly zap: ZapHandler;
  readonly logger: Logger;
  readonly clock: () => number;
}

const MAINTAIN_MS = 1000;
const SYNC_MS = 2000;
const PING_MS = 30_000;
/** Peer exchange: every minute, and every few seconds while we have fewer outbound peers than wanted. */
const PEX_MS = 60_000;
const PEX_HUNGRY_MS = 3_000;
const SAVE_MS = 60_000;
/** Inbound sessions idle this long are forgotten (the peer says hello again when it returns). */
const SESSION_SWEEP_MS = 60_000;
const SESSION_IDLE_SECONDS = 300;
/** An outbound peer that missed this many requests in a row is dropped (stalled). */
const MAX_STALLS = 3;

export class P2P {
  readonly book: PeerBook;
  readonly #o: P2POptions;
  readonly #m: P2PModules;
  readonly #log: Logger;
  readonly #handler: PeerRequestHandler;
  readonly #outbound = new Map<string, OutboundPeer>();
  readonly #connecting = new Set<string>();
  readonly #retryAt = new Map<string, number>();
  readonly #failures = new Map<string, number>();
  /** When we last re-asked a peer's hello because it showed us a block ahead of us (ms). */
  readonly #helloAt = new Map<string, number>();
  readonly #sync: Sync;
  readonly #relay: Relay;
  #server: RequestServer | undefined;
  readonly #timers: NodeJS.Timeout[] = [];
  #stopping = false;

  constructor(opts: P2POptions, modules: P2PModules) {
    this.#o = opts;
    this.#m = modules;
    this.#log = modules.logger;
    this.book = new PeerBook(modules.identity.publicKey);
    this.#handler = new PeerRequestHandler(
      {
        listen: advertised(opts),
        userAgent: opts.userAgent,
        banSeconds: opts.banSeconds,
        maxMessageBytes: opts.maxMessageBytes,
        maxInbound: opts.maxInbound,
        rate: 1000,
        burst: 2000,
        protocolVersion: protocolVersion(opts),
      },
      {
        chain: modules.chain,
        reservoir: modules.reservoir,
        submitter: modules.submitter,
        book: this.book,
        identity: modules.identity,
        logger: modules.logger,
        clock: modules.clock,
        onHello: (key) => this.#wantOutbound(key),
        onKnown: (key, hashes) => {
          const peer = this.#outbound.get(key);
          if (peer !== undefined) for (const h of hashes) peer.known.add(h);
        },
        onNewBlockFrom: (key) => void this.#peerAhead(key),
        onBan: (key) => void this.#disconnect(key, 'banned'),
      },
    );
    this.#sync = new Sync({
      chain: modules.chain,
      peers: () => this.peers(),
      logger: modules.logger,
      misbehaved: (peer, points, reason) => this.#misbehaved(peer.key, points, reason),
    });
    this.#relay = new Relay({
      chain: modules.chain,
      reservoir: modules.reservoir,
      peers: () => this.peers(),
      logger: modules.logger,
      syncing: () => this.#sync.running,
      compactBlocks: opts.compactBlocks !== false,
    });
  }

  get bookPath(): string {
    return join(this.#o.dataDir, 'peers.json');
  }

  /** True while a sync pass runs. */
  get syncing(): boolean {
    return this.#sync.running;
  }

  /** Sync's counters and back-off, for status reports. */
  syncStatus(): { running: boolean; backoffMs: number; counters: Sync['counters'] } {
    return {
      running: this.#sync.running,
      backoffMs: this.#sync.backoffMs,
      counters: { ...this.#sync.counters },
    };
  }

  /** Sync's group commits so far (metrics). */
  syncCommits(): Sync['commits'] {
    return this.#sync.commits;
  }

  /** Connected outbound peers (handshake done). */
  peers(): OutboundPeer[] {
    return [...this.#outbound.values()].filter((p) => p.remote !== undefined);
  }

  inboundCount(): number {
    return this.#handler.sessions.size;
  }

  /** The inbound peers (a hello received, not idle past the expiry) for getpeerinfo. */
  inboundSessions(): InboundSession[] {
    return [...this.#handler.sessions.values()];
  }

  async start(): Promise<void> {
    const now = this.#m.clock();
    const loaded = await this.book.load(this.bookPath, now);
    if (loaded.error !== undefined)
      this.#log.warn({ file: this.bookPath }, `peers file ignored: ${loaded.error}`);
    else if (loaded.loaded > 0)
      this.#log.info({ peers: loaded.loaded }, `loaded ${loaded.loaded} known peers`);
    for (const c of this.#o.connect) this.book.add(c.key, [c.address], 'static', now);

    this.#m.zap.setPolicy(
      PEER_ZAP_DOMAIN,
      this.#o.allow === undefined ? { allow: 'any' } : { allow: new Set(this.#o.allow) },
    );
    if (this.#o.listen.length > 0) {
      this.#server = new RequestServer(
        {
          endpoints: this.#o.listen.map((a) => `tcp://${a}`),
          keys: this.#m.identity,
          zapDomain: PEER_ZAP_DOMAIN,
          maxMessageSize: this.#o.maxMessageBytes,
        },
        { logger: this.#log },
      );
      await this.#server.start((req) => this.#handler.handle(req.routingId, req.frames));
      this.#log.info(
        { listen: this.#o.listen, key: this.#m.identity.publicKey },
        `listening for peers on ${this.#o.listen.join(', ')}`,
      );
    } else {
      this.#log.info(
        { key: this.#m.identity.publicKey },
        'no peer listener (peering.listen is empty): outbound peers only',
      );
    }
    this.#relay.start();
    const every = (ms: number, fn: () => unknown) => {
      const t = setInterval(() => {
        if (!this.#stopping) void fn();
      }, ms);
      t.unref();
      this.#timers.push(t);
    };
    every(MAINTAIN_MS, () => this.#maintain());
    every(SYNC_MS, () => this.#sync.tick());
    every(PING_MS, () => this.#pingAll());
    let lastPex = 0;
    every(PEX_HUNGRY_MS, () => {
      const hungry = this.#outbound.size < this.#o.maxOutbound;
      if (Date.now() - lastPex < (hungry ? PEX_HUNGRY_MS : PEX_MS)) return;
      lastPex = Date.now();
      return this.#exchangePeers();
    });
    every(SAVE_MS, () => this.book.save(this.bookPath).catch(() => undefined));
    every(SESSION_SWEEP_MS, () => this.#handler.expireSessions(SESSION_IDLE_SECONDS));
    void this.#maintain();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    for (const t of this.#timers) clearInterval(t);
    this.#relay.stop();
    // nothing more is connected from here: the chain state can close behind us
    const synced = this.#sync.stop();
    await Promise.all([...this.#outbound.values()].map((p) => p.close().catch(() => undefined)));
    this.#outbound.clear();
    await this.#server?.stop();
    await synced; // its requests failed with the peers' closing
    await this.book
      .save(this.bookPath)
      .catch((e) => this.#log.error({ err: e }, `could not save ${this.bookPath}`));
  }

  /** Runs sync now (e.g. after a peer announced more work); resolves when the pass ends. */
  syncNow(): Promise<void> {
    return this.#sync.run();
  }

  /**
   * Peers heard of from a peer source (the discovery service): added to the book (bad keys and
   * undialable addresses are dropped there); new ones make the node look for connections at once.
   */
  addPeers(peers: readonly { key: string; addresses: readonly string[] }[], source: PeerSource): number {
    const now = this.#m.clock();
    let fresh = 0;
    for (const p of peers) {
      const known = this.book.get(p.key) !== undefined;
      if (this.book.add(p.key, p.addresses, source, now) !== undefined && !known) fresh++;
    }
    if (fresh > 0 && !this.#stopping) void this.#maintain();
    return fresh;
  }

  /** True while the node has fewer outbound peers than `max_outbound`. */
  wantsPeers(): boolean {
    return this.#outbound.size < this.#o.maxOutbound;
  }

  /**
   * Operator peer control (RPC addnode): `add` keeps the peer as a static peer (dialled and
   * redialled like a `connect` entry), `onetry` dials it once now, `remove` forgets it and drops
   * the connection. Returns false when the key or address is unusable.
   */
  addNode(key: string, address: string, command: 'add' | 'remove' | 'onetry'): boolean {
    const now = this.#m.clock();
    if (command === 'remove') {
      const had = this.book.get(key) !== undefined;
      void this.#disconnect(key, 'removed by operator');
      this.book.forget(key);
      return had;
    }
    const r = this.book.add(key, [address], command === 'add' ? 'static' : 'gossip', now);
    if (r === undefined || !r.addresses.includes(address)) return false;
    // the operator's address first, and no back-off from earlier failures
    r.addresses = [address, ...r.addresses.filter((a) => a !== address)];
    this.#retryAt.delete(key);
    this.#failures.delete(key);
    if (command === 'onetry') {
      if (!this.#outbound.has(key) && !this.#connecting.has(key)) void this.#connect(r);
    } else void this.#maintain();
    return true;
  }

  /** Drops the outbound connection to `key` (RPC disconnectnode); false when there was none. */
  async disconnectPeer(key: string): Promise<boolean> {
    if (!this.#outbound.has(key)) return false;
    await this.#disconnect(key, 'disconnected by operator');
    return true;
  }

  /** Bans `key` until `until` (seconds since the epoch), or lifts the ban when `until` is 0 (RPC setban). */
  setBan(key: string, until: number, reason: string): boolean {
    const r = this.book.get(key) ?? this.book.add(key, [], 'inbound', this.#m.clock());
    if (r === undefined) return false;
    r.bannedUntil = until;
    r.score = 0;
    if (until > 0) {
      r.banReason = reason;
      this.#handler.forget(key);
      void this.#disconnect(key, 'banned by operator');
    } else delete r.banReason;
    return true;
  }

  /**
   * A peer showed us a block we cannot place yet. Sync picks peers by the work their hello
   * claimed, and that hello may be old (a peer that mined since would never be chosen, until the
   * next ping): ask it again, at most once a second, then sync.
   */
  async #peerAhead(key: string): Promise<void> {
    const peer = this.#outbound.get(key);
    const now = Date.now();
    if (peer !== undefined && now - (this.#helloAt.get(key) ?? 0) >= 1000) {
      this.#helloAt.set(key, now);
      try {
        await peer.handshake();
      } catch {
        /* counted as a stall by the peer object */
      }
    }
    void this.#sync.run();
  }

  #wantOutbound(key: string): void {
    if (!this.#outbound.has(key) && !this.#stopping) void this.#maintain();
  }

  /**
   * Opens outbound connections to the static peers and the ring targets, up to `max_outbound`, and
   * one back to every inbound peer. The listener can only answer requests, never send first, so
   * relay to a peer that dialled us needs a connection of ours: without it the nodes started last
   * (dialled by almost nobody) heard of blocks 1.3–2.2 s late, by polling (network simulation).
   * Dial-backs do not count against `max_outbound`; `max_inbound` bounds them.
   */
  async #maintain(): Promise<void> {
    const now = this.#m.clock();
    for (const [key, p] of this.#outbound)
      if (p.stalls >= MAX_STALLS)
        await this.#disconnect(key, `stalled (${p.stalls} requests without answer)`);
    const usable = this.book.all().filter((r) => r.addresses.length > 0 && r.bannedUntil <= now);
    const statics = usable.filter((r) => r.source === 'static').map((r) => r.key);
    // inbound peers we may dial back (their listen address is proven by the connection itself)
    const inbound = [...this.#handler.sessions.values()].map((s) => s.key);
    const ring = ringTargets(
      this.#m.identity.publicKey,
      usable.map((r) => r.key),
      this.#o.maxOutbound,
    );
    const wanted = [...new Set([...statics, ...inbound, ...ring])];
    const dialBack = new Set(inbound);
    let own = 0; // outbound connections (open or opening) that are not dial-backs
    for (const key of [...this.#outbound.keys(), ...this.#connecting]) if (!dialBack.has(key)) own++;
    for (const key of wanted) {
      const limited = !dialBack.has(key) && !statics.includes(key);
      if (limited && own >= this.#o.maxOutbound) continue;
      if (this.#outbound.has(key) || this.#connecting.has(key)) continue;
      if ((this.#retryAt.get(key) ?? 0) > Date.now()) continue;
      const r = this.book.get(key);
      if (r === undefined || r.addresses.length === 0) continue;
      if (limited) own++;
      void this.#connect(r);
    }
  }

  async #connect(r: PeerRecord): Promise<void> {
    this.#connecting.add(r.key);
    const c = this.#m.chain;
    const address = r.addresses[0]!;
    let peer: OutboundPeer;
    try {
      peer = new OutboundPeer(
        {
          address,
          key: r.key,
          identity: this.#m.identity,
          params: c.params,
          listen: advertised(this.#o),
          userAgent: this.#o.userAgent,
          timeoutMs: this.#o.requestTimeoutMs,
          maxMessageBytes: this.#o.maxMessageBytes,
          protocolVersion: protocolVersion(this.#o),
        },
        {
          logger: this.#log,
          summary: () => ({
            tipHash: c.tip.hash,
            height: c.tipHeight(),
            work: c.tip.work,
            pruneHeight: c.pruneHeight,
          }),
          clock: this.#m.clock,
        },
      );
    } catch (e) {
      // an address we cannot even dial (bad gossip): forget it
      r.addresses = r.addresses.filter((a) => a !== address);
      this.#connecting.delete(r.key);
      this.#log.debug({ peer: r.key, address, err: (e as Error).message }, 'unusable peer address dropped');
      return;
    }
    try {
      const hello = await peer.handshake();
      if (this.#stopping) {
        await peer.close();
        return;
      }
      this.#outbound.set(r.key, peer);
      r.verified = true;
      r.lastSeen = this.#m.clock();
      this.#retryAt.delete(r.key);
      this.#failures.delete(r.key);
      this.#log.info(
        { peer: r.key, address, height: hello.height },
        `connected to peer ${r.key.slice(0, 8)}… at ${address} (height ${hello.height})`,
      );
      if (hello.work > c.tip.work) void this.#sync.run();
      this.#relay.greet(peer);
      void this.#exchangeWith(peer);
    } catch (e) {
      await peer.close().catch(() => undefined);
      const tries = Math.min(8, (this.#failures.get(r.key) ?? 0) + 1);
      this.#failures.set(r.key, tries);
      this.#retryAt.set(r.key, Date.now() + 1000 * 2 ** tries);
      // an address that keeps failing goes to the back, so the next one is tried
      if (r.addresses.length > 1) r.addresses.push(r.addresses.shift()!);
      this.#log.debug({ peer: r.key, address, err: (e as Error).message }, 'outbound connection failed');
    } finally {
      this.#connecting.delete(r.key);
    }
  }

  async #disconnect(key: string, reason: string): Promise<void> {
    const p = this.#outbound.get(key);
    if (p === undefined) return;
    this.#outbound.delete(key);
    this.#helloAt.delete(key);
    this.#retryAt.set(key, Date.now() + 10_000);
    this.#log.info({ peer: key, reason }, `disconnected peer ${key.slice(0, 8)}…: ${reason}`);
    await p.close().catch(() => undefined);
  }

  #misbehaved(key: string, points: number, reason: string): void {
    const now = this.#m.clock();
    this.#log.warn({ peer: key, points, reason }, `peer ${key.slice(0, 8)}… misbehaved: ${reason}`);
    if (this.book.misbehaved(key, points, reason, now, this.#o.banSeconds)) {
      this.#log.warn({ peer: key }, `banned peer ${key.slice(0, 8)}…: ${reason}`);
      void this.#disconnect(key, 'banned');
    }
  }

  async #pingAll(): Promise<void> {
    await Promise.all(
      this.peers().map(async (p) => {
        try {
          const height = await p.ping();
          if (height > this.#m.chain.bestHeader().height) {
            await p.handshake(); // learn its tip and work, which sync chooses peers by
            void this.#sync.run();
          }
        } catch {
          /* counted as a stall by the peer object */
        }
      }),
    );
  }

  async #exchangePeers(): Promise<void> {
    for (const p of this.peers()) await this.#exchangeWith(p);
  }

  async #exchangeWith(p: OutboundPeer): Promise<void> {
    try {
      const now = this.#m.clock();
      let fresh = 0;
      for (const a of await p.getPeers()) {
        const key = z85Encode(a.key);
        if (this.book.get(key) === undefined) fresh++;
        this.book.add(key, a.addresses, 'gossip', now);
      }
      if (fresh > 0) void this.#maintain();
    } catch {
      /* next time */
    }
  }
}
