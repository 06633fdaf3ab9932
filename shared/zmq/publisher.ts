/**
 * PubSocket: a thin PUB for the feed and the proof channel.
 *
 * CURVE server with a ZAP domain (subscribers then need a key the domain's policy allows), or
 * plain (no encryption, no authentication) so stock subscribers such as Bitcoin Core's
 * contrib/zmq/zmq_sub.py work unmodified. Plain is allowed only on loopback endpoints
 * (127.0.0.0/8, ::1, localhost, ipc, inproc): the constructor refuses anything else.
 *
 * PUB never blocks: a subscriber that falls `sendHighWaterMark` messages behind loses messages
 * (which is why feeds carry sequence numbers). close() lingers at most `lingerMs`.
 */
import { Publisher } from 'zeromq';
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

export class PubSocket {
  readonly #opts: PubSocketOptions;
  readonly #logger: Logger;
  #socket: Publisher | null = null;
  #bound: string[] = [];
  readonly #queue: { frames: PubFrame[]; resolve: () => void; reject: (e: Error) => void }[] = [];
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
    const socket = new Publisher({
      ...(o.curve === undefined ? {} : serverOptions(o.curve.keys, o.curve.zapDomain)),
      ...heartbeatSocketOptions(o.heartbeat),
      ipv6: o.endpoints.some(isIpv6Endpoint),
      sendHighWaterMark: o.sendHighWaterMark ?? DEFAULT_SEND_HWM,
      linger: o.lingerMs ?? 500,
    });
    const bound = await bindAll(socket, o.endpoints, o.bindRetryMs ?? 1_000, 'PubSocket');
    this.#socket = socket;
    this.#bound = bound;
    this.#logger.info({ endpoints: bound, curve: this.curve }, 'publisher bound');
  }

  /**
   * Sends `topic | frames...`. Never blocks: sends leave one at a time (zeromq.js allows one send
   * in flight), at most `maxQueued` wait in this process, and beyond that the message is dropped at
   * once (rejects `transport-busy`), as libzmq drops at the high-water mark. Unbounded, the queue
   * grew with the chain while a node synced (3 feed messages per transaction, sent only between
   * batches: 394,000 pending sends and their bodies after 104,000 transactions).
   */
  publish(topic: PubFrame, ...frames: PubFrame[]): Promise<void> {
    const socket = this.#socket;
    if (socket === null)
      return Promise.reject(new TransportError('transport-closed', 'PubSocket is not bound or is closed'));
    if (this.#queue.length >= this.#maxQueued) {
      this.#dropped++;
      if (this.#dropLog.allow('dropped'))
        this.#logger.warn(
          { dropped: this.#dropped, queued: this.#queue.length },
          `publisher queue full (${this.#maxQueued} messages): dropping messages (subscribers see gaps in the sequence numbers)`,
        );
      return Promise.reject(
        new TransportError('transport-busy', `publisher queue full (${this.#maxQueued})`),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ frames: [topic, ...frames], resolve, reject });
      if (!this.#draining) void this.#drain(socket);
    });
  }

  /** Messages dropped because the queue was full, since bind. */
  get dropped(): number {
    return this.#dropped;
  }

  async #drain(socket: Publisher): Promise<void> {
    this.#draining = true;
    try {
      for (let m = this.#queue.shift(); m !== undefined; m = this.#queue.shift()) {
        try {
          if (socket.closed) throw new TransportError('transport-closed', 'PubSocket is closed');
          await socket.send(m.frames);
          this.#published++;
          m.resolve();
        } catch (e) {
          m.reject(e as Error);
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
