/**
 * Hasher: a pool of hash worker threads (hash-worker.ts) searching nonces of one job at a time.
 *
 * `setJob` writes the job into shared memory and wakes the workers (hash-state.ts): a hashing
 * worker takes it within `checkInterval` hashes, a sleeping one at once. Each worker owns a
 * disjoint nonce range (default 2^56 nonces: the nonce's top byte is the worker index). A hash
 * meeting the share target or the block target is reported as a `found` event with the job it
 * belongs to; after a block every worker pauses that job until `resume` or the next job.
 * Engines (hash-worker.ts): 'midstate' (default; JavaScript SHA-256 with the first header block
 * compressed once per job, every hit re-hashed with node:crypto) or 'crypto' (two node:crypto
 * calls per nonce).
 *
 * CPU cap: `cpuPercent` < 100 makes each worker hash for `period × cpuPercent / 100` ms, then
 * sleep the rest of the period (default 100 ms); a new job ends the sleep at once.
 *
 * A worker that dies is started again (after 1 s, doubling up to 60 s while it keeps dying).
 */

import type { Worker } from 'node:worker_threads';
import { UsageError } from '../../shared/core/errors.ts';
import { TypedEmitter } from '../../shared/events.ts';
import type { Logger } from '../../shared/log.ts';
import { startWorker } from '../../shared/worker.ts';
import { C, DEFAULT_NONCE_BITS, HashState, MAX_WORKERS, nonceRange } from './hash-state.ts';
import type { HashEngine, HashWorkerData, HashWorkerMessage } from './hash-worker.ts';

export interface HasherOptions {
  /** Worker threads, 1..256. */
  readonly workers: number;
  /** Share of each worker's time spent hashing, 1..100 (default 100). */
  readonly cpuPercent?: number;
  /** Duty-cycle period in ms (default 100). */
  readonly periodMs?: number;
  /** Hashes between two looks at the shared control words (default 1024). */
  readonly checkInterval?: number;
  /** Size of each worker's nonce range in bits (default 56; tests use small ranges). */
  readonly nonceBits?: number;
  /** Shares posted per second, all workers together (default 20); a block is always posted. */
  readonly maxSharesPerSecond?: number;
  /** SHA-256d engine of the workers (default 'midstate': ≈ 4× 'crypto'; see hash-worker.ts). */
  readonly engine?: HashEngine;
}

/** A job to hash; `tag` is the caller's (which node, which job id). */
export interface HashJob<T> {
  readonly header: Uint8Array;
  readonly target: bigint;
  readonly shareTarget: bigint;
  readonly tag: T;
}

export interface Found<T> {
  readonly job: HashJob<T>;
  readonly generation: number;
  readonly worker: number;
  readonly nonce: bigint;
  /** SHA-256d of the header with this nonce (little-endian integer order, as compared to targets). */
  readonly hash: Uint8Array;
  /** Meets the block target (else only the share target). */
  readonly block: boolean;
}

export interface HasherEvents<T> {
  found: [found: Found<T>];
  exhausted: [info: { job: HashJob<T>; generation: number; worker: number }];
}

export interface HasherStats {
  /** Hashes done per worker since start. */
  readonly hashes: readonly number[];
  readonly total: number;
  /** Generation each worker is on. */
  readonly generations: readonly number[];
  /** Shares not posted because of the share rate budget. */
  readonly droppedShares: number;
}

/** Generations kept for mapping a late `found` to its job. */
const KEEP_GENERATIONS = 64;

export class Hasher<T = unknown> extends TypedEmitter<HasherEvents<T>> {
  readonly workers: number;
  readonly checkInterval: number;
  readonly nonceBits: number;
  readonly engine: HashEngine;
  readonly #state: HashState;
  readonly #logger: Logger;
  readonly #threads: (Worker | null)[];
  readonly #restartDelay: number[];
  readonly #jobs = new Map<number, HashJob<T>>();
  readonly #sharesPerWorker: number;
  #timers = new Set<NodeJS.Timeout>();
  #running = false;
  #cpuPercent = 100;

  constructor(opts: HasherOptions, modules: { logger: Logger }) {
    super();
    const n = opts.workers;
    if (!Number.isInteger(n) || n < 1 || n > MAX_WORKERS)
      throw new UsageError(`hash workers must be 1..${MAX_WORKERS}, got ${n}`);
    this.workers = n;
    this.checkInterval = opts.checkInterval ?? 1024;
    this.nonceBits = opts.nonceBits ?? DEFAULT_NONCE_BITS;
    this.engine = opts.engine ?? 'midstate';
    if (this.engine !== 'midstate' && this.engine !== 'crypto')
      throw new UsageError(`hash engine must be 'midstate' or 'crypto', got ${String(this.engine)}`);
    if (!Number.isInteger(this.checkInterval) || this.checkInterval < 1)
      throw new UsageError('checkInterval must be a positive integer');
    nonceRange(n - 1, this.nonceBits); // every worker's range must fit
    const periodMs = opts.periodMs ?? 100;
    if (!Number.isInteger(periodMs) || periodMs < 10)
      throw new UsageError('periodMs must be an integer >= 10');
    this.#state = HashState.create(n, periodMs);
    this.#sharesPerWorker = Math.max(1, Math.ceil((opts.maxSharesPerSecond ?? 20) / n));
    this.#logger = modules.logger;
    this.#threads = Array.from({ length: n }, () => null);
    this.#restartDelay = Array.from({ length: n }, () => 1_000);
    this.setCpuPercent(opts.cpuPercent ?? 100);
  }

  get running(): boolean {
    return this.#running;
  }

  get cpuPercent(): number {
    return this.#cpuPercent;
  }

  /** The generation of the last setJob/clearJob (0 before the first). */
  get generation(): number {
    return this.#state.generation();
  }

