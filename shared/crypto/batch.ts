/**
 * Verifies many signatures at once across threads: the calling thread takes one share and worker
 * threads (one per other core) the rest, all on one SharedArrayBuffer. verifyAll is synchronous
 * (the caller waits with Atomics.wait), so validation code keeps its plain sync shape; verifyAsync
 * leaves the whole batch to the workers and lets the caller go on (sync's pipeline).
 */
import { availableParallelism } from 'node:os';
import type { NetworkParams } from '../core/params/types.ts';
import type { SignatureVerifier } from '../core/signature.ts';
import { prepareBlock } from '../core/validation/block-prepare.ts';
import { startWorker } from '../worker.ts';
import { SharedBufferPool } from './buffer-pool.ts';
import type { VerifierBackend } from './load.ts';
import { PrepareJobs, type PrepareReply } from './prepare-jobs.ts';
import { ITEM_SIZE, RingSender, ringBuffer, type SigCheck, waitAsync } from './verify-ring.ts';

export { ITEM_SIZE, type SigCheck };

/** Below this many signatures a batch is verified on the calling thread (posting costs more). */
const MIN_PARALLEL = 64;
/** A worker that does not answer within this long is presumed dead; its share is redone here. */
const WORKER_TIMEOUT_MS = 30_000;
const TIMED_OUT: PoolLoss = {
  cause: 'timeout',
  detail: `a worker did not answer within ${WORKER_TIMEOUT_MS} ms`,
};
/** Items in each worker's ring (verify-ring.ts) for verifyEachAsync: 2,048 × 130 bytes. */
const RING_ITEMS = 2048;
/** Shared buffers of verify batches kept for the next ones (several may be out at once). */
const SPARE_BUFFERS = 4;
/** Up to this many items go whole to one worker's ring; more are split across the rings. */
const RING_SPLIT_MIN = 32;

/** A batch posted to the workers: `total` items in `sab` (sharedLayout), this worker's share [from, to). */
export interface VerifyShare {
  readonly sab: SharedArrayBuffer;
  readonly total: number;
  readonly from: number;
  readonly to: number;
}

/** Where a batch of `n` sits in its shared buffer: a done counter, the items, an answer byte per item. */
export function sharedLayout(
  sab: SharedArrayBuffer,
  n: number,
): { control: Int32Array; data: Uint8Array; results: Uint8Array } {
  return {
    control: new Int32Array(sab, 0, 2),
    data: new Uint8Array(sab, 8, n * ITEM_SIZE),
    results: new Uint8Array(sab, 8 + n * ITEM_SIZE, n),
  };
}

interface Packed {
  readonly sab: SharedArrayBuffer;
  readonly control: Int32Array;
  readonly results: Uint8Array;
}

