/**
 * The waiting line of a request client (RequestClient, PipelineClient): the request's admission
 * checks (closed, no frames, queue full), its deadline, and urgent requests placed ahead of every
 * ordinary one (behind the urgent ones before them), allowed a few beyond the bound.
 */

import { TransportError } from './errors.ts';
import type { HeartbeatOptions } from './options.ts';

/** Urgent requests may go this far beyond `maxQueued` (a block must not wait behind a tx flood). */
const URGENT_RESERVE = 8;

export type RequestFrames = (Buffer | Uint8Array | string)[];

export interface QueuedRequest {
  readonly frames: RequestFrames;
  readonly timeoutMs: number;
  readonly urgent: boolean;
  readonly resolve: (frames: Buffer[]) => void;
  readonly reject: (err: Error) => void;
}

/** The options both clients take, their defaults applied. */
export interface ClientSettings {
  readonly maxMessageSize: number;
  readonly heartbeat: HeartbeatOptions | false | undefined;
  readonly reconnectIntervalMs: number;
  readonly reconnectMaxIntervalMs: number;
  readonly defaultTimeoutMs: number;
  readonly maxQueued: number;
}

export function clientSettings(o: Partial<ClientSettings>): ClientSettings {
  return {
    maxMessageSize: o.maxMessageSize ?? 16 * 1024 * 1024,
    heartbeat: o.heartbeat,
    reconnectIntervalMs: o.reconnectIntervalMs ?? 100,
    reconnectMaxIntervalMs: o.reconnectMaxIntervalMs ?? 5_000,
    defaultTimeoutMs: o.defaultTimeoutMs ?? 10_000,
    maxQueued: o.maxQueued ?? 64,
  };
}

export class RequestQueue {
  readonly #endpoint: string;
  readonly #settings: ClientSettings;
  readonly #jobs: QueuedRequest[] = [];

  constructor(endpoint: string, settings: ClientSettings) {
    this.#endpoint = endpoint;
    this.#settings = settings;
  }

  get length(): number {
    return this.#jobs.length;
  }

  /** Queues a request, or rejects it at once (closed, no frames, the queue full): true when queued. */
  admit(
    frames: RequestFrames,
    opts: { timeoutMs?: number; urgent?: boolean },
    closed: boolean,
    resolve: (frames: Buffer[]) => void,
    reject: (err: Error) => void,
  ): boolean {
    if (closed) {
      reject(new TransportError('transport-closed', `client of ${this.#endpoint} is closed`));
      return false;
    }
    if (frames.length === 0) {
      reject(new TransportError('transport-config', 'a request needs at least one frame'));
      return false;
    }
    const urgent = opts.urgent === true;
    if (this.#jobs.length >= this.#settings.maxQueued + (urgent ? URGENT_RESERVE : 0)) {
      reject(
        new TransportError(
          'transport-busy',
          `client of ${this.#endpoint}: ${this.#jobs.length} requests queued`,
        ),
      );
      return false;
    }
    const timeoutMs = Math.max(1, Math.floor(opts.timeoutMs ?? this.#settings.defaultTimeoutMs));
    const job: QueuedRequest = { frames, timeoutMs, urgent, resolve, reject };
    if (!urgent) this.#jobs.push(job);
    else {
      const at = this.#jobs.findIndex((j) => !j.urgent);
      this.#jobs.splice(at === -1 ? this.#jobs.length : at, 0, job);
    }
    return true;
  }

  shift(): QueuedRequest | undefined {
    return this.#jobs.shift();
  }

  /** Rejects every waiting request with `err` (the client closed). */
  rejectAll(err: Error): void {
    for (const job of this.#jobs.splice(0)) job.reject(err);
  }
}
