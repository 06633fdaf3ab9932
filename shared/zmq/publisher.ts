/**
 * PubSocket: a thin PUB for the feed and the proof channel (an XPUB, to know which topics have
 * subscribers: `wants`).
 *
 * CURVE server with a ZAP domain (subscribers then need a key the domain's policy allows), or
 * plain (no encryption, no authentication) so stock subscribers such as Bitcoin Core's
 * contrib/zmq/zmq_sub.py work unmodified. Plain is allowed only on loopback endpoints
 * (127.0.0.0/8, ::1, localhost, ipc, inproc): the constructor refuses anything else.
 *
 * PUB never blocks: a subscriber that falls `sendHighWaterMark` messages behind loses messages
 * (which is why feeds carry sequence numbers). close() lingers at most `lingerMs`.
 */
import { XPublisher } from 'zeromq';
import type { Logger } from '../log.ts';
import { type CurveKeys, serverOptions } from './curve.ts';
import { TransportError } from './errors.ts';
import { LogLimiter } from './log-limit.ts';
import {
  bindAll,
  checkEndpoints,
  type HeartbeatOptions,
  heartbeatSocketOptions,
  isIpv6Endpoint,
  isLoopbackEndpoint,
} from './options.ts';
import { ZapHandler } from './zap.ts';

/** Messages a subscriber may fall behind before it loses some (per subscriber). */
export const DEFAULT_SEND_HWM = 10_000;

export interface PubSocketOptions {
  endpoints: string[];
  /** CURVE server keys and ZAP domain; omit for a plain socket (loopback endpoints only). */
  curve?: { keys: CurveKeys; zapDomain: string };
  /** Messages queued per subscriber before it starts losing them (default 10,000). */
  sendHighWaterMark?: number;
  heartbeat?: HeartbeatOptions | false;
  /** Messages waiting in this process for the socket (default 10,000); beyond, dropped. */
  maxQueued?: number;
  /** How long unsent messages may still leave after close() (default 500 ms). */
  lingerMs?: number;
  /** How long bind() retries an endpoint still held by a socket closed just before (default 1000 ms). */
  bindRetryMs?: number;
}

export type PubFrame = Buffer | Uint8Array | string;

interface Queued {
  readonly frames: PubFrame[];
  /** publish()'s promise; offer() has none */
  readonly settle?: { resolve: () => void; reject: (e: Error) => void };
}

export class PubSocket {
  readonly #opts: PubSocketOptions;
  readonly #logger: Logger;
  #socket: XPublisher | null = null;
  #bound: string[] = [];
  readonly #queue: Queued[] = [];
  /** Topic prefixes some subscriber holds (XPUB reports the first subscription, the last unsubscription). */
  readonly #prefixes = new Set<string>();
  /** wants() per topic, forgotten whenever the prefixes change. */
  readonly #wanted = new Map<string, boolean>();
  readonly #maxQueued: number;
  readonly #dropLog = new LogLimiter({ intervalMs: 60_000 });
  #draining = false;
  #dropped = 0;
  #published = 0;

  constructor(opts: PubSocketOptions, deps: { logger: Logger }) {
    checkEndpoints(opts.endpoints, 'PubSocket');
    if (opts.curve === undefined) {
      const open = opts.endpoints.filter((e) => !isLoopbackEndpoint(e));
      if (open.length > 0)
        throw new TransportError(
          'transport-config',
          `PubSocket: a plain (unencrypted, unauthenticated) PUB may bind only to loopback; ` +
            `${open.join(', ')} is not. Give CURVE keys and a ZAP domain, or bind to 127.0.0.1`,
        );
    } else {
      serverOptions(opts.curve.keys, opts.curve.zapDomain); // validates
    }
    heartbeatSocketOptions(opts.heartbeat); // validates
    this.#opts = { ...opts, endpoints: [...opts.endpoints] };
    this.#logger = deps.logger;
    this.#maxQueued = opts.maxQueued ?? DEFAULT_SEND_HWM;
  }

  get curve(): boolean {
    return this.#opts.curve !== undefined;
  }

