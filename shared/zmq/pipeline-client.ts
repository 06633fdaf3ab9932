/**
 * PipelineClient: a CURVE DEALER to one RequestServer with several requests in flight.
 *
 * A REQ socket is lockstep: one request per round trip. Over a 100 ms link that caps a peer
 * connection at ~10 requests/s whatever the bandwidth, and a relayed block waits behind whatever
 * is outstanding (the network simulation, docs/operations.md, measured it). This client sends up
 * to `maxInFlight` requests without waiting, each as
 *   request id (u32 BE) | empty delimiter | body frames...
 * which a ROUTER sees as a REQ with `correlate` would send it: RequestServer echoes the envelope, so
 * replies carry their id back and no change on the server (nor any old node) is needed. The server
 * answers one routing id's requests in order, queueing up to 4 behind the running one (beyond that
 * it drops them): `maxInFlight` must stay ≤ 5; the default is 4.
 *
 * Robustness, as RequestClient's Lazy Pirate: a request without a reply within its deadline
 * rejects with `transport-timeout`. If nothing at all came back on the socket since that request
 * was sent (a dead or wedged connection), the socket is closed with linger 0 and replaced, and
 * every other request in flight on it rejects too (they were sent into the same silence); a late
 * reply to a request that already failed is recognised by its id and dropped. Requests are never
 * retried (they may not be idempotent). Ordinary requests wait in a bounded queue (`maxQueued`,
 * then `transport-busy`); `urgent` ones go ahead of them and may exceed the bound by a few.
 */
import { Dealer } from 'zeromq';
import type { Logger } from '../log.ts';
import type { RequestClientOptions } from './client.ts';
import { type CurveClientOptions, clientOptions } from './curve.ts';
import { TransportError } from './errors.ts';
import { checkEndpoints, dialSocketOptions, dropSocket, heartbeatSocketOptions } from './options.ts';
import { type ClientSettings, clientSettings, type QueuedRequest, RequestQueue } from './request-queue.ts';
import { beforeDeadline } from './socket-deadline.ts';

export interface PipelineClientOptions extends RequestClientOptions {
  /** Requests sent and not yet answered (default 4, at most 5: RequestServer's per-peer queue + 1). */
  maxInFlight?: number;
}

export interface PipelineCounters {
  requests: number;
  replies: number;
  timeouts: number;
  /** Sockets replaced after a request met silence. */
  rebuilds: number;
  /** Replies to requests that had already timed out (dropped). */
  late: number;
}

const EMPTY = Buffer.alloc(0);

interface Flight {
  job: QueuedRequest;
  socket: Dealer;
  sentAt: number;
  timer: NodeJS.Timeout | undefined;
  /** Timed out: already rejected; its slot is held until its late reply or a rebuild. */
  expired: boolean;
}

export class PipelineClient {
  readonly #endpoint: string;
  readonly #curve: CurveClientOptions;
  readonly #o: ClientSettings & { readonly maxInFlight: number };
  readonly #logger: Logger;
  readonly #queue: RequestQueue;
  readonly #flights = new Map<number, Flight>();
  readonly #counters: PipelineCounters = { requests: 0, replies: 0, timeouts: 0, rebuilds: 0, late: 0 };
  #socket: Dealer | null = null;
  /** When the current socket last delivered a reply (performance.now()). */
  #lastReply = 0;
  #nextId = 1;
  #sending = false;
  #closed = false;

