/**
 * The node's side of discovery: for each configured `cairn-discovery` service, register this
 * node's advertised addresses (renewed at a third of the expiry the service announces), ask for
 * peers (every minute, every 5 s while the node wants more outbound peers) and listen to the
 * service's join events; every peer heard of goes to the P2P peer book with source `discovery`.
 *
 * A service that is down never blocks or breaks the node: requests time out (Lazy Pirate client),
 * one warning per outage is logged, retries back off to 30 s (and the node registers again as soon
 * as the service answers), and the node keeps its other peer sources (static peers, the peers
 * cache, gossip). The node connects with its peer identity, so the key it proves in a
 * registration is the key its peers will see.
 */
import { Subscriber } from 'zeromq';
import { DecodeError } from '../../../shared/core/errors.ts';
import type { NetworkParams } from '../../../shared/core/params/types.ts';
import {
  decodeEvent,
  decodeReply,
  MAX_PEERS_PER_REPLY,
  type Reply,
} from '../../../shared/discovery/messages.ts';
import { encodeQuery, makeLeave, makeRegister } from '../../../shared/discovery/requests.ts';
import { z85Encode } from '../../../shared/identity/z85.ts';
import type { Logger } from '../../../shared/log.ts';
import { RequestClient } from '../../../shared/zmq/client.ts';
import { CURVE_MESSAGE_OVERHEAD, type CurveKeys, clientOptions } from '../../../shared/zmq/curve.ts';
import { LogLimiter } from '../../../shared/zmq/log-limit.ts';
import { isIpv6Endpoint } from '../../../shared/zmq/options.ts';

export interface DiscoveryServer {
  /** host:port of the service's request socket. */
  readonly address: string;
  /** The service's public key (Z85). */
  readonly key: string;
}

export interface DiscoveryClientOptions {
  readonly servers: readonly DiscoveryServer[];
  /** Register this node (false: only ask for peers). */
  readonly register: boolean;
  /** Addresses peers can dial this node at (P2P `advertised()`); none: nothing to register. */
  readonly announce: readonly string[];
  readonly params: NetworkParams;
  readonly requestTimeoutMs?: number;
  /** Query interval while the node has the peers it wants (default 60 s) and while it wants more (5 s). */
  readonly queryIntervalMs?: number;
  readonly hungryQueryIntervalMs?: number;
}

export interface DiscoveredPeer {
  readonly key: string;
  readonly addresses: readonly string[];
}

export interface DiscoveryClientModules {
  /** The node's peer identity. */
  readonly identity: CurveKeys;
  readonly logger: Logger;
  /** Seconds since the epoch. */
  readonly clock: () => number;
  readonly height: () => number;
  readonly addPeers: (peers: readonly DiscoveredPeer[]) => void;
  /** True while the node wants more outbound peers. */
  readonly hungry: () => boolean;
}

export interface LinkStatus {
  readonly address: string;
  readonly up: boolean;
  readonly registered: boolean;
  readonly peersHeard: number;
}

const TICK_MS = 500;
const MAX_BACKOFF_MS = 30_000;
/** How long a stop waits for a request out before it says it leaves (the leave itself: 500 ms more). */
const LEAVE_WAIT_MS = 1_000;

class Link {
  readonly #o: DiscoveryClientOptions;
  readonly #m: DiscoveryClientModules;
  readonly #log: Logger;
  readonly #limiter = new LogLimiter({ intervalMs: 60_000 });
  readonly server: DiscoveryServer;
  readonly #client: RequestClient;
  #sub: Subscriber | undefined;
  #subLoop: Promise<void> | undefined;
  #nextRegister = 0;
  #nextQuery = 0;
  #retryAt = 0;
  #failures = 0;
  #down = false;
  /** The running tick's request (the REQ socket is lockstep: one at a time), until it ends. */
  #inFlight: Promise<void> | undefined;
  #stopped = false;
  registered = false;
  peersHeard = 0;

