/**
 * RequestClient: a CURVE REQ to one server that survives timeouts and server restarts.
 *
 * Robustness: the Lazy Pirate pattern. A request that gets no reply within its deadline rejects
 * with `transport-timeout`, and the socket is closed with linger 0 and replaced by a fresh one at
 * once. We chose this over `correlate` + `relaxed` because:
 *   - closing with linger 0 discards a request still queued for an unreachable server; a relaxed
 *     REQ keeps it in its pipe and delivers it whenever the server comes back, so a request the
 *     caller already saw fail (a relayed block, a submitted solution) would execute late;
 *   - a wedged connection (half-open TCP, a server stuck on us) is thrown away instead of reused;
 *   - the wire stays plain REQ (no correlate request-id frame), so any REP/ROUTER server and any
 *     stock client library (pyzmq...) speak the same envelope;
 *   - libzmq never retries a handshake the server refused (a ZAP 400 ends the session for good);
 *     the rebuild after the timeout does, so a key added to the server's allow-list later gets
 *     in at the next request, at most one attempt per request (no hammering).
 * The price is one new TCP connection + CURVE handshake after each timeout, which are rare.
 * Requests are not retried automatically: they may not be idempotent; the caller decides.
 *
 * Requests are serialised (REQ is lockstep): one outstanding, later calls wait in a bounded queue.
 * Between rebuilds libzmq reconnects by itself after a drop (server restart), backing off from
 * `reconnectIntervalMs` to `reconnectMaxIntervalMs`; heartbeats detect dead connections.
 * Events: 'timeout', 'reconnect' (cause 'timeout' = socket rebuilt; 'transport' = libzmq
 * re-established a dropped connection), 'disconnect', 'refused' (the server's ZAP refused our key).
 */
import { Request } from 'zeromq';
import { TypedEmitter } from '../events.ts';
import type { Logger } from '../log.ts';
import { type CurveClientOptions, type CurveKeys, clientOptions } from './curve.ts';
import { TransportError } from './errors.ts';
import { LogLimiter } from './log-limit.ts';
import {
  checkEndpoints,
  dialSocketOptions,
  dropSocket,
  type HeartbeatOptions,
  heartbeatSocketOptions,
} from './options.ts';
import { type ClientSettings, clientSettings, type QueuedRequest, RequestQueue } from './request-queue.ts';
import { beforeDeadline } from './socket-deadline.ts';

export interface RequestClientOptions {
  /** e.g. 'tcp://203.0.113.5:2136' or 'tcp://[2001:db8::1]:2136'. */
  endpoint: string;
  keys: CurveKeys;
  serverKey: string;
  /** Largest reply frame (plaintext bytes) accepted; a larger one drops the connection. Default 16 MiB. */
  maxMessageSize?: number;
  heartbeat?: HeartbeatOptions | false;
  /** First reconnect delay after a drop (default 100 ms), doubling up to the max (default 5 s). */
  reconnectIntervalMs?: number;
  reconnectMaxIntervalMs?: number;
  /** Deadline of a request when the call gives none (default 10 s). */
  defaultTimeoutMs?: number;
  /** Requests waiting behind the outstanding one (default 64); beyond, `transport-busy`. */
  maxQueued?: number;
}

export interface RequestClientEvents {
  timeout: [info: { endpoint: string; timeoutMs: number }];
  reconnect: [info: { endpoint: string; cause: 'timeout' | 'transport' }];
  disconnect: [info: { endpoint: string }];
  refused: [info: { endpoint: string; status: number }];
}

export interface ClientCounters {
  requests: number;
  replies: number;
  timeouts: number;
  reconnects: number;
  disconnects: number;
  refused: number;
}

