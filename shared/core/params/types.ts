export type NetworkName = 'main' | 'test' | 'local';

export interface Ports {
  readonly peer: number;
  readonly proofJobs: number;
  readonly proofSubmit: number;
  readonly feed: number;
  readonly rpc: number;
  readonly metrics: number;
  readonly discovery: number;
  readonly discoveryEvents: number;
}

export interface NetworkParams {
  readonly name: NetworkName;
  /** bech32m human-readable prefix of addresses. */
  readonly addressPrefix: string;
  readonly ports: Ports;
  /** P2P protocol version spoken by this release. */
  readonly protocolVersion: number;

  readonly genesisBlock: Uint8Array;
  readonly genesisHash: Uint8Array;
  readonly genesisTime: number;

  /** Easiest allowed target, and its compact form (the genesis bits). */
  readonly powLimit: bigint;
  readonly powLimitBits: number;
  /** ASERT: ideal seconds between blocks and the half-life of the exponential adjustment. */
  readonly targetSpacing: number;
  readonly asertHalfLife: number;

  readonly coin: number;
  readonly initialSubsidy: number;
  readonly halvingInterval: number;
  readonly maxMoney: number;
  readonly coinbaseMaturity: number;

  readonly maxBlockSize: number;
  /** A block's time may be at most this far ahead of the validating node's clock. */
  readonly maxFutureBlockTime: number;
  /** Number of previous blocks whose median time a new block must exceed. */
  readonly medianTimeSpan: number;
}