  get endpoints(): string[] {
    return [...this.#bound];
  }

  get published(): number {
    return this.#published;
  }

  async bind(): Promise<void> {
    if (this.#socket !== null) throw new TransportError('transport-config', 'PubSocket already bound');
    const o = this.#opts;
    if (o.curve !== undefined && ZapHandler.active()?.running !== true)
      throw new TransportError(
        'transport-no-zap',
        'start the ZapHandler before any CURVE server socket: without it libzmq accepts every client',
      );
    // XPUB, not PUB: the same wire protocol, and it tells us what subscribers hold, so a message
    // no one subscribed to is never built or queued (a syncing node's feed cost 12% of its main
    // thread in messages libzmq then dropped for want of subscribers)
    const socket = new XPublisher({
      ...(o.curve === undefined ? {} : serverOptions(o.curve.keys, o.curve.zapDomain)),
      ...heartbeatSocketOptions(o.heartbeat),
      ipv6: o.endpoints.some(isIpv6Endpoint),
      sendHighWaterMark: o.sendHighWaterMark ?? DEFAULT_SEND_HWM,
      linger: o.lingerMs ?? 500,
    });
    const bound = await bindAll(socket, o.endpoints, o.bindRetryMs ?? 1_000, 'PubSocket');
    this.#socket = socket;
    this.#bound = bound;
    void this.#watchSubscriptions(socket);
    this.#logger.info({ endpoints: bound, curve: this.curve }, 'publisher bound');
  }

  /**
   * Whether a subscriber holds a prefix of `topic` (ZeroMQ matches prefixes; '' is everything).
   * A subscriber that has just connected is seen a moment after libzmq sees it, as with any PUB
   * (the "slow joiner"), so the first message after it subscribes may not reach it.
   */
  wants(topic: string): boolean {
    let w = this.#wanted.get(topic);
    if (w === undefined) {
      w = false;
      for (const p of this.#prefixes) if (topic.startsWith(p)) w = true;
      this.#wanted.set(topic, w);
    }
    return w;
  }

  async #watchSubscriptions(socket: XPublisher): Promise<void> {
    try {
      for await (const [msg] of socket) {
        if (msg === undefined || msg.length === 0) continue;
        const prefix = msg.subarray(1).toString('latin1');
        if (msg[0] === 1) this.#prefixes.add(prefix);
        else if (msg[0] === 0) this.#prefixes.delete(prefix);
        else continue; // not a (un)subscription: no effect, as in libzmq
        this.#wanted.clear();
      }
    } catch {
      // the socket was closed
    }
  }

  /**
   * Sends `topic | frames...`. Never blocks: sends leave one at a time (zeromq.js allows one send
   * in flight), at most `maxQueued` wait in this process, and beyond that the message is dropped at
   * once (rejects `transport-busy`), as libzmq drops at the high-water mark. Unbounded, the queue
   * grew with the chain while a node synced (3 feed messages per transaction, sent only between
   * batches: 394,000 pending sends and their bodies after 104,000 transactions).
   */
  publish(topic: PubFrame, ...frames: PubFrame[]): Promise<void> {
    if (this.#socket === null)
      return Promise.reject(new TransportError('transport-closed', 'PubSocket is not bound or is closed'));
    if (this.#full())
      return Promise.reject(
        new TransportError('transport-busy', `publisher queue full (${this.#maxQueued})`),
      );
    return new Promise<void>((resolve, reject) =>
      this.#enqueue({ frames: [topic, ...frames], settle: { resolve, reject } }),
    );
  }

  /**
   * publish() for a stream (the feed): no promise and no error per message; false when the
   * message was dropped (queue full, or not bound). Send failures are counted as drops.
   */
  offer(topic: PubFrame, ...frames: PubFrame[]): boolean {
    if (this.#socket === null || this.#full()) return false;
    this.#enqueue({ frames: [topic, ...frames] });
    return true;
  }

  #full(): boolean {
    if (this.#queue.length < this.#maxQueued) return false;
    this.#dropped++;
    if (this.#dropLog.allow('dropped'))
      this.#logger.warn(
        { dropped: this.#dropped, queued: this.#queue.length },
        `publisher queue full (${this.#maxQueued} messages): dropping messages (subscribers see gaps in the sequence numbers)`,
      );
    return true;
  }

  #enqueue(m: Queued): void {
    this.#queue.push(m);
    if (!this.#draining && this.#socket !== null) void this.#drain(this.#socket);
  }

  /** Messages dropped because the queue was full, since bind. */
  get dropped(): number {
    return this.#dropped;
  }

  async #drain(socket: XPublisher): Promise<void> {
    this.#draining = true;
    try {
      for (let m = this.#queue.shift(); m !== undefined; m = this.#queue.shift()) {
        try {
          if (socket.closed) throw new TransportError('transport-closed', 'PubSocket is closed');
          await socket.send(m.frames);
          this.#published++;
          m.settle?.resolve();
        } catch (e) {
          if (m.settle !== undefined) m.settle.reject(e as Error);
          else this.#dropped++;
        }
      }
    } finally {
      this.#draining = false;
    }
  }

  close(): void {
    const socket = this.#socket;
    this.#socket = null;
    if (socket !== null && !socket.closed) socket.close();
  }
}