  constructor(server: DiscoveryServer, o: DiscoveryClientOptions, m: DiscoveryClientModules) {
    this.server = server;
    this.#o = o;
    this.#m = m;
    this.#log = m.logger.child({ discovery: server.address });
    this.#client = new RequestClient(
      {
        endpoint: `tcp://${server.address}`,
        keys: m.identity,
        serverKey: server.key,
        maxMessageSize: 64 * 1024,
        defaultTimeoutMs: o.requestTimeoutMs ?? 5_000,
        reconnectMaxIntervalMs: 10_000,
        maxQueued: 4,
      },
      { logger: this.#log },
    );
    // The connection dropped (service restarted?): it may have lost our entry (a service killed
    // before it saved), and a request queued meanwhile may still succeed without us noticing the
    // outage, so register again at the next tick.
    this.#client.on('disconnect', () => {
      this.#nextRegister = 0;
    });
    this.#client.on('refused', () => {
      if (this.#limiter.allow('zap'))
        this.#log.error(
          { key: m.identity.publicKey },
          `discovery ${server.address} refused our key: is it on the service's allow-list?`,
        );
    });
  }

  get up(): boolean {
    return !this.#down && this.#failures === 0;
  }

  /** Runs the next due request; called every tick. Never throws. */
  async tick(): Promise<void> {
    if (this.#inFlight !== undefined || this.#stopped) return;
    const now = Date.now();
    if (now < this.#retryAt) return;
    const wantRegister = this.#o.register && this.#o.announce.length > 0;
    const run = async () => {
      if (wantRegister && now >= this.#nextRegister) await this.#register();
      else if (now >= this.#nextQuery) await this.#query();
    };
    // cleared in a later microtask, after the assignment (run may end without awaiting anything)
    const inFlight: Promise<void> = run().finally(() => {
      if (this.#inFlight === inFlight) this.#inFlight = undefined;
    });
    this.#inFlight = inFlight;
    await inFlight;
  }

  async #request(frame: Uint8Array, what: string): Promise<Reply | undefined> {
    let frames: Buffer[];
    try {
      frames = await this.#client.request([frame]);
    } catch (e) {
      if (this.#stopped) return undefined;
      this.#failed(`${what}: ${(e as Error).message}`);
      return undefined;
    }
    let reply: Reply;
    try {
      if (frames.length !== 1) throw new DecodeError('decode-bad-value', 'reply', `${frames.length} frames`);
      reply = decodeReply(frames[0]!);
    } catch (e) {
      this.#failed(
        `${what}: unreadable reply (${(e as Error).message}); is ${this.server.address} a discovery service?`,
      );
      return undefined;
    }
    if (this.#down) this.#log.info(`discovery ${this.server.address} reachable again`);
    this.#down = false;
    this.#failures = 0;
    return reply;
  }

  #failed(why: string): void {
    this.#failures++;
    const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(this.#failures - 1, 6));
    this.#retryAt = Date.now() + delay;
    // register again as soon as it answers: a service that was down may have lost our entry
    this.#nextRegister = 0;
    if (!this.#down) {
      this.#down = true;
      this.registered = false;
      this.#log.warn(
        { err: why },
        `discovery ${this.server.address} unreachable (${why}); retrying, the node keeps its other peer sources`,
      );
    }
  }

  #refused(what: string, reply: Extract<Reply, { kind: 'refused' }>): void {
    if (this.#limiter.allow(`${what}:${reply.reason}`))
      this.#log.warn(
        { reason: reply.reason },
        `discovery ${this.server.address} refused our ${what} (${reply.reason}): ${reply.message}`,
      );
  }

  async #register(): Promise<void> {
    const frame = makeRegister(this.#m.identity, this.server.key, {
      genesis: this.#o.params.genesisHash,
      addresses: this.#o.announce.slice(0, 8),
      height: this.#m.height(),
      time: this.#m.clock(),
    });
    const reply = await this.#request(frame, 'register');
    if (reply === undefined) return;
    const now = Date.now();
    if (reply.kind === 'registered') {
      if (!this.registered)
        this.#log.info(
          { addresses: this.#o.announce, expiresIn: reply.expiresIn },
          `registered with discovery ${this.server.address}`,
        );
      this.registered = true;
      this.#nextRegister = now + Math.min(600_000, Math.max(1_000, (reply.expiresIn * 1000) / 3));
      return;
    }
    this.registered = false;
    if (reply.kind === 'refused') this.#refused('registration', reply);
    // a refusal will not change soon (bad address, not allowed): try again in 10 minutes,
    // a rate limit in a minute; the queries go on meanwhile
    this.#nextRegister =
      now + (reply.kind === 'refused' && reply.reason === 'rate-limited' ? 60_000 : 600_000);
  }

  async #query(): Promise<void> {
    const frame = encodeQuery({ genesis: this.#o.params.genesisHash, max: MAX_PEERS_PER_REPLY });
    const reply = await this.#request(frame, 'query');
    if (reply === undefined) return;
    const interval = this.#m.hungry()
      ? (this.#o.hungryQueryIntervalMs ?? 5_000)
      : (this.#o.queryIntervalMs ?? 60_000);
    this.#nextQuery = Date.now() + interval;
    if (reply.kind === 'refused') {
      this.#refused('query', reply);
      return;
    }
    if (reply.kind !== 'peers') return;
    const peers = reply.peers.map((p) => ({ key: z85Encode(p.key), addresses: p.addresses }));
    this.peersHeard += peers.length;
    if (peers.length > 0) this.#m.addPeers(peers);
    this.#log.debug({ peers: peers.length }, 'discovery query answered');
    if (reply.eventsPort > 0 && this.#sub === undefined) this.#subscribe(reply.eventsPort);
  }

  /** Join events from the service's PUB at the request address's host and the port it told us. */
  #subscribe(port: number): void {
    const a = this.server.address;
    const endpoint = `tcp://${a.slice(0, a.lastIndexOf(':'))}:${port}`;
    try {
      const sub = new Subscriber({
        ...clientOptions(this.#m.identity, this.server.key),
        ipv6: isIpv6Endpoint(endpoint),
        maxMessageSize: 4096 + CURVE_MESSAGE_OVERHEAD,
        receiveHighWaterMark: 1_000,
        reconnectInterval: 1_000,
        reconnectMaxInterval: 30_000,
        linger: 0,
      });
      sub.connect(endpoint);
      sub.subscribe('join');
      this.#sub = sub;
      this.#subLoop = this.#receive(sub);
    } catch (e) {
      this.#log.warn({ err: (e as Error).message, endpoint }, 'cannot subscribe to discovery events');
    }
  }

  async #receive(sub: Subscriber): Promise<void> {
    for (;;) {
      let frames: Buffer[];
      try {
        frames = await sub.receive();
      } catch {
        if (this.#stopped || sub.closed) return;
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      if (frames.length !== 2 || frames[0]!.toString('latin1') !== 'join') continue;
      try {
        const e = decodeEvent(frames[1]!);
        this.peersHeard++;
        this.#m.addPeers([{ key: z85Encode(e.nodeKey), addresses: e.addresses }]);
      } catch (e) {
        if (this.#limiter.allow('event'))
          this.#log.warn({ err: (e as Error).message }, 'malformed discovery event ignored');
      }
    }
  }

  /** Tells the service we leave (best effort, short deadline) and closes the sockets. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    // The REQ socket is lockstep: a request out (a renewal or a query, every few seconds) is given
    // LEAVE_WAIT_MS to end first; after that the leave is skipped and the entry expires instead.
    if (this.#inFlight !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.#inFlight, new Promise((r) => (timer = setTimeout(r, LEAVE_WAIT_MS)))]);
      clearTimeout(timer);
    }
    if (this.registered && !this.#down && this.#inFlight === undefined) {
      try {
        const frame = makeLeave(
          this.#m.identity,
          this.server.key,
          this.#o.params.genesisHash,
          this.#m.clock(),
        );
        await this.#client.request([frame], { timeoutMs: 500 });
      } catch {
        /* it will expire the entry */
      }
    }
    this.#client.close();
    const sub = this.#sub;
    if (sub !== undefined && !sub.closed) sub.close();
    await this.#subLoop;
  }
}

export class DiscoveryClient {
  readonly #links: Link[];
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;

  readonly #register: boolean;
  readonly #announce: number;

  constructor(opts: DiscoveryClientOptions, modules: DiscoveryClientModules) {
    this.#log = modules.logger;
    this.#register = opts.register;
    this.#announce = opts.announce.length;
    this.#links = opts.servers.map((s) => new Link(s, opts, modules));
  }

  /** Starts in the background: returns at once, whether the services are up or not. */
  start(): void {
    if (this.#register && this.#announce === 0)
      this.#log.warn(
        'nothing to register with discovery: peering.listen binds 0.0.0.0/[::] and peering.announce is empty; set peering.announce to the address peers can reach this node at',
      );
    this.#log.info(
      { servers: this.#links.map((l) => l.server.address) },
      `discovery: ${this.#links.map((l) => l.server.address).join(', ')}`,
    );
    const tick = () => {
      for (const l of this.#links) void l.tick();
    };
    this.#timer = setInterval(tick, TICK_MS);
    this.#timer.unref();
    tick();
  }

  status(): LinkStatus[] {
    return this.#links.map((l) => ({
      address: l.server.address,
      up: l.up,
      registered: l.registered,
      peersHeard: l.peersHeard,
    }));
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await Promise.all(this.#links.map((l) => l.stop()));
  }
}
