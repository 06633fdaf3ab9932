/**
 * The genesis block of each network, built from a small spec. scripts/gen-genesis.ts mines the
 * nonce once and writes genesis.generated.ts; a test rebuilds each block from spec + stored nonce
 * and checks the bytes are identical, so the checked-in blocks are reproducible.
 */
import { encodeBlock } from '../block/codec.ts';
import { merkleRoot } from '../block/merkle.ts';
import { BLOCK_VERSION, type BlockHeader } from '../block/types.ts';
import { OWNER_SIZE } from '../limits.ts';
import { toDecodedTx } from '../tx/codec.ts';
import { NO_BITMARK, TX_VERSION } from '../tx/types.ts';
import type { NetworkName } from './types.ts';

export interface GenesisSpec {
  readonly name: NetworkName;
  readonly time: number;
  readonly bits: number;
  readonly message: string;
}

export const GENESIS_SPECS: Readonly<Record<NetworkName, GenesisSpec>> = Object.freeze({
  main: {
    name: 'main',
    time: 1_795_000_000,
    bits: 0x1e00ffff,
    message: 'Cairn main: stones piled one on another mark the way',
  },
  test: { name: 'test', time: 1_795_000_001, bits: 0x1f00ffff, message: 'Cairn test network' },
  local: { name: 'local', time: 1_795_000_002, bits: 0x207fffff, message: 'Cairn local network' },
});

/** The genesis header without its nonce, and its one transaction (a coinbase paying nothing to nobody). */
export function genesisTemplate(spec: GenesisSpec): {
  header: BlockHeader;
  coinbase: ReturnType<typeof toDecodedTx>;
} {
  const coinbase = toDecodedTx({
    version: TX_VERSION,
    kind: 'coinbase',
    height: 0,
    data: new TextEncoder().encode(spec.message),
    outputs: [{ owner: new Uint8Array(OWNER_SIZE), amount: 0, bitmark: NO_BITMARK }],
  });
  const header: BlockHeader = {
    version: BLOCK_VERSION,
    prevHash: new Uint8Array(32),
    merkleRoot: merkleRoot([coinbase.txid]),
    time: spec.time,
    bits: spec.bits,
    nonce: 0n,
  };
  return { header, coinbase };
}

export function buildGenesisBlock(spec: GenesisSpec, nonce: bigint): Uint8Array {
  const { header, coinbase } = genesisTemplate(spec);
  return encodeBlock({ ...header, nonce }, [coinbase]);
}
