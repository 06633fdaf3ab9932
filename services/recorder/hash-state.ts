/**
 * The memory the hasher (main thread) and its hash workers share: one SharedArrayBuffer with
 * control words, per-worker counters and the current job, plus each worker's nonce range.
 *
 * Job hand-over is a seqlock: the main thread makes `SEQ` odd, writes the job slot, makes `SEQ`
 * even again; a worker copies the slot and keeps the copy only if `SEQ` was the same even value
 * before and after. The generation of a job is `SEQ >>> 1`, so every `writeJob` is a new
 * generation. Anything a worker must react to (new job, a solved block, resume, new CPU cap,
 * stop) also bumps `WAKE` and notifies it: workers poll `WAKE` every `checkInterval` hashes and
 * sleep on it (Atomics.wait) when idle or in the off part of their duty cycle, so they switch
 * within one check interval when hashing and at once when asleep.
 *
 * Layout (Int32 words, then BigInt64 counters at an 8-byte boundary, then the job slot):
 *   ctrl[0..CONTROL_WORDS)      the words of `C`
 *   ctrl[CONTROL_WORDS + 2w]    generation worker w is on (-1 before its first)
 *   ctrl[CONTROL_WORDS + 2w+1]  shares worker w did not post (over its rate budget)
 *   hashes[w]                   hashes worker w has done (published every check interval)
 *   switchAt[w]                 worker w's hash count when it took its current generation
 *   slot                        header 88 | block target 32 LE | share target 32 LE
 */
import { HEADER_SIZE } from '../../shared/core/block/types.ts';
import { UsageError } from '../../shared/core/errors.ts';
import { targetToLeBytes } from '../../shared/core/pow/compact.ts';

/** Indexes of the control words. */
export const C = {
  /** Seqlock of the job slot: odd while the main thread writes; generation = SEQ >>> 1. */
  SEQ: 0,
  /** Bumped and notified on every change a worker must see. */
  WAKE: 1,
  /** 1: workers return. */
  STOP: 2,
  /** Generation whose block a worker found; workers pause it (-1: none). */
  SOLVED: 3,
  /** Milliseconds of hashing per period (= PERIOD when uncapped). */
  DUTY: 4,
  /** Length of the duty-cycle period in milliseconds. */
  PERIOD: 5,
  /** Bumped and notified each time a worker takes a new generation. */
  ADOPTED: 6,
  /** 1 when the job slot holds a job (written under the seqlock). */
  PRESENT: 7,
} as const;
export const CONTROL_WORDS = 8;

const SLOT_HEADER = 0;
const SLOT_TARGET = HEADER_SIZE;
const SLOT_SHARE = HEADER_SIZE + 32;
const SLOT_SIZE = HEADER_SIZE + 64;

/** Most workers: the worker index is the nonce's top byte with the default 56-bit ranges. */
export const MAX_WORKERS = 256;
/** Default size of a worker's nonce range: 2^56 (the top byte of the u64 nonce is the worker index). */
export const DEFAULT_NONCE_BITS = 56;

/** What a worker needs of a job: the header and both targets as 32 little-endian bytes. */
export interface SlotJob {
  readonly header: Uint8Array;
  readonly target: bigint;
  readonly shareTarget: bigint;
}

export class HashState {
  readonly sab: SharedArrayBuffer;
  readonly workers: number;
  readonly ctrl: Int32Array;
  readonly hashes: BigInt64Array;
  readonly switchAt: BigInt64Array;
  readonly slot: Uint8Array;

  constructor(sab: SharedArrayBuffer, workers: number) {
    this.sab = sab;
    this.workers = workers;
    const words = CONTROL_WORDS + 2 * workers;
    const countersAt = Math.ceil((words * 4) / 8) * 8;
    this.ctrl = new Int32Array(sab, 0, words);
    this.hashes = new BigInt64Array(sab, countersAt, workers);
    this.switchAt = new BigInt64Array(sab, countersAt + workers * 8, workers);
    this.slot = new Uint8Array(sab, countersAt + workers * 16, SLOT_SIZE);
  }

  /** A fresh state for `workers` workers: no job (generation 0), nothing solved, uncapped. */
  static create(workers: number, periodMs: number): HashState {
    if (!Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS)
      throw new UsageError(`hash workers must be 1..${MAX_WORKERS}, got ${workers}`);
    const words = CONTROL_WORDS + 2 * workers;
    const bytes = Math.ceil((words * 4) / 8) * 8 + workers * 16 + SLOT_SIZE;
    const s = new HashState(new SharedArrayBuffer(bytes), workers);
    s.ctrl[C.SOLVED] = -1;
    s.ctrl[C.PERIOD] = periodMs;
    s.ctrl[C.DUTY] = periodMs;
    for (let w = 0; w < workers; w++) s.ctrl[CONTROL_WORDS + 2 * w] = -1;
    return s;
  }

