import type { DecodedTx } from '../tx/types.ts';

export const BLOCK_VERSION = 1;
/** version u32 | prevHash 32 | merkleRoot 32 | time u64 | bits u32 | nonce u64 */
export const HEADER_SIZE = 88;
/** Offset of the nonce: the last 8 bytes, so a miner rewrites only those. */
export const NONCE_OFFSET = 80;

export interface BlockHeader {
  readonly version: number;
  readonly prevHash: Uint8Array;
  readonly merkleRoot: Uint8Array;
  /** Seconds since the Unix epoch. */
  readonly time: number;
  /** Compact target. */
  readonly bits: number;
  readonly nonce: bigint;
}

export interface DecodedBlock {
  readonly header: BlockHeader;
  /** SHA-256d of the 88 header bytes. */
  readonly hash: Uint8Array;
  readonly raw: Uint8Array;
  readonly txs: readonly DecodedTx[];
}
