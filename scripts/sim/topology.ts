/**
 * The simulation's hosts and their addresses (pure). Every process group is a host of its own in
 * 198.18.0.0/15, the range RFC 2544 sets aside for benchmarking, so nothing can collide with a
 * real network: the observer (the sim itself: feeds, RPC polls, load) at 198.18.0.1, discovery at
 * .0.2, node k at 198.18.(1 + ⌊(k−1)/250⌋).((k−1) mod 250 + 1). A node's recorder runs in the
 * node's own namespace (a miner beside its node) and reaches it on 127.0.0.1.
 */
export const SUBNET_BITS = 15;

export interface SimHost {
  /** observer, discovery, node-K */
  readonly name: string;
  readonly address: string;
  /** Links between two shaped hosts get the latency, jitter and loss; the observer's do not. */
  readonly shaped: boolean;
}

export function nodeAddress(k: number): string {
  return `198.18.${1 + Math.floor((k - 1) / 250)}.${((k - 1) % 250) + 1}`;
}

/** observer, discovery and nodes 1..`nodes`. */
export function simHosts(nodes: number): SimHost[] {
  return [
    { name: 'observer', address: '198.18.0.1', shaped: false },
    { name: 'discovery', address: '198.18.0.2', shaped: true },
    ...Array.from({ length: nodes }, (_, i) => ({
      name: `node-${i + 1}`,
      address: nodeAddress(i + 1),
      shaped: true,
    })),
  ];
}
