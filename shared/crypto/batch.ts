/**
 * Verifies many signatures at once across threads: the calling thread takes one share and worker
 * threads (one per other core) the rest, all on one SharedArrayBuffer. The call is synchronous
 * (the caller waits with Atomics.wait), so validation code keeps its plain sync shape.
 */
import { availableParallelism } from 'node:os';
import type { SignatureVerifier } from '../core/signature.ts';
import { startWorker } from '../worker.ts';
import type { VerifierBackend } from './load.ts';

export interface SigCheck {
  readonly sig: Uint8Array;
  readonly msg: Uint8Array;
  readonly pub: Uint8Array;
}

/** Bytes of one item in the shared buffer: signature 64 | message 32 | public key 33. */
export const ITEM_SIZE = 129;
/** Below this many signatures a batch is verified on the calling thread (posting costs more). */
const MIN_PARALLEL = 64;
/** A worker that does not answer within this long is presumed dead; its share is redone here. */
const WORKER_TIMEOUT_MS = 30_000;

export interface BatchVerifier {
  /** Threads that verify a large batch, the calling one included. */
  readonly threads: number;
  /** Index of the first item that does not verify, or -1 when all do. */
  verifyAll(items: readonly SigCheck[]): number;
  close(): Promise<void>;
}

export interface BatchVerifierOptions {
  /** Worker threads besides the caller. Default: available cores − 1. 0 = verify inline only. */
  readonly workers?: number;
  /** Backend the workers load (they cannot share the caller's object). */
  readonly backend: VerifierBackend;
}

export function createBatchVerifier(verifier: SignatureVerifier, opts: BatchVerifierOptions): BatchVerifier {
  const count = opts.workers ?? Math.max(0, availableParallelism() - 1);
  const workers = Array.from({ length: count }, () => {
    const w = startWorker('batch-worker', import.meta.url, { workerData: { backend: opts.backend } });
    w.unref();
    return w;
  });
  let alive = workers.length;
  for (const w of workers) w.on('error', () => alive--);

  const inline = (items: readonly SigCheck[], from: number, to: number): number => {
    for (let i = from; i < to; i++) {
      const it = items[i]!;
      if (!verifier.verify(it.sig, it.msg, it.pub)) return i;
    }
    return -1;
  };

  return {
    threads: count + 1,
    verifyAll(items: readonly SigCheck[]): number {
      const n = items.length;
      if (n < MIN_PARALLEL || alive < workers.length || workers.length === 0) return inline(items, 0, n);
      const sab = new SharedArrayBuffer(8 + n * ITEM_SIZE + n);
      const control = new Int32Array(sab, 0, 2);
      const data = new Uint8Array(sab, 8, n * ITEM_SIZE);
      const results = new Uint8Array(sab, 8 + n * ITEM_SIZE, n);
      for (let i = 0; i < n; i++) {
        const it = items[i]!;
        const o = i * ITEM_SIZE;
        // shapes are checked by the verifier; here a wrong-sized field simply fails verification
        if (it.sig.length !== 64 || it.msg.length !== 32 || it.pub.length !== 33) return i;
        data.set(it.sig, o);
        data.set(it.msg, o + 64);
        data.set(it.pub, o + 96);
      }
      const shares = workers.length + 1;
      const per = Math.ceil(n / shares);
      workers.forEach((w, k) => {
        w.postMessage({ sab, from: (k + 1) * per, to: Math.min(n, (k + 2) * per) });
      });
      const mine = inline(items, 0, Math.min(n, per));
      const deadline = Date.now() + WORKER_TIMEOUT_MS;
      for (let done = Atomics.load(control, 0); done < workers.length; done = Atomics.load(control, 0)) {
        if (Atomics.wait(control, 0, done, Math.max(1, deadline - Date.now())) === 'timed-out') {
          alive = 0; // do not trust the pool again; redo everything here
          return inline(items, 0, n);
        }
      }
      if (mine !== -1) return mine;
      for (let i = per; i < n; i++) if (results[i] !== 1) return i;
      return -1;
    },
    async close(): Promise<void> {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
