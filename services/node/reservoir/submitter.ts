/**
 * Concurrent submissions to the reservoir (sendrawtransaction from several RPC clients) with their
 * signatures verified in batches on the verify workers instead of the main thread.
 *
 * Every transaction submitted while the main thread is busy (the same turn of the event loop) joins
 * one batch: its signature hashes are computed here, all the batch's signatures go to the workers
 * at once (BatchVerifier.verifyEachAsync), and the main thread goes on serving requests meanwhile.
 * When the answers come, the batch's transactions enter the pool one by one, in the order they
 * were submitted and after every earlier batch, through `Reservoir.accept` — every contextual
 * check (conflicts, spent inputs, fees, limits) happens then, against the pool as it is. A
 * transaction whose signatures all verified skips the signature check there; any other (a bad
 * signature, a high S, a coinbase) takes the ordinary path, which checks its signatures inline and
 * refuses it with the exact reason and code, so a bad signature refuses its own transaction only.
 *
 * A small batch (a few signatures) with no batch at the workers is accepted on the calling thread
 * instead: handing it over costs a wake-up each way, about as much CPU as checking it here, and its
 * answer comes later. Under load, submissions arrive together and their batches go to the workers
 * (docs/performance.md, "Small batches on the calling thread").
 * Without verify workers, a submission is accepted at once on the calling thread.
 */
import { isLowS } from '../../../shared/core/signature.ts';
import { collectSignatureChecks } from '../../../shared/core/tx/check.ts';
import type { DecodedTx } from '../../../shared/core/tx/types.ts';
import type { BatchVerifier } from '../../../shared/crypto/batch.ts';
import type { AcceptResult, Reservoir } from './reservoir.ts';

interface Waiting {
  readonly tx: DecodedTx;
  readonly resolve: (r: AcceptResult) => void;
  readonly reject: (e: unknown) => void;
}

export interface TxSubmitterOptions {
  /** Most transactions in one batch (default 1,024): bounds the work of one turn of the event loop. */
  readonly maxBatch?: number;
  /**
   * A batch of at most this many signatures is checked on the calling thread when no batch is at
   * the workers (default 4; 0 = every batch to the workers).
   */
  readonly inlineMax?: number;
}

const INLINE_MAX = 4;

export class TxSubmitter {
  readonly #pool: Reservoir;
  readonly #batch: BatchVerifier | undefined;
  readonly #genesisHash: Uint8Array;
  readonly #clock: () => number;
  readonly #maxBatch: number;
  readonly #inlineMax: number;
  #queue: Waiting[] = [];
  #scheduled = false;
  /** The accept step of the last batch dispatched: batches enter the pool in the order they came. */
  #tail: Promise<void> = Promise.resolve();
  /** Batches dispatched to the workers and not yet accepted. */
  #atWorkers = 0;
  /** Batches dispatched to the workers, and transactions in them (getmempoolinfo, tests, benches). */
  batches = 0;
  batchedTxs = 0;
  /** Transactions of small batches accepted on the calling thread instead. */
  inlineTxs = 0;

  constructor(
    pool: Reservoir,
    batch: BatchVerifier | undefined,
    genesisHash: Uint8Array,
    clock: () => number,
    opts: TxSubmitterOptions = {},
  ) {
    this.#pool = pool;
    this.#batch = batch;
    this.#genesisHash = genesisHash;
    this.#clock = clock;
    this.#maxBatch = Math.max(1, opts.maxBatch ?? 1024);
    this.#inlineMax = Math.max(0, opts.inlineMax ?? INLINE_MAX);
  }

  /** Accepts `tx` into the pool as `Reservoir.accept` does (same result, same errors), in batches. */
  submit(tx: DecodedTx): Promise<AcceptResult> {
    if (this.#batch === undefined) return this.#acceptHere(tx);
    return new Promise((resolve, reject) => {
      this.#queue.push({ tx, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        // after this turn's I/O callbacks: the submissions that arrived together form one batch
        setImmediate(() => this.#dispatch());
      }
    });
  }

  #dispatch(): void {
    this.#scheduled = false;
    while (this.#queue.length > 0) {
      const taken = this.#queue.length <= this.#maxBatch ? this.#queue : this.#queue.slice(0, this.#maxBatch);
      this.#queue = taken === this.#queue ? [] : this.#queue.slice(this.#maxBatch);
      this.#start(taken);
    }
  }

  /** Reservoir.accept on this thread, signatures checked inline. */
  #acceptHere(tx: DecodedTx): Promise<AcceptResult> {
    try {
      return Promise.resolve(this.#pool.accept(tx, this.#clock()));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  #start(batch: readonly Waiting[]): void {
    if (this.#atWorkers === 0 && signaturesOf(batch) <= this.#inlineMax) {
      // nothing ahead of it at the workers: order is kept
      this.inlineTxs += batch.length;
      for (const w of batch) this.#acceptHere(w.tx).then(w.resolve, w.reject);
      return;
    }
    this.#atWorkers++;
    // the transactions whose signatures go to the workers: well-formed for it (others: inline)
    const sent: DecodedTx[] = [];
    for (const w of batch) {
      const t = w.tx.tx;
      if (t.kind !== 'coinbase' && t.inputs.every((i) => isLowS(i.signature))) sent.push(w.tx);
    }
    let answers: Promise<Uint8Array | undefined> = Promise.resolve(undefined);
    let checks: ReturnType<typeof collectSignatureChecks> = [];
    try {
      checks = collectSignatureChecks(sent, this.#genesisHash);
      const pending = this.#batch!.verifyEachAsync(checks);
      if (pending !== undefined) {
        answers = pending.catch(() => undefined);
        this.batches++;
        this.batchedTxs += sent.length;
      }
    } catch {
      // a signature hash that cannot be computed: every transaction takes the inline path
    }
    const previous = this.#tail;
    this.#tail = Promise.all([answers, previous]).then(([results]) => {
      this.#atWorkers--;
      const verified = new Set<DecodedTx>();
      if (results !== undefined) {
        const failed = new Set<DecodedTx>();
        for (let i = 0; i < checks.length; i++) if (results[i] !== 1) failed.add(checks[i]!.tx);
        for (const d of sent) if (!failed.has(d)) verified.add(d);
      }
      for (const w of batch) {
        try {
          w.resolve(this.#pool.accept(w.tx, this.#clock(), verified.has(w.tx)));
        } catch (e) {
          w.reject(e);
        }
      }
    });
  }
}

function signaturesOf(batch: readonly Waiting[]): number {
  let n = 0;
  for (const w of batch) if (w.tx.tx.kind !== 'coinbase') n += w.tx.tx.inputs.length;
  return n;
}