export class RequestClient extends TypedEmitter<RequestClientEvents> {
  readonly #endpoint: string;
  readonly #curve: CurveClientOptions;
  readonly #opts: ClientSettings;
  readonly #logger: Logger;
  readonly #limiter = new LogLimiter({ intervalMs: 60_000 });
  readonly #queue: RequestQueue;
  readonly #counters: ClientCounters = {
    requests: 0,
    replies: 0,
    timeouts: 0,
    reconnects: 0,
    disconnects: 0,
    refused: 0,
  };
  #socket: Request | null = null;
  #busy = false;
  #closed = false;

  constructor(opts: RequestClientOptions, deps: { logger: Logger }) {
    super();
    checkEndpoints([opts.endpoint], 'RequestClient');
    this.#endpoint = opts.endpoint;
    this.#curve = clientOptions(opts.keys, opts.serverKey);
    this.#opts = clientSettings(opts);
    this.#queue = new RequestQueue(this.#endpoint, this.#opts);
    heartbeatSocketOptions(opts.heartbeat); // validates
    this.#logger = deps.logger;
    this.#socket = this.#open();
  }

  get endpoint(): string {
    return this.#endpoint;
  }

  get counters(): Readonly<ClientCounters> {
    return { ...this.#counters };
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends one request and resolves with the reply frames. Serialised: waits for earlier requests.
   * Rejects with TransportError 'transport-timeout' (no reply within `timeoutMs`, counted from
   * when this request is actually sent), 'transport-closed', 'transport-busy' (queue full) or
   * 'transport-config' (no frames). `urgent` requests go ahead of every queued ordinary one (behind
   * the urgent ones before them) and may exceed `maxQueued` by a few.
   */
  request(
    frames: (Buffer | Uint8Array | string)[],
    opts: { timeoutMs?: number; urgent?: boolean } = {},
  ): Promise<Buffer[]> {
    return new Promise<Buffer[]>((resolve, reject) => {
      if (!this.#queue.admit(frames, opts, this.#closed, resolve, reject)) return;
      if (!this.#busy) void this.#pump();
    });
  }

  /** Closes the socket at once (linger 0); queued and outstanding requests reject 'transport-closed'. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const err = new TransportError('transport-closed', `client of ${this.#endpoint} is closed`);
    this.#queue.rejectAll(err);
    this.#discard();
  }

  async #pump(): Promise<void> {
    this.#busy = true;
    try {
      for (let job = this.#queue.shift(); job !== undefined; job = this.#queue.shift()) {
        try {
          job.resolve(await this.#exchange(job));
        } catch (err) {
          job.reject(err as Error);
        }
      }
    } finally {
      this.#busy = false;
    }
  }

  async #exchange(job: QueuedRequest): Promise<Buffer[]> {
    if (this.#closed) throw new TransportError('transport-closed', `client of ${this.#endpoint} is closed`);
    const socket = this.#socket ?? this.#rebuild('timeout');
    this.#counters.requests++;
    const deadline = performance.now() + job.timeoutMs;
    try {
      await beforeDeadline(deadline, (ms) => {
        socket.sendTimeout = ms;
        return socket.send(job.frames);
      });
      const reply = await beforeDeadline(deadline, (ms) => {
        socket.receiveTimeout = ms;
        return socket.receive();
      });
      this.#counters.replies++;
      return reply;
    } catch (err) {
      if (this.#closed) throw new TransportError('transport-closed', `client of ${this.#endpoint} is closed`);
      const timedOut = (err as { code?: string }).code === 'EAGAIN';
      if (!timedOut)
        this.#logger.warn({ err, endpoint: this.#endpoint }, 'request failed; rebuilding the socket');
      // Lazy Pirate: the REQ is now stuck waiting for a reply that may never come. Throw it away
      // (linger 0 drops anything still queued) and connect afresh for the next request.
      this.#counters.timeouts++;
      this.emit('timeout', { endpoint: this.#endpoint, timeoutMs: job.timeoutMs });
      this.#rebuild('timeout');
      if (timedOut)
        throw new TransportError(
          'transport-timeout',
          `no reply from ${this.#endpoint} within ${job.timeoutMs} ms`,
        );
      throw new TransportError('transport-timeout', `request to ${this.#endpoint} failed: ${String(err)}`, {
        cause: err,
      });
    }
  }

  #rebuild(cause: 'timeout'): Request {
    this.#discard();
    const socket = this.#open();
    this.#socket = socket;
    this.#counters.reconnects++;
    this.emit('reconnect', { endpoint: this.#endpoint, cause });
    return socket;
  }

  #discard(): void {
    dropSocket(this.#socket);
    this.#socket = null;
  }

  #open(): Request {
    // REQ holds one request at a time: a high-water mark of 1 each way
    const socket = new Request(dialSocketOptions(this.#curve, this.#endpoint, this.#opts, 1));
    let everConnected = false;
    let lostSinceLastHandshake = false;
    socket.events.on('handshake', () => {
      if (everConnected && lostSinceLastHandshake) {
        this.#counters.reconnects++;
        this.emit('reconnect', { endpoint: this.#endpoint, cause: 'transport' });
      }
      everConnected = true;
      lostSinceLastHandshake = false;
    });
    socket.events.on('disconnect', () => {
      if (socket.closed || this.#socket !== socket) return;
      lostSinceLastHandshake = true;
      this.#counters.disconnects++;
      this.emit('disconnect', { endpoint: this.#endpoint });
    });
    socket.events.on('handshake:error:auth', (ev) => {
      this.#counters.refused++;
      if (this.#limiter.allow('refused'))
        this.#logger.warn(
          { endpoint: this.#endpoint, status: ev.error.status, suppressed: this.#limiter.takeSuppressed() },
          'server refused our CURVE key',
        );
      this.emit('refused', { endpoint: this.#endpoint, status: ev.error.status });
    });
    socket.connect(this.#endpoint);
    return socket;
  }
}
