/**
 * A recorder's hash-rate estimate: the work its shares and blocks proved over the last `seconds`
 * (default 300), divided by that time (or by the recorder's age, when it is younger). Per-second
 * buckets, so memory is bounded by the window whatever the submission rate.
 */
export class WorkWindow {
  readonly #buckets: { at: number; work: bigint }[] = [];

  constructor(readonly seconds = 300) {}

  /** Work proven at `now` (seconds). */
  add(work: bigint, now: number): void {
    const last = this.#buckets.at(-1);
    if (last !== undefined && last.at === now) last.work += work;
    else this.#buckets.push({ at: now, work });
    this.#prune(now);
  }

  /** Hashes per second over the window, or over `age` seconds when that is shorter (at least 1). */
  rate(now: number, age: number): number {
    this.#prune(now);
    let total = 0n;
    for (const b of this.#buckets) total += b.work;
    return Number(total) / Math.max(1, Math.min(this.seconds, age));
  }

  #prune(now: number): void {
    while (this.#buckets.length > 0 && this.#buckets[0]!.at <= now - this.seconds) this.#buckets.shift();
    // a clock stepping back leaves buckets out of order: still never more than the window's seconds
    while (this.#buckets.length > this.seconds) this.#buckets.shift();
  }
}
