/**
 * The calling thread's side of `BatchVerifier.prepareBlocks`. A job is one batch of blocks laid out
 * in a shared buffer with a claim counter: the workers claim blocks one at a time (prepare-run.ts),
 * and so does the calling thread when it has nothing else to do (`help()`: sync's connector while
 * it waits for the next batch). Neither waits on a share fixed in advance for the other, so on two
 * cores the connecting thread's idle time verifies signatures instead of sleeping (issue 12).
 */
import { SharedBufferPool } from './buffer-pool.ts';

/** A job as posted to each worker: the blocks at `offsets` in `sab`, claimed through `claim`. */
export interface PrepareRequest {
  readonly prepare: { id: number; sab: SharedArrayBuffer; offsets: number[]; claim: SharedArrayBuffer };
}

/** One block's answer: its pack, or null for a block that failed there. */
export interface PrepareReply {
  readonly prepared: { id: number; index: number; pack: Uint8Array | null };
}

type Packs = (Uint8Array | undefined)[];

/** Buffers kept for later jobs (a sync has one or two jobs out at a time). */
const SPARE_BUFFERS = 4;

interface Job {
  readonly raws: readonly Uint8Array[];
  readonly sab: SharedArrayBuffer;
  readonly claim: Int32Array;
  readonly results: Packs;
  left: number;
  readonly resolve: (r: Packs) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

export class PrepareJobs {
  readonly #jobs = new Map<number, Job>();
  readonly #inline: (raw: Uint8Array) => Uint8Array | undefined;
  /** Blocks buffers of jobs answered in full, for the next ones (buffer-pool.ts says why). */
  readonly #buffers = new SharedBufferPool(SPARE_BUFFERS);
  #next = 0;

  /** `inline`: prepares one block on the calling thread (undefined when it fails). */
  constructor(inline: (raw: Uint8Array) => Uint8Array | undefined) {
    this.#inline = inline;
  }

  /** Lays `raws` out for the workers; `done` settles when every block is answered, a worker fails, or after `timeoutMs`. */
  start(raws: readonly Uint8Array[], timeoutMs: number): { request: PrepareRequest; done: Promise<Packs> } {
    const id = this.#next++;
    const offsets = new Array<number>(raws.length + 1);
    offsets[0] = 0;
    for (let i = 0; i < raws.length; i++) offsets[i + 1] = offsets[i]! + raws[i]!.length;
    const sab = this.#buffers.take(offsets[raws.length]!);
    const bytes = new Uint8Array(sab);
    for (let i = 0; i < raws.length; i++) bytes.set(raws[i]!, offsets[i]!);
    const claim = new SharedArrayBuffer(4);
    const done = new Promise<Packs>((resolve) => {
      // a worker that stops answering: what it claimed is taken the ordinary way
      const timer = setTimeout(() => this.#settle(id), timeoutMs);
      timer.unref();
      const results: Packs = new Array(raws.length).fill(undefined);
      this.#jobs.set(id, {
        raws,
        sab,
        claim: new Int32Array(claim),
        results,
        left: raws.length,
        resolve,
        timer,
      });
    });
    return { request: { prepare: { id, sab, offsets, claim } }, done };
  }

  answer(m: PrepareReply): void {
    const { id, index, pack } = m.prepared;
    this.#record(id, index, pack ?? undefined);
  }

  /** Prepares one unclaimed block of the oldest job here; false when none is left to claim. */
  help(): boolean {
    for (const [id, job] of this.#jobs) {
      const i = Atomics.add(job.claim, 0, 1);
      if (i >= job.raws.length) continue;
      this.#record(id, i, this.#inline(job.raws[i]!));
      return true;
    }
    return false;
  }

  /** Whether a job has blocks no one has claimed yet. */
  get unclaimed(): boolean {
    for (const job of this.#jobs.values()) if (Atomics.load(job.claim, 0) < job.raws.length) return true;
    return false;
  }

  failAll(): void {
    for (const id of [...this.#jobs.keys()]) this.#settle(id);
  }

  #record(id: number, index: number, pack: Uint8Array | undefined): void {
    const job = this.#jobs.get(id);
    if (job === undefined) return;
    job.results[index] = pack;
    if (--job.left === 0) {
      // every block answered: no worker reads this buffer any more, it can carry the next job
      this.#buffers.give(job.sab);
      this.#settle(id);
    }
  }

  /** Bytes of the buffers kept for later jobs (tests). */
  get spareBytes(): number {
    return this.#buffers.spareBytes;
  }

  #settle(id: number): void {
    const job = this.#jobs.get(id);
    if (job === undefined) return;
    this.#jobs.delete(id);
    clearTimeout(job.timer);
    job.resolve(job.results);
  }
}
