/**
 * SharedArrayBuffers kept for reuse by the batch verifier's jobs. A shared buffer is freed only
 * when every thread that saw it has collected its handle; a verify worker allocates little and runs
 * a full collection rarely, so a new buffer per job kept old jobs' memory allocated in the main
 * thread's malloc heap: 46 MB of it after a sync of 4× the bench chain (issue 12). A job gives its
 * buffer back only once no worker will read or write it again.
 */
export class SharedBufferPool {
  readonly #spare: SharedArrayBuffer[] = [];
  readonly #keep: number;

  /** `keep`: buffers kept at most (the jobs usually out at once). */
  constructor(keep: number) {
    this.#keep = keep;
  }

  /** A buffer of at least `bytes` (its contents are whatever the last job left). */
  take(bytes: number): SharedArrayBuffer {
    let best = -1;
    for (let i = 0; i < this.#spare.length; i++) {
      const b = this.#spare[i]!.byteLength;
      if (b >= bytes && (best < 0 || b < this.#spare[best]!.byteLength)) best = i;
    }
    if (best >= 0) return this.#spare.splice(best, 1)[0]!;
    // none fits: a new one, with room to grow into, so a slowly growing job size reuses it
    return new SharedArrayBuffer(Math.ceil(bytes * 1.25));
  }

  /** Back for later jobs; past `keep`, the smallest buffer is dropped. */
  give(sab: SharedArrayBuffer): void {
    this.#spare.push(sab);
    if (this.#spare.length > this.#keep) {
      let smallest = 0;
      for (let i = 1; i < this.#spare.length; i++)
        if (this.#spare[i]!.byteLength < this.#spare[smallest]!.byteLength) smallest = i;
      this.#spare.splice(smallest, 1);
    }
  }

  /** Bytes of the buffers kept. */
  get spareBytes(): number {
    return this.#spare.reduce((sum, b) => sum + b.byteLength, 0);
  }
}