  constructor(opts: PipelineClientOptions, deps: { logger: Logger }) {
    checkEndpoints([opts.endpoint], 'PipelineClient');
    this.#endpoint = opts.endpoint;
    this.#curve = clientOptions(opts.keys, opts.serverKey);
    this.#o = { ...clientSettings(opts), maxInFlight: opts.maxInFlight ?? 4 };
    this.#queue = new RequestQueue(this.#endpoint, this.#o);
    if (!Number.isInteger(this.#o.maxInFlight) || this.#o.maxInFlight < 1 || this.#o.maxInFlight > 5)
      throw new TransportError('transport-config', 'PipelineClient: maxInFlight must be 1..5');
    heartbeatSocketOptions(opts.heartbeat); // validates
    this.#logger = deps.logger;
    this.#socket = this.#open();
  }

  get endpoint(): string {
    return this.#endpoint;
  }

  get counters(): Readonly<PipelineCounters> {
    return { ...this.#counters };
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Requests sent and not answered (timed-out ones included until their reply or a rebuild). */
  get inFlight(): number {
    return this.#flights.size;
  }

  /** Sends one request (as soon as the window allows) and resolves with the reply's body frames. */
  request(
    frames: (Buffer | Uint8Array | string)[],
    opts: { timeoutMs?: number; urgent?: boolean } = {},
  ): Promise<Buffer[]> {
    return new Promise<Buffer[]>((resolve, reject) => {
      if (!this.#queue.admit(frames, opts, this.#closed, resolve, reject)) return;
      void this.#pump();
    });
  }

  /** Closes at once (linger 0); queued and in-flight requests reject 'transport-closed'. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const err = new TransportError('transport-closed', `client of ${this.#endpoint} is closed`);
    this.#queue.rejectAll(err);
    this.#failFlights(err);
    this.#discard();
  }

  /** Sends queued requests while the window has room (one send at a time: zeromq.js requires it). */
  async #pump(): Promise<void> {
    if (this.#sending) return;
    this.#sending = true;
    try {
      while (!this.#closed && this.#queue.length > 0 && this.#flights.size < this.#o.maxInFlight) {
        const job = this.#queue.shift()!;
        const socket = this.#socket ?? this.#rebuild();
        const id = this.#nextId;
        this.#nextId = this.#nextId >= 0xffff_ffff ? 1 : this.#nextId + 1;
        const flight: Flight = { job, socket, sentAt: performance.now(), timer: undefined, expired: false };
        this.#flights.set(id, flight);
        flight.timer = setTimeout(() => this.#expire(id, flight), job.timeoutMs);
        this.#counters.requests++;
        const idFrame = Buffer.alloc(4);
        idFrame.writeUInt32BE(id);
        try {
          const deadline = performance.now() + job.timeoutMs;
          await beforeDeadline(deadline, (ms) => {
            socket.sendTimeout = ms;
            return socket.send([idFrame, EMPTY, ...job.frames]);
          });
        } catch (err) {
          if (this.#closed || this.#flights.get(id) !== flight) continue;
          this.#logger.warn({ err, endpoint: this.#endpoint }, 'send failed; rebuilding the socket');
          this.#rebuildAfter(
            new TransportError('transport-timeout', `request to ${this.#endpoint} failed: ${String(err)}`, {
              cause: err,
            }),
          );
        }
      }
    } finally {
      this.#sending = false;
    }
  }

  #expire(id: number, flight: Flight): void {
    if (this.#flights.get(id) !== flight || flight.expired) return;
    flight.expired = true;
    this.#counters.timeouts++;
    const err = new TransportError(
      'transport-timeout',
      `no reply from ${this.#endpoint} within ${flight.job.timeoutMs} ms`,
    );
    flight.job.reject(err);
    const silent = flight.socket === this.#socket && this.#lastReply < flight.sentAt;
    // replies that never come (a server that dropped them) must not hold the window shut for good
    const clogged =
      this.#flights.size >= this.#o.maxInFlight && [...this.#flights.values()].every((f) => f.expired);
    if (silent || clogged) this.#rebuildAfter(err);
  }

  /** Replaces the socket; what was in flight on the old one fails with `err`. */
  #rebuildAfter(err: TransportError): void {
    this.#failFlights(err);
    this.#rebuild();
    void this.#pump();
  }

  #failFlights(err: Error): void {
    for (const f of this.#flights.values()) {
      clearTimeout(f.timer);
      if (!f.expired) f.job.reject(err);
    }
    this.#flights.clear();
  }

  async #readLoop(socket: Dealer): Promise<void> {
    try {
      for await (const frames of socket) {
        if (socket !== this.#socket) break;
        this.#reply(frames);
      }
    } catch (err) {
      if (!socket.closed && socket === this.#socket)
        this.#logger.debug({ err, endpoint: this.#endpoint }, 'pipeline client receive ended');
    }
  }

  #reply(frames: Buffer[]): void {
    if (frames.length < 3 || frames[0]!.length !== 4 || frames[1]!.length !== 0) {
      this.#logger.debug({ endpoint: this.#endpoint, frames: frames.length }, 'malformed reply dropped');
      return;
    }
    const id = frames[0]!.readUInt32BE(0);
    const flight = this.#flights.get(id);
    if (flight === undefined) return;
    this.#flights.delete(id);
    clearTimeout(flight.timer);
    this.#lastReply = performance.now();
    if (flight.expired) this.#counters.late++;
    else {
      this.#counters.replies++;
      flight.job.resolve(frames.slice(2));
    }
    void this.#pump();
  }

  #rebuild(): Dealer {
    this.#discard();
    const socket = this.#open();
    this.#socket = socket;
    this.#lastReply = 0;
    this.#counters.rebuilds++;
    return socket;
  }

  #discard(): void {
    dropSocket(this.#socket);
    this.#socket = null;
  }

  #open(): Dealer {
    // the window bounds what is queued; the high-water marks only need to hold it
    const socket = new Dealer(dialSocketOptions(this.#curve, this.#endpoint, this.#o, 100));
    socket.connect(this.#endpoint);
    void this.#readLoop(socket);
    return socket;
  }
}
