/**
 * The discovery service: a CURVE ROUTER answering register / query / leave / stats requests, a
 * CURVE PUB announcing joins and leaves, both behind the ZAP domain `discovery` (any key, or the
 * allow-list). Registrations are bound to the key they prove (shared/discovery/messages.ts),
 * checked, rate-limited and kept in the Registry; expired entries are swept every second (and
 * announced as leaves); the registry is saved to the state file every minute when it changed, and
 * at stop. Every refusal is answered with its reason, logged (rate-limited) and counted; nothing a
 * client sends can crash the service.
 */
import { equalBytes } from '../../shared/core/bytes.ts';
import { DecodeError } from '../../shared/core/errors.ts';
import type { NetworkParams } from '../../shared/core/params/types.ts';
import {
  decodeRequest,
  encodeEvent,
  encodeReply,
  type Leave,
  MAX_FRAME_BYTES,
  proofContext,
  REFUSALS,
  type RefusalReason,
  type Register,
  type Reply,
} from '../../shared/discovery/messages.ts';
import { z85Decode, z85Encode } from '../../shared/identity/z85.ts';
import type { Logger } from '../../shared/log.ts';
import { TokenBucket } from '../../shared/token-bucket.ts';
import { type CurveKeys, verifyKeyProof } from '../../shared/zmq/curve.ts';
import { LogLimiter } from '../../shared/zmq/log-limit.ts';
import { PubSocket } from '../../shared/zmq/publisher.ts';
import { RequestServer } from '../../shared/zmq/server.ts';
import type { ZapHandler } from '../../shared/zmq/zap.ts';
import { type Entry, Registry } from './registry.ts';
import { DiscoveryStateError, loadState, removeStaleTemps, saveState } from './state-file.ts';

export const DISCOVERY_ZAP_DOMAIN = 'discovery';
/** How far a registration's time may be from the service's clock. */
export const MAX_CLOCK_SKEW = 600;

export interface DiscoveryOptions {
  readonly params: NetworkParams;
  /** host:port addresses of the request socket. */
  readonly listen: readonly string[];
  /** host:port addresses of the events PUB (may be empty). */
  readonly eventsListen: readonly string[];
  readonly statePath: string;
  readonly expirySeconds: number;
  readonly maxEntries: number;
  readonly registerPerMinute: number;
  readonly requestsPerSecond: number;
  readonly allowPrivate: boolean;
  /** Keys allowed to connect and register; undefined: any key. */
  readonly allow?: readonly string[];
  /** How often a changed registry is saved (default 60 s). */
  readonly saveIntervalMs?: number;
}

export interface DiscoveryModules {
  readonly identity: CurveKeys;
  readonly zap: ZapHandler;
  readonly logger: Logger;
  /** Milliseconds since the epoch. */
  readonly now?: () => number;
}

export interface DiscoveryCounters {
  requests: number;
  registered: number;
  joined: number;
  left: number;
  expired: number;
  queries: number;
  refused: Record<RefusalReason, number>;
}

const MAX_CONNECTION_BUCKETS = 10_000;
const MAX_NONCES = 100_000;

export class DiscoveryService {
  readonly #o: DiscoveryOptions;
  readonly #m: DiscoveryModules;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly registry: Registry;
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #nonces = new Map<string, number>();
  readonly #limiter = new LogLimiter({ intervalMs: 60_000 });
  readonly counters: DiscoveryCounters;
  readonly #serviceKey: Uint8Array;
  readonly #eventsPort: number;
  #server: RequestServer | undefined;
  #pub: PubSocket | undefined;
  #timers: NodeJS.Timeout[] = [];
  #dirty = false;
  #saving: Promise<void> = Promise.resolve();

