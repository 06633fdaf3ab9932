/**
 * Paced mining. On network local the difficulty never leaves its floor (ASERT measures the chain
 * against a genesis time long past, so it always looks behind schedule): a recorder finds a block
 * in milliseconds, and block rate is whatever CPU the recorders get, far faster than any real
 * network (one recorder at 20% of a core: ~14 blocks/s, the machine saturated). So by default the
 * sim mines the way a real network's blocks arrive: a Poisson process with mean `intervalMs`,
 * each block found by one of the mining nodes (the first `miners` nodes, chosen at random) with
 * `generatetoaddress`, which builds the block from that node's mempool and relays it like a block
 * a recorder submitted. Two nodes mining close together make competing blocks, as on a real
 * network: the stale rate is the network's.
 */
export interface PacerOptions {
  readonly intervalMs: number;
  readonly miners: readonly string[];
  readonly isUp: (node: string) => boolean;
  readonly payout: string;
  readonly generate: (node: string, address: string) => Promise<boolean>;
  readonly rng: () => number;
}

export class Pacer {
  found = 0;
  failed = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(readonly o: PacerOptions) {}

  start(): void {
    const next = () => {
      if (this.#stopped) return;
      // exponential gaps: the time to the next block does not depend on the last one
      const gap = -Math.log(1 - this.o.rng()) * this.o.intervalMs;
      this.#timer = setTimeout(() => {
        const up = this.o.miners.filter(this.o.isUp);
        const node = up[Math.floor(this.o.rng() * up.length)];
        if (node !== undefined)
          void this.o.generate(node, this.o.payout).then((ok) => {
            if (ok) this.found++;
            else this.failed++;
          });
        next();
      }, gap);
    };
    next();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
  }
}