export interface BatchVerifier {
  /** Threads that verify a large batch, the calling one included. */
  readonly threads: number;
  /** Index of the first item that does not verify, or -1 when all do. */
  verifyAll(items: readonly SigCheck[]): number;
  /**
   * The same on the worker threads only, without blocking the calling thread (which can do other
   * work meanwhile: sync connects one batch of blocks while the next one's signatures are checked).
   * Undefined when there are no workers (or they failed): verify inline then.
   */
  verifyAsync(items: readonly SigCheck[]): Promise<number> | undefined;
  /**
   * As verifyAsync, with an answer per item: 1 where it verifies, 0 where not (the mempool's
   * batches: a bad signature refuses its own transaction only). Undefined without workers.
   */
  verifyEachAsync(items: readonly SigCheck[]): Promise<Uint8Array> | undefined;
  /** Why the workers are no longer used, once they are not (undefined while they are; closing is not a loss). */
  readonly lost: PoolLoss | undefined;
  /** Batches so far, by the way they went to the workers. */
  handOvers(): HandOverCounts;
  /**
   * Prepares blocks on the worker threads (shared/core/validation/block-prepare.ts: decoding,
   * every stateless rule with the signatures, the txids and input owner hashes): per block, the
   * hashes of one that passed there, or undefined for one that did not (or whose worker failed).
   * Undefined without (live) workers or without `params`: take the blocks the ordinary way then.
   */
  prepareBlocks(raws: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> | undefined;
  /**
   * Prepares one block of a `prepareBlocks` batch that no worker has taken yet, here on the calling
   * thread (for a caller with nothing else to do); false when there is none.
   */
  helpPrepare(): boolean;
  close(): Promise<void>;
}

export interface BatchVerifierOptions {
  /** Worker threads besides the caller. Default: available cores − 1. 0 = verify inline only. */
  readonly workers?: number;
  /** Backend the workers load (they cannot share the caller's object). */
  readonly backend: VerifierBackend;
  /** The network whose blocks `prepareBlocks` checks (without it, it prepares nothing). */
  readonly params?: NetworkParams;
  /** Items in each worker's ring for verifyEachAsync (default 2,048; 0 = no rings, postMessage). */
  readonly ringItems?: number;
  /**
   * Told once when the pool stops being trusted: a worker failed, exited, or did not answer in
   * time. From then on everything is verified on the calling thread (correct, slower).
   */
  readonly onLost?: (info: PoolLoss) => void;
  /** Fault injection (tests): a worker exits silently on its first job of this kind. */
  readonly fault?: WorkerFault;
}

export type WorkerFault = 'exit-on-prepare' | 'exit-on-share';

/** Why the pool stopped being trusted. */
export interface PoolLoss {
  /** The worker, when one was lost (not for a timeout, which distrusts them all). */
  readonly worker?: number;
  readonly cause: 'error' | 'exit' | 'timeout';
  readonly detail: string;
}

/** The operator's sentence for a loss (log line and warning). */
export function poolLossMessage(loss: PoolLoss): string {
  return `verify workers lost (${loss.cause}: ${loss.detail}): signatures are verified on the main thread, slower; restart the process to get them back`;
}

/** How batches reached the workers (tests, benches). */
export interface HandOverCounts {
  /** verifyEachAsync's, through the persistent rings. */
  readonly ring: number;
  /** verifyEachAsync's, through postMessage and a shared buffer (the ring was full, or the batch too large). */
  readonly posted: number;
  /** Every batch posted in a shared buffer, whichever method sent it (verifyAll, verifyAsync, verifyEachAsync). */
  readonly shared: number;
}

export function createBatchVerifier(verifier: SignatureVerifier, opts: BatchVerifierOptions): BatchVerifier {
  const count = opts.workers ?? Math.max(0, availableParallelism() - 1);
  const ringItems = opts.ringItems ?? RING_ITEMS;
  const ringBuffers = Array.from({ length: ringItems > 0 ? count : 0 }, () => ringBuffer(ringItems));
  const workers = Array.from({ length: count }, (_, k) => {
    const w = startWorker('batch-worker', import.meta.url, {
      workerData: { backend: opts.backend, params: opts.params, ring: ringBuffers[k], fault: opts.fault },
    });
    w.unref();
    return w;
  });
  /** False without workers, and for good once one failed, exited or did not answer: then all runs here. */
  let trusted = workers.length > 0;
  let pendingAsync = 0;
  let postedEach = 0;
  let shared = 0;
  let closing = false;
  const buffers = new SharedBufferPool(SPARE_BUFFERS);
  let loss: PoolLoss | undefined;
  /** Control words of posted batches still awaited: woken when a worker is lost. */
  const awaited = new Set<Int32Array>();

  const inline = (items: readonly SigCheck[], from: number, to: number): number => {
    for (let i = from; i < to; i++) {
      const it = items[i]!;
      if (!verifier.verify(it.sig, it.msg, it.pub)) return i;
    }
    return -1;
  };
  const inlineEach = (items: readonly SigCheck[]): Uint8Array =>
    Uint8Array.from(items, (it) => (verifier.verify(it.sig, it.msg, it.pub) ? 1 : 0));

  const rings = ringBuffers.map(
    (sab) =>
      new RingSender(sab, {
        timeoutMs: WORKER_TIMEOUT_MS,
        inline: inlineEach,
        // do not trust the pool again: every ring's jobs are redone here, later batches inline
        onTimeout: () => distrust(TIMED_OUT),
      }),
  );
  const prepares = new PrepareJobs((raw) => {
    try {
      return prepareBlock(raw, opts.params!, verifier);
    } catch {
      return undefined;
    }
  });
  /**
   * Stops trusting the pool: later calls verify here, jobs in the rings are redone here, prepare
   * jobs fail (their blocks are taken the ordinary way), posted batches still awaited are redone.
   * `why` is the loss to report; undefined when closing (not a loss).
   */
  function distrust(why: PoolLoss | undefined): void {
    trusted = false;
    for (const r of rings) r.abandon();
    prepares.failAll();
    for (const control of awaited) Atomics.notify(control, 0);
    if (why !== undefined && loss === undefined && !closing) {
      loss = why;
      opts.onLost?.(why);
    }
  }
  workers.forEach((w, k) => {
    // an uncaught error is 'error' then 'exit' (the first one says why); process.exit() is 'exit' alone
    w.on('error', (err: Error) => distrust({ worker: k, cause: 'error', detail: err.message }));
    w.on('exit', (code: number) => distrust({ worker: k, cause: 'exit', detail: `exit code ${code}` }));
    w.on('message', (m: PrepareReply) => {
      if (m?.prepared !== undefined) prepares.answer(m);
    });
  });

  /**
   * Keeps the (unref'd) workers referenced while an answer is awaited: waitAsync does not. Not
   * once closing: terminate() refs them until they exit, and a job that close() settles would
   * otherwise unref them a moment later, letting the process quit with close() still pending.
   */
  const held = <T>(p: Promise<T>): Promise<T> => {
    if (pendingAsync++ === 0) for (const w of workers) w.ref();
    return p.finally(() => {
      if (--pendingAsync === 0 && !closing) for (const w of workers) w.unref();
    });
  };

  /**
   * verifyEachAsync through the rings: a small batch whole to the least-loaded worker, a larger
   * one split across all. Undefined when it cannot go that way (no room, a malformed item, ...).
   */
  const onRings = (items: readonly SigCheck[]): Promise<Uint8Array> | undefined => {
    const n = items.length;
    if (rings.length === 0 || !trusted || n === 0) return undefined;
    for (const it of items)
      if (it.sig.length !== 64 || it.msg.length !== 32 || it.pub.length !== 33) return undefined;
    if (n <= RING_SPLIT_MIN || rings.length === 1) {
      let best = rings[0]!;
      for (const r of rings) if (r.pending < best.pending) best = r;
      const p = best.send(items);
      return p === undefined ? undefined : held(p);
    }
    const per = Math.ceil(n / rings.length);
    const parts = rings.map((_, k) => items.slice(k * per, (k + 1) * per)).filter((p) => p.length > 0);
    if (parts.some((part, k) => part.length > rings[k]!.capacity - rings[k]!.pending)) return undefined;
    const answers = parts.map((part, k) => rings[k]!.send(part));
    return held(
      Promise.all(answers).then((got) => {
        const out = new Uint8Array(n);
        got.forEach((a, k) => {
          out.set(a!, k * per);
        });
        return out;
      }),
    );
  };

  /**
   * The items in one shared buffer (control word, items, results: sharedLayout); a malformed
   * item's index instead. The buffer comes from `buffers`, and goes back once every share is done.
   */
  const pack = (items: readonly SigCheck[]): Packed | number => {
    const n = items.length;
    // shapes are checked by the verifier; here a wrong-sized field simply fails verification
    for (let i = 0; i < n; i++) {
      const it = items[i]!;
      if (it.sig.length !== 64 || it.msg.length !== 32 || it.pub.length !== 33) return i;
    }
    const sab = buffers.take(8 + n * ITEM_SIZE + n);
    const { control, data, results } = sharedLayout(sab, n);
    Atomics.store(control, 0, 0); // a reused buffer: no share done yet
    for (let i = 0; i < n; i++) {
      const it = items[i]!;
      const o = i * ITEM_SIZE;
      data.set(it.sig, o);
      data.set(it.msg, o + 64);
      data.set(it.pub, o + 96);
    }
    return { sab, control, results };
  };

  /**
   * The whole batch on the worker threads: a promise of the per-item answers (1 valid, 0 not);
   * the index of a malformed item (nothing posted); undefined without (live) workers.
   */
  const onWorkers = (items: readonly SigCheck[]): Promise<Uint8Array> | number | undefined => {
    if (!trusted) return undefined;
    const n = items.length;
    if (n === 0) return Promise.resolve(new Uint8Array(0));
    const packed = pack(items);
    if (typeof packed === 'number') return packed;
    const { sab, control, results } = packed;
    shared++;
    const per = Math.ceil(n / workers.length);
    let posted = 0;
    workers.forEach((w, k) => {
      if (k * per >= n) return;
      w.postMessage({ sab, total: n, from: k * per, to: Math.min(n, (k + 1) * per) } satisfies VerifyShare);
      posted++;
    });
    const deadline = Date.now() + WORKER_TIMEOUT_MS;
    const settle = async (): Promise<Uint8Array> => {
      awaited.add(control);
      try {
        for (let done = Atomics.load(control, 0); done < posted; done = Atomics.load(control, 0)) {
          // a worker lost meanwhile (distrust() woke us) will never add its share: redo it all here
          if (!trusted) return inlineEach(items);
          const w = waitAsync(control, 0, done, Math.max(1, deadline - Date.now()));
          if ((w.async ? await w.value : w.value) === 'timed-out') {
            distrust(TIMED_OUT);
            return inlineEach(items);
          }
        }
        const answers = Uint8Array.from(results);
        buffers.give(sab); // every share is done: no worker touches it again
        return answers;
      } finally {
        awaited.delete(control);
      }
    };
    return held(settle());
  };

  return {
    threads: count + 1,
    verifyAll(items: readonly SigCheck[]): number {
      const n = items.length;
      if (n < MIN_PARALLEL || !trusted) return inline(items, 0, n);
      const packed = pack(items);
      if (typeof packed === 'number') return packed;
      const { sab, control, results } = packed;
      shared++;
      const shares = workers.length + 1;
      const per = Math.ceil(n / shares);
      workers.forEach((w, k) => {
        w.postMessage({
          sab,
          total: n,
          from: (k + 1) * per,
          to: Math.min(n, (k + 2) * per),
        } satisfies VerifyShare);
      });
      const mine = inline(items, 0, Math.min(n, per));
      const deadline = Date.now() + WORKER_TIMEOUT_MS;
      for (let done = Atomics.load(control, 0); done < workers.length; done = Atomics.load(control, 0)) {
        if (Atomics.wait(control, 0, done, Math.max(1, deadline - Date.now())) === 'timed-out') {
          distrust(TIMED_OUT);
          return inline(items, 0, n);
        }
      }
      let bad = mine;
      for (let i = per; i < n && bad === -1; i++) if (results[i] !== 1) bad = i;
      buffers.give(sab); // every share is done: no worker touches it again
      return bad;
    },
    verifyAsync(items: readonly SigCheck[]): Promise<number> | undefined {
      const packed = onWorkers(items);
      if (packed === undefined) return undefined;
      if (typeof packed === 'number') return Promise.resolve(packed);
      return packed.then((results) => results.indexOf(0));
    },
    verifyEachAsync(items: readonly SigCheck[]): Promise<Uint8Array> | undefined {
      const viaRing = onRings(items);
      if (viaRing !== undefined) return viaRing;
      const packed = onWorkers(items);
      if (packed !== undefined && typeof packed !== 'number' && items.length > 0) postedEach++;
      if (typeof packed !== 'number') return packed;
      // a malformed item: verified one by one here (the workers need every item well-sized)
      return Promise.resolve(inlineEach(items));
    },
    get lost(): PoolLoss | undefined {
      return loss;
    },
    handOvers(): HandOverCounts {
      return { ring: rings.reduce((sum, r) => sum + r.jobs, 0), posted: postedEach, shared };
    },
    prepareBlocks(raws: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> | undefined {
      if (opts.params === undefined || !trusted) return undefined;
      if (raws.length === 0) return Promise.resolve([]);
      const job = prepares.start(raws, WORKER_TIMEOUT_MS);
      for (const w of workers) w.postMessage(job.request);
      return held(job.done);
    },
    helpPrepare(): boolean {
      return prepares.help();
    },
    async close(): Promise<void> {
      closing = true;
      // from now on everything is verified here: a batch posted to a worker being terminated would
      // never be answered, and verifyAll would block this thread until its timeout
      distrust(undefined);
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
