/**
 * Parameters of the three networks. `local` is Cairn's regtest: near-trivial difficulty so tests
 * mine at once, short maturity and halving so tests reach every rule in few blocks.
 */
import { hexToBytes } from '../bytes.ts';
import { sha256d } from '../hash.ts';
import { decodeCompact } from '../pow/compact.ts';
import { GENESIS } from './genesis.generated.ts';
import { GENESIS_SPECS } from './genesis.ts';
import type { NetworkName, NetworkParams, Ports } from './types.ts';

const COIN = 100_000_000;

function ports(offset: number): Ports {
  return {
    rpc: 2131 + offset,
    metrics: 2132 + offset,
    feed: 2135 + offset,
    peer: 2136 + offset,
    proofJobs: 2138 + offset,
    proofSubmit: 2139 + offset,
    discovery: 2140 + offset,
    discoveryEvents: 2141 + offset,
  };
}

function build(
  name: NetworkName,
  rest: Omit<
    NetworkParams,
    'name' | 'genesisBlock' | 'genesisHash' | 'genesisTime' | 'powLimit' | 'powLimitBits' | 'coin'
  >,
): NetworkParams {
  const spec = GENESIS_SPECS[name];
  const genesisBlock = hexToBytes(GENESIS[name]);
  return Object.freeze({
    name,
    genesisBlock,
    genesisHash: sha256d(genesisBlock.subarray(0, 88)),
    genesisTime: spec.time,
    powLimit: decodeCompact(spec.bits).target,
    powLimitBits: spec.bits,
    coin: COIN,
    ...rest,
  });
}

const common = {
  protocolVersion: 1,
  maxBlockSize: 4_000_000,
  maxFutureBlockTime: 2 * 60 * 60,
  medianTimeSpan: 11,
} as const;

export const MAIN: NetworkParams = build('main', {
  ...common,
  addressPrefix: 'cairn',
  ports: ports(0),
  targetSpacing: 120,
  asertHalfLife: 2 * 24 * 60 * 60,
  initialSubsidy: 25 * COIN,
  halvingInterval: 1_051_200,
  maxMoney: 52_560_000 * COIN,
  coinbaseMaturity: 100,
});

export const TEST: NetworkParams = build('test', {
  ...common,
  addressPrefix: 'tcairn',
  ports: ports(10000),
  targetSpacing: 120,
  asertHalfLife: 60 * 60,
  initialSubsidy: 25 * COIN,
  halvingInterval: 1_051_200,
  maxMoney: 52_560_000 * COIN,
  coinbaseMaturity: 100,
});

export const LOCAL: NetworkParams = build('local', {
  ...common,
  addressPrefix: 'lcairn',
  ports: ports(20000),
  targetSpacing: 2,
  asertHalfLife: 120,
  initialSubsidy: 25 * COIN,
  halvingInterval: 150,
  maxMoney: 52_560_000 * COIN,
  coinbaseMaturity: 10,
});

export const NETWORKS: Readonly<Record<NetworkName, NetworkParams>> = Object.freeze({
  main: MAIN,
  test: TEST,
  local: LOCAL,
});

export function isNetworkName(s: string): s is NetworkName {
  return s === 'main' || s === 'test' || s === 'local';
}

/** Subsidy of the block at `height`: halves (rounding down) every halvingInterval blocks until it is 0. */
export function blockSubsidy(height: number, p: NetworkParams): number {
  const halvings = Math.floor(height / p.halvingInterval);
  if (halvings >= 64) {
    return 0;
  }
  return Math.floor(p.initialSubsidy / 2 ** halvings);
}
