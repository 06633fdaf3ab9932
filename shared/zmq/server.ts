/**
 * RequestServer: a CURVE ROUTER that answers REQ clients concurrently.
 *
 * Wire: what a REQ socket sends arrives on the ROUTER as
 *   routing id | [more envelope frames] | empty delimiter | body frames...
 * and the reply goes back with the same envelope. Extra envelope frames appear when the client is
 * a REQ with `correlate` (its request id) or sits behind a proxy; they are echoed verbatim.
 *
 * Concurrency: every request runs its own async handler, so a slow handler delays only its own
 * client. Per routing id one request runs at a time (REQ is lockstep; a DEALER that pipelines gets
 * its requests answered in order, at most `maxQueuedPerPeer` waiting, beyond that dropped). At most
 * `maxInFlight` requests are accepted and unanswered in total: when that many are pending the
 * server stops reading the socket, libzmq queues up to the receive high-water mark per peer and
 * then TCP pushes back on the senders (back-pressure instead of unbounded memory).
 *
 * Failures: a malformed envelope (no empty delimiter, no body, too many frames) is dropped (a REQ
 * peer that breaks the protocol gets nothing); a handler that throws makes the reply
 * `['error', code, message]` (code/message of a CairnError, else 'internal'/'internal error' so
 * internals do not leak). Each is logged, rate-limited per peer. Nothing a peer sends can crash it.
 * Handlers must bound their own work: a handler that never settles holds its peer's slot.
 *
 * Size: libzmq disconnects a peer that sends a frame larger than `maxMessageSize`; with at most
 * `maxFrames` body frames a request is bounded by maxFrames × maxMessageSize.
 */
import { Router } from 'zeromq';
import { CairnError } from '../core/errors.ts';
import type { Logger } from '../log.ts';
import { CURVE_MESSAGE_OVERHEAD, type CurveKeys, serverOptions } from './curve.ts';
import { TransportError } from './errors.ts';
import { LogLimiter } from './log-limit.ts';
import {
  bindAll,
  checkEndpoints,
  type HeartbeatOptions,
  heartbeatSocketOptions,
  isIpv6Endpoint,
} from './options.ts';
import { ZapHandler } from './zap.ts';

export interface ServerRequest {
  /** ROUTER routing id of the client connection (stable while the connection lives). */
  routingId: Buffer;
  /** Body frames (after the empty delimiter). */
  frames: Buffer[];
}

export type ReplyFrame = Buffer | Uint8Array | string;
export type RequestHandler = (req: ServerRequest) => Promise<ReplyFrame[]>;

export const ERROR_REPLY = 'error';

export interface RequestServerOptions {
  /** e.g. ['tcp://0.0.0.0:2136', 'tcp://[::]:2136']; brackets turn on IPv6 for the socket. */
  endpoints: string[];
  keys: CurveKeys;
  /** ZAP domain whose policy (set on the ZapHandler) decides who may connect. */
  zapDomain: string;
  /**
   * Largest inbound frame (plaintext bytes); a peer sending more is disconnected by libzmq before
   * the application sees anything. Default 16 MiB.
   */
  maxMessageSize?: number;
  /** Body frames per request (default 16). */
  maxFrames?: number;
  /** Requests accepted and not yet answered, all peers together (default 256). */
  maxInFlight?: number;
  /** Requests of one routing id waiting behind its running one (default 4). */
  maxQueuedPerPeer?: number;
  sendHighWaterMark?: number;
  receiveHighWaterMark?: number;
  heartbeat?: HeartbeatOptions | false;
  /** How long replies still queued may be flushed at stop (default 500 ms). */
  lingerMs?: number;
  /** How long stop() waits for running handlers before closing (default 1000 ms). */
  drainTimeoutMs?: number;
  /** How long start() retries an endpoint still held by a socket closed just before (default 1000 ms). */
  bindRetryMs?: number;
}

export interface ServerCounters {
  received: number;
  replied: number;
  /** Handler threw: an error reply was sent. */
  errors: number;
  /** Malformed envelopes and requests over a peer's queue limit. */
  dropped: number;
}

interface Job {
  envelope: Buffer[];
  req: ServerRequest;
}

interface PeerState {
  running: boolean;
  queue: Job[];
}

const MAX_ENVELOPE_FRAMES = 4; // routing id + up to 3 (correlate id, proxy hops)