  /** The job being hashed, if any. */
  get job(): HashJob<T> | undefined {
    return this.#jobs.get(this.generation);
  }

  /** Starts the workers; resolves when every thread runs. */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    await Promise.all(this.#threads.map((_, w) => this.#spawn(w)));
  }

  /** Hashes `job` from now on; returns its generation. */
  setJob(job: HashJob<T>): number {
    const generation = this.#state.writeJob(job);
    this.#jobs.set(generation, job);
    for (const g of this.#jobs.keys()) {
      if (g > generation - KEEP_GENERATIONS) break;
      this.#jobs.delete(g);
    }
    return generation;
  }

  /** Stops hashing until the next setJob; returns the new (empty) generation. */
  clearJob(): number {
    return this.#state.writeJob(null);
  }

  /** Continues a job paused by a found block (e.g. the node refused the block); no-op otherwise. */
  resume(generation: number): void {
    if (Atomics.compareExchange(this.#state.ctrl, C.SOLVED, generation, -1) === generation)
      this.#state.wake();
  }

  /** Caps each worker to `percent` of a core (duty cycle over the period). */
  setCpuPercent(percent: number): void {
    if (!Number.isInteger(percent) || percent < 1 || percent > 100)
      throw new UsageError(`cpu percent must be 1..100, got ${percent}`);
    this.#cpuPercent = percent;
    const period = Atomics.load(this.#state.ctrl, C.PERIOD);
    Atomics.store(
      this.#state.ctrl,
      C.DUTY,
      percent === 100 ? period : Math.max(1, Math.round((period * percent) / 100)),
    );
    this.#state.wake();
  }

  stats(): HasherStats {
    const s = this.#state;
    const hashes: number[] = [];
    const generations: number[] = [];
    let dropped = 0;
    for (let w = 0; w < this.workers; w++) {
      hashes.push(Number(Atomics.load(s.hashes, w)));
      generations.push(s.workerGeneration(w));
      dropped += s.droppedShares(w);
    }
    return { hashes, total: hashes.reduce((a, b) => a + b, 0), generations, droppedShares: dropped };
  }

  /** Worker `w`'s hash count when it took its current generation. */
  switchedAt(w: number): number {
    return Number(Atomics.load(this.#state.switchAt, w));
  }

  /** True when every worker is on `generation` (or a later one). */
  switched(generation: number): boolean {
    for (let w = 0; w < this.workers; w++) if (this.#state.workerGeneration(w) < generation) return false;
    return true;
  }

  /**
   * Blocks the calling thread until every worker is on `generation` or `timeoutMs` passes; true
   * when they are. For benchmarks and tests (it uses Atomics.wait: nothing else runs meanwhile).
   */
  waitSwitchedSync(generation: number, timeoutMs: number): boolean {
    const ctrl = this.#state.ctrl;
    const end = performance.now() + timeoutMs;
    for (;;) {
      const adopted = Atomics.load(ctrl, C.ADOPTED);
      if (this.switched(generation)) return true;
      const left = end - performance.now();
      if (left <= 0) return false;
      Atomics.wait(ctrl, C.ADOPTED, adopted, left);
    }
  }

  /** Stops every worker (asks them, then terminates any that has not returned within 1 s). */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    Atomics.store(this.#state.ctrl, C.STOP, 1);
    this.#state.wake();
    await Promise.all(
      this.#threads.map(async (thread, w) => {
        if (thread === null) return;
        this.#threads[w] = null;
        const exited = new Promise<void>((resolve) => thread.once('exit', () => resolve()));
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((resolve) => {
          timer = setTimeout(() => resolve('late'), 1_000);
        });
        if ((await Promise.race([exited, late])) === 'late') await thread.terminate();
        clearTimeout(timer);
      }),
    );
  }

  #spawn(w: number): Promise<void> {
    const data: HashWorkerData = {
      sab: this.#state.sab,
      workers: this.workers,
      index: w,
      nonceBits: this.nonceBits,
      checkInterval: this.checkInterval,
      sharesPerSecond: this.#sharesPerWorker,
      engine: this.engine,
    };
    const thread = startWorker('hash-worker', import.meta.url, { workerData: data, name: `hash-${w}` });
    const startedAt = Date.now();
    this.#threads[w] = thread;
    thread.on('message', (m: HashWorkerMessage) => this.#onMessage(w, m));
    thread.on('error', (err) => this.#logger.error({ err, worker: w }, 'hash worker failed'));
    thread.on('exit', (code) => {
      if (!this.#running || this.#threads[w] !== thread) return;
      this.#threads[w] = null;
      if (Date.now() - startedAt > 60_000) this.#restartDelay[w] = 1_000; // it had been healthy
      const delay = this.#restartDelay[w]!;
      this.#restartDelay[w] = Math.min(delay * 2, 60_000);
      this.#logger.warn({ worker: w, code, restartInMs: delay }, 'hash worker exited; restarting it');
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        if (this.#running) void this.#spawn(w);
      }, delay);
      this.#timers.add(timer);
    });
    return new Promise<void>((resolve) => {
      thread.once('online', () => resolve());
      thread.once('exit', () => resolve());
    });
  }

  #onMessage(w: number, m: HashWorkerMessage): void {
    const job = this.#jobs.get(m.generation);
    if (job === undefined) return; // older than we remember
    if (m.t === 'found') {
      const nonce = (BigInt(m.hi) << 32n) | BigInt(m.lo);
      this.emit('found', {
        job,
        generation: m.generation,
        worker: w,
        nonce,
        hash: new Uint8Array(m.hash),
        block: m.block,
      });
    } else {
      this.emit('exhausted', { job, generation: m.generation, worker: w });
    }
  }
}
