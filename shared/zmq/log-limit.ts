/**
 * Rate limit for log lines triggered by remote peers: one line per key per interval, so a peer
 * that keeps failing (or an attacker who keeps trying) cannot flood the log. Memory is bounded.
 */
export class LogLimiter {
  readonly #intervalMs: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  readonly #last = new Map<string, number>();
  #suppressed = 0;

  constructor(opts: { intervalMs?: number; maxKeys?: number; now?: () => number } = {}) {
    this.#intervalMs = opts.intervalMs ?? 60_000;
    this.#maxKeys = opts.maxKeys ?? 10_000;
    this.#now = opts.now ?? Date.now;
  }

  /** True when a line for `key` may be logged now (and records it); false counts as suppressed. */
  allow(key: string): boolean {
    const now = this.#now();
    const last = this.#last.get(key);
    if (last !== undefined && now - last < this.#intervalMs) {
      this.#suppressed++;
      return false;
    }
    if (last === undefined && this.#last.size >= this.#maxKeys) this.#prune(now);
    this.#last.delete(key); // re-insert: the map stays ordered by last log time
    this.#last.set(key, now);
    return true;
  }

  /** Lines suppressed since the last call (reset on read). */
  takeSuppressed(): number {
    const n = this.#suppressed;
    this.#suppressed = 0;
    return n;
  }

  #prune(now: number): void {
    for (const [k, t] of this.#last) {
      if (now - t < this.#intervalMs && this.#last.size < this.#maxKeys) break;
      this.#last.delete(k);
    }
  }
}
