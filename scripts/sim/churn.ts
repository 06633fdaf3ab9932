/**
 * Random churn: every `everyS` seconds (±50%) one running node, chosen at random among the
 * candidates, is stopped (SIGTERM, as an operator or a crash-free restart would) and started again
 * after a random downtime, with its data: it must catch up on what it missed.
 */
import type { Supervisor } from '../devnet/supervisor.ts';
import { now, type Timeline } from './collect.ts';

export interface ChurnOptions {
  readonly everyS: number;
  readonly downMinS: number;
  readonly downMaxS: number;
  readonly rng: () => number;
  readonly log: (line: string) => void;
}

export interface ChurnEvent {
  readonly node: string;
  readonly stoppedAt: number;
  startedAt?: number;
}

export class Churn {
  readonly events: ChurnEvent[] = [];
  readonly #down = new Set<string>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #stopping = new Set<Promise<void>>();
  #stopped = false;

  constructor(
    readonly sup: Supervisor,
    readonly candidates: readonly string[],
    readonly timeline: Timeline,
    readonly o: ChurnOptions,
  ) {}

  start(): void {
    if (this.o.everyS <= 0 || this.candidates.length === 0) return;
    this.#schedule();
  }

  #later(ms: number, f: () => void): void {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      f();
    }, ms);
    this.#timers.add(t);
  }

  #schedule(): void {
    this.#later(this.o.everyS * 1000 * (0.5 + this.o.rng()), () => {
      if (this.#stopped) return;
      const p = this.#bounce();
      this.#stopping.add(p);
      void p.finally(() => this.#stopping.delete(p));
      this.#schedule();
    });
  }

  async #bounce(): Promise<void> {
    const up = this.candidates.filter((n) => !this.#down.has(n));
    if (up.length === 0) return;
    const node = up[Math.floor(this.o.rng() * up.length)]!;
    this.#down.add(node);
    const ev: ChurnEvent = { node, stoppedAt: now() };
    this.events.push(ev);
    this.timeline.down(node);
    await this.sup.stop(node);
    const downS = this.o.downMinS + this.o.rng() * (this.o.downMaxS - this.o.downMinS);
    this.o.log(`churn: stopped ${node} for ${downS.toFixed(0)} s`);
    this.#later(downS * 1000, () => this.#resume(node, ev));
  }

  #resume(node: string, ev: ChurnEvent): void {
    if (!this.#down.delete(node)) return;
    this.sup.resume(node);
    ev.startedAt = now();
    this.timeline.up(node);
  }

  /** No more stops; every node it stopped is started again. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#stopping);
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    for (const ev of this.events) if (ev.startedAt === undefined) this.#resume(ev.node, ev);
  }
}