  constructor(opts: DiscoveryOptions, modules: DiscoveryModules) {
    this.#o = opts;
    this.#m = modules;
    this.#log = modules.logger;
    this.#now = modules.now ?? Date.now;
    this.#serviceKey = z85Decode(modules.identity.publicKey);
    this.registry = new Registry(
      {
        expirySeconds: opts.expirySeconds,
        maxEntries: opts.maxEntries,
        allowPrivate: opts.allowPrivate || opts.params.name === 'local',
        registerPerMinute: opts.registerPerMinute,
        registerBurst: opts.registerPerMinute,
        ...(opts.allow === undefined ? {} : { allow: new Set(opts.allow) }),
      },
      { now: this.#now },
    );
    const refused = Object.fromEntries(Object.keys(REFUSALS).map((k) => [k, 0])) as Record<
      RefusalReason,
      number
    >;
    this.counters = { requests: 0, registered: 0, joined: 0, left: 0, expired: 0, queries: 0, refused };
    const first = opts.eventsListen[0];
    this.#eventsPort = first === undefined ? 0 : Number(first.slice(first.lastIndexOf(':') + 1));
  }

  /** Endpoints actually bound: requests, events. */
  get endpoints(): { requests: string[]; events: string[] } {
    return { requests: this.#server?.endpoints ?? [], events: this.#pub?.endpoints ?? [] };
  }

  /** Loads the state file, sets the ZAP policy, binds both sockets, starts the sweeps. */
  async start(): Promise<void> {
    const stale = await removeStaleTemps(this.#o.statePath);
    if (stale.length > 0)
      this.#log.info({ files: stale }, `removed ${stale.length} temp file(s) of unfinished saves`);
    const loaded = await loadState(this.#o.statePath);
    if (loaded.error !== undefined)
      this.#log.warn(
        { file: this.#o.statePath },
        `state file ignored: ${loaded.error}; starting with an empty registry`,
      );
    const restored = this.registry.restore(loaded.entries);
    if (loaded.entries.length > 0)
      this.#log.info(
        { restored, saved: loaded.entries.length },
        `restored ${restored} of ${loaded.entries.length} saved entries`,
      );
    const allow = this.#o.allow;
    this.#m.zap.setPolicy(
      DISCOVERY_ZAP_DOMAIN,
      allow === undefined ? { allow: 'any' } : { allow: new Set(allow) },
    );
    if (this.#o.eventsListen.length > 0) {
      this.#pub = new PubSocket(
        {
          endpoints: this.#o.eventsListen.map((a) => `tcp://${a}`),
          curve: { keys: this.#m.identity, zapDomain: DISCOVERY_ZAP_DOMAIN },
          sendHighWaterMark: 10_000,
        },
        { logger: this.#log },
      );
      await this.#pub.bind();
    }
    this.#server = new RequestServer(
      {
        endpoints: this.#o.listen.map((a) => `tcp://${a}`),
        keys: this.#m.identity,
        zapDomain: DISCOVERY_ZAP_DOMAIN,
        maxMessageSize: MAX_FRAME_BYTES,
      },
      { logger: this.#log },
    );
    try {
      await this.#server.start(async (req) => [this.handle(req.routingId.toString('latin1'), req.frames)]);
    } catch (e) {
      this.#pub?.close();
      throw e;
    }
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(fn, ms);
      t.unref();
      this.#timers.push(t);
    };
    every(1000, () => this.#sweep());
    every(this.#o.saveIntervalMs ?? 60_000, () => {
      if (this.#dirty) void this.save();
    });
    every(600_000, () => this.#logStats());
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    await this.#server?.stop();
    this.#pub?.close();
    await this.save();
    this.#logStats();
    // a stop that could not save is not clean: the exit code tells the service manager
    if (this.#dirty)
      throw new DiscoveryStateError(
        `could not save the registry to ${this.#o.statePath} at stop: the registrations since the last save are lost (see the error above)`,
      );
  }

  /** Writes the state file now (serialised with any save in progress). */
  save(): Promise<void> {
    this.#dirty = false;
    const entries = this.registry.snapshot();
    this.#saving = this.#saving.then(() =>
      saveState(this.#o.statePath, entries, Math.floor(this.#now() / 1000)).catch((e) => {
        this.#dirty = true;
        this.#log.error(
          { err: e, file: this.#o.statePath },
          `could not save the registry: ${(e as Error).message}`,
        );
      }),
    );
    return this.#saving;
  }

  #logStats(): void {
    const refused = Object.fromEntries(Object.entries(this.counters.refused).filter(([, n]) => n > 0));
    this.#log.info(
      { entries: this.registry.size, ...this.counters, refused },
      `${this.registry.size} nodes registered`,
    );
  }

  #sweep(): void {
    for (const e of this.registry.expire()) {
      this.counters.expired++;
      this.#dirty = true;
      this.#log.info({ node: e.key }, `node ${e.key.slice(0, 8)}… expired`);
      this.#publish('leave', e.key, [], e.height);
    }
  }

