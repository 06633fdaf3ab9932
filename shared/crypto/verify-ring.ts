/**
 * A persistent shared ring of signature checks between the calling thread and one verify worker:
 * the mempool's small batches (a few signatures each, thousands a second) handed over without a
 * `postMessage` and a new SharedArrayBuffer per batch. The caller writes items into free slots,
 * publishes the new end with Atomics.store and, when the worker is parked, wakes it with
 * Atomics.notify; the worker, parked in Atomics.waitAsync (so its message port keeps serving other
 * jobs), verifies every item up to that end in order, writes a result byte per slot, publishes how
 * far it got and notifies; the caller, in one Atomics.waitAsync per ring, resolves each batch once
 * the worker passed its end.
 *
 * A wake-up is a system call and a task posted to the worker's event loop (tens of µs of the
 * caller's time on a virtual machine), so the worker says when it parks: PARKED is 1 from just
 * before it looks at POSTED a last time until it runs again. Atomics are sequentially consistent:
 * either the caller sees PARKED = 1 after its store of POSTED and wakes the worker, or the worker
 * sees the new POSTED before it parks.
 *
 * Layout: control words (Int32) POSTED (items written by the caller, a wrapping counter), DONE
 * (items verified by the worker), PARKED and one spare, then `capacity` items of ITEM_SIZE bytes,
 * then `capacity` result bytes. Counters wrap at 2^32; distances are taken modulo 2^32 (`| 0`),
 * capacity a power of two.
 */

/** One signature check (re-exported by batch.ts, which imports this module). */
export interface SigCheck {
  readonly sig: Uint8Array;
  readonly msg: Uint8Array;
  readonly pub: Uint8Array;
}

/** Bytes of one item: signature 64 | message 32 | public key 33 (batch.ts's shared buffers too). */
export const ITEM_SIZE = 129;
const POSTED = 0;
const DONE = 1;
const PARKED = 2;
const HEADER = 16;

/** Atomics.waitAsync (Node ≥ 16; typed from ES2024, beyond this project's lib setting). */
export const waitAsync = (
  Atomics as unknown as {
    waitAsync(
      a: Int32Array,
      i: number,
      v: number,
      ms?: number,
    ):
      | { async: false; value: 'not-equal' | 'timed-out' }
      | { async: true; value: Promise<'ok' | 'timed-out'> };
  }
).waitAsync;

interface View {
  control: Int32Array;
  data: Uint8Array;
  results: Uint8Array;
  mask: number;
}

function viewOf(sab: SharedArrayBuffer): View {
  const capacity = (sab.byteLength - HEADER) / (ITEM_SIZE + 1);
  if (!Number.isInteger(capacity) || capacity < 1 || (capacity & (capacity - 1)) !== 0)
    throw new RangeError(`verify ring of ${sab.byteLength} bytes: not a power-of-two number of items`);
  return {
    control: new Int32Array(sab, 0, 3),
    data: new Uint8Array(sab, HEADER, capacity * ITEM_SIZE),
    results: new Uint8Array(sab, HEADER + capacity * ITEM_SIZE, capacity),
    mask: capacity - 1,
  };
}

/** A ring's shared memory for `capacity` items (rounded up to a power of two). */
export function ringBuffer(capacity: number): SharedArrayBuffer {
  let c = 1;
  while (c < capacity) c *= 2;
  return new SharedArrayBuffer(HEADER + c * (ITEM_SIZE + 1));
}

interface Job {
  readonly items: readonly SigCheck[];
  readonly start: number;
  readonly end: number;
  readonly deadline: number;
  readonly resolve: (answers: Uint8Array) => void;
}

/** The caller's side of a ring. */
export class RingSender {
  readonly capacity: number;
  readonly #v: View;
  readonly #timeoutMs: number;
  /** The worker did not answer in time: the sender is dead, its jobs answered by `inline`. */
  readonly #onTimeout: () => void;
  readonly #inline: (items: readonly SigCheck[]) => Uint8Array;
  #posted = 0;
  /** Jobs in the ring, oldest first (the worker takes items in order). */
  #jobs: Job[] = [];
  #head = 0;
  #watching = false;
  #dead = false;
  /** Batches handed over through the ring (tests, benches). */
  jobs = 0;
  /** Of those, the ones that had to wake the worker (it was parked). */
  wakes = 0;

  constructor(
    sab: SharedArrayBuffer,
    opts: {
      timeoutMs: number;
      onTimeout: () => void;
      inline: (items: readonly SigCheck[]) => Uint8Array;
    },
  ) {
    this.#v = viewOf(sab);
    this.capacity = this.#v.mask + 1;
    this.#posted = Atomics.load(this.#v.control, POSTED);
    this.#timeoutMs = opts.timeoutMs;
    this.#onTimeout = opts.onTimeout;
    this.#inline = opts.inline;
  }