  /** Current generation (main thread: exact; worker: the latest completed write). */
  generation(): number {
    return Atomics.load(this.ctrl, C.SEQ) >>> 1;
  }

  /** Main thread: publishes a job (or none), returns its generation and wakes the workers. */
  writeJob(job: SlotJob | null): number {
    if (job !== null && job.header.length !== HEADER_SIZE)
      throw new UsageError(`a job header has ${HEADER_SIZE} bytes, not ${job.header.length}`);
    const seq = Atomics.add(this.ctrl, C.SEQ, 1) + 1; // odd: writing
    if (job !== null) {
      this.slot.set(job.header, SLOT_HEADER);
      this.slot.set(targetToLeBytes(job.target), SLOT_TARGET);
      this.slot.set(targetToLeBytes(job.shareTarget), SLOT_SHARE);
    }
    Atomics.store(this.ctrl, C.PRESENT, job === null ? 0 : 1);
    Atomics.store(this.ctrl, C.SEQ, seq + 1);
    this.wake();
    return (seq + 1) >>> 1;
  }

  /**
   * Worker: copies the job slot into the given buffers (seqlock read, retried while the main
   * thread writes). Returns the generation copied and whether it holds a job.
   */
  readJob(
    header: Uint8Array,
    target: Uint8Array,
    share: Uint8Array,
  ): { generation: number; present: boolean } {
    for (;;) {
      const before = Atomics.load(this.ctrl, C.SEQ);
      if ((before & 1) === 1) continue; // a write is under way: it takes microseconds
      const present = Atomics.load(this.ctrl, C.PRESENT) === 1;
      if (present) {
        header.set(this.slot.subarray(SLOT_HEADER, SLOT_HEADER + HEADER_SIZE));
        target.set(this.slot.subarray(SLOT_TARGET, SLOT_TARGET + 32));
        share.set(this.slot.subarray(SLOT_SHARE, SLOT_SHARE + 32));
      }
      if (Atomics.load(this.ctrl, C.SEQ) === before) return { generation: before >>> 1, present };
    }
  }

  wake(): void {
    Atomics.add(this.ctrl, C.WAKE, 1);
    Atomics.notify(this.ctrl, C.WAKE);
  }

  /** Generation worker `w` is on (-1 before its first). */
  workerGeneration(w: number): number {
    return Atomics.load(this.ctrl, CONTROL_WORDS + 2 * w);
  }

  setWorkerGeneration(w: number, generation: number): void {
    Atomics.store(this.ctrl, CONTROL_WORDS + 2 * w, generation);
  }

  droppedShares(w: number): number {
    return Atomics.load(this.ctrl, CONTROL_WORDS + 2 * w + 1);
  }

  addDroppedShare(w: number): void {
    Atomics.add(this.ctrl, CONTROL_WORDS + 2 * w + 1, 1);
  }
}

/**
 * The nonces worker `index` owns: [index · 2^bits, (index + 1) · 2^bits) as a u64, walked as
 * `hi` (nonce bytes 84..88) from hiStart to hiEnd − 1 and, for each, `lo` (bytes 80..84) from
 * loStart to loEnd − 1. Ranges of different indexes never overlap, so workers never hash the
 * same header twice within a job.
 */
export interface NonceRange {
  readonly hiStart: number;
  readonly hiEnd: number;
  readonly loStart: number;
  readonly loEnd: number;
  /** First and last nonce of the range. */
  readonly first: bigint;
  readonly last: bigint;
}

export function nonceRange(index: number, bits: number = DEFAULT_NONCE_BITS): NonceRange {
  if (!Number.isInteger(bits) || bits < 1 || bits > 56)
    throw new UsageError(`nonce range bits must be 1..56, got ${bits}`);
  if (!Number.isInteger(index) || index < 0 || BigInt(index + 1) << BigInt(bits) > 1n << 64n)
    throw new UsageError(`worker index ${index} does not fit a ${bits}-bit nonce range`);
  const first = BigInt(index) << BigInt(bits);
  const last = first + (1n << BigInt(bits)) - 1n;
  if (bits >= 32) {
    const span = 2 ** (bits - 32);
    return { hiStart: index * span, hiEnd: (index + 1) * span, loStart: 0, loEnd: 2 ** 32, first, last };
  }
  const hi = Number(first >> 32n);
  const lo = Number(first & 0xffffffffn);
  return { hiStart: hi, hiEnd: hi + 1, loStart: lo, loEnd: lo + 2 ** bits, first, last };
}