  #publish(event: 'join' | 'leave', key: string, addresses: readonly string[], height: number): void {
    if (this.#pub === undefined) return;
    void this.#pub
      .publish(event, encodeEvent({ nodeKey: z85Decode(key), addresses, height }))
      .catch((e) => this.#log.debug({ err: (e as Error).message }, 'event publish failed'));
  }

  /** One request frame set from connection `conn` → one reply frame. Never throws. */
  handle(conn: string, frames: readonly Buffer[]): Buffer {
    this.counters.requests++;
    let reply: Reply;
    try {
      reply = this.#handle(conn, frames);
    } catch (e) {
      this.#log.error({ err: e }, 'discovery request failed');
      reply = { kind: 'refused', reason: 'internal', message: 'internal error' };
    }
    if (reply.kind === 'refused') this.counters.refused[reply.reason]++;
    return Buffer.from(encodeReply(reply));
  }

  #refuse(reason: RefusalReason, message: string, who: string): Reply {
    if (this.#limiter.allow(`${reason}\n${who}`))
      this.#log.warn(
        { reason, from: who, suppressed: this.#limiter.takeSuppressed() },
        `request refused (${reason}): ${message}`,
      );
    return { kind: 'refused', reason, message };
  }

  #handle(conn: string, frames: readonly Buffer[]): Reply {
    const connHex = Buffer.from(conn, 'latin1').toString('hex');
    if (!this.#connBucket(conn).take(1, this.#now()))
      return this.#refuse(
        'rate-limited',
        `more than ${this.#o.requestsPerSecond} requests a second`,
        connHex,
      );
    if (frames.length !== 1)
      return this.#refuse('malformed', `${frames.length} frames (a request is one frame)`, connHex);
    let req: ReturnType<typeof decodeRequest>;
    try {
      req = decodeRequest(frames[0]!);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      const reason: RefusalReason =
        e.code === 'decode-bad-value' && e.field === 'version'
          ? 'unsupported-version'
          : e.code === 'decode-bad-value' && e.field === 'kind'
            ? 'unknown-kind'
            : 'malformed';
      return this.#refuse(reason, e.message, connHex);
    }
    switch (req.kind) {
      case 'stats':
        return { kind: 'stats', json: JSON.stringify(this.stats()) };
      case 'query': {
        if (!equalBytes(req.genesis, this.#o.params.genesisHash))
          return this.#refuse('wrong-network', `this service serves ${this.#o.params.name}`, connHex);
        this.counters.queries++;
        const peers = this.registry.query(req.max).map((e: Entry) => ({
          key: z85Decode(e.key),
          addresses: e.addresses,
          height: e.height,
          lastSeen: e.lastSeen,
        }));
        return { kind: 'peers', eventsPort: this.#eventsPort, peers };
      }
      case 'register':
        return this.#register(req, connHex);
      case 'leave':
        return this.#leave(req, connHex);
    }
  }

  /** Network, clock, proof and replay checks shared by register and leave; the key, or a refusal. */
  #authenticate(req: Register | Leave, connHex: string): { key: string } | { refusal: Reply } {
    const key = z85Encode(req.nodeKey);
    if (!equalBytes(req.genesis, this.#o.params.genesisHash))
      return { refusal: this.#refuse('wrong-network', `this service serves ${this.#o.params.name}`, key) };
    const now = Math.floor(this.#now() / 1000);
    if (Math.abs(req.time - now) > MAX_CLOCK_SKEW)
      return {
        refusal: this.#refuse(
          'clock-skew',
          `request time is ${req.time - now}s off the service's clock (limit ${MAX_CLOCK_SKEW}s)`,
          key,
        ),
      };
    const context = proofContext(req.kind, this.#serviceKey, req.signed);
    if (!verifyKeyProof(this.#m.identity.secretKey, key, context, req.proof))
      return {
        refusal: this.#refuse(
          'impersonation',
          `the request does not prove it comes from ${key} (only the holder of a key may register it)`,
          `${key} via ${connHex}`,
        ),
      };
    const nonceKey = `${key}${Buffer.from(req.nonce).toString('hex')}`;
    if (this.#nonces.has(nonceKey)) return { refusal: this.#refuse('replay', 'request replayed', key) };
    this.#rememberNonce(nonceKey, now);
    return { key };
  }

  #register(req: Register, connHex: string): Reply {
    const auth = this.#authenticate(req, connHex);
    if ('refusal' in auth) return auth.refusal;
    const r = this.registry.register(auth.key, req.addresses, req.height);
    if (!r.ok) return this.#refuse(r.reason, r.message, auth.key);
    this.counters.registered++;
    this.#dirty = true;
    if (r.joined) {
      this.counters.joined++;
      this.#log.info(
        { node: auth.key, addresses: r.entry.addresses, height: req.height },
        `node ${auth.key.slice(0, 8)}… joined at ${r.entry.addresses.join(', ')}`,
      );
    }
    if (r.changed) this.#publish('join', auth.key, r.entry.addresses, r.entry.height);
    return { kind: 'registered', expiresIn: r.expiresIn, joined: r.joined };
  }

  #leave(req: Leave, connHex: string): Reply {
    const auth = this.#authenticate(req, connHex);
    if ('refusal' in auth) return auth.refusal;
    const removed = this.registry.leave(auth.key);
    if (removed) {
      this.counters.left++;
      this.#dirty = true;
      this.#log.info({ node: auth.key }, `node ${auth.key.slice(0, 8)}… left`);
      this.#publish('leave', auth.key, [], 0);
    }
    return { kind: 'left', removed };
  }

  #connBucket(conn: string): TokenBucket {
    let b = this.#buckets.get(conn);
    if (b === undefined) {
      if (this.#buckets.size >= MAX_CONNECTION_BUCKETS)
        this.#buckets.delete(this.#buckets.keys().next().value!);
      const rate = this.#o.requestsPerSecond;
      b = new TokenBucket(rate, 2 * rate, this.#now());
    } else this.#buckets.delete(conn);
    this.#buckets.set(conn, b);
    return b;
  }

  #rememberNonce(nonceKey: string, now: number): void {
    if (this.#nonces.size >= MAX_NONCES) {
      // drop nonces old enough that their requests fail the clock check anyway, then the oldest
      for (const [k, t] of this.#nonces) {
        if (t >= now - 2 * MAX_CLOCK_SKEW && this.#nonces.size < MAX_NONCES) break;
        this.#nonces.delete(k);
      }
    }
    this.#nonces.set(nonceKey, now);
  }

  stats(): Record<string, unknown> {
    return {
      network: this.#o.params.name,
      entries: this.registry.size,
      expirySeconds: this.#o.expirySeconds,
      ...this.counters,
      // requests the socket layer dropped before they reached handle(): broken envelopes (no reply
      // is possible) and requests over a peer's queue limit
      dropped: this.#server?.counters.dropped ?? 0,
    };
  }
}
