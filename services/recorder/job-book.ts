/**
 * The jobs one node gave us that may still be submitted, newest last.
 *
 * Rules: a job is dead once its `expires` (node time, seconds) has passed by our clock, once a
 * clean job arrived after it (a new tip voids older work), or once the node answered `stale` or
 * `unknown-job` for it. A job seen again (the node re-publishes its current job every few seconds
 * for recorders that just connected) is a repeat: it changes nothing, so the miner does not
 * restart its nonce ranges. At most `max` jobs are kept (the node keeps 16 per recorder).
 */
import type { Job } from '../../shared/proof/messages.ts';

export interface BookJob {
  readonly job: Job;
  /** performance.now() when it arrived: orders jobs across nodes. */
  readonly receivedAt: number;
}

export type AddResult = 'new' | 'repeat' | 'expired';

export class JobBook {
  readonly #max: number;
  /** Insertion order = arrival order. */
  readonly #jobs = new Map<bigint, BookJob>();

  constructor(max = 16) {
    this.#max = max;
  }

  get size(): number {
    return this.#jobs.size;
  }

  /** Records a job that arrived at `receivedAt`; `now` is our clock in seconds. */
  add(job: Job, now: number, receivedAt: number): AddResult {
    if (this.#jobs.has(job.jobId)) return 'repeat';
    if (job.expires < now) return 'expired';
    if (job.clean) this.#jobs.clear();
    this.#jobs.set(job.jobId, { job, receivedAt });
    for (const id of this.#jobs.keys()) {
      if (this.#jobs.size <= this.#max) break;
      this.#jobs.delete(id);
    }
    return 'new';
  }

  /** The job if it may still be submitted at `now`. */
  valid(jobId: bigint, now: number): BookJob | undefined {
    const b = this.#jobs.get(jobId);
    if (b === undefined) return undefined;
    if (b.job.expires < now) {
      this.#jobs.delete(jobId);
      return undefined;
    }
    return b;
  }

  /** The newest job still valid at `now`. */
  current(now: number): BookJob | undefined {
    this.prune(now);
    let last: BookJob | undefined;
    for (const b of this.#jobs.values()) last = b;
    return last;
  }

  /** Forgets one job (the node said it is stale or unknown). */
  kill(jobId: bigint): void {
    this.#jobs.delete(jobId);
  }

  /** Drops expired jobs; true when any was dropped. */
  prune(now: number): boolean {
    let dropped = false;
    for (const [id, b] of this.#jobs) {
      if (b.job.expires < now) {
        this.#jobs.delete(id);
        dropped = true;
      }
    }
    return dropped;
  }

  clear(): void {
    this.#jobs.clear();
  }
}