export class RequestServer {
  readonly #opts: Required<Omit<RequestServerOptions, 'heartbeat'>> & {
    heartbeat: HeartbeatOptions | false | undefined;
  };
  readonly #logger: Logger;
  readonly #limiter = new LogLimiter({ intervalMs: 60_000 });
  readonly #peers = new Map<string, PeerState>();
  readonly #counters: ServerCounters = { received: 0, replied: 0, errors: 0, dropped: 0 };
  #socket: Router | null = null;
  #handler: RequestHandler | null = null;
  #loop: Promise<void> | null = null;
  #stopping = false;
  #pending = 0; // accepted, not yet answered (running + queued)
  #wakeReader: (() => void) | null = null;
  #wakeDrain: (() => void) | null = null;
  #sendChain: Promise<void> = Promise.resolve();

  constructor(opts: RequestServerOptions, deps: { logger: Logger }) {
    checkEndpoints(opts.endpoints, 'RequestServer');
    serverOptions(opts.keys, opts.zapDomain); // validates keys and domain early
    this.#opts = {
      endpoints: [...opts.endpoints],
      keys: opts.keys,
      zapDomain: opts.zapDomain,
      maxMessageSize: opts.maxMessageSize ?? 16 * 1024 * 1024,
      maxFrames: opts.maxFrames ?? 16,
      maxInFlight: opts.maxInFlight ?? 256,
      maxQueuedPerPeer: opts.maxQueuedPerPeer ?? 4,
      sendHighWaterMark: opts.sendHighWaterMark ?? 1000,
      receiveHighWaterMark: opts.receiveHighWaterMark ?? 1000,
      heartbeat: opts.heartbeat,
      lingerMs: opts.lingerMs ?? 500,
      drainTimeoutMs: opts.drainTimeoutMs ?? 1000,
      bindRetryMs: opts.bindRetryMs ?? 1000,
    };
    for (const k of ['maxFrames', 'maxInFlight', 'maxMessageSize'] as const)
      if (!Number.isInteger(this.#opts[k]) || this.#opts[k] < 1)
        throw new TransportError('transport-config', `RequestServer: ${k} must be a positive integer`);
    heartbeatSocketOptions(opts.heartbeat); // validates
    this.#logger = deps.logger;
  }

  get counters(): Readonly<ServerCounters & { pending: number }> {
    return { ...this.#counters, pending: this.#pending };
  }

  /** Endpoints actually bound (a `*` port resolved to the real one). */
  get endpoints(): string[] {
    return [...this.#bound];
  }

  #bound: string[] = [];

  /**
   * Binds every endpoint and starts serving. Refuses to start without a running ZapHandler
   * (libzmq would let every CURVE client in).
   */
  async start(handler: RequestHandler): Promise<void> {
    if (this.#socket !== null) throw new TransportError('transport-config', 'RequestServer already started');
    if (ZapHandler.active()?.running !== true)
      throw new TransportError(
        'transport-no-zap',
        'start the ZapHandler before any server socket: without it libzmq accepts every CURVE client',
      );
    if (!ZapHandler.active()!.hasPolicy(this.#opts.zapDomain))
      this.#logger.warn(
        { zapDomain: this.#opts.zapDomain },
        'ZAP domain has no policy: every client is refused',
      );
    const o = this.#opts;
    const socket = new Router({
      ...serverOptions(o.keys, o.zapDomain),
      ...heartbeatSocketOptions(o.heartbeat),
      ipv6: o.endpoints.some(isIpv6Endpoint),
      maxMessageSize: o.maxMessageSize + CURVE_MESSAGE_OVERHEAD,
      sendHighWaterMark: o.sendHighWaterMark,
      receiveHighWaterMark: o.receiveHighWaterMark,
      linger: o.lingerMs,
    });
    const bound = await bindAll(socket, o.endpoints, o.bindRetryMs, 'RequestServer');
    this.#bound = bound;
    this.#socket = socket;
    this.#handler = handler;
    this.#stopping = false;
    this.#loop = this.#readLoop(socket);
    this.#logger.info({ endpoints: bound, zapDomain: o.zapDomain }, 'request server listening');
  }

  /**
   * Stops reading new requests, lets running handlers finish for up to `drainTimeoutMs`, then
   * closes; replies still queued get `lingerMs` to leave. (No unbind first: in libzmq unbinding a
   * tcp endpoint also drops the connections accepted on it, and with them the pending replies.)
   */
  stop(): Promise<void> {
    const socket = this.#socket;
    if (socket === null) return Promise.resolve();
    this.#stopped ??= this.#stop(socket).finally(() => {
      this.#stopped = null;
    });
    return this.#stopped;
  }

  #stopped: Promise<void> | null = null;

  async #stop(socket: Router): Promise<void> {
    this.#stopping = true;
    this.#wakeReader?.();
    // Queued (not yet running) requests are abandoned; running ones may still reply.
    for (const peer of this.#peers.values()) {
      this.#pending -= peer.queue.length;
      peer.queue.length = 0;
    }
    if (this.#running() > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => {
          this.#wakeDrain = resolve;
        }),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, this.#opts.drainTimeoutMs);
        }),
      ]);
      clearTimeout(timer);
      this.#wakeDrain = null;
    }
    await this.#sendChain;
    socket.close();
    await this.#loop;
    this.#socket = null;
    this.#loop = null;
    this.#peers.clear();
    this.#logger.info({ endpoints: this.#bound }, 'request server stopped');
  }

  #running(): number {
    let n = 0;
    for (const p of this.#peers.values()) if (p.running) n++;
    return n;
  }

  async #readLoop(socket: Router): Promise<void> {
    while (!this.#stopping) {
      if (this.#pending >= this.#opts.maxInFlight) {
        await new Promise<void>((resolve) => {
          this.#wakeReader = resolve;
        });
        this.#wakeReader = null;
        continue;
      }
      let frames: Buffer[];
      try {
        frames = await socket.receive();
      } catch (err) {
        if (this.#stopping || socket.closed) return;
        if (this.#limiter.allow('receive'))
          this.#logger.error(
            { err, suppressed: this.#limiter.takeSuppressed() },
            'request server: receive failed',
          );
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      if (this.#stopping) return;
      this.#accept(frames);
    }
  }

  #accept(frames: Buffer[]): void {
    this.#counters.received++;
    const routingId = frames[0]!;
    const peerKey = routingId.toString('latin1');
    let delim = -1;
    for (let i = 1; i < frames.length && i <= MAX_ENVELOPE_FRAMES; i++) {
      if (frames[i]!.length === 0) {
        delim = i;
        break;
      }
    }
    const bodyCount = delim < 0 ? 0 : frames.length - delim - 1;
    if (delim < 0 || bodyCount === 0 || bodyCount > this.#opts.maxFrames) {
      const reason =
        delim < 0
          ? 'no empty delimiter'
          : bodyCount === 0
            ? 'no body frames'
            : `more than ${this.#opts.maxFrames} frames`;
      this.#drop(routingId, reason, frames.length);
      return;
    }
    const job: Job = {
      envelope: frames.slice(0, delim + 1),
      req: { routingId, frames: frames.slice(delim + 1) },
    };
    let peer = this.#peers.get(peerKey);
    if (peer === undefined) {
      peer = { running: false, queue: [] };
      this.#peers.set(peerKey, peer);
    }
    if (peer.running) {
      if (peer.queue.length >= this.#opts.maxQueuedPerPeer) {
        this.#drop(routingId, 'too many requests outstanding from this peer', frames.length);
        return;
      }
      peer.queue.push(job);
      this.#pending++;
      return;
    }
    this.#pending++;
    this.#run(peerKey, peer, job);
  }

  #drop(routingId: Buffer, reason: string, frames: number): void {
    this.#counters.dropped++;
    const peer = routingId.toString('hex');
    if (this.#limiter.allow(`${peer}\n${reason}`))
      this.#logger.warn(
        { peer, reason, frames, suppressed: this.#limiter.takeSuppressed() },
        'request dropped',
      );
  }

  #run(peerKey: string, peer: PeerState, job: Job): void {
    peer.running = true;
    void this.#serve(job).finally(() => {
      this.#pending--;
      const next = this.#stopping ? undefined : peer.queue.shift();
      if (next !== undefined) {
        this.#run(peerKey, peer, next);
      } else {
        peer.running = false;
        if (peer.queue.length === 0 && this.#peers.get(peerKey) === peer) this.#peers.delete(peerKey);
      }
      this.#wakeReader?.();
      if (this.#wakeDrain !== null && this.#running() === 0) this.#wakeDrain();
    });
  }

  async #serve(job: Job): Promise<void> {
    let reply: ReplyFrame[];
    try {
      reply = await this.#handler!(job.req);
      if (!Array.isArray(reply)) throw new TypeError('handler did not return an array of frames');
      if (reply.length === 0) reply = [Buffer.alloc(0)]; // a REQ needs a body frame after the delimiter
    } catch (err) {
      this.#counters.errors++;
      const isCairn = err instanceof CairnError;
      const code = isCairn ? err.code : 'internal';
      const message = isCairn ? err.message : 'internal error';
      const peer = job.req.routingId.toString('hex');
      if (this.#limiter.allow(`${peer}\nhandler:${code}`))
        this.#logger.warn(
          { peer, err, suppressed: this.#limiter.takeSuppressed() },
          'request handler failed',
        );
      reply = [ERROR_REPLY, code, message];
    }
    await this.#send([...job.envelope, ...reply]);
  }

  /** ROUTER sends never block (a full or gone peer drops the reply); one send at a time on the socket. */
  #send(frames: ReplyFrame[]): Promise<void> {
    const socket = this.#socket;
    const p = this.#sendChain.then(async () => {
      if (socket === null || socket.closed) return;
      try {
        await socket.send(frames);
        this.#counters.replied++;
      } catch (err) {
        if (!socket.closed) this.#logger.error({ err }, 'request server: send failed');
      }
    });
    this.#sendChain = p;
    return p;
  }
}