  /** Items written and not yet answered to their caller (their slots are not free yet). */
  get pending(): number {
    const oldest = this.#jobs[this.#head];
    return oldest === undefined ? 0 : (this.#posted - oldest.start) | 0;
  }

  /**
   * Hands `items` to the worker: their answers (1 verifies, 0 not), or undefined when the ring has
   * no room for them (or its worker is dead); then the caller takes another way.
   * Every item must be well-sized (64/32/33 bytes).
   */
  send(items: readonly SigCheck[]): Promise<Uint8Array> | undefined {
    if (this.#dead) return undefined;
    this.#harvest();
    const n = items.length;
    if (n > this.capacity - this.pending) return undefined;
    const { control, data, mask } = this.#v;
    const start = this.#posted;
    for (let i = 0; i < n; i++) {
      const it = items[i]!;
      const o = ((start + i) & mask) * ITEM_SIZE;
      data.set(it.sig, o);
      data.set(it.msg, o + 64);
      data.set(it.pub, o + 96);
    }
    const end = (start + n) | 0;
    this.#posted = end;
    Atomics.store(control, POSTED, end);
    if (Atomics.load(control, PARKED) === 1) {
      Atomics.notify(control, POSTED, 1);
      this.wakes++;
    }
    this.jobs++;
    const answer = new Promise<Uint8Array>((resolve) => {
      this.#jobs.push({ items, start, end, deadline: Date.now() + this.#timeoutMs, resolve });
    });
    if (!this.#watching) void this.#watch();
    return answer;
  }

  /** Answers every job the worker has finished (in order). */
  #harvest(): number {
    const { control, results, mask } = this.#v;
    const done = Atomics.load(control, DONE);
    while (this.#head < this.#jobs.length) {
      const j = this.#jobs[this.#head]!;
      if (((j.end - done) | 0) > 0) break;
      const out = new Uint8Array((j.end - j.start) | 0);
      for (let i = 0; i < out.length; i++) out[i] = results[(j.start + i) & mask]!;
      this.#head++;
      j.resolve(out);
    }
    if (this.#head === this.#jobs.length) {
      this.#jobs = [];
      this.#head = 0;
    } else if (this.#head > 1024) {
      this.#jobs = this.#jobs.slice(this.#head);
      this.#head = 0;
    }
    return done;
  }

  /** One waiter per ring, while jobs are in it. */
  async #watch(): Promise<void> {
    this.#watching = true;
    try {
      for (;;) {
        const done = this.#harvest();
        const oldest = this.#jobs[this.#head];
        if (oldest === undefined || this.#dead) return;
        const w = waitAsync(this.#v.control, DONE, done, Math.max(1, oldest.deadline - Date.now()));
        const r = w.async ? await w.value : w.value;
        if (r === 'timed-out' && Atomics.load(this.#v.control, DONE) === done) {
          this.abandon();
          this.#onTimeout();
          return;
        }
      }
    } finally {
      this.#watching = false;
    }
  }

  /**
   * The worker is gone (it failed, or did not answer in time): every job still in the ring is
   * answered here by the inline verifier, and the ring takes no more.
   */
  abandon(): void {
    this.#dead = true;
    const left = this.#jobs.slice(this.#head);
    this.#jobs = [];
    this.#head = 0;
    for (const j of left) j.resolve(this.#inline(j.items));
  }
}

/**
 * The worker's side: verifies every item posted to the ring, in order, for as long as the worker
 * lives; between items it is parked in Atomics.waitAsync, so its event loop (messages) still runs.
 */
export function serveRing(
  sab: SharedArrayBuffer,
  verify: (sig: Uint8Array, msg: Uint8Array, pub: Uint8Array) => boolean,
): void {
  const { control, data, results, mask } = viewOf(sab);
  let seen = Atomics.load(control, DONE);
  const loop = (): void => {
    Atomics.store(control, PARKED, 0);
    for (;;) {
      for (
        let posted = Atomics.load(control, POSTED);
        seen !== posted;
        posted = Atomics.load(control, POSTED)
      ) {
        while (seen !== posted) {
          const slot = seen & mask;
          const o = slot * ITEM_SIZE;
          results[slot] = verify(
            data.subarray(o, o + 64),
            data.subarray(o + 64, o + 96),
            data.subarray(o + 96, o + ITEM_SIZE),
          )
            ? 1
            : 0;
          seen = (seen + 1) | 0;
        }
        Atomics.store(control, DONE, seen);
        Atomics.notify(control, DONE);
      }
      Atomics.store(control, PARKED, 1);
      if (Atomics.load(control, POSTED) !== seen) {
        Atomics.store(control, PARKED, 0);
        continue;
      }
      const w = waitAsync(control, POSTED, seen);
      if (w.async) {
        void w.value.then(loop);
        return;
      }
      Atomics.store(control, PARKED, 0);
    }
  };
  loop();
}
